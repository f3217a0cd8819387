//! `Account`, `Contact` and `Industry`.

use async_graphql::Value;
use async_graphql::dynamic::TypeRef;
use opsgraph_core::gql::json;
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_value, node_object, opt, page_field, page_field_for, prop, prop_for, ref_col, scalar,
};
use opsgraph_org::nodes::Membership;
use opsgraph_work::loader::ProjectsOfClient;

use crate::entity::{account, contact, industry};
use crate::enums::{AccountStatus, ContactStatus};
use crate::loader::{ContactsOfAccount, DealsOfAccount, DealsOfContact};
use crate::nodes::{Account, Contact, Industry};
use opsgraph_core::Permission;
use opsgraph_core::gql::GqlEnum;

fn tags(v: &[String]) -> Value {
    Value::List(v.iter().map(|t| Value::String(t.clone())).collect())
}

/// What a CLIENT reading its own account may not see (internal notes, the sales side).
const CRM: Permission = Permission::CrmRead;

/// Registers the account, contact and industry types.
pub fn register(parts: &mut SchemaParts) {
    type A = account::Model;
    type C = contact::Model;
    type I = industry::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.object(
        node_object::<Industry>("An entry of the organisation's industry catalog.")
            .field(prop::<I>("name", nn(TypeRef::STRING), "Name.", |i| i.name.clone().into()))
            .field(prop::<I>("description", s(), "What it covers.", |i| opt(i.description.clone()))),
    );
    parts.object(
        node_object::<Account>("A client company (or a prospect).")
            .field(prop::<A>("name", nn(TypeRef::STRING), "Company name.", |a| a.name.clone().into()))
            .field(ref_col::<Account, Industry>("industry", "Industry.", account::Column::IndustryId))
            .field(prop::<A>("size", TypeRef::named("AccountSize"), "Size band.", |a| {
                a.size.as_deref().map(enum_value).unwrap_or(Value::Null)
            }))
            .field(prop::<A>("website", s(), "Website.", |a| opt(a.website.clone())))
            .field(prop::<A>("address", s(), "Street address.", |a| opt(a.address.clone())))
            .field(prop::<A>("city", s(), "City.", |a| opt(a.city.clone())))
            .field(prop::<A>("country", s(), "Country (ISO 3166 alpha-2).", |a| opt(a.country.clone())))
            .field(prop_for::<A>(CRM, "status", AccountStatus::nn(), "Status.", |a| enum_value(&a.status)))
            .field(ref_col::<Account, Membership>("owner", "Who looks after it.", account::Column::OwnerId))
            .field(prop_for::<A>(CRM, "tags", TypeRef::named_nn_list_nn(TypeRef::STRING), "Tags.", |a| tags(&a.tags)))
            .field(prop_for::<A>(CRM, "customFields", nn(scalar::JSON), "Custom fields.", |a| json(&a.custom_fields)))
            .field(page_field_for::<A, ContactsOfAccount>(Some(CRM), "contacts", "Its contacts.", |a| a.id))
            .field(page_field_for::<A, DealsOfAccount>(Some(CRM), "deals", "Its deals.", |a| a.id))
            .field(page_field::<A, ProjectsOfClient>("projects", "Projects for this client (work).", |a| a.id))
            .field(prop_for::<A>(CRM, "isDeleted", nn(TypeRef::BOOLEAN), "Soft-deleted (restorable).", |a| {
                a.deleted_at.is_some().into()
            }))
            .field(prop::<A>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |a| a.version.into()))
            .field(prop::<A>("createdAt", nn(scalar::DATE_TIME), "When it was added.", |a| datetime(&a.created_at)))
            .field(prop::<A>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |a| datetime(&a.updated_at))),
    );
    parts.object(
        node_object::<Contact>("A person at an account, or a standalone lead.")
            .field(ref_col::<Contact, Account>("account", "Their account.", contact::Column::AccountId))
            .field(prop::<C>("firstName", nn(TypeRef::STRING), "Given name.", |c| c.first_name.clone().into()))
            .field(prop::<C>("lastName", nn(TypeRef::STRING), "Family name.", |c| c.last_name.clone().into()))
            .field(prop::<C>("fullName", nn(TypeRef::STRING), "Given and family name.", |c| {
                format!("{} {}", c.first_name, c.last_name).trim().to_owned().into()
            }))
            .field(prop::<C>("email", s(), "E-mail.", |c| opt(c.email.clone())))
            .field(prop::<C>("phone", s(), "Phone (E.164).", |c| opt(c.phone.clone())))
            .field(prop::<C>("title", s(), "Job title.", |c| opt(c.title.clone())))
            .field(prop::<C>("company", s(), "Company name (leads without an account).", |c| opt(c.company.clone())))
            .field(prop::<C>("source", s(), "Where they came from.", |c| opt(c.source.clone())))
            .field(prop::<C>("status", ContactStatus::nn(), "Status.", |c| enum_value(&c.status)))
            .field(ref_col::<Contact, Membership>("owner", "Who looks after them.", contact::Column::OwnerId))
            .field(prop::<C>("leadScore", nn(TypeRef::INT), "Lead score.", |c| c.lead_score.into()))
            .field(prop::<C>("lastContactedAt", TypeRef::named(scalar::DATE_TIME), "Last interaction.", |c| {
                c.last_contacted_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(prop::<C>("tags", TypeRef::named_nn_list_nn(TypeRef::STRING), "Tags.", |c| tags(&c.tags)))
            .field(prop::<C>("customFields", nn(scalar::JSON), "Custom fields.", |c| json(&c.custom_fields)))
            .field(page_field::<C, DealsOfContact>("deals", "Deals they are the primary contact of.", |c| c.id))
            .field(prop::<C>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
            .field(prop::<C>("createdAt", nn(scalar::DATE_TIME), "When they were added.", |c| datetime(&c.created_at))),
    );
    parts.node::<Industry>().node::<Account>().node::<Contact>();
}
