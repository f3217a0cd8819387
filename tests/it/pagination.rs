//! Cursor connections: empty lists, first/last, cursors across pages, bad cursors,
//! filters with and/or/not, ordering.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: TeamFilter, $order: [TeamOrder!]) { organization { teams(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $order) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name kind } } } } }";

fn names(r: &Value) -> Vec<String> {
    data(r)["organization"]["teams"]["edges"]
        .as_array()
        .map(|e| e.iter().map(|x| x["node"]["name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn keyset_pages_forward_and_backward() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("p@example.com", "Pages").await;
    let empty = app.gql(Some(&t), PAGE, json!({ "first": 5 })).await;
    assert_eq!(data(&empty)["organization"]["teams"]["totalCount"], 0);
    assert_eq!(
        data(&empty)["organization"]["teams"]["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null })
    );
    for (i, n) in ["Echo", "Alpha", "Delta", "Charlie", "Bravo", "Foxtrot", "Golf"].iter().enumerate() {
        let kind = if i % 2 == 0 { "STUDIO" } else { "CREW" };
        data(
            &app.gql(
                Some(&t),
                "mutation($n: String!, $k: TeamKind!) { createTeam(input: { name: $n, kind: $k }) { team { id } } }",
                json!({ "n": n, "k": kind }),
            )
            .await,
        );
    }
    let p1 = app.gql(Some(&t), PAGE, json!({ "first": 3 })).await;
    assert_eq!(names(&p1), ["Alpha", "Bravo", "Charlie"]);
    let info = &data(&p1)["organization"]["teams"]["pageInfo"];
    assert_eq!(info["hasNextPage"], true);
    assert_eq!(data(&p1)["organization"]["teams"]["totalCount"], 7);
    let p2 = app.gql(Some(&t), PAGE, json!({ "first": 3, "after": info["endCursor"] })).await;
    assert_eq!(names(&p2), ["Delta", "Echo", "Foxtrot"]);
    let p3 = app
        .gql(
            Some(&t),
            PAGE,
            json!({ "first": 3, "after": data(&p2)["organization"]["teams"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(names(&p3), ["Golf"]);
    assert_eq!(data(&p3)["organization"]["teams"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(data(&p3)["organization"]["teams"]["pageInfo"]["hasPreviousPage"], true);
    // Backward from the start of page 3.
    let back = app
        .gql(
            Some(&t),
            PAGE,
            json!({ "last": 2, "before": data(&p3)["organization"]["teams"]["pageInfo"]["startCursor"] }),
        )
        .await;
    assert_eq!(names(&back), ["Echo", "Foxtrot"]);
    assert_eq!(data(&back)["organization"]["teams"]["pageInfo"]["hasPreviousPage"], true);
    let tail = app.gql(Some(&t), PAGE, json!({ "last": 2 })).await;
    assert_eq!(names(&tail), ["Foxtrot", "Golf"]);
    // Descending order, and a cursor from another order is rejected.
    let desc =
        app.gql(Some(&t), PAGE, json!({ "first": 2, "order": [{ "field": "NAME", "direction": "DESC" }] })).await;
    assert_eq!(names(&desc), ["Golf", "Foxtrot"]);
    let mixed = app
        .gql(
            Some(&t),
            PAGE,
            json!({ "first": 2, "after": info["endCursor"], "order": [{ "field": "NAME", "direction": "DESC" }] }),
        )
        .await;
    assert_eq!(code(&mixed), Some("BAD_USER_INPUT"));
    // first = 0 is an empty page that still knows there is more.
    let zero = app.gql(Some(&t), PAGE, json!({ "first": 0 })).await;
    assert_eq!(names(&zero), Vec::<String>::new());
    assert_eq!(data(&zero)["organization"]["teams"]["pageInfo"]["hasNextPage"], true);
    app.finish().await;
}

#[tokio::test]
async fn bad_paging_arguments_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("p@example.com", "Pages").await;
    for (vars, f) in [
        (json!({ "after": "garbage!!" }), "after"),
        (json!({ "before": "WyJ4Il0" }), "before"),
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 1, "last": 1 }), "last"),
    ] {
        let r = app.gql(Some(&t), PAGE, vars.clone()).await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{vars} -> {r}");
        assert_eq!(field(&r), Some(f), "{vars}");
    }
    app.finish().await;
}

#[tokio::test]
async fn filters_combine() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("f@example.com", "Filters").await;
    for (n, k) in [("Data Crew", "CREW"), ("Design Studio", "STUDIO"), ("Ops Crew", "CREW"), ("Sales", "TEAM")] {
        data(
            &app.gql(
                Some(&t),
                "mutation($n: String!, $k: TeamKind!) { createTeam(input: { name: $n, kind: $k }) { team { id } } }",
                json!({ "n": n, "k": k }),
            )
            .await,
        );
    }
    let run = |f: Value| {
        let app = &app;
        let t = t.clone();
        async move { names(&app.gql(Some(&t), PAGE, json!({ "filter": f })).await) }
    };
    assert_eq!(run(json!({ "kind": { "eq": "CREW" } })).await, ["Data Crew", "Ops Crew"]);
    assert_eq!(run(json!({ "name": { "contains": "crew" } })).await, ["Data Crew", "Ops Crew"]);
    assert_eq!(run(json!({ "name": { "startsWith": "d" } })).await, ["Data Crew", "Design Studio"]);
    assert_eq!(
        run(json!({ "or": [{ "kind": { "eq": "TEAM" } }, { "name": { "eq": "Design Studio" } }] })).await,
        ["Design Studio", "Sales"]
    );
    assert_eq!(run(json!({ "not": { "kind": { "in": ["CREW", "STUDIO"] } } })).await, ["Sales"]);
    assert_eq!(
        run(json!({ "and": [{ "kind": { "eq": "CREW" } }, { "name": { "contains": "ops" } }] })).await,
        ["Ops Crew"]
    );
    assert_eq!(run(json!({ "name": { "contains": "%" } })).await, Vec::<String>::new(), "wildcards are escaped");
    assert_eq!(run(json!({ "leadId": { "isNull": true } })).await.len(), 4);
    let bad = app.gql(Some(&t), PAGE, json!({ "filter": { "leadId": { "eq": "bm9wZQ" } } })).await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    let nul = app.gql(Some(&t), PAGE, json!({ "filter": { "name": { "eq": "a\u{0}b" } } })).await;
    assert_eq!(code(&nul), Some("BAD_USER_INPUT"));
    app.finish().await;
}
