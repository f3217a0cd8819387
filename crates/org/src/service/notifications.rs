//! The caller's notification inbox.

use opsgraph_core::id::decode_as;
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx, audit};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::entity::notification;

/// Input of `markNotifications`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkInput {
    pub ids: Vec<String>,
    pub read: Option<bool>,
}

/// Marks the caller's notifications read (default) or unread; returns how many changed.
pub async fn mark(req: &RequestCtx, i: MarkInput) -> AppResult<u64> {
    let org = req.require(Permission::NotificationsOwn)?;
    let me = req.session.membership_id.ok_or_else(|| AppError::Forbidden("API keys have no inbox".into()))?;
    if i.ids.len() > 100 {
        return Err(AppError::bad_input("ids", "at most 100 ids"));
    }
    let ids = i.ids.iter().map(|g| decode_as(g, "Notification", "ids")).collect::<AppResult<Vec<_>>>()?;
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
