//! The `Organization` type, its settings and audit log, and their mutations.

use super::common::{S, nn, nullable, ts};
use crate::entity::{audit_entry, membership, org_setting, organization};
use crate::enums::PlanTier;
use crate::nodes::{ApiKey, AuditEntry, Membership, Organization};
use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::list_field;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, mutation, node_object, opt, payload_value, prop, ref_field, scalar,
};
use opsgraph_core::gql::{payload_named, payload_object};
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, Permission, RequestCtx};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::LazyLock;

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    let changing = |node: &str| format!("Result of a mutation changing a {node}.");
    parts.object(payload_named::<Organization>("UpdateOrganizationPayload", "organization", &changing("Organization")));
    parts.object(payload_object(
        "OrgSettingPayload",
        "setting",
        TypeRef::named_nn("OrgSetting"),
        &changing("OrgSetting"),
    ));
    parts.input::<crate::service::organization::UpdateOrgInput>();
    parts.input::<crate::service::settings::SettingInput>();
    parts.enum_only::<PlanTier>();
    parts.list(&*AUDIT);
    parts.object(organization_object());
    parts.object(audit_object());
    parts.object(setting_object());
    parts.node::<Organization>();
    parts.node::<AuditEntry>();
    parts.extend::<Organization>(list_field(
        "members",
        &super::members::MEMBERS,
        "Members of the organisation.",
        |_, req| {
            let org = req.require(Permission::MembersRead)?;
            Ok(membership::Entity::find().filter(membership::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(list_field("auditLog", &AUDIT, "The audit log (needs AuditRead).", |_, req| {
        let org = req.require(Permission::AuditRead)?;
        Ok(audit_entry::Entity::find().filter(audit_entry::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(
        Field::new("settings", TypeRef::named_nn_list_nn("OrgSetting"), |ctx| {
            FieldFuture::new(async move {
                let req = &RequestCtx::of(&ctx)?;
                let org = req.require(Permission::SettingsRead)?;
                let rows = org_setting::Entity::find()
                    .filter(org_setting::Column::OrgId.eq(org))
                    .all(req.db.as_ref())
                    .await
                    .map_err(AppError::from)?;
                Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("Organisation settings."),
    );
    parts.mutation(mutation(
        "updateOrganization",
        "UpdateOrganizationPayload",
        "Change the active organisation's profile.",
        |req, i: crate::service::organization::UpdateOrgInput| async move {
            Ok(payload_value(crate::service::organization::update(&req, i).await?))
        },
    ));
    parts.mutation(mutation(
        "setOrgSetting",
        "OrgSettingPayload",
        "Set an organisation setting.",
        |req, i: crate::service::settings::SettingInput| async move {
            Ok(payload_value(crate::service::settings::set(&req, i).await?))
        },
    ));
}

fn organization_object() -> Object {
    type O = organization::Model;
    node_object::<Organization>("A tenant: a company using opsgraph. Everything else belongs to one.")
        .field(prop::<O>("name", nn(S), "Display name.", |o| o.name.clone().into()))
        .field(prop::<O>("slug", nn(S), "Unique URL-safe name.", |o| o.slug.clone().into()))
        .field(prop::<O>("domain", nullable(S), "E-mail / web domain.", |o| opt(o.domain.clone())))
        .field(prop::<O>("planTier", PlanTier::nn(), "Subscription tier.", |o| enum_value(&o.plan_tier)))
        .field(prop::<O>("defaultCurrency", nn(S), "ISO 4217 currency used when none is given.", |o| {
            o.default_currency.clone().into()
        }))
        .field(prop::<O>("fiscalYearStartMonth", nn(TypeRef::INT), "Month (1-12) the fiscal year starts.", |o| {
            i32::from(o.fiscal_year_start_month).into()
        }))
        .field(prop::<O>("timezone", nn(S), "IANA time zone.", |o| o.timezone.clone().into()))
        .field(prop::<O>("isActive", nn(TypeRef::BOOLEAN), "Whether the organisation is active.", |o| {
            o.is_active.into()
        }))
        .field(prop::<O>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |o| o.version.into()))
        .field(prop::<O>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |o| ts(&o.created_at)))
        .field(prop::<O>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |o| ts(&o.updated_at)))
}

fn setting_object() -> Object {
    type X = org_setting::Model;
    Object::new("OrgSetting")
        .description("One organisation setting.")
        .field(prop::<X>("key", nn(S), "Key (`a-z0-9_.`).", |s| s.key.clone().into()))
        .field(prop::<X>("value", nn(scalar::JSON), "Value.", |s| {
            Value::from_json(s.value.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<X>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |s| ts(&s.updated_at)))
}

/// `AuditEntry` lists.
pub static AUDIT: LazyLock<ListSpec<audit_entry::Entity>> = LazyLock::new(|| {
    use audit_entry::Column as C;
    ListSpec {
        node: AuditEntry::NAME,
        id: C::Id,
        filters: vec![
            ff("action", C::Action, K::Text),
            ff("entityType", C::EntityType, K::Text),
            ff("actorMembershipId", C::ActorMembershipId, K::Id(Membership::NAME)),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

fn audit_object() -> Object {
    type A = audit_entry::Model;
    node_object::<AuditEntry>("One recorded change: who did what to which object.")
        .field(prop::<A>("actorType", nn(S), "user, api_key, agent, system.", |a| a.actor_type.clone().into()))
        .field(ref_field::<A, Membership>("actor", "The acting member, if a person.", |a| a.actor_membership_id))
        .field(ref_field::<A, ApiKey>("apiKey", "The acting API key, if any.", |a| a.api_key_id))
        .field(prop::<A>("action", nn(S), "What was done, e.g. `team.create`.", |a| a.action.clone().into()))
        .field(prop::<A>("entityType", nn(S), "Type of the changed object.", |a| a.entity_type.clone().into()))
        .field(prop::<A>("entityId", nullable(TypeRef::ID), "Global ID of the changed object.", |a| {
            opt(a.entity_id.map(|id| opsgraph_core::id::encode(&a.entity_type, id)))
        }))
        .field(prop::<A>("changes", nn(scalar::JSON), "Changed fields: `{field: {from, to}}` or a snapshot.", |a| {
            Value::from_json(a.changes.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<A>("ip", nullable(S), "Client address.", |a| opt(a.ip.clone())))
        .field(prop::<A>("userAgent", nullable(S), "Client user agent.", |a| opt(a.user_agent.clone())))
        .field(prop::<A>("requestId", nullable(S), "Request id (matches server logs).", |a| opt(a.request_id.clone())))
        .field(prop::<A>("createdAt", nn(scalar::DATE_TIME), "When it happened.", |a| ts(&a.created_at)))
}
