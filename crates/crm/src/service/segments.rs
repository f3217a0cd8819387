//! Segments (a saved `ContactFilter`; who is in it is computed when read, so it follows
//! the contacts) and campaigns (recipients frozen from a segment when the campaign is
//! created, each with a delivery status).

use crate::entity::{campaign, campaign_recipient, contact, segment};
use crate::enums::RecipientStatus;
use crate::nodes::{Campaign, Contact, Segment};
use opsgraph_core::gql::InputType;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Select, Set,
    Statement,
};
use serde::Deserialize;
use uuid::Uuid;

/// A `ContactFilter` value, kept as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct ContactFilterValue(pub serde_json::Value);

impl InputType for ContactFilterValue {
    fn type_ref() -> async_graphql::dynamic::TypeRef {
        async_graphql::dynamic::TypeRef::named_nn("ContactFilter")
    }
}

/// The live contacts of `org` that `filter` selects (BAD_USER_INPUT on `field` when the
/// stored filter no longer compiles).
pub fn members(org: Uuid, filter: &serde_json::Value, field: &str) -> AppResult<Select<contact::Entity>> {
    let value =
        async_graphql::Value::from_json(filter.clone()).map_err(|_| AppError::bad_input(field, "not a filter"))?;
    let cond = opsgraph_core::filter::compile(&crate::graphql::CONTACTS.filters, &value).map_err(|e| match e {
        AppError::BadUserInput { field: f, message } => {
            AppError::BadUserInput { field: Some(format!("{field}.{}", f.unwrap_or_default())), message }
        }
        other => other,
    })?;
    Ok(contact::Entity::find()
        .filter(contact::Column::OrgId.eq(org))
        .filter(contact::Column::DeletedAt.is_null())
        .filter(cond))
}

/// Save a contact filter as a segment.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateSegmentInput {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Who is in it: the same filter as `Organization.contacts(filter:)`.
    pub filter: ContactFilterValue,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Creates a segment (the filter is checked now).
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateSegmentInput) -> AppResult<segment::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key_text = i.idempotency_key.clone();
    let key = ("createSegment", key_text.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return opsgraph_core::db::find_in_org::<segment::Entity>(db, segment::Column::OrgId, w.org, id, "segment")
            .await;
    }
    members(w.org, &i.filter.0, "filter")?;
    let row = segment::ActiveModel {
        id: Set(opsgraph_core::id::new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, true)?),
        filter: Set(i.filter.0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Segment>("segment.create", &row, key).await?;
    w.changed::<Segment>("segment.created", row.id, None).await?;
    Ok(row)
}

/// Change a segment; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSegmentInput {
    /// The segment.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// What it is for (null clears).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub description: Option<Option<String>>,
    /// Who is in it (checked now; campaigns already created keep their recipients).
    pub filter: Option<ContactFilterValue>,
}

/// Updates a segment.
pub async fn update(db: &impl ConnectionTrait, session: &Session, i: UpdateSegmentInput) -> AppResult<segment::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, &i.id, "id").await?;
    let mut am: segment::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 2000, true)?);
    }
    if let Some(f) = i.filter {
        members(w.org, &f.0, "filter")?;
        am.filter = Set(f.0);
    }
    let done = w.update::<Segment, _>("segment.update", current, am, i.expected_version).await?;
    if !done.changes.as_object().is_some_and(serde_json::Map::is_empty) {
        w.changed::<Segment>("segment.updated", done.after.id, None).await?;
    }
    Ok(done.after)
}

/// Deletes a segment (its campaigns stay, with their frozen recipients).
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<segment::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, gid, "id").await?;
    let row = w.delete::<Segment>("segment.delete", current).await?;
    w.changed::<Segment>("segment.deleted", row.id, None).await?;
    Ok(row)
}

/// The segment `gid` of `org`.
async fn get(db: &impl ConnectionTrait, org: Uuid, gid: &str, field: &str) -> AppResult<segment::Model> {
    let id = Segment::decode(gid, field)?;
    opsgraph_core::db::find_in_org::<segment::Entity>(db, segment::Column::OrgId, org, id, "segment").await
}

/// Start a campaign to a segment.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateCampaignInput {
    /// Name.
    pub name: String,
    /// The segment whose current members become the recipients.
    pub segment_id: Id,
    /// Subject line.
    pub subject: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Most recipients one campaign freezes.
pub const MAX_RECIPIENTS: u64 = 100_000;

/// Creates a campaign; its recipients are the segment's members now (PENDING).
pub async fn create_campaign(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateCampaignInput,
) -> AppResult<campaign::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key_text = i.idempotency_key.clone();
    let key = ("createCampaign", key_text.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return opsgraph_core::db::find_in_org::<campaign::Entity>(db, campaign::Column::OrgId, w.org, id, "campaign")
            .await;
    }
    let seg_id = Segment::decode(&i.segment_id, "segmentId")?;
    let seg =
        opsgraph_core::db::find_in_org::<segment::Entity>(db, segment::Column::OrgId, w.org, seg_id, "segment").await?;
    let ids: Vec<Uuid> = members(w.org, &seg.filter, "segmentId")?
        .select_only()
        .column(contact::Column::Id)
        .limit(MAX_RECIPIENTS + 1)
        .into_tuple()
        .all(db)
        .await?;
    if ids.len() as u64 > MAX_RECIPIENTS {
        return Err(AppError::bad_input("segmentId", format!("a campaign reaches at most {MAX_RECIPIENTS} contacts")));
    }
    let row = campaign::ActiveModel {
        id: Set(opsgraph_core::id::new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        segment_id: Set(Some(seg.id)),
        subject: Set(validate::opt_text("subject", i.subject.as_deref(), 500, false)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO campaign_recipients (org_id, campaign_id, contact_id) SELECT $1, $2, unnest($3::uuid[])",
        [w.org.into(), row.id.into(), ids.into()],
    ))
    .await?;
    w.created::<Campaign>("campaign.create", &row, key).await?;
    w.changed::<Campaign>("campaign.created", row.id, None).await?;
    Ok(row)
}

/// Record how a recipient's delivery went.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetRecipientStatusInput {
    /// The campaign.
    pub campaign_id: Id,
    /// The recipient.
    pub contact_id: Id,
    /// Its new status.
    pub status: RecipientStatus,
}

/// Sets one recipient's status (NOT_FOUND when the contact is not a recipient).
pub async fn set_recipient_status(
    db: &impl ConnectionTrait,
    session: &Session,
    i: SetRecipientStatusInput,
) -> AppResult<campaign::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let c = opsgraph_core::db::find_in_org::<campaign::Entity>(
        db,
        campaign::Column::OrgId,
        w.org,
        Campaign::decode(&i.campaign_id, "campaignId")?,
        "campaign",
    )
    .await?;
    let contact = Contact::decode(&i.contact_id, "contactId")?;
    let done = campaign_recipient::Entity::update_many()
        .col_expr(campaign_recipient::Column::Status, sea_orm::sea_query::Expr::value(i.status.as_str()))
        .col_expr(campaign_recipient::Column::UpdatedAt, sea_orm::sea_query::Expr::current_timestamp())
        .filter(campaign_recipient::Column::CampaignId.eq(c.id))
        .filter(campaign_recipient::Column::ContactId.eq(contact))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::not_found("campaign recipient"));
    }
    let changes = serde_json::json!({ "contactId": Contact::gid(contact), "status": i.status.as_str() });
    w.audit::<Campaign>("campaign.recipient_status", c.id, changes).await?;
    w.changed::<Campaign>("campaign.recipient_updated", c.id, None).await?;
    Ok(c)
}
