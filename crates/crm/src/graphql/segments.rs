//! `Segment` and `Campaign`: saved contact filters and the sends frozen from them.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::context::RequestCtx;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, datetime, enum_value, list_field, node_mutation, node_object, opt, parent, payload,
    payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::loader::list_of;
use opsgraph_core::node::Model;
use opsgraph_org::nodes::Organization;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{campaign, campaign_recipient, segment};
use crate::enums::RecipientStatus;
use crate::loader::RecipientsOf;
use crate::nodes::{Campaign, Contact, Segment};
use crate::service::segments::{
    self, CreateCampaignInput, CreateSegmentInput, SetRecipientStatusInput, UpdateSegmentInput,
};

fn recipients() -> Field {
    Field::new("recipients", TypeRef::named_nn_list_nn("CampaignRecipient"), |ctx| {
        FieldFuture::new(async move {
            let c = parent::<Model<Campaign>>(&ctx)?;
            let rows = list_of::<RecipientsOf>(RequestCtx::of(&ctx)?.as_ref(), c.id).await?;
            Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
        })
    })
    .description("Its recipients (frozen when it was created), with their status.")
}

opsgraph_core::id_input!(
    /// Names one segment.
    SegmentIdInput,
    "The segment."
);

/// Registers segments and campaigns.
pub fn register(parts: &mut SchemaParts) {
    type S = segment::Model;
    type C = campaign::Model;
    type R = campaign_recipient::Model;
    let nn = TypeRef::named_nn;
    parts.enumeration::<RecipientStatus>();
    parts.object(
        node_object::<Segment>("A saved contact filter; its members are computed when read.")
            .field(prop::<S>("name", nn(TypeRef::STRING), "Name.", |s| s.name.clone().into()))
            .field(prop::<S>("description", TypeRef::named(TypeRef::STRING), "What it is for.", |s| {
                opt(s.description.clone())
            }))
            .field(prop::<S>("filter", nn(scalar::JSON), "The contact filter.", |s| {
                Value::from_json(s.filter.clone()).unwrap_or(Value::Null)
            }))
            .field(prop::<S>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |s| s.version.into()))
            .field(list_field("contacts", &super::CONTACTS, "Its members now.", |ctx, req| {
                let org = req.require(Permission::CrmRead)?;
                let s = parent::<S>(ctx)?;
                segments::members(org, &s.filter, "filter")
            })),
    );
    parts.object(
        Object::new("CampaignRecipient")
            .description("One recipient of a campaign.")
            .field(ref_field_nn::<R, Contact>("contact", "The contact.", |r| r.contact_id))
            .field(prop::<R>("status", RecipientStatus::nn(), "Delivery status.", |r| enum_value(&r.status)))
            .field(prop::<R>("updatedAt", nn(scalar::DATE_TIME), "When the status last changed.", |r| {
                datetime(&r.updated_at)
            })),
    );
    parts.object(
        node_object::<Campaign>("A send to the contacts a segment had when it was created.")
            .field(prop::<C>("name", nn(TypeRef::STRING), "Name.", |c| c.name.clone().into()))
            .field(ref_field::<C, Segment>("segment", "The segment it was frozen from.", |c| c.segment_id))
            .field(prop::<C>("subject", TypeRef::named(TypeRef::STRING), "Subject line.", |c| opt(c.subject.clone())))
            .field(recipients())
            .field(prop::<C>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |c| datetime(&c.created_at))),
    );
    parts.node::<Segment>().node::<Campaign>();
    parts.list(&*super::SEGMENTS).list(&*super::CAMPAIGNS);
    parts.extend::<Organization>(list_field("campaigns", &super::CAMPAIGNS, "Campaigns.", |_, req| {
        Ok(campaign::Entity::find().filter(campaign::Column::OrgId.eq(req.require(Permission::CrmRead)?)))
    }));
    parts.extend::<Organization>(list_field("segments", &super::SEGMENTS, "Saved contact segments.", |_, req| {
        Ok(segment::Entity::find().filter(segment::Column::OrgId.eq(req.require(Permission::CrmRead)?)))
    }));
    parts.input::<CreateSegmentInput>().input::<CreateCampaignInput>().input::<SetRecipientStatusInput>();
    parts.input::<UpdateSegmentInput>().input::<SegmentIdInput>();
    parts.object(payload::<Segment>("segment", "Result of a mutation changing a Segment."));
    parts.object(payload::<Campaign>("campaign", "Result of a mutation changing a Campaign."));
    parts.mutation(node_mutation(
        Segment,
        "createSegment",
        "Save a contact filter as a segment.",
        |req, i| async move { Ok(payload_value(segments::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Segment,
        "updateSegment",
        "Change a segment's name, description or filter.",
        |req, i| async move { Ok(payload_value(segments::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Segment,
        "deleteSegment",
        "Delete a segment (its campaigns keep their recipients).",
        |req, i: SegmentIdInput| async move {
            Ok(payload_value(segments::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        Campaign,
        "createCampaign",
        "Create a campaign to a segment's current members.",
        |req, i| async move { Ok(payload_value(segments::create_campaign(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(Campaign, "setRecipientStatus", "Record how one recipient's delivery went.", |req, i| async move {
        Ok(payload_value(segments::set_recipient_status(req.db.as_ref(), &req.session, i).await?))
    }));
}
