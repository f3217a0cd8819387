//! graphql-transport-ws: authentication in `connection_init`.

use futures_util::{SinkExt, StreamExt};
use opsgraph_e2e::{TestApp, Ws};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn next(ws: &mut Ws) -> Option<Message> {
    tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.ok().flatten().and_then(Result::ok)
}

async fn init(ws: &mut Ws, payload: Value) {
    ws.send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string())).await.expect("send");
}

#[tokio::test]
async fn connection_init_authenticates() {
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("ws@example.com", "Sockets").await;

    let mut ws = app.ws().await;
    init(&mut ws, json!({ "Authorization": format!("Bearer {token}") })).await;
    match next(&mut ws).await {
        Some(Message::Text(t)) => {
            assert_eq!(serde_json::from_str::<Value>(&t).expect("json")["type"], "connection_ack")
        }
        other => panic!("expected connection_ack, got {other:?}"),
    }
    ws.send(Message::text(json!({ "type": "ping" }).to_string())).await.expect("ping");
    match next(&mut ws).await {
        Some(Message::Text(t)) => assert_eq!(serde_json::from_str::<Value>(&t).expect("json")["type"], "pong"),
        other => panic!("expected pong, got {other:?}"),
    }

    // A bad token: the server closes the socket with 4403 and the reason.
    let mut bad = app.ws().await;
    init(&mut bad, json!({ "Authorization": "Bearer nope" })).await;
    match next(&mut bad).await {
        Some(Message::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), 4403);
            assert!(frame.reason.contains("invalid access token"), "{}", frame.reason);
        }
        other => panic!("expected close 4403, got {other:?}"),
    }
    app.finish().await;
}
