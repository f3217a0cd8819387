//! Runs and spend: every execution of an agent is a run (trigger, input, outcome, tokens,
//! cost, duration); every call of a model adds a row to the usage ledger (organisation,
//! day, model, agent, member, run) priced from the model's prices per million tokens in
//! integer micro-units, computed by PostgreSQL's exact numerics; a monthly budget per
//! organisation refuses new work once spent (`QUOTA_EXCEEDED`).

use chrono::NaiveDate;
use opsgraph_core::id::new_id;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde_json::json;
use uuid::Uuid;

use crate::enums::{RunStatus, RunTrigger};

/// Micro-units in one unit of currency.
pub const MICROS: i64 = 1_000_000;

/// What a run is for.
#[derive(Debug, Clone, Copy)]
pub struct RunFor {
    /// The agent.
    pub agent: Uuid,
    /// Its model.
    pub model: Uuid,
    /// The member it works for.
    pub member: Option<Uuid>,
    /// The conversation and the reply it writes.
    pub chat: Option<(Uuid, Uuid)>,
}

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Starts a run; returns its id.
pub async fn start(
    db: &impl ConnectionTrait,
    org: Uuid,
    f: RunFor,
    trigger: RunTrigger,
    input: serde_json::Value,
) -> AppResult<Uuid> {
    let id = new_id();
    let sql = "INSERT INTO ai_runs (id, org_id, agent_id, model_id, member_id, conversation_id, message_id, trigger, input, \
               currency) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, m.currency FROM llm_models m WHERE m.id = $4";
    let values = vec![
        id.into(),
        org.into(),
        f.agent.into(),
        f.model.into(),
        f.member.into(),
        f.chat.map(|c| c.0).into(),
        f.chat.map(|c| c.1).into(),
        trigger.as_str().into(),
        input.into(),
    ];
    db.execute_raw(stmt(sql, values)).await?;
    Ok(id)
}

/// Records one model call of run `run` in the ledger and on the run; returns its cost in
/// micro-units.
pub async fn record(db: &impl ConnectionTrait, org: Uuid, run: Uuid, tokens: (u64, u64)) -> AppResult<i64> {
    let (tin, tout) = (i64::try_from(tokens.0).unwrap_or(i64::MAX), i64::try_from(tokens.1).unwrap_or(i64::MAX));
    let sql = "WITH r AS (SELECT * FROM ai_runs WHERE id = $2 AND org_id = $1), \
               u AS (INSERT INTO ai_usage (id, org_id, day, model_id, agent_id, member_id, run_id, tokens_in, tokens_out, \
                 cost_micros, currency) \
                 SELECT $3, $1, current_date, r.model_id, r.agent_id, r.member_id, r.id, $4, $5, \
                   round(($4::numeric * m.input_price + $5::numeric * m.output_price))::bigint, m.currency \
                 FROM r JOIN llm_models m ON m.id = r.model_id RETURNING cost_micros), \
               x AS (UPDATE ai_runs SET steps = steps + 1, tokens_in = tokens_in + $4, tokens_out = tokens_out + $5, \
                 cost_micros = cost_micros + (SELECT cost_micros FROM u) WHERE id = $2) \
               SELECT cost_micros FROM u";
    let row = db
        .query_one_raw(stmt(sql, vec![org.into(), run.into(), new_id().into(), tin.into(), tout.into()]))
        .await?
        .ok_or_else(|| AppError::internal("run not found for its usage"))?;
    Ok(row.try_get("", "cost_micros")?)
}

/// [`record`] in a short transaction of its own (the runner's, as the model answers).
pub async fn record_now(
    pool: &sea_orm::DatabaseConnection,
    org: Uuid,
    run: Uuid,
    tokens: (u64, u64),
) -> AppResult<i64> {
    let db = crate::service::stream::system_tx(pool, org).await?;
    let cost = record(&db, org, run, tokens).await?;
    db.commit().await?;
    Ok(cost)
}

/// Sets run `run`'s status; a finished run records its output or error and duration.
pub async fn set_status(
    db: &impl ConnectionTrait,
    run: Uuid,
    status: RunStatus,
    output: Option<serde_json::Value>,
    error: Option<&str>,
) -> AppResult<()> {
    let done = matches!(status, RunStatus::Complete | RunStatus::Failed);
    let sql = "UPDATE ai_runs SET status = $2, output = coalesce($3, output), error = $4, \
               finished_at = CASE WHEN $5 THEN clock_timestamp() END, \
               duration_ms = CASE WHEN $5 THEN (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int END \
               WHERE id = $1";
    let values = vec![run.into(), status.as_str().into(), output.into(), error.map(str::to_owned).into(), done.into()];
    db.execute_raw(stmt(sql, values)).await?;
    Ok(())
}

/// The organisation's budget this month: limit, spent (usage in the budget's currency
/// since the first of the month) and currency; `None` without a budget.
pub async fn budget(db: &impl ConnectionTrait, org: Uuid) -> AppResult<Option<(i64, i64, String)>> {
    let sql = "SELECT b.monthly_limit_micros AS l, b.currency AS c, \
                 (SELECT coalesce(sum(u.cost_micros), 0)::bigint FROM ai_usage u WHERE u.org_id = b.org_id \
                    AND u.currency = b.currency AND u.day >= date_trunc('month', current_date)::date) AS s \
               FROM ai_budgets b WHERE b.org_id = $1";
    let row = db.query_one_raw(stmt(sql, vec![org.into()])).await?;
    row.map(|r| Ok((r.try_get("", "l")?, r.try_get("", "s")?, r.try_get::<String>("", "c")?.trim().to_owned())))
        .transpose()
}

/// QUOTA_EXCEEDED when the organisation's monthly budget is spent.
pub async fn check_budget(db: &impl ConnectionTrait, org: Uuid) -> AppResult<()> {
    match budget(db, org).await? {
        Some((limit, spent, currency)) if spent >= limit => Err(AppError::QuotaExceeded(format!(
            "the organisation's AI budget for this month is spent ({} of {} {currency}); an owner or admin can raise it",
            to_money(spent),
            to_money(limit)
        ))),
        _ => Ok(()),
    }
}

/// Micro-units as an exact amount.
pub fn to_money(micros: i64) -> Decimal {
    Decimal::new(micros, 6).normalize()
}

/// Sets the organisation's monthly AI budget (agent managers); `limit` in currency units
/// with at most six decimals.
pub async fn set_budget(db: &impl ConnectionTrait, session: &Session, limit: Decimal, currency: &str) -> AppResult<()> {
    let w = opsgraph_core::write::Write::new(db, session, Permission::AiManage)?;
    let currency = validate::currency("currency", currency)?;
    let micros = (limit * Decimal::from(MICROS))
        .trunc()
        .to_string()
        .parse::<i64>()
        .ok()
        .filter(|m| *m >= 0 && limit.scale() <= 6)
        .ok_or_else(|| AppError::bad_input("monthlyLimit", "monthlyLimit is 0 or more, with at most 6 decimals"))?;
    let sql = "INSERT INTO ai_budgets (id, org_id, monthly_limit_micros, currency) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (org_id) DO UPDATE SET monthly_limit_micros = $3, currency = $4, version = ai_budgets.version + 1 \
               RETURNING id";
    let row = db
        .query_one_raw(stmt(sql, vec![new_id().into(), w.org.into(), micros.into(), currency.clone().into()]))
        .await?
        .ok_or_else(|| AppError::internal("budget not saved"))?;
    let id: Uuid = row.try_get("", "id")?;
    w.audit::<opsgraph_org::nodes::Organization>(
        "ai_budget.set",
        w.org,
        json!({ "budget": id, "monthlyLimit": limit.to_string(), "currency": currency }),
    )
    .await?;
    w.changed::<opsgraph_org::nodes::Organization>("organization.ai_budget", w.org, None).await?;
    Ok(())
}

/// How usage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Per day.
    Day,
    /// Per model.
    Model,
    /// Per agent.
    Agent,
    /// Per member.
    Member,
}

/// One group of usage.
#[derive(Debug, Clone)]
pub struct UsageRow {
    /// The grouping.
    pub by: GroupBy,
    /// The day (by DAY).
    pub day: Option<NaiveDate>,
    /// The model, agent or member (by MODEL, AGENT, MEMBER).
    pub key: Option<Uuid>,
    /// Calls.
    pub calls: i64,
    /// Prompt tokens.
    pub tokens_in: i64,
    /// Generated tokens.
    pub tokens_out: i64,
    /// Cost in micro-units.
    pub cost_micros: i64,
    /// Its currency.
    pub currency: String,
}

/// The ledger between `from` and `to` (inclusive days) grouped by `by` (and currency).
pub async fn usage(
    db: &impl ConnectionTrait,
    org: Uuid,
    (from, to): (NaiveDate, NaiveDate),
    by: GroupBy,
) -> AppResult<Vec<UsageRow>> {
    let (day, key) = match by {
        GroupBy::Day => ("day", "NULL::uuid"),
        GroupBy::Model => ("NULL::date", "model_id"),
        GroupBy::Agent => ("NULL::date", "agent_id"),
        GroupBy::Member => ("NULL::date", "member_id"),
    };
    let sql = format!(
        "SELECT {day} AS day, {key} AS key, count(*) AS calls, sum(tokens_in)::bigint AS tin, \
           sum(tokens_out)::bigint AS tout, sum(cost_micros)::bigint AS cost, currency \
         FROM ai_usage WHERE org_id = $1 AND day BETWEEN $2 AND $3 GROUP BY 1, 2, currency ORDER BY 1, 6 DESC, 2 LIMIT 1000"
    );
    let rows = db.query_all_raw(stmt(&sql, vec![org.into(), from.into(), to.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(UsageRow {
                by,
                day: r.try_get("", "day")?,
                key: r.try_get("", "key")?,
                calls: r.try_get("", "calls")?,
                tokens_in: r.try_get("", "tin")?,
                tokens_out: r.try_get("", "tout")?,
                cost_micros: r.try_get("", "cost")?,
                currency: r.try_get::<String>("", "currency")?.trim().to_owned(),
            })
        })
        .collect()
}
