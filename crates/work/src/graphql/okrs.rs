//! `Objective` and `KeyResult` with computed progress, links to projects and tasks, and
//! `Project.objectives` / `Project.okrProgress` for the dashboard.

use std::sync::LazyLock;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use futures_util::future::try_join_all;
use opsgraph_core::filter::{FieldKind as K, enum_filter_input, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_type, enum_value, id_field, input_object, list_field, list_of_field, mutation,
    node_fetcher, opt, parent, payload, payload_value, prop, ref_field, ref_field_nn, through_field,
};
use opsgraph_core::loader::list_of;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{Permission, RequestCtx, relation};
use opsgraph_org::entity::{membership, team};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use crate::entity::{key_result, objective, objective_link, project, task};
use crate::service::okrs;

/// `Objective` lists.
pub static OBJECTIVES: LazyLock<ListSpec<objective::Entity>> = LazyLock::new(|| {
    use objective::Column as C;
    ListSpec {
        node: "Objective",
        id: C::Id,
        filters: vec![
            ff("title", C::Title, K::Text),
            ff("status", C::Status, K::Enum("ObjectiveStatus")),
            ff("ownerId", C::OwnerId, K::Id("Membership")),
            ff("teamId", C::TeamId, K::Id("Team")),
            ff("parentId", C::ParentId, K::Id("Objective")),
            ff("periodStart", C::PeriodStart, K::Date),
            ff("periodEnd", C::PeriodEnd, K::Date),
        ],
        sorts: vec![sk("PERIOD_START", C::PeriodStart, S::Date), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "PERIOD_START",
    }
});

relation!(
    /// Key results of an objective.
    KeyResultsOf, key_result, ObjectiveId,
    scope = |s| s.order_by_asc(key_result::Column::CreatedAt).order_by_asc(key_result::Column::Id)
);
relation!(
    /// Objective links of a project.
    LinksOfProject, objective_link, ProjectId
);
relation!(
    /// Objective links of a task.
    LinksOfTask, objective_link, TaskId
);
relation!(
    /// Links of an objective.
    LinksOfObjective, objective_link, ObjectiveId
);

async fn progress_of(req: &RequestCtx, objective_id: uuid::Uuid) -> opsgraph_core::AppResult<f64> {
    Ok(okrs::objective_progress(&list_of::<KeyResultsOf>(req, objective_id).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkInput {
    objective_id: String,
    subject_id: String,
}

/// Registers OKRs.
pub fn register(parts: &mut SchemaParts) {
    type O = objective::Model;
    type Kr = key_result::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    let id_nn = || TypeRef::named_nn(TypeRef::ID);
    let id = || TypeRef::named(TypeRef::ID);
    let dec = || TypeRef::named("Decimal");
    parts.list(&*OBJECTIVES);
    parts.ty(enum_type(
        "ObjectiveStatus",
        "Where an objective stands.",
        &[
            ("DRAFT", "Being drafted."),
            ("ACTIVE", "In its period."),
            ("ACHIEVED", "Reached."),
            ("MISSED", "Not reached."),
            ("CANCELLED", "Dropped."),
        ],
    ));
    parts.ty(enum_filter_input("ObjectiveStatus"));
    parts.object(
        Object::new("Objective")
            .description("An objective of an OKR set; its progress is the weighted mean of its key results.")
            .implement("Node")
            .field(id_field::<O>("Objective", |o| o.id))
            .field(prop::<O>("title", nn(TypeRef::STRING), "Title.", |o| o.title.clone().into()))
            .field(prop::<O>("description", s(), "Description.", |o| opt(o.description.clone())))
            .field(ref_field::<O, membership::Entity>("owner", "Membership", "Owner.", |o| o.owner_id))
            .field(ref_field::<O, team::Entity>("team", "Team", "Owning team.", |o| o.team_id))
            .field(ref_field::<O, objective::Entity>("parent", "Objective", "The objective it contributes to.", |o| {
                o.parent_id
            }))
            .field(prop::<O>("periodStart", nn("Date"), "First day of the period.", |o| {
                o.period_start.to_string().into()
            }))
            .field(prop::<O>("periodEnd", nn("Date"), "Last day of the period.", |o| o.period_end.to_string().into()))
            .field(prop::<O>("status", nn("ObjectiveStatus"), "Status.", |o| enum_value(&o.status)))
            .field(list_of_field::<O, KeyResultsOf>("keyResults", "KeyResult", "Key results, oldest first.", |o| o.id))
            .field(
                Field::new("progress", nn(TypeRef::FLOAT), |ctx| {
                    FieldFuture::new(async move {
                        let o = parent::<O>(&ctx)?;
                        let req = &RequestCtx::of(&ctx)?;
                        Ok(Some(FieldValue::value(progress_of(req, o.id).await?)))
                    })
                })
                .description("0..1: weighted mean progress of the key results (0 without any)."),
            )
            .field(through_field::<O, LinksOfObjective, project::Entity>(
                "projects",
                "Project",
                "Linked projects.",
                |o| o.id,
                |l| l.project_id,
            ))
            .field(through_field::<O, LinksOfObjective, task::Entity>(
                "tasks",
                "Task",
                "Linked tasks.",
                |o| o.id,
                |l| l.task_id,
            ))
            .field(prop::<O>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |o| o.version.into()))
            .field(prop::<O>("createdAt", nn("DateTime"), "When it was created.", |o| datetime(&o.created_at))),
    );
    parts.node("Objective", node_fetcher::<objective::Entity>(Permission::WorkRead, |o| o.org_id));
    parts.object(
        Object::new("KeyResult")
            .description("A measurable result: from `startValue` to `targetValue`, checked in as `currentValue`.")
            .implement("Node")
            .field(id_field::<Kr>("KeyResult", |k| k.id))
            .field(ref_field_nn::<Kr, objective::Entity>("objective", "Objective", "The objective.", |k| {
                k.objective_id
            }))
            .field(prop::<Kr>("title", nn(TypeRef::STRING), "Title.", |k| k.title.clone().into()))
            .field(prop::<Kr>("unit", s(), "Unit.", |k| opt(k.unit.clone())))
            .field(prop::<Kr>("startValue", nn("Decimal"), "Baseline.", |k| {
                k.start_value.normalize().to_string().into()
            }))
            .field(prop::<Kr>("targetValue", nn("Decimal"), "Target.", |k| {
                k.target_value.normalize().to_string().into()
            }))
            .field(prop::<Kr>("currentValue", nn("Decimal"), "Latest check-in.", |k| {
                k.current_value.normalize().to_string().into()
            }))
            .field(prop::<Kr>("weight", nn("Decimal"), "Weight within the objective.", |k| {
                k.weight.normalize().to_string().into()
            }))
            .field(prop::<Kr>("progress", nn(TypeRef::FLOAT), "0..1 from start to target (clamped).", |k| {
                okrs::key_result_progress(k.start_value, k.target_value, k.current_value).into()
            }))
            .field(ref_field::<Kr, membership::Entity>("owner", "Membership", "Owner.", |k| k.owner_id))
            .field(prop::<Kr>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |k| k.version.into()))
            .field(prop::<Kr>("updatedAt", nn("DateTime"), "Last check-in or change.", |k| datetime(&k.updated_at))),
    );
    parts.node("KeyResult", node_fetcher::<key_result::Entity>(Permission::WorkRead, |k| k.org_id));
    parts.query(list_field("objectives", &OBJECTIVES, "The organisation's objectives (OKRs).", |_, req| {
        let org = req.require(Permission::WorkRead)?;
        Ok(objective::Entity::find().filter(objective::Column::OrgId.eq(org)))
    }));
    parts.extend(
        "Project",
        through_field::<project::Model, LinksOfProject, objective::Entity>(
            "objectives",
            "Objective",
            "Objectives this project contributes to.",
            |p| p.id,
            |l| Some(l.objective_id),
        ),
    );
    parts.extend(
        "Task",
        through_field::<task::Model, LinksOfTask, objective::Entity>(
            "objectives",
            "Objective",
            "Objectives this task contributes to.",
            |t| t.id,
            |l| Some(l.objective_id),
        ),
    );
    parts.extend(
        "Project",
        Field::new("okrProgress", TypeRef::named(TypeRef::FLOAT), |ctx| {
            FieldFuture::new(async move {
                let p = parent::<project::Model>(&ctx)?;
                let req = &RequestCtx::of(&ctx)?;
                let links = list_of::<LinksOfProject>(req, p.id).await?;
                if links.is_empty() {
                    return Ok(None);
                }
                let all = try_join_all(links.iter().map(|l| progress_of(req, l.objective_id))).await?;
                Ok(Some(FieldValue::value(all.iter().sum::<f64>() / all.len() as f64)))
            })
        })
        .description("Mean progress (0..1) of the objectives the project is linked to; null when none."),
    );

    parts.ty(input_object(
        "CreateObjectiveInput",
        "Create an objective.",
        &[
            ("title", nn(TypeRef::STRING), "Title."),
            ("description", s(), "Description."),
            ("ownerId", id(), "Owner (Membership)."),
            ("teamId", id(), "Owning team."),
            ("parentId", id(), "Objective it contributes to."),
            ("periodStart", nn("Date"), "First day of the period."),
            ("periodEnd", nn("Date"), "Last day of the period."),
            ("idempotencyKey", s(), "Retrying with the same key returns the first result instead of a duplicate."),
        ],
    ));
    parts.ty(input_object(
        "UpdateObjectiveInput",
        "Change an objective; omitted fields stay.",
        &[
            ("id", id_nn(), "The objective."),
            ("expectedVersion", nn(TypeRef::INT), "The version you last read."),
            ("title", s(), "Title."),
            ("status", TypeRef::named("ObjectiveStatus"), "Status."),
            ("ownerId", id(), "Owner (null clears)."),
        ],
    ));
    parts.ty(input_object(
        "AddKeyResultInput",
        "Add a key result.",
        &[
            ("objectiveId", id_nn(), "The objective."),
            ("title", nn(TypeRef::STRING), "Title."),
            ("unit", s(), "Unit."),
            ("startValue", dec(), "Baseline (default 0)."),
            ("targetValue", nn("Decimal"), "Target (must differ from the baseline)."),
            ("currentValue", dec(), "Current value (default: the baseline)."),
            ("weight", dec(), "Weight (default 1)."),
            ("ownerId", id(), "Owner."),
            (
                "idempotencyKey",
                TypeRef::named(TypeRef::STRING),
                "Retrying with the same key returns the first result instead of a duplicate.",
            ),
        ],
    ));
    parts.ty(input_object(
        "CheckInKeyResultInput",
        "Record a key result's current value.",
        &[
            ("id", id_nn(), "The key result."),
            ("expectedVersion", nn(TypeRef::INT), "The version you last read."),
            ("currentValue", nn("Decimal"), "The new value."),
        ],
    ));
    parts.ty(input_object(
        "ObjectiveLinkInput",
        "Link an objective and a project or task.",
        &[("objectiveId", id_nn(), "The objective."), ("subjectId", id_nn(), "The Project or Task.")],
    ));
    parts.object(payload("ObjectivePayload", "objective", "Objective", "Result of a mutation changing an Objective."));
    parts.object(payload("KeyResultPayload", "keyResult", "KeyResult", "Result of a mutation changing a KeyResult."));
    parts.mutation(mutation(
        "createObjective",
        "CreateObjectiveInput",
        "ObjectivePayload",
        "Create an objective.",
        |req, i| async move { Ok(payload_value(okrs::create_objective(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "updateObjective",
        "UpdateObjectiveInput",
        "ObjectivePayload",
        "Change an objective.",
        |req, i| async move { Ok(payload_value(okrs::update_objective(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "addKeyResult",
        "AddKeyResultInput",
        "KeyResultPayload",
        "Add a key result to an objective.",
        |req, i| async move { Ok(payload_value(okrs::add_key_result(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "checkInKeyResult",
        "CheckInKeyResultInput",
        "KeyResultPayload",
        "Record a key result's current value.",
        |req, i| async move { Ok(payload_value(okrs::check_in(req.db.as_ref(), &req.session, i).await?)) },
    ));
    for (name, linked, desc) in [
        ("linkObjective", true, "Link an objective to a project or task."),
        ("unlinkObjective", false, "Remove a link between an objective and a project or task."),
    ] {
        parts.mutation(mutation(
            name,
            "ObjectiveLinkInput",
            "ObjectivePayload",
            desc,
            move |req, i: LinkInput| async move {
                Ok(payload_value(
                    okrs::set_link(req.db.as_ref(), &req.session, &i.objective_id, &i.subject_id, linked).await?,
                ))
            },
        ));
    }
}
