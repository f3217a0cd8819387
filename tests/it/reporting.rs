//! KPIs, saved queries, dashboards, reports and member performance through the endpoint:
//! metrics from every domain measured on demand and by the job (once, with two jobs at
//! once), trends in buckets; saved queries, widgets and reports run as the viewer (never
//! showing what the viewer may not see); CSV and PDF files read back, downloadable by their
//! requester only; performance derived from time, tasks and client feedback.

use std::time::Duration;

use chrono::{Datelike, Days};
use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const PROJECT: &str = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }";
const TASK: &str = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id version } } }";
const KPI: &str = "mutation($i: CreateKpiInput!) { createKpi(input: $i) { kpi { id version } } }";
const MEASURE: &str = "mutation($i: MeasureKpiInput!) { measureKpi(input: $i) { kpiMeasurement { value periodStart periodEnd onTarget source } } }";
const SAVE: &str = "mutation($i: CreateSavedQueryInput!) { createSavedQuery(input: $i) { savedQuery { id version } } }";
const RUN: &str = "query($id: ID!) { node(id: $id) { ... on SavedQuery { run } } }";

async fn project(app: &TestApp, token: &str, key: &str) -> String {
    let r = app.gql(Some(token), PROJECT, json!({ "i": { "key": key, "name": format!("Project {key}") } })).await;
    data(&r)["createProject"]["project"]["id"].as_str().unwrap_or_default().to_owned()
}

async fn task(app: &TestApp, token: &str, project: &str, i: Value) -> String {
    let mut input = json!({ "projectId": project, "title": "Work" });
    if let (Some(base), Some(extra)) = (input.as_object_mut(), i.as_object()) {
        base.extend(extra.clone());
    }
    let r = app.gql(Some(token), TASK, json!({ "i": input })).await;
    data(&r)["createTask"]["task"]["id"].as_str().unwrap_or_default().to_owned()
}

async fn kpi(app: &TestApp, token: &str, i: Value) -> String {
    let r = app.gql(Some(token), KPI, json!({ "i": i })).await;
    data(&r)["createKpi"]["kpi"]["id"].as_str().unwrap_or_default().to_owned()
}

async fn save(app: &TestApp, token: &str, name: &str, document: &str, shared: bool) -> String {
    let i = json!({ "name": name, "document": document, "shared": shared });
    let r = app.gql(Some(token), SAVE, json!({ "i": i })).await;
    data(&r)["createSavedQuery"]["savedQuery"]["id"].as_str().unwrap_or_default().to_owned()
}

async fn run(app: &TestApp, token: &str, id: &str) -> Value {
    data(&app.gql(Some(token), RUN, json!({ "id": id })).await)["node"]["run"].clone()
}

fn monday(d: chrono::NaiveDate) -> chrono::NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

#[tokio::test]
async fn kpis_measure_metrics_of_every_domain_on_demand_and_by_the_job() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("kpi@example.com", "Kpi Co").await;
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    let p = project(&app, &owner, "KPI").await;
    let mut tasks = vec![];
    for _ in 0..3 {
        tasks.push(task(&app, &owner, &p, json!({})).await);
    }

    // The catalogue holds every domain's metrics, and each one measures.
    let r = app
        .gql(Some(&owner), "{ organization { kpiMetrics { key unit parameter parameterValues } } }", json!({}))
        .await;
    let metrics = data(&r)["organization"]["kpiMetrics"].as_array().cloned().unwrap_or_default();
    let keys: Vec<&str> = metrics.iter().filter_map(|m| m["key"].as_str()).collect();
    for prefix in ["org.", "work.", "crm.", "finance."] {
        assert!(keys.iter().any(|k| k.starts_with(prefix)), "{prefix} metrics in {keys:?}");
    }
    for (i, m) in metrics.iter().enumerate() {
        let id = kpi(&app, &owner, json!({ "name": format!("K{i}"), "metric": m["key"], "period": "MONTH" })).await;
        let r = app.gql(Some(&owner), MEASURE, json!({ "i": { "id": id } })).await;
        assert!(data(&r)["measureKpi"]["kpiMeasurement"]["value"].is_string(), "{} measures: {r}", m["key"]);
    }

    // Open tasks, weekly, lower is better: 3 now; finishing one and measuring again
    // replaces this week's value.
    let open = json!({ "name": "Open tasks", "metric": "work.open_tasks", "period": "WEEK",
                       "direction": "LOWER_IS_BETTER", "target": "2" });
    let id = kpi(&app, &owner, open).await;
    let m = app.gql(Some(&owner), MEASURE, json!({ "i": { "id": id } })).await;
    let today = chrono::Utc::now().date_naive();
    let m = &data(&m)["measureKpi"]["kpiMeasurement"];
    assert_eq!((m["value"].as_str(), m["onTarget"].as_bool()), (Some("3"), Some(false)), "{m}");
    assert_eq!(m["periodStart"].as_str(), Some(monday(today).to_string().as_str()));
    let done =
        "mutation($t: ID!) { transitionTask(input: { id: $t, status: DONE, expectedVersion: 1 }) { task { id } } }";
    data(&app.gql(Some(&owner), done, json!({ "t": tasks[0] })).await);
    let m = app.gql(Some(&owner), MEASURE, json!({ "i": { "id": id } })).await;
    let m = &data(&m)["measureKpi"]["kpiMeasurement"];
    assert_eq!((m["value"].as_str(), m["onTarget"].as_bool()), (Some("2"), Some(true)), "{m}");
    // A past week measured on demand gives the trend a second point.
    let past = monday(today) - Days::new(14);
    data(&app.gql(Some(&owner), MEASURE, json!({ "i": { "id": id, "on": past.to_string() } })).await);
    let trend = "query($id: ID!, $from: Date!) { node(id: $id) { ... on Kpi { latest { value } \
                 measurements(first: 10) { totalCount } trend(from: $from, bucket: WEEK) { bucketStart value measurements } } } }";
    let r = app.gql(Some(&owner), trend, json!({ "id": id, "from": (past - Days::new(7)).to_string() })).await;
    let k = &data(&r)["node"];
    assert_eq!(k["measurements"]["totalCount"], 2, "one row per period: {k}");
    let points: Vec<(String, Value)> = k["trend"]
        .as_array()
        .map(|a| {
            a.iter().map(|p| (p["bucketStart"].as_str().unwrap_or_default().to_owned(), p["value"].clone())).collect()
        })
        .unwrap_or_default();
    assert_eq!(points.len(), 4, "{points:?}");
    // A state metric ("open, now") measured for a past period reads the state now.
    assert_eq!(points[1], (past.to_string(), json!("2")));
    assert_eq!((points[0].1.clone(), points[2].1.clone(), points[3].1.clone()), (Value::Null, Value::Null, json!("2")));

    // Bad definitions change nothing; members may read KPIs but not define or measure them.
    let bad = app.gql(Some(&owner), KPI, json!({ "i": { "name": "X", "metric": "work.nope" } })).await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("metric")));
    let bad = app
        .gql(
            Some(&owner),
            KPI,
            json!({ "i": { "name": "Y", "metric": "work.open_risks", "params": { "level": "HUGE" } } }),
        )
        .await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("params")));
    let dup = app.gql(Some(&owner), KPI, json!({ "i": { "name": "open TASKS", "metric": "work.open_tasks" } })).await;
    assert_eq!(code(&dup), Some("CONFLICT"));
    let denied = app.gql(Some(&member), KPI, json!({ "i": { "name": "Z", "metric": "work.open_tasks" } })).await;
    assert_eq!(code(&denied), Some("FORBIDDEN"));
    let denied = app.gql(Some(&member), MEASURE, json!({ "i": { "id": id } })).await;
    assert_eq!(code(&denied), Some("FORBIDDEN"));
    let r = app.gql(Some(&member), "{ organization { kpis(first: 50) { totalCount } } }", json!({})).await;
    assert_eq!(data(&r)["organization"]["kpis"]["totalCount"], metrics.len() + 1);

    // The job: two instances at once measure each due KPI once; nothing is due right after.
    let registry = opsgraph_schema::metrics().expect("metrics");
    let every = Duration::from_millis(800);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (a, b) = tokio::join!(
        opsgraph_org::service::kpis::run_due(&app.pool, &registry, every),
        opsgraph_org::service::kpis::run_due(&app.pool, &registry, every)
    );
    assert_eq!(a.expect("job a") + b.expect("job b"), metrics.len() as u64 + 1, "every KPI measured once");
    let later = opsgraph_org::service::kpis::run_due(&app.pool, &registry, Duration::from_secs(3600)).await;
    assert_eq!(later.expect("job"), 0);
    let r = app
        .gql(
            Some(&owner),
            "query($id: ID!) { node(id: $id) { ... on Kpi { latest { value source } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&r)["node"]["latest"], json!({ "value": "2", "source": "SCHEDULE" }));
}

#[tokio::test]
async fn kpi_lists_load_latest_values_and_trends_in_constant_statements() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("kpis@example.com", "Kpis Co").await;
    let q = "{ organization { kpis(first: 50) { nodes { name latest { value onTarget } \
             trend(bucket: MONTH) { value } } } } }";
    let mut counts = vec![];
    for n in [2, 6] {
        while data(&app.gql(Some(&owner), "{ organization { kpis { totalCount } } }", json!({})).await)["organization"]
            ["kpis"]["totalCount"]
            .as_i64()
            < Some(n)
        {
            let i = json!({ "name": format!("K{}", uuid::Uuid::new_v4()), "metric": "work.open_tasks", "target": "1" });
            let id = kpi(&app, &owner, i).await;
            data(&app.gql(Some(&owner), MEASURE, json!({ "i": { "id": id } })).await);
        }
        let r = app.gql(Some(&owner), q, json!({})).await;
        let nodes = data(&r)["organization"]["kpis"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(nodes.len(), n as usize);
        assert!(
            nodes.iter().all(|k| k["latest"]["value"] == "0" && k["trend"].as_array().is_some_and(|t| t.len() == 12))
        );
        counts.push(r["extensions"]["sqlStatements"].as_u64());
    }
    assert_eq!(counts[0], counts[1], "statements do not grow with the KPIs: {counts:?}");
}
