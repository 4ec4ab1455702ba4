use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::enums::Role;
use pricebook_sync::auth::Caller;
use serde_json::json;

#[tokio::test]
async fn login_good_and_bad() {
    let app = TestApp::spawn().await;
    let ok = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(ok["data"]["login"]["user"]["email"], ADMIN_EMAIL);
    assert_eq!(ok["data"]["login"]["user"]["role"], "ADMIN");
    let token = token_of(&ok);
    let me = app.gql_ok(&token, "{ me { email role } }", json!({})).await;
    assert_eq!(me["me"]["email"], ADMIN_EMAIL);

    let bad = app.login(ADMIN_EMAIL, "wrong-password").await;
    assert_eq!(error_code(&bad), "UNAUTHENTICATED");
    assert!(bad["data"].is_null());
    let unknown = app.login("nobody@a.test", "whatever-pass").await;
    assert_eq!(error_code(&unknown), "UNAUTHENTICATED");
    assert_eq!(
        bad["errors"][0]["message"], unknown["errors"][0]["message"],
        "no user enumeration"
    );
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    let app = TestApp::spawn().await;
    // Successful sign-ins are not counted: a dashboard may sign in often.
    for _ in 0..15 {
        app.admin_token().await;
    }
    let mut codes = Vec::new();
    for _ in 0..12 {
        let r = app.login(ADMIN_EMAIL, "wrong-password").await;
        codes.push(error_code(&r));
    }
    assert_eq!(codes.iter().filter(|c| *c == "UNAUTHENTICATED").count(), 10);
    assert_eq!(codes.last().map(String::as_str), Some("RATE_LIMITED"));
    // Even the right password is refused while throttled.
    assert_eq!(
        error_code(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await),
        "RATE_LIMITED"
    );
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let caller = app.state.jwt.verify(&token).unwrap();

    let expired = app
        .state
        .jwt
        .issue_with_expiry(&caller, chrono::Utc::now() - chrono::Duration::minutes(10))
        .unwrap();
    let r = app.gql(Some(&expired), "{ me { email } }", json!({})).await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // Tampered: claim another role without re-signing.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["acct"] = json!(999);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_eq!(
        error_code(
            &app.gql(Some(&tampered), "{ me { email } }", json!({}))
                .await
        ),
        "UNAUTHENTICATED"
    );

    // alg: none with no signature.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{header}.{}.", parts[1]);
    assert_eq!(
        error_code(&app.gql(Some(&none), "{ me { email } }", json!({})).await),
        "UNAUTHENTICATED"
    );

    // Signed with another secret.
    let other =
        pricebook_sync::auth::jwt::JwtKeys::new(b"some-other-secret-of-enough-length!!", 60);
    let forged = other
        .issue(&Caller {
            role: Role::Admin,
            ..caller.clone()
        })
        .unwrap();
    assert_eq!(
        error_code(&app.gql(Some(&forged), "{ me { email } }", json!({})).await),
        "UNAUTHENTICATED"
    );

    // No token at all.
    assert_eq!(
        error_code(&app.gql(None, "{ items { totalCount } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    // Garbage scheme.
    let r: serde_json::Value = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
}

#[tokio::test]
async fn viewers_cannot_mutate() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let account = app.account_id_of(&admin).await;
    let ids = seed_items(&app, account, 3).await;
    let viewer = app
        .user_token("default", "viewer@a.test", Role::Viewer)
        .await;

    let r = app
        .gql(
            Some(&viewer),
            "mutation($id:ID!){ updateItem(id:$id, input:{ name: \"x\" }) { id } }",
            json!({ "id": ids[0].to_string() }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = app.gql(Some(&viewer), r#"mutation{ createConnection(input:{ name:"c", provider: JOBBER, config:{sandbox:true} }) { id } }"#, json!({})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = app.gql(Some(&viewer), r#"mutation{ createUser(email:"x@a.test", password:"password-1", role: ADMIN) { id } }"#, json!({})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    // Viewers read fine.
    let data = app
        .gql_ok(&viewer, "{ items { totalCount } }", json!({}))
        .await;
    assert_eq!(data["items"]["totalCount"], 3);

    // Editors edit items but do not manage connections.
    let editor = app
        .user_token("default", "editor@a.test", Role::Editor)
        .await;
    app.gql_ok(
        &editor,
        "mutation($id:ID!){ updateItem(id:$id, input:{ name: \"Renamed\" }) { name } }",
        json!({ "id": ids[0].to_string() }),
    )
    .await;
    let r = app.gql(Some(&editor), r#"mutation{ createConnection(input:{ name:"c", provider: JOBBER, config:{sandbox:true} }) { id } }"#, json!({})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}

#[tokio::test]
async fn websocket_requires_a_valid_token_in_connection_init() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;

    let connect = || async {
        let mut req = app.ws_url().into_client_request().unwrap();
        req.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        tokio_tungstenite::connect_async(req)
            .await
            .expect("ws connect")
            .0
    };

    let mut ws = connect().await;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer nope" } })
            .to_string(),
    ))
    .await
    .unwrap();
    let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("answer");
    match msg {
        // A refused graphql-transport-ws init closes with 4403 and the reason.
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 4403);
            assert!(frame.reason.contains("session token"), "{}", frame.reason);
        }
        other => panic!("expected close 4403, got {other:?}"),
    }

    let mut ws = connect().await;
    ws.send(Message::text(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }).to_string())).await.unwrap();
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"));
    ws.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { heartbeat(seconds: 1) }" } }).to_string())).await.unwrap();
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .expect("heartbeat")
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(next.to_text().unwrap()).unwrap();
    assert_eq!(v["type"], "next");
    assert!(v["payload"]["data"]["heartbeat"].is_string());
}
