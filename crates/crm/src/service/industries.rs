//! The organisation's industry catalog (000 client_industries).

use crate::entity::industry;
use crate::nodes::Industry;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

/// Add an industry to the catalog.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateIndustryInput {
    /// Unique name (case-insensitive).
    pub name: String,
    /// What it covers.
    pub description: Option<String>,
}

/// Adds an industry (CONFLICT when the name exists).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateIndustryInput,
) -> AppResult<industry::Model> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let name = validate::text("name", &i.name, 1, 100, false)?;
    let taken = industry::Entity::find()
        .filter(industry::Column::OrgId.eq(w.org))
        .filter(Expr::cust_with_values("lower(name) = lower($1)", [name.clone()]))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(AppError::Conflict(format!("the industry `{name}` exists")));
    }
    let row = industry::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(name),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, true)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.audit::<Industry>("industry.create", row.id, serde_json::json!({ "name": row.name })).await?;
    w.changed::<Industry>("industry.created", row.id, None).await?;
    Ok(row)
}

/// The industry `gid` names in organisation `org` (for references from accounts).
pub async fn resolve(db: &impl ConnectionTrait, org: Uuid, gid: Option<&Id>, field: &str) -> AppResult<Option<Uuid>> {
    let Some(g) = gid else { return Ok(None) };
    let id = Industry::decode(g, field)?;
    opsgraph_core::db::find_in_org::<industry::Entity>(db, industry::Column::OrgId, org, id, "industry").await?;
    Ok(Some(id))
}
