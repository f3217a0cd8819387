//! Interactions: calls (with their recording and transcript), e-mails, meetings, notes and
//! messages, logged by a member with the contacts who took part. Logging one keeps its
//! contacts' `lastContactedAt`.

use crate::entity::{interaction, interaction_participant};
use crate::enums::{Direction, InteractionKind};
use crate::nodes::{Contact, Interaction};
use crate::service::{accounts, contacts, deals};
use chrono::{DateTime, FixedOffset, Utc};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

/// The recording of a call.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RecordingInput {
    /// Where the audio is (storage key or URL).
    pub url: String,
    /// Length in seconds.
    pub seconds: Option<i32>,
    /// Transcript text.
    pub transcript: Option<String>,
}

/// Log a call, e-mail, meeting, note or message.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct LogInteractionInput {
    /// What it was.
    pub kind: InteractionKind,
    /// Who reached out.
    pub direction: Option<Direction>,
    /// Channel (`phone`, `zoom`, `whatsapp`, ...).
    pub channel: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Body or notes (markdown).
    pub body: Option<String>,
    /// Outcome (`left voicemail`, `demo booked`, ...).
    pub outcome: Option<String>,
    /// Length in minutes.
    pub duration_minutes: Option<i32>,
    /// When it happened (default now; not in the future).
    pub occurred_at: Option<DateTime<FixedOffset>>,
    /// The contacts who took part (at most 50).
    pub contact_ids: Vec<Id>,
    /// The account (default: the deal's, or the first contact's).
    pub account_id: Option<Id>,
    /// The deal it was about.
    pub deal_id: Option<Id>,
    /// A call's recording.
    pub recording: Option<RecordingInput>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// The distinct contacts of `ids`, each live in `org`.
async fn participants(db: &impl ConnectionTrait, org: Uuid, ids: &[Id]) -> AppResult<Vec<(Uuid, Option<Uuid>)>> {
    if ids.len() > 50 {
        return Err(AppError::bad_input("contactIds", "at most 50 contacts"));
    }
    let mut out: Vec<(Uuid, Option<Uuid>)> = vec![];
    for (i, g) in ids.iter().enumerate() {
        let field = format!("contactIds[{i}]");
        let c = contacts::get(db, org, Contact::decode(g, &field)?)
            .await
            .map_err(|_| AppError::bad_input(field, "no such contact"))?;
        if !out.iter().any(|(id, _)| *id == c.id) {
            out.push((c.id, c.account_id));
        }
    }
    Ok(out)
}

/// Logs an interaction (`interaction.logged`) and moves its contacts' `lastContactedAt`.
pub async fn log(
    db: &impl ConnectionTrait,
    session: &Session,
    i: LogInteractionInput,
) -> AppResult<interaction::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key = ("logInteraction", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return opsgraph_core::db::find_in_org::<interaction::Entity>(
            db,
            interaction::Column::OrgId,
            w.org,
            id,
            "interaction",
        )
        .await;
    }
    let people = participants(db, w.org, &i.contact_ids).await?;
    let deal = match &i.deal_id {
        Some(g) => Some(
            deals::get(db, w.org, crate::nodes::Deal::decode(g, "dealId")?)
                .await
                .map_err(|_| AppError::bad_input("dealId", "no such deal"))?,
        ),
        None => None,
    };
    let account = match &i.account_id {
        Some(_) => accounts::resolve(db, w.org, i.account_id.as_ref(), "accountId").await?,
        None => deal.as_ref().and_then(|d| d.account_id).or_else(|| people.iter().find_map(|p| p.1)),
    };
    let occurred = not_future(i.occurred_at)?;
    if i.duration_minutes.is_some_and(|d| !(0..=1440).contains(&d)) {
        return Err(AppError::bad_input("durationMinutes", "durationMinutes must be 0..1440"));
    }
    let rec = i.recording.as_ref();
    let row = interaction::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        kind: Set(i.kind.as_str().to_owned()),
        direction: Set(i.direction.map(|d| d.as_str().to_owned())),
        channel: Set(validate::opt_text("channel", i.channel.as_deref(), 50, false)?),
        subject: Set(validate::opt_text("subject", i.subject.as_deref(), 500, false)?),
        body: Set(validate::opt_text("body", i.body.as_deref(), 50_000, true)?),
        outcome: Set(validate::opt_text("outcome", i.outcome.as_deref(), 500, false)?),
        duration_minutes: Set(i.duration_minutes),
        occurred_at: Set(occurred),
        account_id: Set(account),
        deal_id: Set(deal.as_ref().map(|d| d.id)),
        member_id: Set(session.membership_id),
        recording_url: Set(rec.map(|r| validate::text("recording.url", &r.url, 1, 1000, false)).transpose()?),
        recording_seconds: Set(rec.and_then(|r| r.seconds).filter(|s| *s >= 0)),
        transcript: Set(rec
            .and_then(|r| r.transcript.as_deref())
            .map(|t| validate::text("recording.transcript", t, 1, 200_000, true))
            .transpose()?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let ids: Vec<Uuid> = people.iter().map(|p| p.0).collect();
    add_participants(db, &row, &ids).await?;
    w.created::<Interaction>("interaction.log", &row, key).await?;
    let data = serde_json::json!({ "kind": row.kind, "subject": row.subject, "contacts": people.len() });
    w.emit::<Interaction>("interaction.logged", row.id, DomainEvent { data, ..DomainEvent::default() }).await?;
    Ok(row)
}

/// Records `contacts` as taking part in `row` and moves their `lastContactedAt` forward.
async fn add_participants(db: &impl ConnectionTrait, row: &interaction::Model, contacts: &[Uuid]) -> AppResult<()> {
    for contact in contacts {
        interaction_participant::ActiveModel {
            org_id: Set(row.org_id),
            interaction_id: Set(row.id),
            contact_id: Set(*contact),
            occurred_at: Set(row.occurred_at),
        }
        .insert(db)
        .await?;
    }
    touch_contacts(db, contacts, row.occurred_at).await
}

/// The interaction `id` of `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<interaction::Model> {
    opsgraph_core::db::find_in_org::<interaction::Entity>(db, interaction::Column::OrgId, org, id, "interaction").await
}

/// A message of a conversation, as the conversation service records it.
pub struct Message {
    /// The conversation.
    pub conversation: Uuid,
    /// Its contact.
    pub contact: Uuid,
    /// Its account.
    pub account: Option<Uuid>,
    /// The interaction kind of its channel.
    pub kind: InteractionKind,
    /// Its channel, lower case.
    pub channel: String,
    /// Who wrote to whom.
    pub direction: Direction,
    /// Who wrote it.
    pub sender: crate::enums::SenderType,
    /// The validated text.
    pub body: String,
    /// When it was sent (default now).
    pub occurred_at: Option<DateTime<FixedOffset>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<FixedOffset>>,
}

/// Records message `m` as an interaction of its conversation (`interaction.logged`); the
/// caller audits it and keeps the thread's counters.
pub async fn record_message(w: &Write<'_, impl ConnectionTrait>, m: Message) -> AppResult<interaction::Model> {
    let occurred = not_future(m.occurred_at)?;
    let member = (m.sender == crate::enums::SenderType::Member).then_some(w.session.membership_id).flatten();
    let row = interaction::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        kind: Set(m.kind.as_str().to_owned()),
        direction: Set(Some(m.direction.as_str().to_owned())),
        channel: Set(Some(m.channel)),
        body: Set(Some(m.body)),
        occurred_at: Set(occurred),
        account_id: Set(m.account),
        member_id: Set(member),
        conversation_id: Set(Some(m.conversation)),
        sender_type: Set(Some(m.sender.as_str().to_owned())),
        delivered_at: Set(m.delivered_at),
        ..Default::default()
    }
    .insert(w.db)
    .await?;
    add_participants(w.db, &row, &[m.contact]).await?;
    let data = serde_json::json!({ "kind": row.kind, "conversation": true, "contacts": 1 });
    w.emit::<Interaction>("interaction.logged", row.id, DomainEvent { data, ..DomainEvent::default() }).await?;
    Ok(row)
}

/// `at` (default now), refused when in the future.
fn not_future(at: Option<DateTime<FixedOffset>>) -> AppResult<DateTime<FixedOffset>> {
    let at = at.unwrap_or_else(|| Utc::now().fixed_offset());
    if at > Utc::now().fixed_offset() + chrono::Duration::minutes(5) {
        return Err(AppError::bad_input("occurredAt", "an interaction cannot be logged in the future"));
    }
    Ok(at)
}

/// Moves `lastContactedAt` of `contacts` forward to `at` (never back).
async fn touch_contacts(db: &impl ConnectionTrait, contacts: &[Uuid], at: DateTime<FixedOffset>) -> AppResult<()> {
    if contacts.is_empty() {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE contacts SET last_contacted_at = $2 WHERE id = ANY($1) AND (last_contacted_at IS NULL OR last_contacted_at < $2)",
        [contacts.to_vec().into(), at.into()],
    ))
    .await?;
    Ok(())
}

/// Correct a logged interaction; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInteractionInput {
    /// The interaction.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Subject.
    #[serde(default, deserialize_with = "patch")]
    pub subject: Option<Option<String>>,
    /// Body or notes (markdown).
    #[serde(default, deserialize_with = "patch")]
    pub body: Option<Option<String>>,
    /// Outcome.
    #[serde(default, deserialize_with = "patch")]
    pub outcome: Option<Option<String>>,
    /// Length in minutes.
    #[serde(default, deserialize_with = "patch")]
    pub duration_minutes: Option<Option<i32>>,
    /// When it happened (not in the future); its contacts' `lastContactedAt` follow.
    pub occurred_at: Option<DateTime<FixedOffset>>,
}

/// Corrects an interaction (`interaction.updated`).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateInteractionInput,
) -> AppResult<interaction::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Interaction::decode(&i.id, "id")?).await?;
    let mut am: interaction::ActiveModel = current.clone().into();
    if let Some(v) = &i.subject {
        am.subject = Set(validate::opt_text("subject", v.as_deref(), 500, false)?);
    }
    if let Some(v) = &i.body {
        am.body = Set(validate::opt_text("body", v.as_deref(), 50_000, true)?);
    }
    if let Some(v) = &i.outcome {
        am.outcome = Set(validate::opt_text("outcome", v.as_deref(), 500, false)?);
    }
    if let Some(v) = i.duration_minutes {
        if v.is_some_and(|d| !(0..=1440).contains(&d)) {
            return Err(AppError::bad_input("durationMinutes", "durationMinutes must be 0..1440"));
        }
        am.duration_minutes = Set(v);
    }
    if i.occurred_at.is_some() {
        am.occurred_at = Set(not_future(i.occurred_at)?);
    }
    let done = w.update::<Interaction, _>("interaction.update", current.clone(), am, i.expected_version).await?;
    if done.changes.as_object().is_some_and(serde_json::Map::is_empty) {
        return Ok(done.after);
    }
    if done.after.occurred_at != current.occurred_at {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE interaction_participants SET occurred_at = $2 WHERE interaction_id = $1",
            [current.id.into(), done.after.occurred_at.into()],
        ))
        .await?;
        resync(db, &current).await?;
    }
    let data = done.changes.clone();
    w.emit::<Interaction>("interaction.updated", current.id, DomainEvent { data, ..DomainEvent::default() }).await?;
    Ok(done.after)
}

/// Deletes an interaction for good (`interaction.deleted`); its contacts' `lastContactedAt`
/// and its conversation's counters are recomputed from what remains.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<interaction::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Interaction::decode(gid, "id")?).await?;
    let contacts = participant_ids(db, current.id).await?;
    let row = w.delete::<Interaction>("interaction.delete", current).await?;
    recount(db, &row, &contacts).await?;
    w.changed::<Interaction>("interaction.deleted", row.id, None).await?;
    Ok(row)
}

async fn participant_ids(db: &impl ConnectionTrait, interaction: Uuid) -> AppResult<Vec<Uuid>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let rows = interaction_participant::Entity::find()
        .filter(interaction_participant::Column::InteractionId.eq(interaction))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|p| p.contact_id).collect())
}

/// After `row`'s time changed: its contacts and conversation follow.
async fn resync(db: &impl ConnectionTrait, row: &interaction::Model) -> AppResult<()> {
    let contacts = participant_ids(db, row.id).await?;
    recount(db, row, &contacts).await
}

/// Recomputes `lastContactedAt` of `contacts` and the counters of `row`'s conversation
/// from the interactions that remain.
async fn recount(db: &impl ConnectionTrait, row: &interaction::Model, contacts: &[Uuid]) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE contacts c SET last_contacted_at = \
           (SELECT max(p.occurred_at) FROM interaction_participants p WHERE p.contact_id = c.id) \
         WHERE c.id = ANY($1)",
        [contacts.to_vec().into()],
    ))
    .await?;
    if let Some(thread) = row.conversation_id {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE conversations v SET message_count = s.n, unread_count = s.unread, last_message_at = s.last, \
               version = v.version + 1 \
             FROM (SELECT count(*)::int AS n, \
                     count(*) FILTER (WHERE direction = 'INBOUND' AND read_at IS NULL)::int AS unread, \
                     max(occurred_at) AS last FROM interactions WHERE conversation_id = $1) s \
             WHERE v.id = $1",
            [thread.into()],
        ))
        .await?;
    }
    Ok(())
}
