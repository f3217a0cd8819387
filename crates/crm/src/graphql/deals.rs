//! `Pipeline`, `PipelineStage`, `Deal` and `DealStageVisit`.

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
use opsgraph_core::context::RequestCtx;
use opsgraph_core::gql::{
    GqlEnum, Money, SchemaParts, datetime, enum_value, list_of_field, money_field, node_object, opt, page_field,
    parent, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::loader::{ById, failed};
use opsgraph_core::{AppError, AppResult};
use opsgraph_org::nodes::Membership;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;

use crate::entity::{deal, deal_stage_history, pipeline, pipeline_stage};
use crate::enums::StageKind;
use crate::loader::{DealsOfPipeline, DealsOfStage, HistoryOf, StagesOf};
use crate::nodes::{Account, Contact, Deal, DealStageVisit, Pipeline, PipelineStage};

/// A deal's win probability: its own, or its stage's default.
async fn probability(req: &RequestCtx, d: &deal::Model) -> AppResult<i16> {
    if let Some(p) = d.probability {
        return Ok(p);
    }
    let stage = req.loader(ById::<pipeline_stage::Entity>::new).load_one(d.stage_id).await.map_err(|e| failed(&e))?;
    Ok(stage.ok_or_else(|| AppError::internal("deal without its stage"))?.probability)
}

fn probability_fields() -> [Field; 2] {
    let p = Field::new("probability", TypeRef::named_nn(TypeRef::INT), |ctx| {
        FieldFuture::new(async move {
            let d = parent::<deal::Model>(&ctx)?;
            Ok(Some(FieldValue::value(i32::from(probability(RequestCtx::of(&ctx)?.as_ref(), d).await?))))
        })
    })
    .description("Win probability 0..100: the deal's own, or its stage's default.");
    let w = Field::new("weightedAmount", TypeRef::named_nn("Money"), |ctx| {
        FieldFuture::new(async move {
            let d = parent::<deal::Model>(&ctx)?;
            let p = probability(RequestCtx::of(&ctx)?.as_ref(), d).await?;
            let amount = crate::service::forecast::cents(d.amount * Decimal::from(p) / Decimal::from(100));
            Ok(Some(FieldValue::owned_any(Money { amount, currency: d.currency.clone() })))
        })
    })
    .description("Amount x probability / 100, rounded to cents half away from zero.");
    [p, w]
}

/// Registers the pipeline, stage, deal and stage-visit types.
pub fn register(parts: &mut SchemaParts) {
    type P = pipeline::Model;
    type St = pipeline_stage::Model;
    type D = deal::Model;
    type H = deal_stage_history::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    let date = || TypeRef::named(scalar::DATE);
    parts.object(
        node_object::<Pipeline>("A sales pipeline: ordered stages, deals on its board.")
            .field(prop::<P>("name", nn(TypeRef::STRING), "Name.", |p| p.name.clone().into()))
            .field(prop::<P>("isDefault", nn(TypeRef::BOOLEAN), "Where new deals go by default.", |p| {
                p.is_default.into()
            }))
            .field(list_of_field::<P, StagesOf, PipelineStage>("stages", "Its stages, in board order.", |p| p.id))
            .field(page_field::<P, DealsOfPipeline>("deals", "Its deals.", |p| p.id)),
    );
    parts.object(
        node_object::<PipelineStage>("A stage of a pipeline: one column of its board.")
            .field(ref_field_nn::<St, Pipeline>("pipeline", "The pipeline.", |s| s.pipeline_id))
            .field(prop::<St>("name", nn(TypeRef::STRING), "Name.", |s| s.name.clone().into()))
            .field(prop::<St>("position", nn(TypeRef::INT), "Place in the pipeline (1 first).", |s| s.position.into()))
            .field(prop::<St>("probability", nn(TypeRef::INT), "Default win probability of its deals.", |s| {
                i32::from(s.probability).into()
            }))
            .field(prop::<St>("kind", StageKind::nn(), "OPEN, WON or LOST.", |s| enum_value(&s.kind)))
            .field(page_field::<St, DealsOfStage>("deals", "Its deals, in board order.", |s| s.id)),
    );
    let [probability, weighted] = probability_fields();
    parts.object(
        node_object::<Deal>("An opportunity in a pipeline.")
            .field(prop::<D>("name", nn(TypeRef::STRING), "Name.", |d| d.name.clone().into()))
            .field(ref_field_nn::<D, Pipeline>("pipeline", "The pipeline.", |d| d.pipeline_id))
            .field(ref_field_nn::<D, PipelineStage>("stage", "Its stage.", |d| d.stage_id))
            .field(ref_field::<D, Account>("account", "The client account.", |d| d.account_id))
            .field(ref_field::<D, Contact>("contact", "The primary contact.", |d| d.contact_id))
            .field(ref_field::<D, Membership>("owner", "Who works it.", |d| d.owner_id))
            .field(ref_field::<D, Project>("project", "The project it became (convertDealToProject).", |d| {
                d.project_id
            }))
            .field(money_field::<D>("amount", false, "Value.", |d| {
                Some(Money { amount: d.amount, currency: d.currency.clone() })
            }))
            .field(probability)
            .field(weighted)
            .field(prop::<D>("expectedCloseDate", date(), "Expected close.", |d| {
                opt(d.expected_close_date.map(|x| x.to_string()))
            }))
            .field(prop::<D>("actualCloseDate", date(), "When it was won or lost.", |d| {
                opt(d.actual_close_date.map(|x| x.to_string()))
            }))
            .field(prop::<D>("lostReason", s(), "Why it was lost.", |d| opt(d.lost_reason.clone())))
            .field(prop::<D>("source", s(), "Where it came from.", |d| opt(d.source.clone())))
            .field(prop::<D>("position", nn(TypeRef::FLOAT), "Place in its stage's column.", |d| d.position.into()))
            .field(prop::<D>("stageEnteredAt", nn(scalar::DATE_TIME), "When it entered its stage.", |d| {
                datetime(&d.stage_entered_at)
            }))
            .field(list_of_field::<D, HistoryOf, DealStageVisit>(
                "stageHistory",
                "Its stays in stages, oldest first.",
                |d| d.id,
            ))
            .field(prop::<D>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |d| d.version.into()))
            .field(prop::<D>("createdAt", nn(scalar::DATE_TIME), "When it was opened.", |d| datetime(&d.created_at))),
    );
    parts.object(
        node_object::<DealStageVisit>("A deal's stay in one stage.")
            .field(ref_field_nn::<H, PipelineStage>("stage", "The stage.", |h| h.stage_id))
            .field(prop::<H>("enteredAt", nn(scalar::DATE_TIME), "When it entered.", |h| datetime(&h.entered_at)))
            .field(prop::<H>("leftAt", TypeRef::named(scalar::DATE_TIME), "When it left (null: still there).", |h| {
                h.left_at.as_ref().map(datetime).unwrap_or(Value::Null)
            }))
            .field(prop::<H>("days", nn(TypeRef::FLOAT), "Time in the stage so far, in days.", |h| {
                let end = h.left_at.unwrap_or_else(|| chrono::Utc::now().fixed_offset());
                ((end - h.entered_at).num_seconds() as f64 / 86_400.0).into()
            }))
            .field(ref_field::<H, Membership>("changedBy", "Who moved it there.", |h| h.changed_by)),
    );
    parts.node::<Pipeline>().node::<PipelineStage>().node::<Deal>().node::<DealStageVisit>();
}
