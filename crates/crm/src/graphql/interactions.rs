//! `Interaction`, `logInteraction`, `Account.interactions` and the `timeline` of accounts
//! and contacts.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::context::RequestCtx;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, datetime, enum_value, node_mutation, node_object, opt, page_field_for, parent, payload,
    payload_value, prop, ref_field, scalar, through_field,
};
use opsgraph_core::loader::failed;
use opsgraph_core::node::{Model, NodeType};
use opsgraph_core::{AppError, Permission};
use opsgraph_org::nodes::Membership;

use crate::entity::interaction;
use crate::enums::{Direction, InteractionKind, SenderType};
use crate::loader::{InteractionsOfAccount, ParticipantsOf};
use crate::nodes::{Account, Contact, Conversation, Deal, Interaction};
use crate::service::interactions::{self, LogInteractionInput, RecordingInput};
use crate::timeline::{Entry, Owner, Timelines};

const MAX_TIMELINE: i64 = 200;

fn timeline_field<N: NodeType>(owner: Owner) -> Field
where
    Model<N>: std::any::Any + Send + Sync,
{
    Field::new("timeline", TypeRef::named_nn_list_nn("TimelineEntry"), move |ctx| {
        FieldFuture::new(async move {
            let id = N::id(parent::<Model<N>>(&ctx)?);
            let first = match ctx.args.get("first") {
                Some(v) if !v.is_null() => v.i64()?,
                _ => 50,
            };
            if !(1..=MAX_TIMELINE).contains(&first) {
                return Err(AppError::bad_input("first", format!("first must be 1..{MAX_TIMELINE}")).into());
            }
            let req = RequestCtx::of(&ctx)?;
            req.require(Permission::CrmRead)?;
            let entries = req.loader(Timelines::new).load_one((owner, id, first)).await.map_err(|e| failed(&e))?;
            let list: Vec<Entry> = entries.map(|e| e.as_ref().clone()).unwrap_or_default();
            Ok(Some(FieldValue::list(list.into_iter().map(FieldValue::owned_any))))
        })
    })
    .argument(
        InputValue::new("first", TypeRef::named(TypeRef::INT))
            .description(format!("How many, newest first (1..{MAX_TIMELINE}, default 50).")),
    )
    .description("Interactions and deal milestones (opened, stage changed, won, lost, converted), newest first.")
}

fn entry_object() -> Object {
    let nn = TypeRef::named_nn;
    Object::new("TimelineEntry")
        .description("One entry of a timeline: an interaction or a deal milestone.")
        .field(prop::<Entry>("at", nn(scalar::DATE_TIME), "When it happened.", |e| datetime(&e.at)))
        .field(prop::<Entry>("source", nn(TypeRef::STRING), "`INTERACTION` or `DEAL`.", |e| e.source.into()))
        .field(prop::<Entry>("kind", nn(TypeRef::STRING), "`CALL`, `EMAIL`, ... or `deal.won`, ...", |e| {
            e.kind.clone().into()
        }))
        .field(prop::<Entry>("data", nn(scalar::JSON), "Details of a deal milestone (stage names, ...).", |e| {
            Value::from_json(e.data.clone()).unwrap_or(Value::Null)
        }))
        .field(ref_field::<Entry, Interaction>("interaction", "The interaction (source INTERACTION).", |e| {
            (e.source == "INTERACTION").then_some(e.subject)
        }))
        .field(ref_field::<Entry, Deal>("deal", "The deal (source DEAL).", |e| {
            (e.source == "DEAL").then_some(e.subject)
        }))
}

/// Registers interactions and timelines.
pub fn register(parts: &mut SchemaParts) {
    type I = interaction::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.enumeration::<InteractionKind>().enum_only::<Direction>();
    parts.list(&*super::INTERACTIONS);
    parts.object(
        node_object::<Interaction>("A call, e-mail, meeting, note or message with contacts.")
            .field(prop::<I>("kind", InteractionKind::nn(), "What it was.", |i| enum_value(&i.kind)))
            .field(prop::<I>("direction", TypeRef::named(Direction::NAME), "Who reached out.", |i| {
                i.direction.as_deref().map(enum_value).unwrap_or(Value::Null)
            }))
            .field(prop::<I>("channel", s(), "Channel.", |i| opt(i.channel.clone())))
            .field(prop::<I>("subject", s(), "Subject.", |i| opt(i.subject.clone())))
            .field(prop::<I>("body", s(), "Body or notes.", |i| opt(i.body.clone())))
            .field(prop::<I>("outcome", s(), "Outcome.", |i| opt(i.outcome.clone())))
            .field(prop::<I>("durationMinutes", TypeRef::named(TypeRef::INT), "Length in minutes.", |i| {
                opt(i.duration_minutes)
            }))
            .field(prop::<I>("occurredAt", nn(scalar::DATE_TIME), "When it happened.", |i| datetime(&i.occurred_at)))
            .field(ref_field::<I, Account>("account", "The account.", |i| i.account_id))
            .field(ref_field::<I, Deal>("deal", "The deal it was about.", |i| i.deal_id))
            .field(ref_field::<I, Membership>("by", "The member who logged it.", |i| i.member_id))
            .field(through_field::<I, ParticipantsOf, Contact>(
                "contacts",
                "The contacts who took part.",
                |i| i.id,
                |p| Some(p.contact_id),
            ))
            .field(prop::<I>("recordingUrl", s(), "A call's recording (storage key or URL).", |i| {
                opt(i.recording_url.clone())
            }))
            .field(prop::<I>("recordingSeconds", TypeRef::named(TypeRef::INT), "The recording's length.", |i| {
                opt(i.recording_seconds)
            }))
            .field(prop::<I>("transcript", s(), "The recording's transcript.", |i| opt(i.transcript.clone())))
            .field(ref_field::<I, Conversation>("conversation", "The conversation it is a message of.", |i| {
                i.conversation_id
            }))
            .field(prop::<I>("senderType", TypeRef::named(SenderType::NAME), "Who wrote it (messages).", |i| {
                i.sender_type.as_deref().map(enum_value).unwrap_or(Value::Null)
            }))
            .field(prop::<I>("deliveredAt", TypeRef::named(scalar::DATE_TIME), "When it was delivered.", |i| {
                i.delivered_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(prop::<I>("readAt", TypeRef::named(scalar::DATE_TIME), "When an inbound message was read.", |i| {
                i.read_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(prop::<I>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |i| i.version.into())),
    );
    parts.node::<Interaction>();
    parts.object(entry_object());
    parts.extend::<Account>(page_field_for::<Model<Account>, InteractionsOfAccount>(
        Some(Permission::CrmRead),
        "interactions",
        "Its interactions (`orderBy: [{ field: OCCURRED_AT, direction: DESC }]` for newest first).",
        |a| a.id,
    ));
    parts.extend::<Account>(timeline_field::<Account>(Owner::Account));
    parts.extend::<Contact>(timeline_field::<Contact>(Owner::Contact));
    parts.input::<RecordingInput>().input::<LogInteractionInput>();
    parts.object(payload::<Interaction>("interaction", "Result of a mutation changing an Interaction."));
    parts.mutation(node_mutation(
        Interaction,
        "logInteraction",
        "Log a call, e-mail, meeting, note or message; its contacts' lastContactedAt moves forward.",
        |req, i| async move { Ok(payload_value(interactions::log(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
