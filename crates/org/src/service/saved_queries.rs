//! Saved queries: a stored GraphQL query with variables, a member's own or shared with
//! the organisation. Whoever runs one runs it as themself (see
//! [`opsgraph_core::query_runner`]): it never shows what the viewer may not see.

use std::sync::Arc;

use opsgraph_core::id::new_id;
use opsgraph_core::query_runner::{QueryOutcome, Runner};
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx, Session, validate};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::entity::saved_query;
use crate::nodes::SavedQuery;

/// What a new saved query or a change says.
#[derive(Debug, Default)]
pub struct SavedQueryInput {
    /// Name.
    pub name: Option<String>,
    /// What it shows.
    pub description: Option<Option<String>>,
    /// The GraphQL document: one query.
    pub document: Option<String>,
    /// Its variables (an object).
    pub variables: Option<serde_json::Value>,
    /// Shared with the organisation (AnalyticsManage).
    pub shared: Option<bool>,
}

/// A saved query the caller may see (their own or a shared one).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<saved_query::Model> {
    saved_query::Entity::find_by_id(id)
        .filter(saved_query::Column::OrgId.eq(org))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("saved query"))
}

/// Checks that the caller may change an owned row: their own, or a shared one with
/// AnalyticsManage. Shared with the organisation needs AnalyticsManage too.
pub fn may_change(session: &Session, owner: Option<Uuid>, shared: bool) -> AppResult<()> {
    let own = owner.is_some() && owner == session.membership_id;
    if own || (shared && session.can(Permission::AnalyticsManage)) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only its owner (or a manager, once shared) may change it".into()))
    }
}

/// The member who will own a new saved query, dashboard or template (an API key owns none:
/// Row Level Security shows an owned row to its owning member).
pub fn new_owner(session: &Session) -> AppResult<Uuid> {
    session.membership_id.ok_or_else(|| {
        AppError::Forbidden("saved queries, dashboards and report templates belong to a signed-in member".into())
    })
}

/// Sharing with the organisation needs AnalyticsManage.
pub fn may_share(session: &Session, shared: bool) -> AppResult<()> {
    if shared && !session.can(Permission::AnalyticsManage) {
        return Err(AppError::Forbidden("sharing with the organisation needs AnalyticsManage".into()));
    }
    Ok(())
}

fn checked_variables(v: serde_json::Value) -> AppResult<serde_json::Value> {
    match v {
        serde_json::Value::Null => Ok(serde_json::json!({})),
        serde_json::Value::Object(_) if v.to_string().len() <= 20_000 => Ok(v),
        serde_json::Value::Object(_) => Err(AppError::bad_input("variables", "variables are too large")),
        _ => Err(AppError::bad_input("variables", "variables must be an object")),
    }
}

/// Saves a query (AnalyticsWrite; shared needs AnalyticsManage).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    runner: &Runner,
    i: SavedQueryInput,
) -> AppResult<saved_query::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let owner = new_owner(session)?;
    let shared = i.shared.unwrap_or(false);
    may_share(session, shared)?;
    let document = validate::text("document", i.document.as_deref().unwrap_or_default(), 1, 20_000, true)?;
    runner.0.check(&document, "document")?;
    let row = saved_query::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        owner_id: Set(Some(owner)),
        name: Set(validate::text("name", i.name.as_deref().unwrap_or_default(), 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.flatten().as_deref(), 2000, true)?),
        document: Set(document),
        variables: Set(checked_variables(i.variables.unwrap_or_default())?),
        shared: Set(shared),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<SavedQuery>("saved_query.create", &row, ("createSavedQuery", None)).await?;
    w.changed::<SavedQuery>("saved_query.created", row.id, None).await?;
    Ok(row)
}

/// Changes a saved query (its owner, or AnalyticsManage once shared).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    runner: &Runner,
    (id, expected): (Uuid, i32),
    i: SavedQueryInput,
) -> AppResult<saved_query::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = get(db, w.org, id).await?;
    may_change(session, current.owner_id, current.shared)?;
    let mut am: saved_query::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 2000, true)?);
    }
    if let Some(doc) = &i.document {
        let doc = validate::text("document", doc, 1, 20_000, true)?;
        runner.0.check(&doc, "document")?;
        am.document = Set(doc);
    }
    if let Some(v) = i.variables {
        am.variables = Set(checked_variables(v)?);
    }
    if let Some(s) = i.shared {
        may_share(session, s)?;
        am.shared = Set(s);
    }
    let Updated { after, changes, .. } = w.update::<SavedQuery, _>("saved_query.update", current, am, expected).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<SavedQuery>("saved_query.updated", after.id, None).await?;
    }
    Ok(after)
}

/// Deletes a saved query with the widgets and report templates over it.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, id: Uuid) -> AppResult<saved_query::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = get(db, w.org, id).await?;
    may_change(session, current.owner_id, current.shared)?;
    let row = w.delete::<SavedQuery>("saved_query.delete", current).await?;
    w.changed::<SavedQuery>("saved_query.deleted", row.id, None).await?;
    Ok(row)
}

/// Runs `q` as the caller of `req`, its stored variables overlaid with `variables`.
pub async fn run(
    req: Arc<RequestCtx>,
    runner: &Runner,
    q: &saved_query::Model,
    variables: Option<serde_json::Value>,
) -> AppResult<QueryOutcome> {
    req.require(Permission::AnalyticsRead)?;
    let mut vars = q.variables.clone();
    if let Some(over) = variables
        && let (serde_json::Value::Object(base), serde_json::Value::Object(over)) =
            (&mut vars, checked_variables(over)?)
    {
        base.extend(over);
    }
    runner.0.run(req, q.document.clone(), vars).await
}
