//! KPIs, saved queries, reports and member performance (dashboards: `dashboards.rs`) through the endpoint:
//! metrics from every domain measured on demand and by the job (once, with two jobs at
//! once), trends in buckets; saved queries, widgets and reports run as the viewer (never
//! showing what the viewer may not see); CSV and PDF files read back, downloadable by their
//! requester only; performance derived from time, tasks and client feedback.

use std::time::Duration;

use chrono::{Datelike, Days};
use opsgraph_e2e::{TestApp, code, data, field, pdf_text};
use sea_orm::ConnectionTrait;
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

pub(crate) async fn kpi(app: &TestApp, token: &str, i: Value) -> String {
    let r = app.gql(Some(token), KPI, json!({ "i": i })).await;
    data(&r)["createKpi"]["kpi"]["id"].as_str().unwrap_or_default().to_owned()
}

pub(crate) async fn save(app: &TestApp, token: &str, name: &str, document: &str, shared: bool) -> String {
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

/// What the owner sees and a plain member does not: an admin-only list (FORBIDDEN at its
/// path) and a private channel (absent, by Row Level Security).
pub(crate) const RESTRICTED: &str = "query Restricted { organization { name webhookEndpoints(first: 5) { nodes { url } } \
                          channels(first: 20) { nodes { name } } } }";

pub(crate) fn channel_names(resp: &Value) -> Vec<String> {
    let nodes = resp["data"]["organization"]["channels"]["nodes"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<String> = nodes.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect();
    names.sort();
    names
}

/// An owner with a webhook endpoint and a private channel, and a plain member.
pub(crate) async fn restricted_org(app: &TestApp, tag: &str) -> (String, String) {
    let (owner, _) = app.sign_up(&format!("owner-{tag}@example.com"), &format!("Org {tag}")).await;
    let (member, _) = app.member(&owner, &format!("member-{tag}@example.com"), "MEMBER").await;
    let hook = "mutation { createWebhookEndpoint(input: { url: \"http://127.0.0.1:9/hook\" }) { secret } }";
    data(&app.gql(Some(&owner), hook, json!({})).await);
    let ch = "mutation($i: CreateChannelInput!) { createChannel(input: $i) { channel { id } } }";
    for (name, private) in [("lobby", false), ("board-room", true)] {
        let i = json!({ "name": name, "kind": "GROUP", "isPrivate": private });
        data(&app.gql(Some(&owner), ch, json!({ "i": i })).await);
    }
    (owner, member)
}

#[tokio::test]
async fn saved_queries_run_with_the_viewers_rights_never_the_authors() {
    let app = TestApp::spawn().await;
    let (owner, member) = restricted_org(&app, "sq").await;
    let shared = save(&app, &owner, "Restricted", RESTRICTED, true).await;

    // The author sees everything the query asks for.
    let mine = run(&app, &owner, &shared).await;
    assert!(mine.get("errors").is_none(), "{mine}");
    assert_eq!(mine["data"]["organization"]["webhookEndpoints"]["nodes"][0]["url"], "http://127.0.0.1:9/hook");
    assert_eq!(channel_names(&mine), vec!["board-room", "lobby"]);

    // The member running the same shared query sees only what they may see.
    let theirs = run(&app, &member, &shared).await;
    assert_eq!(theirs["data"]["organization"]["webhookEndpoints"], Value::Null, "{theirs}");
    assert_eq!(theirs["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(theirs["errors"][0]["path"], json!(["organization", "webhookEndpoints"]));
    assert_eq!(channel_names(&theirs), vec!["lobby"]);
    assert!(theirs["data"]["organization"]["name"].is_string());

    // A private saved query is its owner's alone; members cannot share; bad documents are refused.
    let private = save(&app, &owner, "Mine", "{ organization { name } }", false).await;
    let r = app.gql(Some(&member), RUN, json!({ "id": private })).await;
    assert_eq!((code(&r), &r["data"]["node"]), (Some("NOT_FOUND"), &Value::Null));
    let list = "{ organization { savedQueries(first: 10) { nodes { name } } } }";
    let r = app.gql(Some(&member), list, json!({})).await;
    assert_eq!(data(&r)["organization"]["savedQueries"]["nodes"], json!([{ "name": "Restricted" }]));
    let share = json!({ "i": { "name": "S", "document": "{ viewer { role } }", "shared": true } });
    assert_eq!(code(&app.gql(Some(&member), SAVE, share).await), Some("FORBIDDEN"));
    for bad in [
        "{ organization { name }",
        "mutation { logOut { ok } }",
        "subscription { notificationAdded { id } }",
        "query A { viewer { role } } query B { viewer { role } }",
    ] {
        let r = app.gql(Some(&owner), SAVE, json!({ "i": { "name": "Bad", "document": bad } })).await;
        assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("document")), "{bad}: {r}");
    }
    let deep = format!("{{ {}x{} }}", "a { ".repeat(25), " }".repeat(25));
    let r = app.gql(Some(&owner), SAVE, json!({ "i": { "name": "Deep", "document": deep } })).await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");

    // An API key owns nothing (owned rows are a member's), but may run what is shared.
    let create = "mutation { createApiKey(input: { name: \"ci\", scope: ADMIN }) { secret } }";
    let key = data(&app.gql(Some(&owner), create, json!({})).await)["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let body = |q: &str, v: Value| serde_json::to_vec(&json!({ "query": q, "variables": v })).unwrap_or_default();
    let (_, r) = app
        .post_raw(
            body(SAVE, json!({ "i": { "name": "K", "document": "{ viewer { role } }" } })),
            &[("x-api-key", &key)],
        )
        .await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "{r}");
    let (_, r) = app.post_raw(body(RUN, json!({ "id": shared })), &[("x-api-key", &key)]).await;
    assert_eq!(
        data(&r)["node"]["run"]["data"]["organization"]["webhookEndpoints"]["nodes"][0]["url"],
        "http://127.0.0.1:9/hook"
    );

    // A saved query never runs saved queries (no recursion through `run`).
    let nested = format!("{{ node(id: \"{shared}\") {{ ... on SavedQuery {{ run }} }} }}");
    let outer = save(&app, &owner, "Nested", &nested, false).await;
    let r = run(&app, &owner, &outer).await;
    let inner_error = r["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(inner_error.contains("cannot run saved queries"), "{r}");

    // Variables: the stored ones, overlaid by the caller's.
    let doc = "query($n: Int!) { organization { channels(first: $n) { nodes { name } } } }";
    let i = json!({ "name": "Paged", "document": doc, "variables": { "n": 1 } });
    let paged =
        data(&app.gql(Some(&owner), SAVE, json!({ "i": i })).await)["createSavedQuery"]["savedQuery"]["id"].clone();
    let two = "query($id: ID!) { node(id: $id) { ... on SavedQuery { stored: run two: run(variables: { n: 2 }) } } }";
    let r = app.gql(Some(&owner), two, json!({ "id": paged })).await;
    let node = &data(&r)["node"];
    assert_eq!(node["stored"]["data"]["organization"]["channels"]["nodes"].as_array().map(Vec::len), Some(1));
    assert_eq!(node["two"]["data"]["organization"]["channels"]["nodes"].as_array().map(Vec::len), Some(2));
}

const TEMPLATE: &str =
    "mutation($i: CreateReportTemplateInput!) { createReportTemplate(input: $i) { reportTemplate { id } } }";
const GENERATE: &str = "mutation($i: GenerateReportInput!) { generateReport(input: $i) { generatedReport { id fileName contentType byteSize rowCount downloadUrl } } }";

/// RFC 4180 rows (quoted fields with doubled quotes; CRLF line ends).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell, mut quoted) = (vec![], vec![], String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', q) => quoted = !q,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn reports_export_csv_and_pdf_that_only_their_requester_downloads() {
    let app = TestApp::spawn().await;
    let (owner, member) = restricted_org(&app, "rep").await;
    for (key, tasks) in [("ALPHA", 3), ("BETA", 1)] {
        let p = project(&app, &owner, key).await;
        for _ in 0..tasks {
            task(&app, &owner, &p, json!({})).await;
        }
    }
    let doc = "{ organization { projects(first: 10, orderBy: [{ field: KEY }]) { nodes { key name tasks { totalCount } } } } }";
    let q = save(&app, &owner, "Projects", doc, true).await;
    let columns = json!([{ "label": "Key", "path": "key" }, { "label": "Name, full", "path": "name" }, { "label": "Tasks", "path": "tasks.totalCount" }]);
    let i = json!({ "name": "Portfolio", "savedQueryId": q, "rowsPath": "organization.projects.nodes", "columns": columns,
                    "chart": { "labelColumn": 0, "valueColumn": 2 }, "shared": true });
    let t =
        data(&app.gql(Some(&owner), TEMPLATE, json!({ "i": i })).await)["createReportTemplate"]["reportTemplate"]["id"]
            .clone();

    // CSV, read back through the authenticated download.
    let r = app.gql(Some(&owner), GENERATE, json!({ "i": { "templateId": t, "format": "CSV" } })).await;
    let g = data(&r)["generateReport"]["generatedReport"].clone();
    assert_eq!((g["rowCount"].as_i64(), g["contentType"].as_str()), (Some(2), Some("text/csv; charset=utf-8")));
    let url = g["downloadUrl"].as_str().unwrap_or_default().to_owned();
    let auth = format!("Bearer {owner}");
    let (status, headers, body) = app.request(reqwest::Method::GET, &url, &[("authorization", &auth)], None).await;
    assert_eq!(status, 200);
    assert!(
        headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment; filename=\"portfolio-"))
    );
    assert_eq!(g["byteSize"].as_u64(), Some(body.len() as u64));
    assert_eq!(
        csv_rows(&body),
        vec![
            vec!["Key", "Name, full", "Tasks"],
            vec!["ALPHA", "Project ALPHA", "3"],
            vec!["BETA", "Project BETA", "1"],
        ]
    );

    // PDF: the table's text and a bar per row.
    let r = app.gql(Some(&owner), GENERATE, json!({ "i": { "templateId": t, "format": "PDF" } })).await;
    let pdf_url = data(&r)["generateReport"]["generatedReport"]["downloadUrl"].as_str().unwrap_or_default().to_owned();
    let (status, headers, pdf) = app.request(reqwest::Method::GET, &pdf_url, &[("authorization", &auth)], None).await;
    assert_eq!((status, headers.get("content-type").and_then(|v| v.to_str().ok())), (200, Some("application/pdf")));
    assert!(pdf.starts_with("%PDF-"));
    let text = pdf_text(&pdf);
    for s in ["Portfolio", "Key", "Name, full", "Tasks", "ALPHA", "Project BETA", "3"] {
        assert!(text.iter().any(|t| t == s), "{s} in {text:?}");
    }
    assert_eq!(pdf.matches(" re\n").count(), 2, "one bar per row");

    // Only the requester downloads; the others get 404 (or 401 without credentials).
    let other = format!("Bearer {member}");
    assert_eq!(app.request(reqwest::Method::GET, &url, &[("authorization", &other)], None).await.0, 404);
    assert_eq!(app.request(reqwest::Method::GET, &url, &[], None).await.0, 401);
    assert_eq!(app.request(reqwest::Method::GET, "/reports/nonsense", &[("authorization", &auth)], None).await.0, 400);
    let mine = "{ organization { generatedReports(first: 10) { totalCount } } }";
    assert_eq!(
        data(&app.gql(Some(&member), mine, json!({})).await)["organization"]["generatedReports"]["totalCount"],
        0
    );
    assert_eq!(
        data(&app.gql(Some(&owner), mine, json!({})).await)["organization"]["generatedReports"]["totalCount"],
        2
    );

    // The member generating the same template gets their own file of what they see; a
    // template whose query they may not run makes no report.
    let r = app.gql(Some(&member), GENERATE, json!({ "i": { "templateId": t, "format": "CSV" } })).await;
    assert_eq!(data(&r)["generateReport"]["generatedReport"]["rowCount"], 2);
    let rq = save(&app, &owner, "Restricted", RESTRICTED, true).await;
    let i = json!({ "name": "Hooks", "savedQueryId": rq, "rowsPath": "organization.webhookEndpoints.nodes",
                    "columns": [{ "label": "URL", "path": "url" }], "shared": true });
    let ht = data(&app.gql(Some(&owner), TEMPLATE, json!({ "i": i })).await)["createReportTemplate"]["reportTemplate"]
        ["id"]
        .clone();
    let r = app.gql(Some(&member), GENERATE, json!({ "i": { "templateId": ht, "format": "PDF" } })).await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    assert!(r["errors"][0]["message"].as_str().is_some_and(|m| m.contains("FORBIDDEN")), "{r}");
    assert_eq!(
        data(&app.gql(Some(&member), mine, json!({})).await)["organization"]["generatedReports"]["totalCount"],
        1
    );

    // A document runs once per request between writes, never across one: the second report
    // of this mutation sees the project created between the two.
    let seq = "mutation($t: ID!) { a: generateReport(input: { templateId: $t, format: CSV }) { generatedReport { rowCount } } \
               createProject(input: { key: \"GAMMA\", name: \"Gamma\" }) { project { id } } \
               b: generateReport(input: { templateId: $t, format: CSV }) { generatedReport { rowCount } } }";
    let r = app.gql(Some(&owner), seq, json!({ "t": t })).await;
    let rows = |k: &str| data(&r)[k]["generatedReport"]["rowCount"].as_i64();
    assert_eq!((rows("a"), rows("b")), (Some(2), Some(3)));

    // Templates are checked: paths, column counts, chart indexes.
    for (patch, f) in [
        (json!({ "rowsPath": "organization..projects" }), "rowsPath"),
        (json!({ "columns": [] }), "columns"),
        (json!({ "columns": [{ "label": "A", "path": "a-b" }] }), "columns[0].path"),
        (json!({ "chart": { "labelColumn": 0, "valueColumn": 7 } }), "chart"),
    ] {
        let mut i =
            json!({ "name": "Bad", "savedQueryId": q, "rowsPath": "a.b", "columns": [{ "label": "A", "path": "a" }] });
        if let (Some(b), Some(p)) = (i.as_object_mut(), patch.as_object()) {
            b.extend(p.clone());
        }
        let r = app.gql(Some(&owner), TEMPLATE, json!({ "i": i })).await;
        assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some(f)), "{r}");
    }
}

#[tokio::test]
async fn member_performance_is_derived_from_time_tasks_and_client_feedback() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("perf@example.com", "Perf Co").await;
    let me = app.gql(Some(&owner), "{ viewer { membership { id } } }", json!({})).await;
    let owner_id = data(&me)["viewer"]["membership"]["id"].as_str().unwrap_or_default().to_owned();
    let (member, member_id) = app.member(&owner, "perf-m@example.com", "MEMBER").await;
    let p = project(&app, &owner, "PERF").await;
    let today = chrono::Utc::now().date_naive();
    let yesterday = today - Days::new(1);
    let on_time = task(&app, &owner, &p, json!({ "assigneeId": owner_id, "dueDate": today.to_string() })).await;
    let late = task(&app, &owner, &p, json!({ "assigneeId": owner_id, "dueDate": yesterday.to_string() })).await;
    let done =
        "mutation($t: ID!) { transitionTask(input: { id: $t, status: DONE, expectedVersion: 1 }) { task { id } } }";
    for t in [&on_time, &late] {
        data(&app.gql(Some(&owner), done, json!({ "t": t })).await);
    }
    let log = "mutation($i: LogTimeInput!) { logTime(input: $i) { timeEntry { id } } }";
    for (hours, billable) in [("6", true), ("2", false)] {
        let i = json!({ "projectId": p, "date": today.to_string(), "hours": hours, "isBillable": billable });
        data(&app.gql(Some(&owner), log, json!({ "i": i })).await);
    }
    let acct = "mutation { createAccount(input: { name: \"Client\" }) { account { id } } }";
    let a = data(&app.gql(Some(&owner), acct, json!({})).await)["createAccount"]["account"]["id"].clone();
    let link =
        "mutation($p: ID!, $a: ID!) { setProjectAccount(input: { projectId: $p, accountId: $a }) { project { id } } }";
    data(&app.gql(Some(&owner), link, json!({ "p": p, "a": a })).await);
    let give = "mutation($i: GiveClientFeedbackInput!) { giveClientFeedback(input: $i) { feedback { id } } }";
    for rating in [5, 4] {
        data(&app.gql(Some(&owner), give, json!({ "i": { "accountId": a, "projectId": p, "rating": rating } })).await);
    }

    let q = "query($m: ID!, $from: Date!, $to: Date!) { node(id: $m) { ... on Membership { performance(from: $from, to: $to, bucket: WEEK) { \
             periodStart periodEnd capacityHours loggedHours billableHours utilisation deliveredTasks onTimeTasks feedbackRating feedbackCount } } } }";
    let vars = |m: &str| json!({ "m": m, "from": monday(today).to_string(), "to": today.to_string() });
    let r = app.gql(Some(&owner), q, vars(&owner_id)).await;
    let p0 = &data(&r)["node"]["performance"][0];
    let weekdays = (0..=today.weekday().num_days_from_monday()).filter(|d| *d < 5).count() as i64;
    assert_eq!(p0["periodStart"].as_str(), Some(monday(today).to_string().as_str()));
    assert_eq!(p0["capacityHours"], json!((weekdays * 8).to_string()));
    assert_eq!((p0["loggedHours"].as_str(), p0["billableHours"].as_str()), (Some("8"), Some("6")));
    assert_eq!((p0["deliveredTasks"].as_i64(), p0["onTimeTasks"].as_i64()), (Some(2), Some(1)));
    assert_eq!((p0["feedbackRating"].as_str(), p0["feedbackCount"].as_i64()), (Some("4.5"), Some(2)));
    // 6 billable hours of 8 per weekday so far this week, in percent to one decimal.
    let expected = ["", "75", "37.5", "25", "18.8", "15"].get(weekdays as usize).copied().unwrap_or("15");
    assert_eq!(p0["utilisation"].as_str(), (weekdays > 0).then_some(expected), "{p0}");
    // Someone who logged nothing: no feedback is theirs.
    let r = app.gql(Some(&owner), q, vars(&member_id)).await;
    let m0 = &data(&r)["node"]["performance"][0];
    assert_eq!(
        (m0["loggedHours"].as_str(), m0["feedbackRating"].clone(), m0["feedbackCount"].as_i64()),
        (Some("0"), Value::Null, Some(0))
    );
    // A member sees their own, not the owner's.
    assert!(data(&app.gql(Some(&member), q, vars(&member_id)).await)["node"]["performance"].is_array());
    assert_eq!(code(&app.gql(Some(&member), q, vars(&owner_id)).await), Some("FORBIDDEN"));
    let bad = json!({ "m": owner_id, "from": today.to_string(), "to": yesterday.to_string() });
    assert_eq!(field(&app.gql(Some(&owner), q, bad).await), Some("to"));
}

#[tokio::test]
async fn kpi_periods_follow_the_organisations_time_zone() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("tz@example.com", "Tz Co").await;
    let upd = "mutation($tz: String!, $v: Int!) { updateOrganization(input: { expectedVersion: $v, timezone: $tz }) { organization { version } } }";
    let mut version = 1;
    // UTC+14 and UTC-12: at any moment at least one of them is on another day than UTC.
    for zone in ["Pacific/Kiritimati", "Etc/GMT+12"] {
        let r = app.gql(Some(&owner), upd, json!({ "tz": zone, "v": version })).await;
        version = data(&r)["updateOrganization"]["organization"]["version"].as_i64().unwrap_or_default();
        let i = json!({ "name": format!("Daily {zone}"), "metric": "work.tasks_completed", "period": "DAY" });
        let id = kpi(&app, &owner, i).await;
        let m = app.gql(Some(&owner), MEASURE, json!({ "i": { "id": id } })).await;
        let local = app
            .pool
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT ((now() AT TIME ZONE $1)::date)::text AS d",
                [zone.into()],
            ))
            .await
            .ok()
            .flatten()
            .and_then(|r| r.try_get::<String>("", "d").ok());
        assert_eq!(data(&m)["measureKpi"]["kpiMeasurement"]["periodStart"].as_str(), local.as_deref(), "{zone}");
        let tomorrow = local
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(|d| d + Days::new(1));
        let r =
            app.gql(Some(&owner), MEASURE, json!({ "i": { "id": id, "on": tomorrow.map(|d| d.to_string()) } })).await;
        assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("on")), "the zone's tomorrow has not begun");
    }
}
