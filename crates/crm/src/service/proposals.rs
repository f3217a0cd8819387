//! Proposals to clients: drafted and revised (each change of a draft is a new revision),
//! sent, then accepted or rejected; accepting one can win its deal. A sent proposal past
//! its `validUntil` reads as EXPIRED.

use crate::entity::{pipeline_stage, proposal};
use crate::enums::{ProposalStatus, StageKind};
use crate::nodes::{Deal, PipelineStage, Proposal};
use crate::service::{accounts, deals, portal};
use chrono::{NaiveDate, Utc};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Role, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;

/// The status a reader sees: SENT past its validity is EXPIRED.
pub fn status(p: &proposal::Model, today: NaiveDate) -> ProposalStatus {
    match (p.status.as_str(), p.valid_until) {
        ("SENT", Some(until)) if until < today => ProposalStatus::Expired,
        (s, _) => opsgraph_core::gql::GqlEnum::from_text(s).unwrap_or(ProposalStatus::Draft),
    }
}

/// Draft a proposal.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateProposalInput {
    /// The deal it is for (its account is the proposal's).
    pub deal_id: Option<Id>,
    /// The account (needed without a deal).
    pub account_id: Option<Id>,
    /// Title.
    pub title: String,
    /// Content (markdown).
    pub content: Option<String>,
    /// Value (default: the deal's).
    pub amount: Option<Decimal>,
    /// Currency of the value (default: the deal's).
    pub currency: Option<String>,
    /// Valid until.
    pub valid_until: Option<NaiveDate>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Drafts a proposal.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateProposalInput,
) -> AppResult<proposal::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key = ("createProposal", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return opsgraph_core::db::find_in_org::<proposal::Entity>(db, proposal::Column::OrgId, w.org, id, "proposal")
            .await;
    }
    let deal = match &i.deal_id {
        Some(g) => Some(
            deals::get(db, w.org, Deal::decode(g, "dealId")?)
                .await
                .map_err(|_| AppError::bad_input("dealId", "no such deal"))?,
        ),
        None => None,
    };
    let account = match (&i.account_id, deal.as_ref().and_then(|d| d.account_id)) {
        (Some(_), _) => accounts::resolve(db, w.org, i.account_id.as_ref(), "accountId").await?,
        (None, from_deal) => from_deal,
    }
    .ok_or_else(|| {
        AppError::bad_input("accountId", "a proposal is for an account: name one, or a deal that has one")
    })?;
    let (amount, currency) = match (i.amount, &i.currency, &deal) {
        (Some(a), Some(c), _) => (Some(a), Some(validate::currency("currency", c)?)),
        (Some(a), None, Some(d)) => (Some(a), Some(d.currency.clone())),
        (None, None, Some(d)) => (Some(d.amount), Some(d.currency.clone())),
        (None, None, None) => (None, None),
        _ => return Err(AppError::bad_input("currency", "give amount and currency together")),
    };
    if amount.is_some_and(|a| a.is_sign_negative() || a.scale() > 2) {
        return Err(AppError::bad_input("amount", "amount must be positive with at most 2 decimals"));
    }
    let row = proposal::ActiveModel {
        id: Set(opsgraph_core::id::new_id()),
        org_id: Set(w.org),
        account_id: Set(account),
        deal_id: Set(deal.map(|d| d.id)),
        title: Set(validate::text("title", &i.title, 1, 200, false)?),
        content: Set(validate::opt_text("content", i.content.as_deref(), 100_000, true)?),
        amount: Set(amount),
        currency: Set(currency),
        valid_until: Set(i.valid_until),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Proposal>("proposal.create", &row, key).await?;
    w.changed::<Proposal>("proposal.drafted", row.id, None).await?;
    Ok(row)
}

/// Revise a draft proposal; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct ReviseProposalInput {
    /// The proposal (a DRAFT).
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// Title.
    pub title: Option<String>,
    /// Content.
    #[serde(default, deserialize_with = "patch")]
    pub content: Option<Option<String>>,
    /// Value (in the proposal's currency).
    pub amount: Option<Decimal>,
    /// Valid until.
    #[serde(default, deserialize_with = "patch")]
    pub valid_until: Option<Option<NaiveDate>>,
}

async fn get(db: &impl ConnectionTrait, org: uuid::Uuid, gid: &str) -> AppResult<proposal::Model> {
    opsgraph_core::db::find_in_org::<proposal::Entity>(
        db,
        proposal::Column::OrgId,
        org,
        Proposal::decode(gid, "id")?,
        "proposal",
    )
    .await
}

/// Revises a draft: a change makes the next revision.
pub async fn revise(
    db: &impl ConnectionTrait,
    session: &Session,
    i: ReviseProposalInput,
) -> AppResult<proposal::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, &i.id).await?;
    if current.status != "DRAFT" {
        return Err(AppError::Conflict("only a draft can be revised; a sent proposal is final".into()));
    }
    let mut am: proposal::ActiveModel = current.clone().into();
    if let Some(v) = &i.title {
        am.title = Set(validate::text("title", v, 1, 200, false)?);
    }
    if let Some(v) = &i.content {
        am.content = Set(validate::opt_text("content", v.as_deref(), 100_000, true)?);
    }
    if let Some(v) = i.amount {
        if current.currency.is_none() || v.is_sign_negative() || v.scale() > 2 {
            return Err(AppError::bad_input(
                "amount",
                "amount must be positive with at most 2 decimals, on a proposal with a currency",
            ));
        }
        am.amount = Set(Some(v));
    }
    if let Some(v) = i.valid_until {
        am.valid_until = Set(v);
    }
    am.revision = Set(current.revision + 1);
    let done = w.update::<Proposal, _>("proposal.revise", current.clone(), am, i.expected_version).await?;
    Ok(done.after)
}

/// Send, accept or reject a proposal.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct DecideProposalInput {
    /// The proposal.
    pub id: Id,
    /// SENT (from DRAFT), ACCEPTED or REJECTED (from SENT, while valid).
    pub status: ProposalStatus,
    /// On ACCEPTED: also move its deal to the pipeline's WON stage.
    pub win_deal: Option<bool>,
}

/// Moves a proposal on: DRAFT -> SENT -> ACCEPTED | REJECTED.
pub async fn decide(
    db: &impl ConnectionTrait,
    session: &Session,
    i: DecideProposalInput,
) -> AppResult<proposal::Model> {
    let w = Write::new(db, session, Permission::ClientRespond)?;
    let current = get(db, w.org, &i.id).await?;
    if session.role == Some(Role::Client) {
        portal::guard_account(db, session, current.account_id).await?;
        if i.status == ProposalStatus::Sent || i.win_deal == Some(true) {
            return Err(AppError::Forbidden("a client accepts or rejects; sending and winning deals is ours".into()));
        }
    } else {
        session.require(Permission::CrmWrite)?;
    }
    let now = Utc::now().fixed_offset();
    let seen = status(&current, now.date_naive());
    let ok = matches!(
        (seen, i.status),
        (ProposalStatus::Draft, ProposalStatus::Sent)
            | (ProposalStatus::Sent, ProposalStatus::Accepted | ProposalStatus::Rejected)
    );
    if !ok {
        return Err(AppError::bad_input(
            "status",
            format!("a {} proposal cannot become {}", seen.as_str(), i.status.as_str()),
        ));
    }
    let mut am: proposal::ActiveModel = current.clone().into();
    am.status = Set(i.status.as_str().to_owned());
    if i.status == ProposalStatus::Sent {
        am.sent_at = Set(Some(now));
    } else {
        am.decided_at = Set(Some(now));
    }
    let after = w.update::<Proposal, _>("proposal.decide", current.clone(), am, current.version).await?.after;
    let kind = match i.status {
        ProposalStatus::Sent => "proposal.sent",
        ProposalStatus::Accepted => "proposal.accepted",
        _ => "proposal.rejected",
    };
    announce(&w, &after, kind).await?;
    if i.status == ProposalStatus::Accepted && i.win_deal.unwrap_or(false) {
        win(db, session, &after).await?;
    }
    Ok(after)
}

/// Emits `kind`; a client's answer notifies the account's owner.
async fn announce(w: &Write<'_, impl ConnectionTrait>, p: &proposal::Model, kind: &'static str) -> AppResult<()> {
    if w.session.role != Some(Role::Client) {
        w.changed::<Proposal>(kind, p.id, None).await?;
        return Ok(());
    }
    let account = accounts::get(w.db, w.org, p.account_id).await?;
    let verb = if kind == "proposal.accepted" { "accepted" } else { "rejected" };
    let title = format!("{} {verb} the proposal \"{}\"", account.name, p.title);
    w.notify::<Proposal>(kind, p.id, account.owner_id, ("STATUS_CHANGE", title), DomainEvent::default()).await?;
    Ok(())
}

/// Moves the proposal's deal to its pipeline's first WON stage.
async fn win(db: &impl ConnectionTrait, session: &Session, p: &proposal::Model) -> AppResult<()> {
    let Some(deal_id) = p.deal_id else {
        return Err(AppError::bad_input("winDeal", "the proposal has no deal"));
    };
    let deal = deals::get(db, p.org_id, deal_id).await?;
    let won = pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::PipelineId.eq(deal.pipeline_id))
        .filter(pipeline_stage::Column::Kind.eq(StageKind::Won.as_str()))
        .order_by_asc(pipeline_stage::Column::Position)
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("winDeal", "the deal's pipeline has no WON stage"))?;
    let mv = deals::MoveDealInput {
        id: Id::of::<Deal>(deal.id),
        stage_id: Some(Id::of::<PipelineStage>(won.id)),
        after_id: None,
        lost_reason: None,
    };
    deals::move_deal(db, session, mv).await?;
    Ok(())
}
