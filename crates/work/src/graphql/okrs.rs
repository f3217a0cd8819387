//! `Objective` and `KeyResult` with computed progress, links to projects and tasks, and
//! `Project.objectives` / `Project.okrProgress` for the dashboard.

use crate::enums::ObjectiveStatus;
use crate::loader::{KeyResultsOf, LinksOfObjective, LinksOfProject, LinksOfTask};
use crate::nodes::{KeyResult, Objective, Project, Task};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::{Membership, Team};
use std::sync::LazyLock;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
use futures_util::future::try_join_all;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_value, list_field, list_of_field, node_mutation, node_object, opt, parent, payload,
    payload_value, prop, ref_field, ref_field_nn, through_field,
};
use opsgraph_core::loader::list_of;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{Permission, RequestCtx};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::entity::{key_result, objective, project, task};
use crate::service::okrs;

/// `Objective` lists.
pub static OBJECTIVES: LazyLock<ListSpec<objective::Entity>> = LazyLock::new(|| {
    use objective::Column as C;
    ListSpec {
        node: Objective::NAME,
        id: C::Id,
        filters: vec![
            ff("title", C::Title, K::Text),
            ff("status", C::Status, K::Enum(ObjectiveStatus::NAME)),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
            ff("teamId", C::TeamId, K::Id(Team::NAME)),
            ff("parentId", C::ParentId, K::Id(Objective::NAME)),
            ff("periodStart", C::PeriodStart, K::Date),
            ff("periodEnd", C::PeriodEnd, K::Date),
        ],
        sorts: vec![sk("PERIOD_START", C::PeriodStart, S::Date), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "PERIOD_START",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

async fn progress_of(req: &RequestCtx, objective_id: uuid::Uuid) -> opsgraph_core::AppResult<f64> {
    Ok(okrs::objective_progress(&list_of::<KeyResultsOf>(req, objective_id).await?))
}

/// Link an objective and a project or task.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "ObjectiveLinkInput")]
struct LinkInput {
    /// The objective.
    objective_id: Id,
    /// The Project or Task.
    subject_id: Id,
}

/// Registers OKRs.
pub fn register(parts: &mut SchemaParts) {
    objective_type(parts);
    key_result_type(parts);
    objective_mutations(parts);
}

fn objective_type(parts: &mut SchemaParts) {
    type O = objective::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.list(&*OBJECTIVES);
    parts.enumeration::<ObjectiveStatus>();
    parts.object(
        node_object::<Objective>("An objective of an OKR set; its progress is the weighted mean of its key results.")
            .field(prop::<O>("title", nn(TypeRef::STRING), "Title.", |o| o.title.clone().into()))
            .field(prop::<O>("description", s(), "Description.", |o| opt(o.description.clone())))
            .field(ref_field::<O, Membership>("owner", "Owner.", |o| o.owner_id))
            .field(ref_field::<O, Team>("team", "Owning team.", |o| o.team_id))
            .field(ref_field::<O, Objective>("parent", "The objective it contributes to.", |o| o.parent_id))
            .field(prop::<O>("periodStart", nn(scalar::DATE), "First day of the period.", |o| {
                o.period_start.to_string().into()
            }))
            .field(prop::<O>("periodEnd", nn(scalar::DATE), "Last day of the period.", |o| {
                o.period_end.to_string().into()
            }))
            .field(prop::<O>("status", ObjectiveStatus::nn(), "Status.", |o| enum_value(&o.status)))
            .field(list_of_field::<O, KeyResultsOf, KeyResult>("keyResults", "Key results, oldest first.", |o| o.id))
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
            .field(through_field::<O, LinksOfObjective, Project>(
                "projects",
                "Linked projects.",
                |o| o.id,
                |l| l.project_id,
            ))
            .field(through_field::<O, LinksOfObjective, Task>("tasks", "Linked tasks.", |o| o.id, |l| l.task_id))
            .field(prop::<O>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |o| o.version.into()))
            .field(prop::<O>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |o| datetime(&o.created_at))),
    );
    parts.node::<Objective>();
}

fn key_result_type(parts: &mut SchemaParts) {
    type Kr = key_result::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.object(
        node_object::<KeyResult>(
            "A measurable result: from `startValue` to `targetValue`, checked in as `currentValue`.",
        )
        .field(ref_field_nn::<Kr, Objective>("objective", "The objective.", |k| k.objective_id))
        .field(prop::<Kr>("title", nn(TypeRef::STRING), "Title.", |k| k.title.clone().into()))
        .field(prop::<Kr>("unit", s(), "Unit.", |k| opt(k.unit.clone())))
        .field(prop::<Kr>("startValue", nn(scalar::DECIMAL), "Baseline.", |k| {
            k.start_value.normalize().to_string().into()
        }))
        .field(prop::<Kr>("targetValue", nn(scalar::DECIMAL), "Target.", |k| {
            k.target_value.normalize().to_string().into()
        }))
        .field(prop::<Kr>("currentValue", nn(scalar::DECIMAL), "Latest check-in.", |k| {
            k.current_value.normalize().to_string().into()
        }))
        .field(prop::<Kr>("weight", nn(scalar::DECIMAL), "Weight within the objective.", |k| {
            k.weight.normalize().to_string().into()
        }))
        .field(prop::<Kr>("progress", nn(TypeRef::FLOAT), "0..1 from start to target (clamped).", |k| {
            okrs::key_result_progress(k.start_value, k.target_value, k.current_value).into()
        }))
        .field(ref_field::<Kr, Membership>("owner", "Owner.", |k| k.owner_id))
        .field(prop::<Kr>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |k| k.version.into()))
        .field(prop::<Kr>("updatedAt", nn(scalar::DATE_TIME), "Last check-in or change.", |k| datetime(&k.updated_at))),
    );
    parts.node::<KeyResult>();
    parts.query(list_field("objectives", &OBJECTIVES, "The organisation's objectives (OKRs).", |_, req| {
        let org = req.require(Permission::WorkRead)?;
        Ok(objective::Entity::find().filter(objective::Column::OrgId.eq(org)))
    }));
    parts.extend::<Project>(through_field::<project::Model, LinksOfProject, Objective>(
        "objectives",
        "Objectives this project contributes to.",
        |p| p.id,
        |l| Some(l.objective_id),
    ));
    parts.extend::<Task>(through_field::<task::Model, LinksOfTask, Objective>(
        "objectives",
        "Objectives this task contributes to.",
        |t| t.id,
        |l| Some(l.objective_id),
    ));
    parts.extend::<Project>(
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
}

fn objective_mutations(parts: &mut SchemaParts) {
    parts.input::<okrs::CreateObjectiveInput>();
    parts.input::<okrs::UpdateObjectiveInput>();
    parts.input::<okrs::AddKeyResultInput>();
    parts.input::<okrs::CheckInKeyResultInput>();
    parts.input::<LinkInput>();
    parts.object(payload::<Objective>("objective", "Result of a mutation changing an Objective."));
    parts.object(payload::<KeyResult>("keyResult", "Result of a mutation changing a KeyResult."));
    parts.mutation(node_mutation(Objective, "createObjective", "Create an objective.", |req, i| async move {
        Ok(payload_value(okrs::create_objective(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Objective, "updateObjective", "Change an objective.", |req, i| async move {
        Ok(payload_value(okrs::update_objective(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        KeyResult,
        "addKeyResult",
        "Add a key result to an objective.",
        |req, i| async move { Ok(payload_value(okrs::add_key_result(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        KeyResult,
        "checkInKeyResult",
        "Record a key result's current value.",
        |req, i| async move { Ok(payload_value(okrs::check_in(req.db.as_ref(), &req.session, i).await?)) },
    ));
    for (name, linked, desc) in [
        ("linkObjective", true, "Link an objective to a project or task."),
        ("unlinkObjective", false, "Remove a link between an objective and a project or task."),
    ] {
        parts.mutation(node_mutation(Objective, name, desc, move |req, i: LinkInput| async move {
            Ok(payload_value(
                okrs::set_link(req.db.as_ref(), &req.session, &i.objective_id, &i.subject_id, linked).await?,
            ))
        }));
    }
}
