//! Voice conversations (004): a conversation on channel VOICE, linked to the crm contact
//! on the call, and its call recordings (where the audio is, length, transcript). The
//! conversation's member adds them; Row Level Security keeps them as private as the
//! conversation.

use chrono::{DateTime, FixedOffset};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;

use crate::entity::call_recording;
use crate::enums::AgentChannel;
use crate::nodes::{AgentConversation, CallRecording};
use crate::service::conversations;

/// Add a call recording.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddCallRecordingInput {
    /// Your VOICE conversation.
    pub conversation_id: Id,
    /// Where the audio is (URL or storage key).
    pub url: String,
    /// Length in seconds.
    pub duration_secs: i32,
    /// What was said.
    pub transcript: Option<String>,
    /// When the call started.
    pub started_at: DateTime<FixedOffset>,
}

/// Adds a recording to the caller's voice conversation.
pub async fn add(
    db: &impl ConnectionTrait,
    session: &Session,
    i: AddCallRecordingInput,
) -> AppResult<call_recording::Model> {
    let w = Write::new(db, session, Permission::AiUse)?;
    let c = conversations::get(db, w.org, AgentConversation::decode(&i.conversation_id, "conversationId")?).await?;
    if c.channel != AgentChannel::Voice.as_str() {
        return Err(AppError::bad_input("conversationId", "recordings belong to VOICE conversations"));
    }
    if !(0..=86_400).contains(&i.duration_secs) {
        return Err(AppError::bad_input("durationSecs", "durationSecs is 0..86400"));
    }
    let row = call_recording::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        conversation_id: Set(c.id),
        contact_id: Set(c.contact_id),
        url: Set(validate::text("url", &i.url, 1, 2000, false)?),
        duration_secs: Set(i.duration_secs),
        transcript: Set(validate::opt_text("transcript", i.transcript.as_deref(), 500_000, true)?),
        started_at: Set(i.started_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<CallRecording>("call_recording.create", &row, ("addCallRecording", None)).await?;
    w.changed::<CallRecording>("call_recording.create", row.id, None).await?;
    Ok(row)
}
