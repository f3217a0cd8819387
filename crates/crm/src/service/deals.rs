//! Deals: opportunities on a pipeline's board. A move changes a deal's stage and place
//! (serialised per pipeline, so concurrent moves keep a stable order), records its stay in
//! the stage it leaves, and closes it when the stage is WON or LOST.

use crate::entity::{deal, deal_stage_history, pipeline_stage};
use crate::enums::StageKind;
use crate::nodes::{Deal, Pipeline, PipelineStage};
use crate::service::{accounts, contacts, pipelines};
use chrono::{NaiveDate, Utc};
use opsgraph_core::board::Lane;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

/// Open a deal.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateDealInput {
    /// Name.
    pub name: String,
    /// Pipeline (default: the organisation's default one).
    pub pipeline_id: Option<Id>,
    /// Stage (default: the pipeline's first OPEN stage).
    pub stage_id: Option<Id>,
    /// The client account.
    pub account_id: Option<Id>,
    /// The primary contact.
    pub contact_id: Option<Id>,
    /// Value (default 0).
    pub amount: Option<Decimal>,
    /// ISO 4217 currency (default: the organisation's).
    pub currency: Option<String>,
    /// Win probability 0..100 (default: the stage's).
    pub probability: Option<i32>,
    /// Expected close date.
    pub expected_close_date: Option<NaiveDate>,
    /// Owner (Membership; default you).
    pub owner_id: Option<Id>,
    /// Where it came from.
    pub source: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn amount(v: Decimal) -> AppResult<Decimal> {
    if v.is_sign_negative() || v.scale() > 2 || v > Decimal::from(1_000_000_000_000_i64) {
        return Err(AppError::bad_input("amount", "amount must be between 0 and 1e12 with at most 2 decimals"));
    }
    Ok(v)
}

fn probability(v: Option<i32>) -> AppResult<Option<i16>> {
    match v {
        Some(p) if (0..=100).contains(&p) => Ok(i16::try_from(p).ok()),
        Some(_) => Err(AppError::bad_input("probability", "probability must be 0..100")),
        None => Ok(None),
    }
}

/// A live deal of organisation `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<deal::Model> {
    deal::Entity::find_by_id(id)
        .filter(deal::Column::OrgId.eq(org))
        .filter(deal::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("deal"))
}

/// The stage lane of a board.
fn lane(stage: Uuid) -> Lane {
    Lane { table: "deals", filter: "stage_id = $1 AND deleted_at IS NULL", values: vec![stage.into()] }
}

/// Serialises the moves of one pipeline's board until the transaction ends.
async fn lock_board(db: &impl ConnectionTrait, pipeline: Uuid) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 FROM pipelines WHERE id = $1 FOR UPDATE",
        [pipeline.into()],
    ))
    .await?;
    Ok(())
}

/// Opens a deal at the bottom of its stage.
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateDealInput) -> AppResult<deal::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key = ("createDeal", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let pipeline = pipelines::resolve(db, w.org, i.pipeline_id.as_ref()).await?;
    let stage = pipelines::stage(db, &pipeline, i.stage_id.as_ref()).await?;
    let contact = contacts::resolve(db, w.org, i.contact_id.as_ref(), "contactId").await?;
    let account = match &i.account_id {
        Some(_) => accounts::resolve(db, w.org, i.account_id.as_ref(), "accountId").await?,
        None => contact.as_ref().and_then(|c| c.account_id),
    };
    let currency = match &i.currency {
        Some(c) => validate::currency("currency", c)?,
        None => opsgraph_org::service::organization::default_currency(db, w.org).await?,
    };
    let owner = match &i.owner_id {
        Some(_) => opsgraph_org::service::members::resolve(db, w.org, i.owner_id.as_deref(), "ownerId").await?,
        None => session.membership_id,
    };
    lock_board(db, pipeline.id).await?;
    let now = Utc::now().fixed_offset();
    let row = deal::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        pipeline_id: Set(pipeline.id),
        stage_id: Set(stage.id),
        account_id: Set(account),
        contact_id: Set(contact.map(|c| c.id)),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        amount: Set(amount(i.amount.unwrap_or_default())?),
        currency: Set(currency),
        probability: Set(probability(i.probability)?),
        expected_close_date: Set(i.expected_close_date),
        actual_close_date: Set((stage.kind != StageKind::Open.as_str()).then(|| now.date_naive())),
        owner_id: Set(owner),
        source: Set(validate::opt_text("source", i.source.as_deref(), 100, false)?),
        position: Set(lane(stage.id).end(db).await?),
        stage_entered_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    enter(db, &w, &row, stage.id).await?;
    w.created::<Deal>("deal.create", &row, key).await?;
    emit(&w, &row, "deal.created", serde_json::json!({ "name": row.name, "stage": stage.name })).await?;
    Ok(row)
}

/// Records that `d` entered `stage` now (closing its stay in the previous one).
async fn enter(
    db: &impl ConnectionTrait,
    w: &Write<'_, impl ConnectionTrait>,
    d: &deal::Model,
    stage: Uuid,
) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE deal_stage_history SET left_at = $2 WHERE deal_id = $1 AND left_at IS NULL",
        [d.id.into(), d.stage_entered_at.into()],
    ))
    .await?;
    deal_stage_history::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        deal_id: Set(d.id),
        stage_id: Set(stage),
        entered_at: Set(d.stage_entered_at),
        left_at: Set(None),
        changed_by: Set(w.session.membership_id),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Emits `kind` about deal `d`, addressed to its owner (unless they did it); `data` gains
/// the deal's `pipelineId` and `stageId` (what a board's live stream follows).
pub(crate) async fn emit(
    w: &Write<'_, impl ConnectionTrait>,
    d: &deal::Model,
    kind: &'static str,
    data: serde_json::Value,
) -> AppResult<()> {
    let recipients = w.others(d.owner_id);
    let mut data = match data {
        serde_json::Value::Object(m) => m,
        other => serde_json::Map::from_iter([("details".to_owned(), other)]),
    };
    let notice = match kind {
        "deal.created" | "deal.assigned" => Some(("ASSIGNMENT", format!("Deal assigned to you: {}", d.name))),
        "deal.won" => Some(("SUCCESS", format!("Deal won: {}", d.name))),
        "deal.lost" => Some(("WARNING", format!("Deal lost: {}", d.name))),
        "deal.stage_changed" => Some(("STATUS_CHANGE", format!("Deal moved: {}", d.name))),
        _ => None,
    };
    if let Some((k, title)) = notice {
        data.insert("notify".into(), serde_json::json!({ "kind": k, "title": title }));
    }
    data.insert("pipelineId".into(), Pipeline::gid(d.pipeline_id).into());
    data.insert("stageId".into(), PipelineStage::gid(d.stage_id).into());
    let event = DomainEvent { recipients, data: serde_json::Value::Object(data), ..DomainEvent::default() };
    w.emit::<Deal>(kind, d.id, event).await?;
    Ok(())
}

/// Change a deal; omitted fields stay, null clears. Stage: moveDeal.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDealInput {
    /// The deal.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// The client account.
    #[serde(default, deserialize_with = "patch")]
    pub account_id: Option<Option<Id>>,
    /// The primary contact.
    #[serde(default, deserialize_with = "patch")]
    pub contact_id: Option<Option<Id>>,
    /// Value.
    pub amount: Option<Decimal>,
    /// Currency.
    pub currency: Option<String>,
    /// Win probability (null: the stage's).
    #[serde(default, deserialize_with = "patch")]
    pub probability: Option<Option<i32>>,
    /// Expected close date.
    #[serde(default, deserialize_with = "patch")]
    pub expected_close_date: Option<Option<NaiveDate>>,
    /// Owner (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub owner_id: Option<Option<Id>>,
    /// Source.
    #[serde(default, deserialize_with = "patch")]
    pub source: Option<Option<String>>,
    /// Why it was lost.
    #[serde(default, deserialize_with = "patch")]
    pub lost_reason: Option<Option<String>>,
}

/// Changes a deal's fields (`deal.assigned` when the owner changes).
pub async fn update(db: &impl ConnectionTrait, session: &Session, i: UpdateDealInput) -> AppResult<deal::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Deal::decode(&i.id, "id")?).await?;
    let mut am: deal::ActiveModel = current.clone().into();
    if let Some(v) = &i.name {
        am.name = Set(validate::text("name", v, 1, 200, false)?);
    }
    if let Some(v) = &i.account_id {
        am.account_id = Set(accounts::resolve(db, w.org, v.as_ref(), "accountId").await?);
    }
    if let Some(v) = &i.contact_id {
        am.contact_id = Set(contacts::resolve(db, w.org, v.as_ref(), "contactId").await?.map(|c| c.id));
    }
    if let Some(v) = i.amount {
        am.amount = Set(amount(v)?);
    }
    if let Some(v) = &i.currency {
        am.currency = Set(validate::currency("currency", v)?);
    }
    if let Some(v) = i.probability {
        am.probability = Set(probability(v)?);
    }
    if let Some(v) = i.expected_close_date {
        am.expected_close_date = Set(v);
    }
    if let Some(v) = &i.owner_id {
        am.owner_id = Set(opsgraph_org::service::members::resolve(db, w.org, v.as_deref(), "ownerId").await?);
    }
    if let Some(v) = &i.source {
        am.source = Set(validate::opt_text("source", v.as_deref(), 100, false)?);
    }
    if let Some(v) = &i.lost_reason {
        am.lost_reason = Set(validate::opt_text("lostReason", v.as_deref(), 1000, true)?);
    }
    let Updated { after, changes, .. } =
        w.update::<Deal, _>("deal.update", current.clone(), am, i.expected_version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        let kind = if after.owner_id != current.owner_id { "deal.assigned" } else { "deal.updated" };
        emit(&w, &after, kind, changes).await?;
    }
    Ok(after)
}

/// Move a deal on its pipeline's board.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct MoveDealInput {
    /// The deal.
    pub id: Id,
    /// Target stage of the same pipeline (default: its current one).
    pub stage_id: Option<Id>,
    /// Place it right after this deal of the stage (default: at the top).
    pub after_id: Option<Id>,
    /// Why it was lost (moving to a LOST stage).
    pub lost_reason: Option<String>,
}

/// Moves a deal; a new stage is recorded in its history, and a WON or LOST stage closes it
/// (`deal.won` / `deal.lost`; `deal.stage_changed` otherwise).
pub async fn move_deal(db: &impl ConnectionTrait, session: &Session, i: MoveDealInput) -> AppResult<deal::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let id = Deal::decode(&i.id, "id")?;
    let before = get(db, w.org, id).await?;
    lock_board(db, before.pipeline_id).await?;
    let current = get(db, w.org, id).await?;
    let target = match &i.stage_id {
        Some(g) => {
            let sid = PipelineStage::decode(g, "stageId")?;
            pipeline_stage::Entity::find_by_id(sid)
                .filter(pipeline_stage::Column::PipelineId.eq(current.pipeline_id))
                .one(db)
                .await?
                .ok_or_else(|| AppError::bad_input("stageId", "the stage is not in the deal's pipeline"))?
        }
        None => pipeline_stage::Entity::find_by_id(current.stage_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("stage"))?,
    };
    let after = i.after_id.as_deref().map(|g| Deal::decode(g, "afterId")).transpose()?;
    let position = lane(target.id).place(db, id, after, "afterId").await?;
    let moved_stage = target.id != current.stage_id;
    let now = Utc::now().fixed_offset();
    let mut am: deal::ActiveModel = current.clone().into();
    am.position = Set(position);
    if moved_stage {
        am.stage_id = Set(target.id);
        am.stage_entered_at = Set(now);
        am.actual_close_date = Set((target.kind != StageKind::Open.as_str()).then(|| now.date_naive()));
        if target.kind == StageKind::Lost.as_str() {
            am.lost_reason = Set(validate::opt_text("lostReason", i.lost_reason.as_deref(), 1000, true)?);
        } else {
            am.lost_reason = Set(None);
        }
    }
    let after = w.update::<Deal, _>("deal.move", current.clone(), am, current.version).await?.after;
    if moved_stage {
        enter(db, &w, &after, target.id).await?;
        let kind = match target.kind.as_str() {
            "WON" => "deal.won",
            "LOST" => "deal.lost",
            _ => "deal.stage_changed",
        };
        let data = serde_json::json!({ "name": after.name, "fromStageId": current.stage_id, "toStage": target.name });
        emit(&w, &after, kind, data).await?;
    } else {
        emit(&w, &after, "deal.moved", serde_json::json!({ "name": after.name })).await?;
    }
    Ok(after)
}

/// Soft-deletes a deal.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<deal::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Deal::decode(gid, "id")?).await?;
    let mut am: deal::ActiveModel = current.clone().into();
    am.deleted_at = Set(Some(Utc::now().fixed_offset()));
    let after = w.update::<Deal, _>("deal.delete", current.clone(), am, current.version).await?.after;
    emit(&w, &after, "deal.deleted", serde_json::json!({ "name": after.name })).await?;
    Ok(after)
}
