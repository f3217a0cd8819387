//! Health, readiness, GraphiQL served locally.

use opsgraph_e2e::TestApp;

#[tokio::test]
async fn health_readiness_and_graphiql() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
    assert_eq!(app.get("/readyz").await, (200, "ready".to_owned()));
    let (status, _, page) =
        app.request(reqwest::Method::GET, "/graphql", &[("accept", "text/html,application/xhtml+xml")], None).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("/assets/graphiql.min.js") && !page.contains("unpkg") && !page.contains("cdn"),
        "self-hosted GraphiQL"
    );
    assert!(page.contains("headerEditorEnabled"));
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphql-ws.min.js",
    ] {
        let (status, body) = app.get(&format!("/assets/{asset}")).await;
        assert_eq!(status, 200, "{asset}");
        assert!(body.len() > 1000, "{asset}");
    }
    assert_eq!(app.get("/assets/../../etc/passwd").await.0, 404);
    app.finish().await;
}

/// GraphiQL's own introspection query (graphql-js `getIntrospectionQuery`) must pass the
/// default limits, or the docs explorer stays empty.
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } } fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }";

#[tokio::test]
async fn graphiql_introspection_passes_default_limits() {
    let app = TestApp::spawn_with(|c| *c = opsgraph_server::config::Config::for_database(&c.database_url)).await;
    let r = app.gql(None, INTROSPECTION, serde_json::json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["__schema"]["queryType"]["name"], "Query");
    app.finish().await;
}
