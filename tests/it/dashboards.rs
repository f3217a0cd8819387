//! Dashboards through the endpoint: widgets in a dense order however they are added, moved
//! or removed (also when added at once), each viewer seeing their own view of shared saved
//! queries, and every widget write an event about the widget.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

use crate::reporting::{RESTRICTED, channel_names, kpi, restricted_org, save};

const DASH: &str = "mutation($i: CreateDashboardInput!) { createDashboard(input: $i) { dashboard { id version } } }";
const ADD: &str = "mutation($i: AddDashboardWidgetInput!) { addDashboardWidget(input: $i) { dashboardWidget { id position version } } }";
const WIDGETS: &str = "query($id: ID!) { node(id: $id) { ... on Dashboard { widgets { title kind position layout result kpi { name } } } } }";

#[tokio::test]
async fn dashboards_order_widgets_and_show_each_viewer_their_own_view() {
    let app = TestApp::spawn().await;
    let (owner, member) = restricted_org(&app, "dash").await;
    let shared_q = save(&app, &owner, "Restricted", RESTRICTED, true).await;
    let private_q = save(&app, &owner, "Private", "{ organization { name } }", false).await;
    let k = kpi(&app, &owner, json!({ "name": "Members", "metric": "org.active_members" })).await;
    let r = app.gql(Some(&owner), DASH, json!({ "i": { "name": "Ops", "shared": true } })).await;
    let dash = data(&r)["createDashboard"]["dashboard"]["id"].as_str().unwrap_or_default().to_owned();

    let add = |i: Value| {
        let mut base = json!({ "dashboardId": dash });
        if let (Some(b), Some(extra)) = (base.as_object_mut(), i.as_object()) {
            b.extend(extra.clone());
        }
        base
    };
    data(
        &app.gql(Some(&owner), ADD, json!({ "i": add(json!({ "kind": "KPI", "title": "Members", "kpiId": k })) }))
            .await,
    );
    let list = json!({ "kind": "LIST", "title": "Restricted", "savedQueryId": shared_q, "layout": { "x": 0, "y": 4, "w": 12, "h": 6 } });
    data(&app.gql(Some(&owner), ADD, json!({ "i": add(list) })).await);
    let chart = json!({ "kind": "CHART", "title": "First", "savedQueryId": shared_q, "position": 0,
                        "chart": { "rowsPath": "organization.channels.nodes", "labelPath": "name", "valuePath": "name" } });
    data(&app.gql(Some(&owner), ADD, json!({ "i": add(chart) })).await);

    // Refused: a private query on a shared dashboard, a layout off the grid, a chart without its spec.
    let r = app
        .gql(Some(&owner), ADD, json!({ "i": add(json!({ "kind": "LIST", "title": "P", "savedQueryId": private_q })) }))
        .await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("savedQueryId")));
    let off = json!({ "kind": "KPI", "title": "Off", "kpiId": k, "layout": { "x": 10, "y": 0, "w": 4, "h": 2 } });
    assert_eq!(field(&app.gql(Some(&owner), ADD, json!({ "i": add(off) })).await), Some("layout"));
    let nochart = json!({ "kind": "CHART", "title": "C", "savedQueryId": shared_q });
    assert_eq!(field(&app.gql(Some(&owner), ADD, json!({ "i": add(nochart) })).await), Some("chart"));

    // In order; each viewer gets the widget's query run as themself.
    let mine = app.gql(Some(&owner), WIDGETS, json!({ "id": dash })).await;
    let w = data(&mine)["node"]["widgets"].as_array().cloned().unwrap_or_default();
    let titles: Vec<(&str, i64)> =
        w.iter().map(|w| (w["title"].as_str().unwrap_or(""), w["position"].as_i64().unwrap_or(-1))).collect();
    assert_eq!(titles, vec![("First", 0), ("Members", 1), ("Restricted", 2)]);
    assert_eq!((w[1]["result"].clone(), w[1]["kpi"]["name"].clone()), (Value::Null, json!("Members")));
    assert_eq!(w[2]["layout"], json!({ "x": 0, "y": 4, "w": 12, "h": 6 }));
    assert_eq!(channel_names(&w[2]["result"]), vec!["board-room", "lobby"]);
    let theirs = app.gql(Some(&member), WIDGETS, json!({ "id": dash })).await;
    let tw = data(&theirs)["node"]["widgets"].as_array().cloned().unwrap_or_default();
    assert_eq!(channel_names(&tw[2]["result"]), vec!["lobby"]);
    assert_eq!(tw[2]["result"]["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // The chart and the list run their one saved query once.
    let list_only = "query($id: ID!) { node(id: $id) { ... on Dashboard { widgets { result } } } }";
    let all = app.gql(Some(&owner), list_only, json!({ "id": dash })).await;
    let r = app
        .gql(Some(&owner), "query($id: ID!) { node(id: $id) { ... on SavedQuery { run } } }", json!({ "id": shared_q }))
        .await;
    // The dashboard, its widgets and the saved query's row instead of the saved query's row;
    // then the query's own statements once, not twice.
    let n = |v: &Value| v["extensions"]["sqlStatements"].as_i64().unwrap_or_default();
    assert_eq!(n(&all), n(&r) + 2, "{all} {r}");

    // A member's dashboard is theirs; they cannot change the owner's.
    let r = app.gql(Some(&member), DASH, json!({ "i": { "name": "Mine" } })).await;
    let their_dash = data(&r)["createDashboard"]["dashboard"]["id"].clone();
    let r = app.gql(Some(&owner), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": their_dash })).await;
    assert_eq!((code(&r), &r["data"]["node"]), (Some("NOT_FOUND"), &Value::Null));
    let r = app.gql(Some(&member), ADD, json!({ "i": add(json!({ "kind": "KPI", "title": "X", "kpiId": k })) })).await;
    assert_eq!(code(&r), Some("FORBIDDEN"));

    // Moving and removing keep the positions dense.
    let first = &w[0];
    let moved = app.gql(Some(&owner), "mutation($i: UpdateDashboardWidgetInput!) { updateDashboardWidget(input: $i) { dashboardWidget { position } } }",
        json!({ "i": { "id": first_id(&app, &owner, &dash).await, "expectedVersion": 1, "position": 9 } })).await;
    assert_eq!(data(&moved)["updateDashboardWidget"]["dashboardWidget"]["position"], 2, "{first}");
    let r = app.gql(Some(&owner), "mutation($id: ID!) { removeDashboardWidget(input: { id: $id }) { dashboard { widgets { title position } } } }",
        json!({ "id": first_id(&app, &owner, &dash).await })).await;
    assert_eq!(
        data(&r)["removeDashboardWidget"]["dashboard"]["widgets"],
        json!([{ "title": "Restricted", "position": 0 }, { "title": "First", "position": 1 }])
    );
    // Each widget write is also an event about the widget itself (the change feed evicts it).
    let events = "SELECT count(*) AS n FROM domain_events WHERE kind = ";
    assert_eq!(app.count(&format!("{events}'dashboard_widget.created'")).await, 3);
    assert_eq!(app.count(&format!("{events}'dashboard_widget.updated'")).await, 1);
    assert_eq!(app.count(&format!("{events}'dashboard_widget.deleted'")).await, 1);

    // Widgets added at once still get distinct places (the dashboard is locked per change).
    let adds = (0..6).map(|i| {
        let i = add(json!({ "kind": "KPI", "title": format!("K{i}"), "kpiId": k }));
        let owner = owner.clone();
        let app = &app;
        async move { app.gql(Some(&owner), ADD, json!({ "i": i })).await }
    });
    for r in futures_util::future::join_all(adds).await {
        data(&r);
    }
    let r = app.gql(Some(&owner), WIDGETS, json!({ "id": dash })).await;
    let mut positions: Vec<i64> =
        data(&r)["node"]["widgets"].as_array().into_iter().flatten().filter_map(|w| w["position"].as_i64()).collect();
    positions.sort_unstable();
    assert_eq!(positions, (0..8).collect::<Vec<i64>>());
}

async fn first_id(app: &TestApp, token: &str, dash: &str) -> Value {
    let r = app
        .gql(
            Some(token),
            "query($id: ID!) { node(id: $id) { ... on Dashboard { widgets { id } } } }",
            json!({ "id": dash }),
        )
        .await;
    data(&r)["node"]["widgets"][0]["id"].clone()
}
