//! The caller's notification inbox.

use crate::enums::NotificationKind;
use crate::nodes::Notification;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx, audit};
use opsgraph_derive::GqlInput;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::entity::notification;

/// Mark notifications read or unread.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "MarkNotificationsInput")]
pub struct MarkInput {
    /// The notifications (at most 100).
    pub ids: Vec<Id>,
    /// True (default): read; false: unread.
    pub read: Option<bool>,
}

/// Marks the caller's notifications read (default) or unread; returns how many changed.
pub async fn mark(req: &RequestCtx, i: MarkInput) -> AppResult<u64> {
    let org = req.require(Permission::NotificationsOwn)?;
    let me = req.session.membership_id.ok_or_else(|| AppError::Forbidden("API keys have no inbox".into()))?;
    if i.ids.len() > 100 {
        return Err(AppError::bad_input("ids", "at most 100 ids"));
    }
    let ids = i.ids.iter().map(|g| Notification::decode(g, "ids")).collect::<AppResult<Vec<_>>>()?;
    let value = if i.read.unwrap_or(true) { Expr::current_timestamp() } else { Expr::cust("NULL") };
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, value)
        .filter(notification::Column::OrgId.eq(org))
        .filter(notification::Column::MembershipId.eq(me))
        .filter(notification::Column::Id.is_in(ids))
        .exec(req.db.as_ref())
        .await?;
    if res.rows_affected > 0 {
        let action = if i.read.unwrap_or(true) { "notification.mark_read" } else { "notification.mark_unread" };
        let changes = serde_json::json!({ "count": res.rows_affected });
        let entry = audit::AuditEntry { action, entity_type: "Membership", entity_id: me, changes };
        audit::record(req.db.as_ref(), &req.session, org, entry).await?;
    }
    Ok(res.rows_affected)
}

fn inbox_owner(req: &RequestCtx) -> AppResult<(uuid::Uuid, uuid::Uuid)> {
    let org = req.require(Permission::NotificationsOwn)?;
    let me = req.session.membership_id.ok_or_else(|| AppError::Forbidden("API keys have no inbox".into()))?;
    Ok((org, me))
}

/// Archive notifications (or bring them back).
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "ArchiveNotificationsInput")]
pub struct ArchiveInput {
    /// The notifications (at most 100).
    pub ids: Vec<Id>,
    /// True (default): archive; false: unarchive.
    pub archived: Option<bool>,
}

/// Archives (or unarchives) the caller's notifications; returns how many changed.
pub async fn archive(req: &RequestCtx, i: ArchiveInput) -> AppResult<u64> {
    let (org, me) = inbox_owner(req)?;
    if i.ids.len() > 100 {
        return Err(AppError::bad_input("ids", "at most 100 ids"));
    }
    let ids = i.ids.iter().map(|g| Notification::decode(g, "ids")).collect::<AppResult<Vec<_>>>()?;
    let archived = i.archived.unwrap_or(true);
    let value = if archived { Expr::current_timestamp() } else { Expr::cust("NULL") };
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ArchivedAt, value)
        .filter(notification::Column::OrgId.eq(org))
        .filter(notification::Column::MembershipId.eq(me))
        .filter(notification::Column::Id.is_in(ids))
        .filter(if archived {
            notification::Column::ArchivedAt.is_null()
        } else {
            notification::Column::ArchivedAt.is_not_null()
        })
        .exec(req.db.as_ref())
        .await?;
    Ok(res.rows_affected)
}

/// Marks every unread notification of the caller read; returns how many changed.
pub async fn mark_all_read(req: &RequestCtx) -> AppResult<u64> {
    let (org, me) = inbox_owner(req)?;
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::current_timestamp())
        .filter(notification::Column::OrgId.eq(org))
        .filter(notification::Column::MembershipId.eq(me))
        .filter(notification::Column::ReadAt.is_null())
        .exec(req.db.as_ref())
        .await?;
    Ok(res.rows_affected)
}

/// One notification kind's channels for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    /// Notification kind.
    pub kind: String,
    /// Show in the inbox (and on live subscriptions).
    pub in_app: bool,
    /// E-mail (recorded as a pending delivery).
    pub email: bool,
    /// Push (recorded as a pending delivery).
    pub push: bool,
}

/// The caller's preferences for every kind (defaults where none is set).
pub async fn preferences(req: &RequestCtx) -> AppResult<Vec<Preference>> {
    let (_, me) = inbox_owner(req)?;
    let rows = req
        .db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT kind, in_app, email, push FROM notification_preferences WHERE membership_id = $1",
            [me.into()],
        ))
        .await?;
    let mut set = std::collections::HashMap::new();
    for r in rows {
        let kind: String = r.try_get("", "kind")?;
        set.insert(kind, (r.try_get("", "in_app")?, r.try_get("", "email")?, r.try_get("", "push")?));
    }
    Ok(NotificationKind::VALUES
        .iter()
        .map(|k| {
            let (in_app, email, push) =
                set.get(*k).copied().unwrap_or_else(|| crate::service::dispatch::default_channels(k));
            Preference { kind: (*k).to_owned(), in_app, email, push }
        })
        .collect())
}

/// Set your channels for one kind; omitted channels stay.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "SetNotificationPreferenceInput")]
pub struct SetPreferenceInput {
    /// The kind.
    pub kind: NotificationKind,
    /// In-app.
    pub in_app: Option<bool>,
    /// E-mail.
    pub email: Option<bool>,
    /// Push.
    pub push: Option<bool>,
}

/// Sets the caller's channels for one kind.
pub async fn set_preference(req: &RequestCtx, i: SetPreferenceInput) -> AppResult<Preference> {
    let (org, me) = inbox_owner(req)?;
    let kind = i.kind.as_str().to_owned();
    let current = preferences(req).await?.into_iter().find(|p| p.kind == kind);
    let (in_app, email, push) = match current {
        Some(p) => (i.in_app.unwrap_or(p.in_app), i.email.unwrap_or(p.email), i.push.unwrap_or(p.push)),
        None => return Err(AppError::internal("unknown kind after validation")),
    };
    req.db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO notification_preferences (org_id, membership_id, kind, in_app, email, push) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (membership_id, kind) \
             DO UPDATE SET in_app = $4, email = $5, push = $6, updated_at = now()",
            [org.into(), me.into(), kind.clone().into(), in_app.into(), email.into(), push.into()],
        ))
        .await?;
    let changes = serde_json::json!({ "kind": kind, "inApp": in_app, "email": email, "push": push });
    let entry =
        audit::AuditEntry { action: "notification.preference", entity_type: "Membership", entity_id: me, changes };
    audit::record(req.db.as_ref(), &req.session, org, entry).await?;
    Ok(Preference { kind, in_app, email, push })
}
