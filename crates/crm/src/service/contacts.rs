//! Contacts: people at accounts or standalone leads. E-mail is unique per organisation
//! (case-insensitive, among live contacts); phones are stored in E.164.

use crate::entity::contact;
use crate::enums::ContactStatus;
use crate::nodes::Contact;
use crate::service::{accounts, checks, lead_rules};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

/// Add a contact.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateContactInput {
    /// Their account (none for a standalone lead).
    pub account_id: Option<Id>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: Option<String>,
    /// E-mail (unique in the organisation, case-insensitive).
    pub email: Option<String>,
    /// Phone, international form (`+44 20 7946 0958`; stored as E.164).
    pub phone: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Company name, for a lead without an account.
    pub company: Option<String>,
    /// Where they came from (`website`, `referral`, ...).
    pub source: Option<String>,
    /// Status (default LEAD).
    pub status: Option<ContactStatus>,
    /// Owner (Membership; default you).
    pub owner_id: Option<Id>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Custom fields (a JSON object).
    pub custom_fields: Option<serde_json::Value>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A live contact of organisation `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<contact::Model> {
    contact::Entity::find_by_id(id)
        .filter(contact::Column::OrgId.eq(org))
        .filter(contact::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("contact"))
}

/// The live contact `gid` names (for references from deals).
pub async fn resolve(
    db: &impl ConnectionTrait,
    org: Uuid,
    gid: Option<&Id>,
    field: &str,
) -> AppResult<Option<contact::Model>> {
    match gid {
        Some(g) => Ok(Some(
            get(db, org, Contact::decode(g, field)?)
                .await
                .map_err(|_| AppError::bad_input(field, "no such contact"))?,
        )),
        None => Ok(None),
    }
}

/// A normalised e-mail that no other live contact of `org` has.
async fn free_email(
    db: &impl ConnectionTrait,
    org: Uuid,
    raw: Option<&str>,
    me: Option<Uuid>,
) -> AppResult<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let email = validate::email("email", raw)?;
    let taken = contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org))
        .filter(contact::Column::DeletedAt.is_null())
        .filter(Expr::cust_with_values("lower(email) = lower($1)", [email.clone()]))
        .one(db)
        .await?;
    match taken {
        Some(c) if Some(c.id) != me => Err(AppError::Conflict(format!("a contact with the e-mail {email} exists"))),
        _ => Ok(Some(email)),
    }
}

/// Creates a contact.
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateContactInput) -> AppResult<contact::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key = ("createContact", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let owner = match &i.owner_id {
        Some(_) => opsgraph_org::service::members::resolve(db, w.org, i.owner_id.as_deref(), "ownerId").await?,
        None => session.membership_id,
    };
    let row = contact::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        account_id: Set(accounts::resolve(db, w.org, i.account_id.as_ref(), "accountId").await?),
        first_name: Set(validate::text("firstName", &i.first_name, 1, 100, false)?),
        last_name: Set(validate::opt_text("lastName", i.last_name.as_deref(), 100, false)?.unwrap_or_default()),
        email: Set(free_email(db, w.org, i.email.as_deref(), None).await?),
        phone: Set(i.phone.as_deref().map(|p| checks::phone("phone", p)).transpose()?),
        title: Set(validate::opt_text("title", i.title.as_deref(), 200, false)?),
        company: Set(validate::opt_text("company", i.company.as_deref(), 200, false)?),
        source: Set(validate::opt_text("source", i.source.as_deref(), 100, false)?),
        status: Set(i.status.unwrap_or(ContactStatus::Lead).as_str().to_owned()),
        owner_id: Set(owner),
        tags: Set(checks::tags("tags", i.tags)?),
        custom_fields: Set(checks::custom_fields("customFields", i.custom_fields)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let row = apply_rules(db, row, i.owner_id.is_none()).await?;
    w.created::<Contact>("contact.create", &row, key).await?;
    emit(&w, &row, "contact.created").await?;
    Ok(row)
}

/// Applies the organisation's lead rules to `c`: its score, and (a new contact without a
/// named owner) the owner of the first matching routing rule. System-kept: no version bump.
async fn apply_rules(db: &impl ConnectionTrait, c: contact::Model, route: bool) -> AppResult<contact::Model> {
    let rules = lead_rules::active(db, c.org_id).await?;
    let score = lead_rules::score(&rules, &c);
    let owner = if route { lead_rules::route(&rules, &c).or(c.owner_id) } else { c.owner_id };
    if score == c.lead_score && owner == c.owner_id {
        return Ok(c);
    }
    contact::Entity::update_many()
        .col_expr(contact::Column::LeadScore, Expr::value(score))
        .col_expr(contact::Column::OwnerId, Expr::value(owner))
        .filter(contact::Column::Id.eq(c.id))
        .exec(db)
        .await?;
    Ok(contact::Model { lead_score: score, owner_id: owner, ..c })
}

/// Emits `kind` about contact `c`, addressed to its owner (unless they did it).
async fn emit(w: &Write<'_, impl ConnectionTrait>, c: &contact::Model, kind: &'static str) -> AppResult<()> {
    let recipients = w.others(c.owner_id);
    let name = format!("{} {}", c.first_name, c.last_name).trim().to_owned();
    let mut data = serde_json::json!({ "name": name });
    if matches!(kind, "contact.created" | "contact.assigned") {
        data["notify"] =
            serde_json::json!({ "kind": "ASSIGNMENT", "title": format!("Contact assigned to you: {name}") });
    }
    w.emit::<Contact>(kind, c.id, DomainEvent { recipients, data, ..DomainEvent::default() }).await?;
    Ok(())
}

/// Change a contact; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateContactInput {
    /// The contact.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Their account.
    #[serde(default, deserialize_with = "patch")]
    pub account_id: Option<Option<Id>>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, deserialize_with = "patch")]
    pub last_name: Option<Option<String>>,
    /// E-mail.
    #[serde(default, deserialize_with = "patch")]
    pub email: Option<Option<String>>,
    /// Phone.
    #[serde(default, deserialize_with = "patch")]
    pub phone: Option<Option<String>>,
    /// Job title.
    #[serde(default, deserialize_with = "patch")]
    pub title: Option<Option<String>>,
    /// Company name.
    #[serde(default, deserialize_with = "patch")]
    pub company: Option<Option<String>>,
    /// Source.
    #[serde(default, deserialize_with = "patch")]
    pub source: Option<Option<String>>,
    /// Status.
    pub status: Option<ContactStatus>,
    /// Owner (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub owner_id: Option<Option<Id>>,
    /// Tags (replaces the set).
    pub tags: Option<Vec<String>>,
    /// Custom fields (replaces the object).
    pub custom_fields: Option<serde_json::Value>,
}

/// Changes a contact (`contact.assigned` when the owner changes).
pub async fn update(db: &impl ConnectionTrait, session: &Session, i: UpdateContactInput) -> AppResult<contact::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Contact::decode(&i.id, "id")?).await?;
    let mut am: contact::ActiveModel = current.clone().into();
    if let Some(v) = &i.account_id {
        am.account_id = Set(accounts::resolve(db, w.org, v.as_ref(), "accountId").await?);
    }
    if let Some(v) = &i.first_name {
        am.first_name = Set(validate::text("firstName", v, 1, 100, false)?);
    }
    if let Some(v) = &i.last_name {
        am.last_name = Set(validate::opt_text("lastName", v.as_deref(), 100, false)?.unwrap_or_default());
    }
    if let Some(v) = &i.email {
        am.email = Set(free_email(db, w.org, v.as_deref(), Some(current.id)).await?);
    }
    if let Some(v) = &i.phone {
        am.phone = Set(v.as_deref().map(|p| checks::phone("phone", p)).transpose()?);
    }
    for (field, value, slot, max) in [
        ("title", &i.title, &mut am.title, 200),
        ("company", &i.company, &mut am.company, 200),
        ("source", &i.source, &mut am.source, 100),
    ] {
        if let Some(v) = value {
            *slot = Set(validate::opt_text(field, v.as_deref(), max, false)?);
        }
    }
    if let Some(v) = i.status {
        am.status = Set(v.as_str().to_owned());
    }
    if let Some(v) = &i.owner_id {
        am.owner_id = Set(opsgraph_org::service::members::resolve(db, w.org, v.as_deref(), "ownerId").await?);
    }
    if i.tags.is_some() {
        am.tags = Set(checks::tags("tags", i.tags)?);
    }
    if i.custom_fields.is_some() {
        am.custom_fields = Set(checks::custom_fields("customFields", i.custom_fields)?);
    }
    let Updated { after, changes, .. } =
        w.update::<Contact, _>("contact.update", current.clone(), am, i.expected_version).await?;
    let after = apply_rules(db, after, false).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        emit(&w, &after, if after.owner_id != current.owner_id { "contact.assigned" } else { "contact.updated" })
            .await?;
    }
    Ok(after)
}

/// Soft-deletes a contact (its e-mail becomes free for a new contact).
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<contact::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Contact::decode(gid, "id")?).await?;
    let mut am: contact::ActiveModel = current.clone().into();
    am.deleted_at = Set(Some(chrono::Utc::now().fixed_offset()));
    let after = w.update::<Contact, _>("contact.delete", current.clone(), am, current.version).await?.after;
    emit(&w, &after, "contact.deleted").await?;
    Ok(after)
}
