//! `ApiKey`: type, list and mutations.

use super::common::{S, nn, nullable, opt_ts, s_nn, ts};
use crate::entity::api_key;
use crate::enums::ApiKeyScope;
use crate::nodes::{ApiKey, Membership, Organization};
use crate::service::api_keys;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object};
use opsgraph_core::Permission;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::list_field;
use opsgraph_core::gql::payload;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, mutation, node_mutation, node_object, payload_value, prop, ref_field, scalar,
};
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_derive::GqlInput;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::sync::LazyLock;

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    let changing = |node: &str| format!("Result of a mutation changing a {node}.");
    parts.object(payload::<ApiKey>("apiKey", &changing("ApiKey")));
    parts.input::<ApiKeyInput>();
    parts.input::<RevokeApiKeyInput>();
    parts.enumeration::<ApiKeyScope>();
    parts.list(&*API_KEYS);
    parts.object(api_key_object());
    parts.node::<ApiKey>();
    parts.extend::<Organization>(list_field("apiKeys", &API_KEYS, "API keys (needs ApiKeysManage).", |_, req| {
        let org = req.require(Permission::ApiKeysManage)?;
        Ok(api_key::Entity::find().filter(api_key::Column::OrgId.eq(org)))
    }));
    parts.object(
        Object::new("CreateApiKeyPayload")
            .description("A new API key and its secret, shown only this once.")
            .field(
                Field::new("apiKey", ApiKey::nn(), |ctx| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::borrowed_any(&opsgraph_core::gql::parent::<CreatedKey>(&ctx)?.0)))
                    })
                })
                .description("The key."),
            )
            .field(prop::<CreatedKey>(
                "secret",
                s_nn(),
                "The full key (`ogk_<prefix>_<secret>`); store it now.",
                |k| k.1.clone().into(),
            )),
    );
    parts.mutation(mutation(
        "createApiKey",
        "CreateApiKeyPayload",
        "Create an API key; its secret is returned only here.",
        |req, i: ApiKeyInput| async move {
            let (key, secret) = api_keys::create(req.db.as_ref(), &req.session, &i.name, i.scope, i.expires_at).await?;
            Ok(FieldValue::owned_any(CreatedKey(key, secret)))
        },
    ));
    parts.mutation(node_mutation(
        ApiKey,
        "revokeApiKey",
        "Revoke an API key.",
        |req, i: RevokeApiKeyInput| async move {
            Ok(payload_value(api_keys::revoke(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
}

fn api_key_object() -> Object {
    type K = api_key::Model;
    node_object::<ApiKey>("An organisation API key. The secret is shown only once, at creation.")
        .field(prop::<K>("name", nn(S), "Name.", |k| k.name.clone().into()))
        .field(prop::<K>("prefix", nn(S), "Public prefix identifying the key (`ogk_<prefix>_...`).", |k| {
            k.prefix.clone().into()
        }))
        .field(prop::<K>("scope", ApiKeyScope::nn(), "What the key may do.", |k| enum_value(&k.scope)))
        .field(ref_field::<K, Membership>("createdBy", "Who created it.", |k| k.created_by))
        .field(prop::<K>("expiresAt", nullable(scalar::DATE_TIME), "When it stops working.", |k| opt_ts(&k.expires_at)))
        .field(prop::<K>("lastUsedAt", nullable(scalar::DATE_TIME), "Last use (minute precision).", |k| {
            opt_ts(&k.last_used_at)
        }))
        .field(prop::<K>("revokedAt", nullable(scalar::DATE_TIME), "When it was revoked.", |k| opt_ts(&k.revoked_at)))
        .field(prop::<K>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |k| ts(&k.created_at)))
}

opsgraph_core::id_input!(
    /// Revoke an API key.
    RevokeApiKeyInput,
    "The key."
);

/// Create an API key.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "CreateApiKeyInput")]
struct ApiKeyInput {
    /// Name.
    name: String,
    /// What it may do.
    scope: ApiKeyScope,
    /// Expiry (default: never).
    expires_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// The parent of `CreateApiKeyPayload`.
struct CreatedKey(api_key::Model, String);

/// `ApiKey` lists.
pub static API_KEYS: LazyLock<ListSpec<api_key::Entity>> = LazyLock::new(|| {
    use api_key::Column as C;
    ListSpec {
        node: ApiKey::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("scope", C::Scope, K::Enum(ApiKeyScope::NAME)),
            ff("revokedAt", C::RevokedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("NAME", C::Name, S::Text)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
