//! graphql-transport-ws as its protocol document specifies: close codes, the init
//! timeout, pings and pongs, operations and their errors.

use crate::helpers::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(app: &TestApp) -> Ws {
    let mut req = app.ws_url().into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    ws
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// The next protocol message, skipping server pings.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] != "ping" {
                return v;
            }
        } else if let Message::Close(c) = frame {
            panic!("closed: {c:?}");
        }
    }
}

/// Reads until the server closes; answers its close code.
async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("closed within 10 s");
        match frame {
            Some(Ok(Message::Close(Some(c)))) => return c.code.into(),
            Some(Ok(Message::Close(None))) | None => return 1005,
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("socket error: {e}"),
        }
    }
}

async fn init(ws: &mut Ws, token: &str) {
    send(
        ws,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert_eq!(next(ws).await["type"], "connection_ack");
}

#[tokio::test]
async fn close_codes_follow_the_protocol() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;

    let mut ws = open(&app).await;
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer nope" } }),
    )
    .await;
    assert_eq!(close_code(&mut ws).await, 4403, "refused init");

    let mut ws = open(&app).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { email } }" } }),
    )
    .await;
    assert_eq!(close_code(&mut ws).await, 4401, "subscribe before init");

    let mut ws = open(&app).await;
    init(&mut ws, &token).await;
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(close_code(&mut ws).await, 4429, "second init");

    let mut ws = open(&app).await;
    init(&mut ws, &token).await;
    let beat = json!({ "id": "a", "type": "subscribe", "payload": { "query": "subscription { heartbeat(seconds: 60) }" } });
    send(&mut ws, beat.clone()).await;
    send(&mut ws, beat).await;
    assert_eq!(close_code(&mut ws).await, 4409, "duplicate id");

    for invalid in [
        json!({ "type": "nonsense" }),
        json!({ "type": "subscribe", "payload": { "query": "{ me { email } }" } }),
        json!({ "id": "1", "type": "subscribe" }),
    ] {
        let mut ws = open(&app).await;
        init(&mut ws, &token).await;
        send(&mut ws, invalid.clone()).await;
        assert_eq!(close_code(&mut ws).await, 4400, "{invalid}");
    }
    let mut ws = open(&app).await;
    ws.send(Message::text("not json")).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 4400, "not JSON");
}

#[tokio::test]
async fn an_idle_socket_is_closed_after_the_init_timeout() {
    let app = TestApp::spawn_with(|s| s.ws_init_timeout_seconds = 1).await;
    let mut ws = open(&app).await;
    let started = std::time::Instant::now();
    assert_eq!(close_code(&mut ws).await, 4408);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn pings_are_answered_and_sent() {
    let app = TestApp::spawn_with(|s| s.ws_keepalive_seconds = 1).await;
    let token = app.admin_token().await;
    let mut ws = open(&app).await;
    init(&mut ws, &token).await;
    send(&mut ws, json!({ "type": "ping", "payload": { "n": 1 } })).await;
    let pong = next(&mut ws).await;
    assert_eq!(pong, json!({ "type": "pong", "payload": { "n": 1 } }));
    // The server's own keep-alive ping.
    let frame = tokio::time::timeout(Duration::from_secs(3), ws.next())
        .await
        .expect("a ping within 3 s")
        .unwrap()
        .unwrap();
    let ping: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
    assert_eq!(ping["type"], "ping");
}

#[tokio::test]
async fn operations_answer_next_then_complete_or_one_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let mut ws = open(&app).await;
    init(&mut ws, &token).await;
    send(
        &mut ws,
        json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ me { email } }" } }),
    )
    .await;
    let result = next(&mut ws).await;
    assert_eq!(result["type"], "next");
    assert_eq!(result["id"], "q");
    assert_eq!(result["payload"]["data"]["me"]["email"], ADMIN_EMAIL);
    assert_eq!(
        next(&mut ws).await,
        json!({ "id": "q", "type": "complete" })
    );

    send(
        &mut ws,
        json!({ "id": "bad", "type": "subscribe", "payload": { "query": "{ me { " } }),
    )
    .await;
    let error = next(&mut ws).await;
    assert_eq!(error["type"], "error");
    assert_eq!(
        error["payload"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );

    send(
        &mut ws,
        json!({ "id": "v", "type": "subscribe", "payload": { "query": "{ nope }" } }),
    )
    .await;
    let error = next(&mut ws).await;
    assert_eq!(error["type"], "error");
    assert_eq!(
        error["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );

    // A client `complete` stops a subscription; the id can be used again afterwards.
    let beat = json!({ "id": "h", "type": "subscribe", "payload": { "query": "subscription { heartbeat(seconds: 1) }" } });
    send(&mut ws, beat.clone()).await;
    assert_eq!(next(&mut ws).await["type"], "next");
    send(&mut ws, json!({ "id": "h", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&mut ws, beat).await;
    let again = next(&mut ws).await;
    assert_eq!(again["id"], "h");
    assert_eq!(again["type"], "next");
}

/// One credential holds a bounded number of open sockets and event streams: past the limit
/// a socket closes `1013` (try again later) and an event stream answers `429 RATE_LIMITED`
/// with `Retry-After`; another credential is unaffected, and a closed socket frees its place.
#[tokio::test]
async fn one_credential_holds_a_bounded_number_of_open_streams() {
    use pricebook_sync::sandbox::faults::FaultKind;
    let app = TestApp::spawn_with(|s| s.max_streams_per_credential = 2).await;
    let admin = app.admin_token().await;
    let viewer = app
        .user_token("default", "viewer@a.test", entity::enums::Role::Viewer)
        .await;
    let conn = app.sandbox_connection(&admin, "slow", json!({})).await;
    // A slow upstream keeps the run (and so its event stream) going.
    app.emulator().faults().push(FaultKind::Latency(1_000), 30);
    let run = app.start_sync(&admin, conn, "FULL").await["run"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = format!("{}/api/sync/runs/{run}/events", app.address);
    let stream = |token: &str| app.client.get(&events).bearer_auth(token).send();

    let first = stream(&viewer).await.unwrap();
    assert_eq!(first.status(), 200);
    let mut socket = open(&app).await;
    init(&mut socket, &viewer).await;

    let refused = stream(&viewer).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMITED", "{body}");
    let mut over = open(&app).await;
    send(
        &mut over,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {viewer}") } }),
    )
    .await;
    assert_eq!(close_code(&mut over).await, 1013);

    // Another credential has places of its own.
    let mut admins = open(&app).await;
    init(&mut admins, &admin).await;

    // Closing the socket gives its place back.
    socket.close(None).await.unwrap();
    let mut freed = false;
    for _ in 0..50 {
        let mut again = open(&app).await;
        send(
            &mut again,
            json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {viewer}") } }),
        )
        .await;
        let frame = tokio::time::timeout(Duration::from_secs(10), again.next())
            .await
            .unwrap();
        if let Some(Ok(Message::Text(t))) = frame {
            assert!(t.as_str().contains("connection_ack"), "{t}");
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "a closed socket's place was never given back");
    drop(first);
}
