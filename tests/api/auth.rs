use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::enums::Role;
use pricebook_sync::auth::Caller;
use serde_json::json;
use std::time::Duration;

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

const CREATE_KEY: &str = "mutation($n:String!,$r:Role!){ createApiKey(name:$n, role:$r) { key apiKey { id name role prefix lastUsedAt revokedAt } } }";

async fn create_key(app: &TestApp, admin: &str, name: &str, role: &str) -> (String, String) {
    let d = app
        .gql_ok(admin, CREATE_KEY, json!({ "n": name, "r": role }))
        .await;
    let key = d["createApiKey"]["key"].as_str().unwrap().to_owned();
    let id = d["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(key.starts_with(d["createApiKey"]["apiKey"]["prefix"].as_str().unwrap()));
    (key, id)
}

#[tokio::test]
async fn api_keys_work_like_users_until_revoked() {
    use pricebook_sync::sandbox::servicetitan::SeedSpec;
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let account = app.account_id_of(&admin).await;
    let item = seed_items(&app, account, 2).await[0].to_string();
    let (reader, reader_id) = create_key(&app, &admin, "Retool dashboard", "VIEWER").await;
    let (writer, _) = create_key(&app, &admin, "price script", "EDITOR").await;
    assert!(reader.starts_with("pbk_") && reader.len() > 40);

    // Shown once, stored hashed: neither the list nor the database holds the key.
    let list = app
        .gql_ok(
            &admin,
            "{ apiKeys { id name role prefix lastUsedAt revokedAt } }",
            json!({}),
        )
        .await;
    assert_eq!(list["apiKeys"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&reader[12..]));
    for k in pricebook_sync::store::api_keys::list(&app.state.db, account)
        .await
        .unwrap()
    {
        assert!(!k.key_hash.contains(&reader[4..]) && !k.key_hash.contains(&writer[4..]));
        assert_eq!(k.key_hash.len(), 64);
    }

    // HTTP: a viewer key reads, an editor key edits, with their roles.
    let d = app
        .gql_ok(&reader, "{ items { totalCount } }", json!({}))
        .await;
    assert_eq!(d["items"]["totalCount"], 2);
    let edit = "mutation($id:ID!){ updateItem(id:$id, input:{ name: \"By key\" }) { name } }";
    let r = app.gql(Some(&reader), edit, json!({ "id": item })).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    app.gql_ok(&writer, edit, json!({ "id": item })).await;
    // Last use is recorded.
    let list = app
        .gql_ok(&admin, "{ apiKeys { name lastUsedAt } }", json!({}))
        .await;
    assert!(
        list["apiKeys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["lastUsedAt"].is_string()),
        "{list}"
    );
    // The audit log names the key as the actor.
    let d = app
        .gql_ok(
            &admin,
            "{ auditLog(action: \"item.update\") { edges { node { actor userId details } } } }",
            json!({}),
        )
        .await;
    let entry = &d["auditLog"]["edges"][0]["node"];
    assert_eq!(entry["actor"], "api-key:price script", "{d}");
    assert!(entry["userId"].is_null());
    let d = app
        .gql_ok(
            &admin,
            "{ auditLog(action: \"api_key.create\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(d["auditLog"]["totalCount"], 2);

    // WebSocket: the key in connection_init.
    let mut sub = app
        .subscribe(&reader, "subscription { heartbeat(seconds: 1) }", json!({}))
        .await;
    let msg = sub.next(Duration::from_secs(5)).await.expect("a heartbeat");
    assert_eq!(msg["type"], "next", "{msg}");

    // SSE: the key as a bearer token.
    let spec: SeedSpec =
        serde_json::from_value(json!({ "materials": 5, "equipment": 0, "services": 0 })).unwrap();
    app.emulator().seed(&spec);
    let conn = app.sandbox_connection(&admin, "st", json!({})).await;
    let run = app.start_sync(&admin, conn, "FULL").await;
    let run_id = run["run"]["id"].as_str().unwrap();
    let sse_status = |key: String| {
        let url = format!("{}/api/sync/runs/{run_id}/events", app.address);
        let req = app.client.get(url).bearer_auth(key);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(sse_status(reader.clone()).await, 200);

    // A key cannot manage credentials, even an admin key.
    let (root, _) = create_key(&app, &admin, "automation", "ADMIN").await;
    for q in [
        r#"mutation { createApiKey(name: "more", role: ADMIN) { key } }"#,
        r#"mutation { createUser(email: "x@a.test", password: "Quiet-Tractor-Lantern-42", role: ADMIN) { id } }"#,
        "{ apiKeys { id } }",
        "{ me { email } }",
    ] {
        assert_eq!(
            error_code(&app.gql(Some(&root), q, json!({})).await),
            "FORBIDDEN",
            "{q}"
        );
    }
    // Viewers and other accounts cannot create or revoke keys.
    let viewer = app
        .user_token("default", "viewer@a.test", Role::Viewer)
        .await;
    let r = app
        .gql(Some(&viewer), CREATE_KEY, json!({ "n": "x", "r": "ADMIN" }))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let other = app.user_token("tenant-b", "b@b.test", Role::Admin).await;
    let revoke = "mutation($id:ID!){ revokeApiKey(id:$id) { revokedAt } }";
    let r = app
        .gql(Some(&other), revoke, json!({ "id": reader_id }))
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND");
    let d = app.gql_ok(&other, "{ apiKeys { id } }", json!({})).await;
    assert_eq!(d["apiKeys"], json!([]));

    // Revoked: refused at once, on every transport.
    let d = app.gql_ok(&admin, revoke, json!({ "id": reader_id })).await;
    assert!(d["revokeApiKey"]["revokedAt"].is_string());
    let r = app
        .gql(Some(&reader), "{ items { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    assert_eq!(sse_status(reader.clone()).await, 401);
    // The open subscription ends with an error.
    assert!(
        sub.ends_with_error("UNAUTHENTICATED").await,
        "the subscription outlived its key"
    );
    // Malformed and unknown keys are refused alike.
    for bad in ["pbk_short", &format!("pbk_{}", "A".repeat(43))] {
        let r = app
            .gql(Some(bad), "{ items { totalCount } }", json!({}))
            .await;
        assert_eq!(error_code(&r), "UNAUTHENTICATED", "{bad}");
    }
}

#[tokio::test]
async fn cross_site_shaped_posts_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let url = format!("{}/graphql", app.address);
    let body = json!({ "query": "mutation { signOutEverywhere }" }).to_string();
    // text/plain, no content type, form-encoded, multipart: all simple requests a page of
    // another origin may send without asking. The first three are not GraphQL media types
    // at all (415); a multipart POST is one, so it needs the preflight header.
    for (content_type, status, code) in [
        (Some("text/plain"), 415, "BAD_REQUEST"),
        (None, 415, "BAD_REQUEST"),
        (
            Some("application/x-www-form-urlencoded"),
            415,
            "BAD_REQUEST",
        ),
        (
            Some("multipart/form-data; boundary=x"),
            400,
            "CSRF_PREVENTED",
        ),
    ] {
        let mut req = app.client.post(&url).bearer_auth(&token).body(body.clone());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), status, "{content_type:?}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&v), code, "{content_type:?}: {v}");
    }
    // The token still works: nothing ran.
    app.gql_ok(&token, "{ me { email } }", json!({})).await;
    // With a preflight header a simple content type is accepted (then parsed as usual).
    for header in ["x-pricebook-csrf", "apollo-require-preflight"] {
        let r = app
            .client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .header(header, "1")
            .body(json!({ "query": "{ me { email } }" }).to_string())
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        assert_ne!(
            v["errors"][0]["extensions"]["code"], "CSRF_PREVENTED",
            "{header}: {v}"
        );
    }
}

#[tokio::test]
async fn new_users_need_strong_passwords_and_learn_nothing_of_other_tenants() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let create =
        "mutation($e:String!,$p:String!){ createUser(email:$e, password:$p, role: VIEWER) { id } }";
    for weak in [
        "aaaaaaaa",
        "        ",
        "aaaaaaaaaaaaaaaa",
        "password1234",
        "short-pass",
    ] {
        let r = app
            .gql(
                Some(&admin),
                create,
                json!({ "e": "new@a.test", "p": weak }),
            )
            .await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{weak:?}");
    }
    app.gql_ok(
        &admin,
        create,
        json!({ "e": "new@a.test", "p": "Quiet-Tractor-Lantern-42" }),
    )
    .await;

    // An email used in another tenant is refused exactly like one used in this tenant.
    let other = app
        .user_token("tenant-b", "b-admin@b.test", Role::Admin)
        .await;
    let elsewhere = app
        .gql(
            Some(&other),
            create,
            json!({ "e": ADMIN_EMAIL, "p": "Quiet-Tractor-Lantern-42" }),
        )
        .await;
    let here = app
        .gql(
            Some(&other),
            create,
            json!({ "e": "b-admin@b.test", "p": "Quiet-Tractor-Lantern-42" }),
        )
        .await;
    assert_eq!(error_code(&elsewhere), "BAD_USER_INPUT");
    let msg = |v: &serde_json::Value, email: &str| {
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .replace(email, "E")
    };
    assert_eq!(msg(&elsewhere, ADMIN_EMAIL), msg(&here, "b-admin@b.test"));
    assert!(!elsewhere.to_string().contains("exists"), "{elsewhere}");
}

#[test]
fn user_add_needs_create_account_for_a_new_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pricebook-sync"))
            .args(["user", "add"])
            .args(args)
            .env("PRICEBOOK_DATA_DIR", dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("PRICEBOOK_NEW_USER_PASSWORD")
            .output()
            .unwrap()
    };
    let strong = "Quiet-Tractor-Lantern-42";
    let out = run(&[
        "--email",
        "a@x.test",
        "--password",
        strong,
        "--account",
        "defualt",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--create-account") && err.contains("defualt"),
        "{err}"
    );
    let out = run(&[
        "--email",
        "a@x.test",
        "--password",
        strong,
        "--account",
        "acme",
        "--create-account",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Now it exists: no flag needed. A weak password is refused.
    let out = run(&[
        "--email",
        "b@x.test",
        "--password",
        "aaaaaaaa",
        "--account",
        "acme",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    let out = run(&[
        "--email",
        "b@x.test",
        "--password",
        strong,
        "--account",
        "acme",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
