//! Health, readiness, GraphiQL served locally.

use opsgraph_e2e::TestApp;

#[tokio::test]
async fn health_readiness_and_graphiql() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
    assert_eq!(app.get("/readyz").await, (200, "ready".to_owned()));
    let (status, page) = app.get("/graphql").await;
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
