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
use opsgraph_core::input::Id;
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
    let occurred = i.occurred_at.unwrap_or_else(|| Utc::now().fixed_offset());
    if occurred > Utc::now().fixed_offset() + chrono::Duration::minutes(5) {
        return Err(AppError::bad_input("occurredAt", "an interaction cannot be logged in the future"));
    }
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
    for (contact, _) in &people {
        interaction_participant::ActiveModel {
            org_id: Set(w.org),
            interaction_id: Set(row.id),
            contact_id: Set(*contact),
        }
        .insert(db)
        .await?;
    }
    touch_contacts(db, &people.iter().map(|p| p.0).collect::<Vec<_>>(), occurred).await?;
    w.created::<Interaction>("interaction.log", &row, key).await?;
    let data = serde_json::json!({ "kind": row.kind, "subject": row.subject, "contacts": people.len() });
    w.emit::<Interaction>("interaction.logged", row.id, DomainEvent { data, ..DomainEvent::default() }).await?;
    Ok(row)
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
