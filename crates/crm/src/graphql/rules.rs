//! `LeadRule`: scoring and routing rules for contacts.

use async_graphql::dynamic::TypeRef;
use opsgraph_core::Permission;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, list_field, node_mutation, node_object, payload, payload_value, prop, ref_field,
};
use opsgraph_org::nodes::{Membership, Organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::lead_rule;
use crate::enums::{LeadField, LeadOperator, LeadRuleKind};
use crate::nodes::LeadRule;
use crate::service::lead_rules::{self, CreateLeadRuleInput};

opsgraph_core::id_input!(
    /// Names one lead rule.
    LeadRuleIdInput,
    "The rule."
);

/// Registers lead rules.
pub fn register(parts: &mut SchemaParts) {
    type L = lead_rule::Model;
    let nn = TypeRef::named_nn;
    parts.enumeration::<LeadRuleKind>().enum_only::<LeadField>().enum_only::<LeadOperator>();
    parts.object(
        node_object::<LeadRule>("A scoring or routing rule for contacts.")
            .field(prop::<L>("kind", LeadRuleKind::nn(), "SCORING or ROUTING.", |r| enum_value(&r.kind)))
            .field(prop::<L>("name", nn(TypeRef::STRING), "Name.", |r| r.name.clone().into()))
            .field(prop::<L>("field", LeadField::nn(), "The contact field it looks at.", |r| enum_value(&r.field)))
            .field(prop::<L>("operator", LeadOperator::nn(), "How it compares.", |r| enum_value(&r.operator)))
            .field(prop::<L>("value", nn(TypeRef::STRING), "What it looks for.", |r| r.value.clone().into()))
            .field(prop::<L>("points", nn(TypeRef::INT), "Points a match adds (SCORING).", |r| r.points.into()))
            .field(ref_field::<L, Membership>("assignTo", "Who a match is given to (ROUTING).", |r| r.assign_to))
            .field(prop::<L>("position", nn(TypeRef::INT), "Order among routing rules.", |r| r.position.into())),
    );
    parts.node::<LeadRule>();
    parts.list(&*super::LEAD_RULES);
    parts.extend::<Organization>(list_field(
        "leadRules",
        &super::LEAD_RULES,
        "Lead scoring and routing rules.",
        |_, req| Ok(lead_rule::Entity::find().filter(lead_rule::Column::OrgId.eq(req.require(Permission::CrmRead)?))),
    ));
    parts.input::<CreateLeadRuleInput>().input::<LeadRuleIdInput>();
    parts.object(payload::<LeadRule>("leadRule", "Result of a mutation changing a LeadRule."));
    parts.mutation(node_mutation(
        LeadRule,
        "createLeadRule",
        "Add a lead scoring or routing rule.",
        |req, i| async move { Ok(payload_value(lead_rules::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        LeadRule,
        "deleteLeadRule",
        "Delete a lead rule.",
        |req, i: LeadRuleIdInput| async move {
            Ok(payload_value(lead_rules::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
}
