//! `Milestone` and `Risk`, with `Project.milestones` and `Project.risks`.

use std::sync::LazyLock;

use async_graphql::dynamic::{Object, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::filter::{FieldKind as K, enum_filter_input, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_type, enum_value, id_field, input_object, mutation, node_fetcher, opt, page_field,
    payload, payload_value, prop, ref_field, ref_field_nn,
};
use opsgraph_core::loader::{ChildOf, PagedChildOf};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_org::entity::membership;

use crate::entity::{milestone, project, risk};
use crate::service::delivery;

/// `Milestone` lists.
pub static MILESTONES: LazyLock<ListSpec<milestone::Entity>> = LazyLock::new(|| {
    use milestone::Column as C;
    ListSpec {
        node: "Milestone",
        id: C::Id,
        filters: vec![ff("status", C::Status, K::Enum("MilestoneStatus")), ff("dueDate", C::DueDate, K::Date)],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
    }
});

/// `Risk` lists.
pub static RISKS: LazyLock<ListSpec<risk::Entity>> = LazyLock::new(|| {
    use risk::Column as C;
    ListSpec {
        node: "Risk",
        id: C::Id,
        filters: vec![
            ff("status", C::Status, K::Enum("RiskStatus")),
            ff("severity", C::Severity, K::Int),
            ff("ownerId", C::OwnerId, K::Id("Membership")),
        ],
        sorts: vec![sk("SEVERITY", C::Severity, S::Int), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
    }
});

/// Milestones of a project.
pub struct MilestonesOf;
impl ChildOf for MilestonesOf {
    type Entity = milestone::Entity;
    fn column() -> milestone::Column {
        milestone::Column::ProjectId
    }
}
impl PagedChildOf for MilestonesOf {
    fn spec() -> &'static LazyLock<ListSpec<milestone::Entity>> {
        &MILESTONES
    }
}

/// Risks of a project.
pub struct RisksOf;
impl ChildOf for RisksOf {
    type Entity = risk::Entity;
    fn column() -> risk::Column {
        risk::Column::ProjectId
    }
}
impl PagedChildOf for RisksOf {
    fn spec() -> &'static LazyLock<ListSpec<risk::Entity>> {
        &RISKS
    }
}

/// Registers milestones and risks.
pub fn register(parts: &mut SchemaParts) {
    type M = milestone::Model;
    type R = risk::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.ty(enum_type(
        "MilestoneStatus",
        "Where a milestone stands.",
        &[
            ("PLANNED", "Planned."),
            ("IN_PROGRESS", "Being worked towards."),
            ("ACHIEVED", "Reached."),
            ("MISSED", "Not reached in time."),
            ("CANCELLED", "Dropped."),
        ],
    ));
    parts.ty(enum_type(
        "RiskStatus",
        "Where a risk stands.",
        &[
            ("OPEN", "Identified."),
            ("MITIGATING", "Being mitigated."),
            ("ACCEPTED", "Accepted as is."),
            ("CLOSED", "No longer a risk."),
        ],
    ));
    parts.ty(enum_type(
        "RiskLevel",
        "Band of a risk's severity (probability x impact, 1..25).",
        &[("LOW", "1-4."), ("MEDIUM", "5-9."), ("HIGH", "10-16."), ("CRITICAL", "17-25.")],
    ));
    parts.ty(enum_filter_input("MilestoneStatus"));
    parts.ty(enum_filter_input("RiskStatus"));
    parts.list(&*MILESTONES).list(&*RISKS);
    parts.object(
        Object::new("Milestone")
            .description("A dated goal of a project.")
            .implement("Node")
            .field(id_field::<M>("Milestone", |m| m.id))
            .field(ref_field_nn::<M, project::Entity>("project", "Project", "The project.", |m| m.project_id))
            .field(prop::<M>("name", nn(TypeRef::STRING), "Name.", |m| m.name.clone().into()))
            .field(prop::<M>("description", s(), "Description.", |m| opt(m.description.clone())))
            .field(prop::<M>("dueDate", TypeRef::named("Date"), "Due date.", |m| {
                opt(m.due_date.map(|d| d.to_string()))
            }))
            .field(prop::<M>("status", nn("MilestoneStatus"), "Status.", |m| enum_value(&m.status)))
            .field(prop::<M>(
                "achievedAt",
                TypeRef::named("DateTime"),
                "When it was reached (kept by the server).",
                |m| m.achieved_at.as_ref().map(datetime).unwrap_or(async_graphql::Value::Null),
            ))
            .field(prop::<M>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into())),
    );
    parts.object(
        Object::new("Risk")
            .description("An entry of a project's risk register.")
            .implement("Node")
            .field(id_field::<R>("Risk", |r| r.id))
            .field(ref_field_nn::<R, project::Entity>("project", "Project", "The project.", |r| r.project_id))
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
            .field(prop::<R>("level", nn("RiskLevel"), "Severity band.", |r| {
                enum_value(delivery::risk_level(r.severity))
            }))
            .field(prop::<R>("mitigation", s(), "Mitigation plan.", |r| opt(r.mitigation.clone())))
            .field(ref_field::<R, membership::Entity>("owner", "Membership", "Who owns the risk.", |r| r.owner_id))
            .field(prop::<R>("status", nn("RiskStatus"), "Status.", |r| enum_value(&r.status)))
            .field(prop::<R>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |r| r.version.into()))
            .field(prop::<R>("createdAt", nn("DateTime"), "When it was raised.", |r| datetime(&r.created_at))),
    );
    parts.node("Milestone", node_fetcher::<milestone::Entity>(Permission::ProjectsRead, |m| m.org_id));
    parts.node("Risk", node_fetcher::<risk::Entity>(Permission::WorkRead, |r| r.org_id));
    parts.extend(
        "Project",
        page_field::<project::Model, MilestonesOf>("milestones", "The project's milestones.", |p| p.id),
    );
    parts.extend("Project", page_field::<project::Model, RisksOf>("risks", "The project's risk register.", |p| p.id));
    let id_nn = || TypeRef::named_nn(TypeRef::ID);
    let int = || TypeRef::named(TypeRef::INT);
    parts.ty(input_object(
        "CreateMilestoneInput",
        "Add a milestone.",
        &[
            ("projectId", id_nn(), "The project."),
            ("name", nn(TypeRef::STRING), "Name."),
            ("description", s(), "Description."),
            ("dueDate", TypeRef::named("Date"), "Due date."),
            (
                "idempotencyKey",
                TypeRef::named(TypeRef::STRING),
                "Retrying with the same key returns the first result instead of a duplicate.",
            ),
        ],
    ));
    parts.ty(input_object(
        "UpdateMilestoneInput",
        "Change a milestone; omitted fields stay.",
        &[
            ("id", id_nn(), "The milestone."),
            ("expectedVersion", nn(TypeRef::INT), "The version you last read."),
            ("name", s(), "Name."),
            ("dueDate", TypeRef::named("Date"), "Due date (null clears)."),
            ("status", TypeRef::named("MilestoneStatus"), "Status."),
        ],
    ));
    parts.ty(input_object(
        "RaiseRiskInput",
        "Raise a risk.",
        &[
            ("projectId", id_nn(), "The project."),
            ("title", nn(TypeRef::STRING), "Title."),
            ("description", s(), "Description."),
            ("probability", nn(TypeRef::INT), "1..5."),
            ("impact", nn(TypeRef::INT), "1..5."),
            ("mitigation", s(), "Mitigation plan."),
            ("ownerId", TypeRef::named(TypeRef::ID), "Owner (Membership)."),
            (
                "idempotencyKey",
                TypeRef::named(TypeRef::STRING),
                "Retrying with the same key returns the first result instead of a duplicate.",
            ),
        ],
    ));
    parts.ty(input_object(
        "UpdateRiskInput",
        "Re-assess a risk; omitted fields stay.",
        &[
            ("id", id_nn(), "The risk."),
            ("expectedVersion", nn(TypeRef::INT), "The version you last read."),
            ("probability", int(), "1..5."),
            ("impact", int(), "1..5."),
            ("mitigation", s(), "Mitigation plan (null clears)."),
            ("status", TypeRef::named("RiskStatus"), "Status."),
        ],
    ));
    parts.object(payload("MilestonePayload", "milestone", "Milestone", "Result of a mutation changing a Milestone."));
    parts.object(payload("RiskPayload", "risk", "Risk", "Result of a mutation changing a Risk."));
    parts.mutation(mutation(
        "createMilestone",
        "CreateMilestoneInput",
        "MilestonePayload",
        "Add a milestone to a project.",
        |req, i| async move { Ok(payload_value(delivery::create_milestone(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "updateMilestone",
        "UpdateMilestoneInput",
        "MilestonePayload",
        "Change a milestone.",
        |req, i| async move { Ok(payload_value(delivery::update_milestone(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "raiseRisk",
        "RaiseRiskInput",
        "RiskPayload",
        "Raise a risk on a project.",
        |req, i| async move { Ok(payload_value(delivery::raise_risk(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "updateRisk",
        "UpdateRiskInput",
        "RiskPayload",
        "Re-assess, mitigate or close a risk.",
        |req, i| async move { Ok(payload_value(delivery::update_risk(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
