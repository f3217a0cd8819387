//! Pipelines and their ordered stages (each with a default probability and a kind: OPEN,
//! WON or LOST). An organisation has one default pipeline, where deals go unless told.

use crate::entity::{pipeline, pipeline_stage};
use crate::enums::StageKind;
use crate::nodes::{Pipeline, PipelineStage};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use uuid::Uuid;

/// One stage of a new pipeline.
#[derive(Debug, Clone, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct StageInput {
    /// Name, unique in the pipeline.
    pub name: String,
    /// Default win probability of its deals, 0..100.
    pub probability: i32,
    /// OPEN (default), WON or LOST.
    pub kind: Option<StageKind>,
}

/// Create a pipeline with its stages, in board order.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreatePipelineInput {
    /// Name, unique in the organisation.
    pub name: String,
    /// Make it the default pipeline (the first one always is).
    pub is_default: Option<bool>,
    /// 2-30 stages; at least one OPEN.
    pub stages: Vec<StageInput>,
}

fn check_stages(stages: &[StageInput]) -> AppResult<()> {
    if !(2..=30).contains(&stages.len()) {
        return Err(AppError::bad_input("stages", "a pipeline has 2 to 30 stages"));
    }
    if !stages.iter().any(|s| s.kind.unwrap_or(StageKind::Open) == StageKind::Open) {
        return Err(AppError::bad_input("stages", "a pipeline needs at least one OPEN stage"));
    }
    for (i, s) in stages.iter().enumerate() {
        validate::text(&format!("stages[{i}].name"), &s.name, 1, 100, false)?;
        if !(0..=100).contains(&s.probability) {
            return Err(AppError::bad_input(format!("stages[{i}].probability"), "probability must be 0..100"));
        }
        if stages[..i].iter().any(|o| o.name.trim().eq_ignore_ascii_case(s.name.trim())) {
            return Err(AppError::bad_input(format!("stages[{i}].name"), "stage names must differ"));
        }
    }
    Ok(())
}

/// Creates a pipeline and its stages.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreatePipelineInput,
) -> AppResult<pipeline::Model> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let name = validate::text("name", &i.name, 1, 100, false)?;
    check_stages(&i.stages)?;
    let existing = pipeline::Entity::find().filter(pipeline::Column::OrgId.eq(w.org)).all(db).await?;
    if existing.iter().any(|p| p.name.eq_ignore_ascii_case(&name)) {
        return Err(AppError::Conflict(format!("the pipeline `{name}` exists")));
    }
    let is_default = existing.is_empty() || i.is_default.unwrap_or(false);
    if is_default && !existing.is_empty() {
        pipeline::Entity::update_many()
            .col_expr(pipeline::Column::IsDefault, false.into())
            .filter(pipeline::Column::OrgId.eq(w.org))
            .exec(db)
            .await?;
    }
    let p = pipeline::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(name),
        is_default: Set(is_default),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for (pos, s) in (1..).zip(&i.stages) {
        pipeline_stage::ActiveModel {
            id: Set(new_id()),
            org_id: Set(w.org),
            pipeline_id: Set(p.id),
            name: Set(s.name.trim().to_owned()),
            position: Set(pos),
            probability: Set(i16::try_from(s.probability).unwrap_or(0)),
            kind: Set(s.kind.unwrap_or(StageKind::Open).as_str().to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    let stages: Vec<_> = i.stages.iter().map(|s| s.name.trim()).collect();
    w.audit::<Pipeline>("pipeline.create", p.id, serde_json::json!({ "name": p.name, "stages": stages })).await?;
    w.changed::<Pipeline>("pipeline.created", p.id, None).await?;
    Ok(p)
}

/// Pipeline `gid` of organisation `org`, or the default one when `None`.
pub async fn resolve(db: &impl ConnectionTrait, org: Uuid, gid: Option<&Id>) -> AppResult<pipeline::Model> {
    let q = pipeline::Entity::find().filter(pipeline::Column::OrgId.eq(org));
    let found = match gid {
        Some(g) => q.filter(pipeline::Column::Id.eq(Pipeline::decode(g, "pipelineId")?)).one(db).await?,
        None => q.filter(pipeline::Column::IsDefault.eq(true)).one(db).await?,
    };
    found.ok_or_else(|| match gid {
        Some(_) => AppError::bad_input("pipelineId", "no such pipeline"),
        None => AppError::bad_input("pipelineId", "the organisation has no pipeline yet; create one first"),
    })
}

/// A stage of `pipeline`: `gid`'s, or its first OPEN stage when `None`.
pub async fn stage(
    db: &impl ConnectionTrait,
    pipeline: &pipeline::Model,
    gid: Option<&Id>,
) -> AppResult<pipeline_stage::Model> {
    let q = pipeline_stage::Entity::find().filter(pipeline_stage::Column::PipelineId.eq(pipeline.id));
    let found = match gid {
        Some(g) => q.filter(pipeline_stage::Column::Id.eq(PipelineStage::decode(g, "stageId")?)).one(db).await?,
        None => {
            q.filter(pipeline_stage::Column::Kind.eq(StageKind::Open.as_str()))
                .order_by_asc(pipeline_stage::Column::Position)
                .one(db)
                .await?
        }
    };
    found.ok_or_else(|| AppError::bad_input("stageId", "the stage is not in the deal's pipeline"))
}
