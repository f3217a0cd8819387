//! Projects (engagements / initiatives).

use chrono::NaiveDate;
use opsgraph_core::id::{decode_as, new_id};
use opsgraph_core::{AppError, AppResult, Permission, Session, audit, idempotency, validate};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::project;

/// The closed set of project statuses.
pub const STATUSES: [&str; 5] = ["PLANNING", "ACTIVE", "ON_HOLD", "COMPLETED", "CANCELLED"];

/// Input of `createProject`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProjectInput {
    /// Short upper-case key (e.g. `ACME`), prefix of task numbers.
    pub key: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Status (default PLANNING).
    pub status: Option<String>,
    /// Manager (Membership ID).
    pub manager_id: Option<String>,
    /// Owning team (Team ID).
    pub team_id: Option<String>,
    /// Start date.
    pub start_date: Option<NaiveDate>,
    /// End date.
    pub end_date: Option<NaiveDate>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Creates a project. References to members and teams go through the org crate's API.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    input: CreateProjectInput,
) -> AppResult<project::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let idem = input.idempotency_key.as_deref();
    if let idempotency::Claim::Done(id) = idempotency::claim(db, org_id, "createProject", idem).await? {
        return get(db, org_id, id).await;
    }
    let key = input.key.trim().to_uppercase();
    if !(2..=10).contains(&key.len())
        || !key.starts_with(|c: char| c.is_ascii_uppercase())
        || !key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(AppError::bad_input("key", "key must be 2-10 letters or digits, starting with a letter"));
    }
    let status = input.status.unwrap_or_else(|| "PLANNING".into());
    if !STATUSES.contains(&status.as_str()) {
        return Err(AppError::bad_input("status", "unknown status"));
    }
    if let (Some(s), Some(e)) = (input.start_date, input.end_date)
        && e < s
    {
        return Err(AppError::bad_input("endDate", "endDate must not be before startDate"));
    }
    let manager_id = match &input.manager_id {
        Some(g) => {
            Some(opsgraph_org::service::members::get(db, org_id, decode_as(g, "Membership", "managerId")?).await?.id)
        }
        None => None,
    };
    let team_id = match &input.team_id {
        Some(g) => Some(opsgraph_org::service::teams::get(db, org_id, decode_as(g, "Team", "teamId")?).await?.id),
        None => None,
    };
    let p = project::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        key: Set(key),
        name: Set(validate::text("name", &input.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", input.description.as_deref(), 20000, true)?),
        status: Set(status),
        manager_id: Set(manager_id),
        team_id: Set(team_id),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        session,
        org_id,
        audit::AuditEntry {
            action: "project.create",
            entity_type: "Project",
            entity_id: p.id,
            changes: serde_json::json!({ "key": p.key, "name": p.name }),
        },
    )
    .await?;
    idempotency::complete(db, org_id, "createProject", idem, p.id).await?;
    Ok(p)
}

/// Loads a project of the active organisation (soft-deleted ones excluded).
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<project::Model> {
    project::Entity::find_by_id(id)
        .filter(project::Column::OrgId.eq(org_id))
        .filter(project::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("project"))
}
