//! `Conversation` (threads whose messages are interactions), `PhoneNumber`, the inbox list,
//! and the mutations on threads, messages, interactions and numbers.

use async_graphql::Value;
use async_graphql::dynamic::TypeRef;
use opsgraph_core::gql::{
    GqlEnum, Money, SchemaParts, datetime, enum_value, list_field, money_field, node_mutation, node_object, opt,
    page_field, payload, payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::node::Model;
use opsgraph_core::{Permission, RequestCtx};
use opsgraph_org::nodes::{Membership, Organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{conversation, phone_number};
use crate::enums::{ConversationChannel, ConversationStatus, PhoneCapability, PhoneNumberStatus, SenderType};
use crate::loader::{ConversationsOfContact, MessagesOf};
use crate::nodes::{Account, Contact, Conversation, Interaction, PhoneNumber};
use crate::service::conversations::{
    self, OpenConversationInput, PostConversationMessageInput, UpdateConversationInput,
};
use crate::service::interactions::{self, UpdateInteractionInput};
use crate::service::phone_numbers::{self, CreatePhoneNumberInput, UpdatePhoneNumberInput};

opsgraph_core::id_input!(
    /// Names one conversation.
    ConversationIdInput,
    "The conversation."
);
opsgraph_core::id_input!(
    /// Names one interaction.
    InteractionIdInput,
    "The interaction."
);

fn strings(v: &[String]) -> Value {
    Value::List(v.iter().map(|t| Value::String(t.clone())).collect())
}

/// Registers the conversation and phone number types, lists and mutations.
pub fn register(parts: &mut SchemaParts) {
    objects(parts);
    lists(parts);
    mutations(parts);
}

fn objects(parts: &mut SchemaParts) {
    type C = conversation::Model;
    type P = phone_number::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.enumeration::<ConversationChannel>().enumeration::<ConversationStatus>().enum_only::<SenderType>();
    parts.enum_only::<PhoneCapability>().enumeration::<PhoneNumberStatus>();
    parts.object(
        node_object::<Conversation>("A thread with a contact on one channel; its messages are interactions.")
            .field(ref_field_nn::<C, Contact>("contact", "The contact.", |c| c.contact_id))
            .field(ref_field::<C, Account>("account", "The contact's account when it was opened.", |c| c.account_id))
            .field(prop::<C>("channel", ConversationChannel::nn(), "Channel.", |c| enum_value(&c.channel)))
            .field(prop::<C>("status", ConversationStatus::nn(), "Status.", |c| enum_value(&c.status)))
            .field(prop::<C>("subject", s(), "Subject.", |c| opt(c.subject.clone())))
            .field(ref_field::<C, Membership>("assignee", "Who answers it.", |c| c.assignee_id))
            .field(ref_field::<C, PhoneNumber>("phoneNumber", "The number it runs through.", |c| c.phone_number_id))
            .field(prop::<C>("tags", TypeRef::named_nn_list_nn(TypeRef::STRING), "Tags.", |c| strings(&c.tags)))
            .field(prop::<C>("lastMessageAt", TypeRef::named(scalar::DATE_TIME), "The newest message.", |c| {
                c.last_message_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(prop::<C>("messageCount", nn(TypeRef::INT), "Messages in it.", |c| c.message_count.into()))
            .field(prop::<C>("unreadCount", nn(TypeRef::INT), "Inbound messages nobody read.", |c| {
                c.unread_count.into()
            }))
            .field(page_field::<C, MessagesOf>("messages", "Its messages, oldest first by default.", |c| c.id))
            .field(prop::<C>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
            .field(prop::<C>("createdAt", nn(scalar::DATE_TIME), "When it was opened.", |c| datetime(&c.created_at))),
    );
    parts.object(
        node_object::<PhoneNumber>("A phone number the organisation calls and texts from.")
            .field(prop::<P>("number", nn(TypeRef::STRING), "E.164 number.", |p| p.number.clone().into()))
            .field(prop::<P>("friendlyName", s(), "A name people recognise.", |p| opt(p.friendly_name.clone())))
            .field(prop::<P>("provider", s(), "The provider.", |p| opt(p.provider.clone())))
            .field(prop::<P>(
                "capabilities",
                TypeRef::named_nn_list_nn(PhoneCapability::NAME),
                "What it can do.",
                |p| Value::List(p.capabilities.iter().map(|c| enum_value(c)).collect()),
            ))
            .field(prop::<P>("status", PhoneNumberStatus::nn(), "In use or released.", |p| enum_value(&p.status)))
            .field(money_field::<P>("monthlyPrice", true, "What it costs per month.", |p| {
                p.monthly_price.zip(p.currency.clone()).map(|(amount, currency)| Money { amount, currency })
            }))
            .field(prop::<P>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |p| p.version.into())),
    );
    parts.node::<Conversation>().node::<PhoneNumber>();
    parts.extend::<Contact>(page_field::<Model<Contact>, ConversationsOfContact>(
        "conversations",
        "Their conversations.",
        |c| c.id,
    ));
}

fn lists(parts: &mut SchemaParts) {
    parts.list(&*super::CONVERSATIONS).list(&*super::PHONE_NUMBERS);
    parts.extend::<Organization>(list_field(
        "conversations",
        &super::CONVERSATIONS,
        "The inbox: every conversation, newest message first (`filter: { status: { eq: ACTIVE } }`).",
        |_, req: &RequestCtx| {
            let org = req.require(Permission::CrmRead)?;
            Ok(conversation::Entity::find().filter(conversation::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(list_field(
        "phoneNumbers",
        &super::PHONE_NUMBERS,
        "The organisation's phone numbers.",
        |_, req: &RequestCtx| {
            let org = req.require(Permission::CrmRead)?;
            Ok(phone_number::Entity::find().filter(phone_number::Column::OrgId.eq(org)))
        },
    ));
}

fn mutations(parts: &mut SchemaParts) {
    parts.input::<OpenConversationInput>().input::<UpdateConversationInput>().input::<PostConversationMessageInput>();
    parts.input::<ConversationIdInput>().input::<InteractionIdInput>().input::<UpdateInteractionInput>();
    parts.input::<CreatePhoneNumberInput>().input::<UpdatePhoneNumberInput>();
    parts.object(payload::<Conversation>("conversation", "Result of a mutation changing a Conversation."));
    parts.object(payload::<PhoneNumber>("phoneNumber", "Result of a mutation changing a PhoneNumber."));
    parts.mutation(node_mutation(
        Conversation,
        "openConversation",
        "Open a conversation with a contact (assigned to the contact's owner unless given).",
        |req, i| async move { Ok(payload_value(conversations::open(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Conversation,
        "updateConversation",
        "Change a conversation's status, assignee, subject or tags.",
        |req, i| async move { Ok(payload_value(conversations::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Conversation,
        "markConversationRead",
        "Mark every inbound message of a conversation read.",
        |req, i: ConversationIdInput| async move {
            Ok(payload_value(conversations::mark_read(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        Interaction,
        "postConversationMessage",
        "Add a message to a conversation (an inbound one reopens it and notifies its assignee).",
        |req, i| async move { Ok(payload_value(conversations::post(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Interaction,
        "updateInteraction",
        "Correct a logged interaction.",
        |req, i| async move { Ok(payload_value(interactions::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Interaction,
        "deleteInteraction",
        "Delete an interaction for good (contacts' lastContactedAt and thread counters are recomputed).",
        |req, i: InteractionIdInput| async move {
            Ok(payload_value(interactions::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(PhoneNumber, "createPhoneNumber", "Add a phone number.", |req, i| async move {
        Ok(payload_value(phone_numbers::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        PhoneNumber,
        "updatePhoneNumber",
        "Change or release a phone number.",
        |req, i| async move { Ok(payload_value(phone_numbers::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
