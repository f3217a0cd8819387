//! `collection_grants` table.

use sea_orm::entity::prelude::*;

/// A row of `collection_grants`: access to a collection for a member or a team.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "collection_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub collection_id: Uuid,
    pub membership_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub access: String,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
