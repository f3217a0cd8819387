//! The workflow engine, safe on several instances and at least once. Each pass, per
//! organisation: every ACTIVE workflow (row locked, `SKIP LOCKED`) reads the outbox after
//! its cursor for its trigger, starts one run per matching event (unique per workflow and
//! event: a replay starts nothing twice) and moves its cursor, in one transaction. Then due
//! runs are leased one by one and their steps executed in order: a step's effect, its log
//! row and the run's advance commit together (a step is never applied twice; a task is
//! created with an idempotency key besides); a model's answer or a webhook call happens
//! before that commit. A failed step is logged and retried with exponential back-off, up
//! to [`MAX_ATTEMPTS`].

use std::time::Duration;

use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, Session, TxDb};
use opsgraph_org::nodes::Membership;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value as SqlValue,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::entity::{step_log, workflow, workflow_run};
use crate::enums::{AgentStatus, StepKind};
use crate::nodes::{Agent, Workflow};
use crate::service::stream::system_tx;
use crate::service::workflows::{self, WorkflowStepInput};
use crate::service::{Runtime, grounding};

/// Attempts of a step before its run FAILS.
pub const MAX_ATTEMPTS: i32 = 5;

/// Events read per workflow and pass.
const BATCH: i64 = 200;

fn stmt(sql: &str, values: Vec<SqlValue>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// One pass: starts runs for new events and executes due runs; returns steps done.
pub async fn run_once(pool: &DatabaseConnection, rt: &Runtime) -> AppResult<u64> {
    let mut done = 0;
    for org in opsgraph_org::service::organization::scheduled_ids(pool).await? {
        start_runs(pool, org).await?;
        while let Some(run) = claim(pool, org).await? {
            done += advance(pool, rt, org, run).await?;
        }
    }
    Ok(done)
}

async fn start_runs(pool: &DatabaseConnection, org: Uuid) -> AppResult<()> {
    let db = system_tx(pool, org).await?;
    let flows = workflow::Entity::find()
        .filter(workflow::Column::OrgId.eq(org))
        .filter(workflow::Column::Status.eq(AgentStatus::Active.as_str()))
        .lock_with_behavior(sea_orm::sea_query::LockType::Update, sea_orm::sea_query::LockBehavior::SkipLocked)
        .all(&db)
        .await?;
    for wf in flows {
        let kinds = Some(vec![wf.trigger_event.clone()]);
        let events = opsgraph_core::live::read_events(&db, org, wf.cursor_seq, kinds, BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else { continue };
        let mut started = 0;
        for e in &events {
            let ev = workflows::event_json(e);
            if workflows::matches(&wf.conditions, &ev) {
                let sql = "INSERT INTO workflow_runs (id, org_id, workflow_id, event_seq, event) VALUES ($1, $2, $3, $4, $5) \
                           ON CONFLICT (workflow_id, event_seq) DO NOTHING";
                let r = db
                    .execute_raw(stmt(sql, vec![new_id().into(), org.into(), wf.id.into(), e.seq.into(), ev.into()]))
                    .await?;
                started += r.rows_affected() as i64;
            }
        }
        let sql = "UPDATE workflows SET cursor_seq = $2, run_count = run_count + $3 WHERE id = $1";
        db.execute_raw(stmt(sql, vec![wf.id.into(), last.into(), started.into()])).await?;
    }
    db.commit().await?;
    Ok(())
}

/// Leases the next due run for five minutes (another instance takes it over after that).
async fn claim(pool: &DatabaseConnection, org: Uuid) -> AppResult<Option<workflow_run::Model>> {
    let db = system_tx(pool, org).await?;
    let sql = "UPDATE workflow_runs SET attempts = attempts + 1, next_attempt_at = now() + interval '5 minutes' \
               WHERE id = (SELECT id FROM workflow_runs WHERE org_id = $1 AND status = 'RUNNING' \
                 AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id";
    let row = db.query_one_raw(stmt(sql, vec![org.into()])).await?;
    let run = match row {
        Some(r) => workflow_run::Entity::find_by_id(r.try_get::<Uuid>("", "id")?).one(&db).await?,
        None => None,
    };
    db.commit().await?;
    Ok(run)
}

/// Runs the remaining steps of `run`; returns the steps done.
async fn advance(pool: &DatabaseConnection, rt: &Runtime, org: Uuid, run: workflow_run::Model) -> AppResult<u64> {
    let db = system_tx(pool, org).await?;
    let wf =
        workflow::Entity::find_by_id(run.workflow_id).one(&db).await?.ok_or_else(|| AppError::not_found("workflow"))?;
    let outputs = step_log::Entity::find()
        .filter(step_log::Column::RunId.eq(run.id))
        .filter(step_log::Column::Status.eq("DONE"))
        .order_by_asc(step_log::Column::StepIndex)
        .all(&db)
        .await?;
    let mut owner = grounding::member_session(&db, org, wf.owner_id).await?;
    db.commit().await?;
    owner.request_id = format!("workflow-run-{}", run.id);
    let mut scope = json!({ "event": run.event, "steps": {} });
    for o in outputs {
        scope["steps"][o.step_index.to_string()] = o.output.unwrap_or(Value::Null);
    }
    let steps = workflows::steps(&wf);
    let mut done = 0;
    for (i, step) in steps.iter().enumerate().skip(usize::try_from(run.step_index).unwrap_or(0)) {
        let index = i32::try_from(i).unwrap_or(i32::MAX);
        match execute(pool, rt, (&owner, &run, index), step, &scope).await {
            Ok(output) => {
                scope["steps"][i.to_string()] = output;
                done += 1;
            }
            Err(e) => {
                failed(pool, org, &run, (index, step.kind), &e).await?;
                return Ok(done);
            }
        }
    }
    let db = system_tx(pool, org).await?;
    let sql = "UPDATE workflow_runs SET status = 'COMPLETE', finished_at = now(), error = NULL WHERE id = $1";
    db.execute_raw(stmt(sql, vec![run.id.into()])).await?;
    db.commit().await?;
    Ok(done)
}

/// Records a failed attempt: retried after 2^attempts seconds, FAILED after the last.
async fn failed(
    pool: &DatabaseConnection,
    org: Uuid,
    run: &workflow_run::Model,
    (index, kind): (i32, StepKind),
    e: &str,
) -> AppResult<()> {
    tracing::warn!(%org, run = %run.id, step = index, error = %e, "workflow step failed");
    let db = system_tx(pool, org).await?;
    log(&db, org, run, (index, kind), ("FAILED", None, Some(e))).await?;
    let last = run.attempts >= MAX_ATTEMPTS;
    let sql = "UPDATE workflow_runs SET error = $2, status = CASE WHEN $3 THEN 'FAILED' ELSE status END, \
                 finished_at = CASE WHEN $3 THEN now() END, \
                 next_attempt_at = now() + make_interval(secs => power(2, least(attempts, 10))) WHERE id = $1";
    db.execute_raw(stmt(sql, vec![run.id.into(), e.to_owned().into(), last.into()])).await?;
    db.commit().await?;
    Ok(())
}

async fn log(
    db: &impl ConnectionTrait,
    org: Uuid,
    run: &workflow_run::Model,
    (index, kind): (i32, StepKind),
    (status, output, error): (&str, Option<Value>, Option<&str>),
) -> AppResult<()> {
    let sql = "INSERT INTO workflow_step_logs (id, org_id, run_id, step_index, kind, status, attempt, output, error) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let values = vec![
        new_id().into(),
        org.into(),
        run.id.into(),
        index.into(),
        kind.as_str().into(),
        status.into(),
        run.attempts.into(),
        output.into(),
        error.map(str::to_owned).into(),
    ];
    db.execute_raw(stmt(sql, values)).await?;
    Ok(())
}

/// Executes step `index` and commits its effect, its log and the run's advance together.
async fn execute(
    pool: &DatabaseConnection,
    rt: &Runtime,
    (owner, run, index): (&Session, &workflow_run::Model, i32),
    step: &WorkflowStepInput,
    scope: &Value,
) -> Result<Value, String> {
    let config = workflows::fill_config(&step.config, scope)?;
    let org = run.org_id;
    // Work done outside the transaction (a model, another server).
    let outside = match step.kind {
        StepKind::RunAgent => Some(ask(pool, rt, owner, &config).await?),
        StepKind::CallWebhook => Some(call(rt, run, index, &config).await?),
        _ => None,
    };
    let go = async {
        let db = TxDb::begin(pool, &owner.tenant()).await?;
        let output = match (step.kind, outside) {
            (_, Some(out)) => out,
            (StepKind::CreateTask, _) => create_task(&db, owner, run, index, config).await?,
            (StepKind::Notify, _) => notify(&db, owner, org, &config).await?,
            _ => Value::Null,
        };
        log(&db, org, run, (index, step.kind), ("DONE", Some(output.clone()), None)).await?;
        let sql = "UPDATE workflow_runs SET step_index = $2 + 1, attempts = 0, error = NULL WHERE id = $1 AND step_index = $2";
        let r = db.execute_raw(stmt(sql, vec![run.id.into(), index.into()])).await?;
        if r.rows_affected() != 1 {
            return Err(AppError::Conflict("the run moved on elsewhere".into()));
        }
        db.commit().await?;
        Ok::<Value, AppError>(output)
    };
    go.await.map_err(|e| match e {
        AppError::Internal(_) | AppError::Unavailable(_) => "internal error".to_owned(),
        e => e.message(),
    })
}

async fn create_task(
    db: &impl ConnectionTrait,
    owner: &Session,
    run: &workflow_run::Model,
    index: i32,
    mut config: Value,
) -> AppResult<Value> {
    config["idempotencyKey"] = format!("workflow:{}:{index}", run.id).into();
    let input = serde_json::from_value(config).map_err(|e| AppError::bad_input("config", format!("bad task: {e}")))?;
    let t = opsgraph_work::service::tasks::create(db, owner, input).await?;
    Ok(json!({ "taskId": opsgraph_work::nodes::Task::gid(t.id), "number": t.number, "title": t.title }))
}

async fn notify(db: &impl ConnectionTrait, owner: &Session, org: Uuid, config: &Value) -> AppResult<Value> {
    let members = config["memberIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|g| Membership::decode(g, "memberIds"))
        .collect::<AppResult<Vec<Uuid>>>()?;
    let title: String = config["title"].as_str().unwrap_or_default().chars().take(300).collect();
    let event = DomainEvent {
        kind: "workflow.notified",
        subject_type: Workflow::NAME,
        subject_id: Uuid::nil(),
        recipients: members.clone(),
        data: json!({ "notify": { "kind": "INFO", "title": title } }),
        ..DomainEvent::default()
    };
    opsgraph_core::events::emit(db, owner, org, event).await?;
    Ok(json!({ "notified": members.len() }))
}

async fn ask(pool: &DatabaseConnection, rt: &Runtime, owner: &Session, config: &Value) -> Result<Value, String> {
    let agent = config["agentId"].as_str().map(|g| Agent::decode(g, "agentId")).transpose().map_err(|e| e.message())?;
    let agent = agent.ok_or("agentId is required")?;
    let prompt = config["prompt"].as_str().unwrap_or_default();
    let a = crate::service::ask::ask(pool, rt, owner, agent, prompt).await?;
    Ok(json!({ "runId": crate::nodes::AiRun::gid(a.run), "text": a.text }))
}

async fn call(rt: &Runtime, run: &workflow_run::Model, index: i32, config: &Value) -> Result<Value, String> {
    let url = config["url"].as_str().unwrap_or_default();
    opsgraph_core::outbound::check_public(url, rt.allow_private_hosts).await?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let body = json!({ "workflowRunId": run.id, "step": index, "event": run.event });
    let resp = http
        .post(url)
        .header("idempotency-key", format!("workflow:{}:{index}", run.id))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("webhook unreachable: {}", e.without_url()))?;
    let status = resp.status().as_u16();
    if !resp.status().is_success() {
        return Err(format!("webhook answered {status}"));
    }
    Ok(json!({ "status": status }))
}
