//! Per-organisation settings (key -> JSON).

use crate::nodes::Organization;
use opsgraph_core::id::new_id;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx, validate};
use opsgraph_derive::GqlInput;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde::Deserialize;

use crate::entity::org_setting;

/// Set one setting.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "SetOrgSettingInput")]
pub struct SettingInput {
    /// Key (`a-z0-9_.`).
    pub key: String,
    /// Value.
    pub value: serde_json::Value,
}

/// Inserts or replaces one setting.
pub async fn set(req: &RequestCtx, i: SettingInput) -> AppResult<org_setting::Model> {
    let org = req.require(Permission::SettingsManage)?;
    let key = validate::text("key", &i.key, 1, 100, false)?;
    if !key.starts_with(|c: char| c.is_ascii_lowercase())
        || !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
    {
        return Err(AppError::bad_input("key", "key may contain a-z, 0-9, `_` and `.` and must start with a letter"));
    }
    if i.value.to_string().len() > 64 * 1024 {
        return Err(AppError::bad_input("value", "value must be at most 64 KiB of JSON"));
    }
    let row = org_setting::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org),
        key: Set(key.clone()),
        value: Set(i.value.clone()),
        ..Default::default()
    };
    let saved = org_setting::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([org_setting::Column::OrgId, org_setting::Column::Key])
                .update_columns([org_setting::Column::Value])
                .to_owned(),
        )
        .exec_with_returning(req.db.as_ref())
        .await?;
    Write { db: req.db.as_ref(), session: &req.session, org }
        .audit::<Organization>("setting.set", org, serde_json::json!({ key: i.value }))
        .await?;
    Ok(saved)
}
