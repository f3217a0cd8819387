//! GraphiQL served entirely by this server (no CDN), with a header editor for the bearer
//! token and subscriptions over graphql-transport-ws.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>opsgraph GraphiQL</title>
  <link rel="stylesheet" href="/assets/graphiql.min.css" />
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="/assets/react.production.min.js"></script>
  <script src="/assets/react-dom.production.min.js"></script>
  <script src="/assets/graphql-ws.min.js"></script>
  <script src="/assets/graphiql.min.js"></script>
  <script>
    const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
    const headers = () => { try { return JSON.parse(localStorage.getItem('graphiql:headers') || '{}'); } catch (e) { return {}; } };
    const fetcher = GraphiQL.createFetcher({
      url: '/graphql',
      wsClient: graphqlWs.createClient({ url: wsUrl, lazy: true, connectionParams: () => headers() }),
    });
    // Empty by default: a placeholder token would make every request UNAUTHENTICATED.
    const defaultHeaders = '{}';
    const defaultQuery = `# 1. Run LogIn (demo accounts: see the server's start-up output).
# 2. Put the accessToken into the Headers tab below:
#      {"Authorization": "Bearer <accessToken>"}
# 3. Run Organization, or explore the docs (book icon, top left).
mutation LogIn {
  logIn(input: { email: "owner@acme.example", password: "opsgraph-demo-1" }) {
    accessToken
    refreshToken
  }
}

query Organization {
  organization {
    name
    members(first: 10) { totalCount nodes { role jobTitle user { displayName email } } }
    teams { nodes { name kind members { nodes { membership { user { displayName } } } } } }
  }
}
`;
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher, defaultQuery, defaultHeaders, headerEditorEnabled: true, shouldPersistHeaders: true, isHeadersEditorEnabled: true,
      }),
    );
  </script>
</body>
</html>"#;

/// The GraphiQL page.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

const FAVICON: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='6' fill='#1f4e79'/><circle cx='16' cy='16' r='8' fill='none' stroke='#fff' stroke-width='3'/></svg>";

/// The site icon (browsers and GraphiQL ask for `/favicon.ico`).
pub async fn favicon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], FAVICON)
        .into_response()
}

/// The vendored GraphiQL assets.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, mime): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (include_bytes!("../assets/graphiql.min.js"), "text/javascript"),
        "graphiql.min.css" => (include_bytes!("../assets/graphiql.min.css"), "text/css"),
        "react.production.min.js" => (include_bytes!("../assets/react.production.min.js"), "text/javascript"),
        "react-dom.production.min.js" => (include_bytes!("../assets/react-dom.production.min.js"), "text/javascript"),
        "graphql-ws.min.js" => (include_bytes!("../assets/graphql-ws.min.js"), "text/javascript"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}
