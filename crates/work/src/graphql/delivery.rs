//! `Milestone` and `Risk`, with `Project.milestones` and `Project.risks`.

use crate::enums::{MilestoneStatus, RiskLevel, RiskStatus};
use crate::loader::{MilestonesOf, RisksOf};
use crate::nodes::{Milestone, Project, Risk};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::node::NodeType;
use opsgraph_org::nodes::Membership;
use std::sync::LazyLock;

use async_graphql::dynamic::TypeRef;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_value, node_mutation, node_object, opt, page_field, payload, payload_value, prop,
    ref_field, ref_field_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};

use crate::entity::{milestone, project, risk};
use crate::service::delivery;

/// `Milestone` lists.
pub static MILESTONES: LazyLock<ListSpec<milestone::Entity>> = LazyLock::new(|| {
    use milestone::Column as C;
    ListSpec {
        node: Milestone::NAME,
        id: C::Id,
        filters: vec![ff("status", C::Status, K::Enum(MilestoneStatus::NAME)), ff("dueDate", C::DueDate, K::Date)],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        // The columns of the Milestone fields of `milestone_type`.
        lean: vec![
            ("project", vec![C::ProjectId]),
            ("name", vec![C::Name]),
            ("description", vec![C::Description]),
            ("dueDate", vec![C::DueDate]),
            ("status", vec![C::Status]),
            ("achievedAt", vec![C::AchievedAt]),
            ("version", vec![C::Version]),
        ],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Risk` lists.
pub static RISKS: LazyLock<ListSpec<risk::Entity>> = LazyLock::new(|| {
    use risk::Column as C;
    ListSpec {
        node: Risk::NAME,
        id: C::Id,
        filters: vec![
            ff("status", C::Status, K::Enum(RiskStatus::NAME)),
            ff("severity", C::Severity, K::Int),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
        ],
        sorts: vec![sk("SEVERITY", C::Severity, S::Int), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        // The columns of the Risk fields of `risk_type`.
        lean: vec![
            ("project", vec![C::ProjectId]),
            ("title", vec![C::Title]),
            ("description", vec![C::Description]),
            ("probability", vec![C::Probability]),
            ("impact", vec![C::Impact]),
            ("severity", vec![C::Severity]),
            ("level", vec![C::Severity]),
            ("mitigation", vec![C::Mitigation]),
            ("owner", vec![C::OwnerId]),
            ("status", vec![C::Status]),
            ("version", vec![C::Version]),
            ("createdAt", vec![C::CreatedAt]),
        ],
        aggregates: vec![],
        groups: vec![],
    }
});

/// Registers milestones and risks.
pub fn register(parts: &mut SchemaParts) {
    type M = milestone::Model;
    type R = risk::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.enumeration::<MilestoneStatus>();
    parts.enumeration::<RiskStatus>();
    parts.enum_only::<RiskLevel>();
    parts.list(&*MILESTONES).list(&*RISKS);
    parts.object(
        node_object::<Milestone>("A dated goal of a project.")
            .field(ref_field_nn::<M, Project>("project", "The project.", |m| m.project_id))
            .field(prop::<M>("name", nn(TypeRef::STRING), "Name.", |m| m.name.clone().into()))
            .field(prop::<M>("description", s(), "Description.", |m| opt(m.description.clone())))
            .field(prop::<M>("dueDate", TypeRef::named(scalar::DATE), "Due date.", |m| {
                opt(m.due_date.map(|d| d.to_string()))
            }))
            .field(prop::<M>("status", MilestoneStatus::nn(), "Status.", |m| enum_value(&m.status)))
            .field(prop::<M>(
                "achievedAt",
                TypeRef::named(scalar::DATE_TIME),
                "When it was reached (kept by the server).",
                |m| m.achieved_at.as_ref().map(datetime).unwrap_or(async_graphql::Value::Null),
            ))
            .field(prop::<M>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into())),
    );
    parts.object(
        node_object::<Risk>("An entry of a project's risk register.")
            .field(ref_field_nn::<R, Project>("project", "The project.", |r| r.project_id))
            .field(prop::<R>("title", nn(TypeRef::STRING), "Title.", |r| r.title.clone().into()))
            .field(prop::<R>("description", s(), "Description.", |r| opt(r.description.clone())))
            .field(prop::<R>("probability", nn(TypeRef::INT), "Probability 1 (rare) to 5 (almost certain).", |r| {
                i32::from(r.probability).into()
            }))
            .field(prop::<R>("impact", nn(TypeRef::INT), "Impact 1 (minor) to 5 (severe).", |r| {
                i32::from(r.impact).into()
            }))
            .field(prop::<R>("severity", nn(TypeRef::INT), "Probability x impact (1..25).", |r| {
                i32::from(r.severity).into()
            }))
            .field(prop::<R>("level", RiskLevel::nn(), "Severity band.", |r| {
                enum_value(delivery::risk_level(r.severity))
            }))
            .field(prop::<R>("mitigation", s(), "Mitigation plan.", |r| opt(r.mitigation.clone())))
            .field(ref_field::<R, Membership>("owner", "Who owns the risk.", |r| r.owner_id))
            .field(prop::<R>("status", RiskStatus::nn(), "Status.", |r| enum_value(&r.status)))
            .field(prop::<R>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |r| r.version.into()))
            .field(prop::<R>("createdAt", nn(scalar::DATE_TIME), "When it was raised.", |r| datetime(&r.created_at))),
    );
    parts.node::<Milestone>();
    parts.node::<Risk>();
    parts.extend::<Project>(page_field::<project::Model, MilestonesOf>(
        "milestones",
        "The project's milestones.",
        |p| p.id,
    ));
    parts.extend::<Project>(page_field::<project::Model, RisksOf>("risks", "The project's risk register.", |p| p.id));
    let _id_nn = || TypeRef::named_nn(TypeRef::ID);
    let _int = || TypeRef::named(TypeRef::INT);
    parts.input::<delivery::CreateMilestoneInput>();
    parts.input::<delivery::UpdateMilestoneInput>();
    parts.input::<delivery::RaiseRiskInput>();
    parts.input::<delivery::UpdateRiskInput>();
    parts.object(payload::<Milestone>("milestone", "Result of a mutation changing a Milestone."));
    parts.object(payload::<Risk>("risk", "Result of a mutation changing a Risk."));
    parts.mutation(node_mutation(Milestone, "createMilestone", "Add a milestone to a project.", |req, i| async move {
        Ok(payload_value(delivery::create_milestone(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Milestone, "updateMilestone", "Change a milestone.", |req, i| async move {
        Ok(payload_value(delivery::update_milestone(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Risk, "raiseRisk", "Raise a risk on a project.", |req, i| async move {
        Ok(payload_value(delivery::raise_risk(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Risk, "updateRisk", "Re-assess, mitigate or close a risk.", |req, i| async move {
        Ok(payload_value(delivery::update_risk(req.db.as_ref(), &req.session, i).await?))
    }));
}
