//! `llm_providers` table.

use sea_orm::entity::prelude::*;

/// A row of `llm_providers`: where models run (in process, or an OpenAI-compatible
/// endpoint whose API key is sealed by the server).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_providers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub kind: String,
    pub base_url: Option<String>,
    pub api_key_sealed: Option<Vec<u8>>,
    pub api_key_hint: Option<String>,
    pub timeout_secs: i32,
    pub max_retries: i32,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// The audit snapshot: never the sealed key.
impl serde::Serialize for Model {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "name": self.name, "kind": self.kind, "baseUrl": self.base_url, "apiKeyHint": self.api_key_hint,
            "timeoutSecs": self.timeout_secs, "maxRetries": self.max_retries,
        })
        .serialize(s)
    }
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
