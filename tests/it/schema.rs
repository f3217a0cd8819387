//! The published contract: `schema.graphql` equals the schema the code builds, and one
//! generated query touches every field of every object type reachable from the roots.

use std::collections::{BTreeSet, HashMap};

use opsgraph_e2e::{TestApp, data};
use serde_json::{Value, json};

#[test]
fn schema_graphql_is_current() {
    let built = opsgraph_schema::sdl().expect("schema builds");
    let committed = include_str!("../../schema.graphql");
    assert!(built == committed, "schema.graphql is stale: run `cargo run -p opsgraph-server -- export-schema`");
}

const INTROSPECT: &str = "{ __schema { types { name kind fields { name args { name type { kind name ofType { kind name ofType { kind name } } } } type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

fn named(t: &Value) -> (String, String) {
    let mut t = t;
    while t["name"].is_null() && !t["ofType"].is_null() {
        t = &t["ofType"];
    }
    (t["name"].as_str().unwrap_or_default().to_owned(), t["kind"].as_str().unwrap_or_default().to_owned())
}

/// Values for required arguments: (name, type, value).
const SAMPLE_ARGS: [(&str, &str, &str); 6] = [
    ("query", "String", "\"vacation\""),
    ("from", "Int", "1"),
    ("to", "Int", "1"),
    ("from", "Date", "\"2026-01-01\""),
    ("to", "Date", "\"2026-12-31\""),
    ("groupBy", "UsageGrouping", "DAY"),
];

fn selection(types: &HashMap<String, Value>, ty: &str, seen: &mut BTreeSet<String>) -> String {
    seen.insert(ty.to_owned());
    let mut out = vec!["__typename".to_owned()];
    for f in types[ty]["fields"].as_array().cloned().unwrap_or_default() {
        // Required arguments get a sample value when one is known, else the field is skipped.
        let mut args = vec![];
        let mut known = true;
        for a in f["args"].as_array().cloned().unwrap_or_default().iter().filter(|x| x["type"]["kind"] == "NON_NULL") {
            let (ty, _) = named(&a["type"]);
            match SAMPLE_ARGS.iter().find(|(n, t, _)| a["name"] == *n && ty == *t) {
                Some((n, _, v)) => args.push(format!("{n}: {v}")),
                None => known = false,
            }
        }
        if !known {
            continue;
        }
        let field = f["name"].as_str().unwrap_or_default().to_owned();
        let name = if args.is_empty() { field } else { format!("{field}({})", args.join(", ")) };
        let (target, kind) = named(&f["type"]);
        match kind.as_str() {
            "OBJECT" | "INTERFACE" if !seen.contains(&target) => {
                out.push(format!("{name} {{ {} }}", selection(types, &target, seen)))
            }
            "OBJECT" | "INTERFACE" => out.push(format!("{name} {{ __typename }}")),
            _ => out.push(name),
        }
    }
    out.join(" ")
}

#[tokio::test]
async fn one_query_touches_every_field() {
    let app = TestApp::spawn_with(|c| {
        c.max_depth = 64;
        c.max_complexity = 1_000_000;
    })
    .await;
    opsgraph_server::seed::demo(&app.pool, &opsgraph_server::config::Config::for_database("postgres://x/y"))
        .await
        .expect("seed");
    let token = app.log_in_as("owner@acme.example", opsgraph_server::seed::DEMO_PASSWORD).await;
    let intro = app.gql(Some(&token), INTROSPECT, json!({})).await;
    let types: HashMap<String, Value> = data(&intro)["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t.clone()))
        .collect();
    let mut seen = BTreeSet::new();
    let query = format!("{{ {} }}", selection(&types, "Query", &mut seen));
    let r = app.gql(Some(&token), &query, json!({})).await;
    data(&r);
    // The demo's finance: a year of invoices, some paid, some open and overdue, a draft.
    let fin = "{ organization { invoices { aggregate { count } groupBy(field: STATUS) { key count } } } }";
    let r = app.gql(Some(&token), fin, json!({})).await;
    let groups: Vec<String> = data(&r)["organization"]["invoices"]["groupBy"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["key"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(groups, ["DRAFT", "SENT", "PARTIALLY_PAID", "PAID"], "{r}");
    // The demo's ai: a change waiting for the owner's approval, a workflow for won deals.
    let ai = "{ organization { pendingActions { nodes { status tool diff } } workflows { nodes { triggerEvent status } } } }";
    let r = data(&app.gql(Some(&token), ai, json!({})).await)["organization"].clone();
    assert_eq!(r["pendingActions"]["nodes"][0]["status"], "PENDING", "{r}");
    assert_eq!(r["pendingActions"]["nodes"][0]["diff"]["title"]["to"], "Renew the VPN certificate");
    assert_eq!(r["workflows"]["nodes"], json!([{ "triggerEvent": "deal.won", "status": "ACTIVE" }]));
    // The demo's reporting: a shared dashboard of KPIs (six periods measured) with a chart
    // and a list over a saved query, and a report template that generates.
    let rep = "{ organization { dashboards { nodes { name widgets { kind result } } } \
               kpis { nodes { measurements { totalCount } } } reportTemplates { nodes { id name } } } }";
    let r = data(&app.gql(Some(&token), rep, json!({})).await)["organization"].clone();
    let widgets = r["dashboards"]["nodes"][0]["widgets"].as_array().cloned().unwrap_or_default();
    assert_eq!(r["dashboards"]["nodes"][0]["name"], "Operations");
    let kinds: Vec<&str> = widgets.iter().filter_map(|w| w["kind"].as_str()).collect();
    assert_eq!(kinds, ["KPI", "KPI", "KPI", "KPI", "KPI", "CHART", "LIST"]);
    assert!(
        widgets[6]["result"]["data"]["organization"]["projects"]["nodes"].as_array().is_some_and(|n| !n.is_empty())
    );
    let counts: Vec<Value> =
        r["kpis"]["nodes"].as_array().into_iter().flatten().map(|k| k["measurements"]["totalCount"].clone()).collect();
    assert_eq!(counts, vec![json!(6); 5], "{r}");
    let generate =
        "mutation($t: ID!) { generateReport(input: { templateId: $t, format: PDF }) { generatedReport { rowCount } } }";
    let g = app.gql(Some(&token), generate, json!({ "t": r["reportTemplates"]["nodes"][0]["id"] })).await;
    assert!(data(&g)["generateReport"]["generatedReport"]["rowCount"].as_i64().is_some_and(|n| n > 0), "{g}");
    // The demo's client portal login reads its account's project and client-visible tasks.
    let client = app.log_in_as(opsgraph_crm::seed::PORTAL_LOGINS[0], opsgraph_server::seed::DEMO_PASSWORD).await;
    let portal = "{ viewer { clientAccount { name projects { nodes { key tasks { totalCount } } } } } }";
    let r = app.gql(Some(&client), portal, json!({})).await;
    assert_eq!(
        data(&r)["viewer"]["clientAccount"],
        json!({ "name": "Acme Corporation", "projects": { "nodes": [{ "key": "ACME", "tasks": { "totalCount": 5 } }] } })
    );
    let objects: BTreeSet<String> = types
        .values()
        .filter(|t| t["kind"] == "OBJECT")
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        // Subscription payloads (`…Event`) are exercised by the live tests.
        .filter(|n| !n.starts_with("__") && n != "Mutation" && n != "Subscription" && !n.ends_with("Payload"))
        .filter(|n| !n.ends_with("Event"))
        // The items of bulk upsert payloads are exercised by the sync tests.
        .filter(|n| !n.ends_with("UpsertResult") && n != "UpsertError")
        .collect();
    let missed: Vec<_> = objects.difference(&seen).collect();
    assert!(missed.is_empty(), "object types no query reaches: {missed:?}");
    // The mutation payloads are exercised by the mutation tests; check they exist.
    assert!(types.contains_key("MembershipPayload") && types.contains_key("AuthPayload"));
    app.finish().await;
}

#[tokio::test]
async fn every_type_field_and_argument_is_described() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(None, "{ __schema { types { name description fields { name description args { name description } } inputFields { name description } enumValues { name description } } } }", json!({}))
        .await;
    let mut missing = vec![];
    let described = |v: &Value| v["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    for t in data(&r)["__schema"]["types"].as_array().cloned().unwrap_or_default() {
        let name = t["name"].as_str().unwrap_or_default().to_owned();
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name.as_str()) {
            continue;
        }
        if !described(&t) {
            missing.push(name.clone());
        }
        for f in t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(t["inputFields"].as_array().into_iter().flatten())
            .chain(t["enumValues"].as_array().into_iter().flatten())
        {
            if !described(f) {
                missing.push(format!("{name}.{}", f["name"].as_str().unwrap_or_default()));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(a) {
                    missing.push(format!(
                        "{name}.{}({})",
                        f["name"].as_str().unwrap_or_default(),
                        a["name"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
    app.finish().await;
}
