//! The mutation pipeline at the service level, without HTTP (opsgraph-testkit): creates
//! replay by idempotency key, updates audit a diff computed from the rows, stale versions
//! conflict, and everything runs under the organisation's Row Level Security.

use std::time::Duration;

use opsgraph_core::input::Id;
use opsgraph_core::{AppError, TxDb};
use opsgraph_org::seed::{DemoOrg, PLANS, organisation};
use opsgraph_testkit::TestDb;
use opsgraph_work::nodes::{Project, Task};
use opsgraph_work::service::{projects, tasks};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

fn auth() -> opsgraph_org::AuthConfig {
    opsgraph_org::AuthConfig {
        jwt_secret: vec![7; 32],
        access_ttl: Duration::from_secs(900),
        refresh_ttl: Duration::from_secs(3600),
        max_failures_per_account: 5,
        max_failures_per_ip: 20,
        failure_window: Duration::from_secs(900),
    }
}

fn err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

async fn project(tx: &TxDb, org: &DemoOrg) -> anyhow::Result<Id> {
    let input = projects::CreateProjectInput {
        key: "PIPE".into(),
        name: "Pipeline".into(),
        description: None,
        status: None,
        manager_id: None,
        team_id: None,
        start_date: None,
        end_date: None,
        deadline: None,
        client_name: None,
        idempotency_key: None,
    };
    let p = projects::create(tx, &org.owner, input).await.map_err(err)?;
    Ok(Id::of::<Project>(p.id))
}

fn new_task(project: &Id, title: &str, key: Option<&str>) -> tasks::CreateTaskInput {
    tasks::CreateTaskInput {
        project_id: project.clone(),
        parent_id: None,
        title: title.into(),
        description: None,
        kind: None,
        status: None,
        priority: None,
        assignee_id: None,
        start_date: None,
        due_date: None,
        estimate_hours: None,
        labels: None,
        client_visible: None,
        idempotency_key: key.map(Into::into),
    }
}

async fn last_audit(tx: &TxDb, action: &str) -> anyhow::Result<serde_json::Value> {
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT changes FROM audit_log WHERE action = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
            [action.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no {action} audit row"))?;
    Ok(row.try_get("", "changes")?)
}

#[tokio::test]
async fn creates_replay_and_updates_audit_their_diff() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    let tx = db.system().await?;
    let org = organisation(&tx, &auth(), &PLANS[1]).await.map_err(err)?;
    let p = project(&tx, &org).await?;

    // The same idempotency key twice: one task, the first one returned again.
    let first = tasks::create(&tx, &org.owner, new_task(&p, "Draft", Some("k-1"))).await.map_err(err)?;
    let again = tasks::create(&tx, &org.owner, new_task(&p, "Draft", Some("k-1"))).await.map_err(err)?;
    assert_eq!(first.id, again.id);
    assert_eq!(last_audit(&tx, "task.create").await?["title"], "Draft");

    // An update audits exactly what changed, camelCase, without version or timestamps.
    let update = tasks::UpdateTaskInput {
        id: Id::of::<Task>(first.id),
        expected_version: first.version,
        title: Some("Final".into()),
        description: None,
        kind: None,
        priority: None,
        assignee_id: None,
        start_date: None,
        due_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 5, 1)),
        estimate_hours: None,
        labels: None,
        client_visible: None,
    };
    let updated = tasks::update(&tx, &org.owner, update).await.map_err(err)?;
    assert_eq!(updated.version, first.version + 1);
    assert_eq!(
        last_audit(&tx, "task.update").await?,
        serde_json::json!({
            "title": { "from": "Draft", "to": "Final" },
            "dueDate": { "from": null, "to": "2026-05-01" }
        })
    );

    // A stale version is a conflict and changes nothing.
    let stale = tasks::UpdateTaskInput { id: Id::of::<Task>(first.id), expected_version: first.version, ..empty() };
    assert!(matches!(tasks::update(&tx, &org.owner, stale).await, Err(AppError::Conflict(_))));
    tx.finish(true).await?;

    // Another organisation's transaction sees none of it (Row Level Security).
    let other = db.tenant(uuid::Uuid::now_v7()).await?;
    let visible = other
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT count(*) AS n FROM tasks"))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?;
    assert_eq!(visible, Some(0));
    other.finish(false).await?;
    db.finish().await;
    Ok(())
}

fn empty() -> tasks::UpdateTaskInput {
    tasks::UpdateTaskInput {
        id: Id(String::new()),
        expected_version: 0,
        title: None,
        description: None,
        kind: None,
        priority: None,
        assignee_id: None,
        start_date: None,
        due_date: None,
        estimate_hours: None,
        labels: None,
        client_visible: None,
    }
}
