//! `generated_reports` table.

use sea_orm::entity::prelude::*;

/// A row of `generated_reports`: a generated report file.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "generated_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub template_id: Option<Uuid>,
    pub requested_by: Option<Uuid>,
    pub format: String,
    pub file_name: String,
    pub content_type: String,
    #[serde(skip)]
    pub content: Vec<u8>,
    pub byte_size: i32,
    pub row_count: i32,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
