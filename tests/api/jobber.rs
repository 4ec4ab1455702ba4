//! Jobber connector against the Jobber emulator over real HTTP: pulls, pushes, user
//! errors, token refresh with rotation, query-cost throttling, and the OAuth connect flow.

use crate::helpers::*;
use entity::enums::{ItemKind, LinkStatus, Role, RunMode, RunStatus};
use pricebook_sync::auth::jwt::{JwtKeys, OAuthState};
use pricebook_sync::sandbox::jobber::{Emulator, SeedSpec, encode_id};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::str::FromStr;

fn jobber(app: &TestApp) -> &Emulator {
    &app.state
        .sandboxes
        .as_ref()
        .expect("sandbox mounted in tests")
        .jobber
}

fn seed(app: &TestApp, products: usize, services: usize) {
    jobber(app).seed(&SeedSpec {
        products,
        services,
        seed: 7,
    });
}

/// A Jobber sandbox connection holding a token pair the emulator just issued (as if the
/// user had approved access); returns its id and the refresh token stored.
pub async fn connect(app: &TestApp, token: &str, name: &str, extra: Value) -> (i64, String) {
    let mut config = json!({ "sandbox": true, "maxRetries": 3 });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let d = app
        .gql_ok(token, "mutation($n:String!,$c:JSON!){ createConnection(input:{ name:$n, provider: JOBBER, config:$c, startSync: false, pushOnSave: false }) { id } }", json!({ "n": name, "c": config }))
        .await;
    let id = d["createConnection"]["id"].as_str().unwrap().to_owned();
    let pair = jobber(app).issue_tokens().unwrap();
    app.gql_ok(
        token,
        "mutation($id:ID!,$s:JSON!){ updateConnection(id:$id, input:{ secrets:$s }) { id } }",
        json!({ "id": id, "s": { "accessToken": pair.access_token, "refreshToken": pair.refresh_token } }),
    )
    .await;
    (id.parse().unwrap(), pair.refresh_token)
}

fn money(v: &Value) -> Decimal {
    Decimal::from_str(&v.as_f64().unwrap().to_string()).unwrap()
}

async fn set_item(app: &TestApp, token: &str, id: i64, input: Value) {
    app.gql_ok(
        token,
        "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id } }",
        json!({ "id": id.to_string(), "i": input }),
    )
    .await;
}

async fn link_of(app: &TestApp, item_id: i64) -> entity::item_link::Model {
    entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(item_id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn jobber_full_sync_pulls_pushes_and_then_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    seed(&app, 30, 5);
    let emu = jobber(&app);
    let (conn, _) = connect(&app, &token, "jobber", json!({ "pageSize": 10 })).await;

    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!((first.created, first.fetched), (35, 35));
    let product = app.item_by_code(account, "CU-10000").await;
    assert_eq!(product.kind, ItemKind::Product);
    let remote = emu.get_remote(1).unwrap();
    assert_eq!(
        product.cost.unwrap().amount(),
        money(&remote["internalUnitCost"])
    );
    assert_eq!(
        product.price.unwrap().amount(),
        money(&remote["defaultUnitCost"])
    );
    let service = app.item_by_code(account, "SVC-0100 Service call").await;
    assert_eq!(service.kind, ItemKind::Service);

    // Local cost edit is pushed with productsAndServicesEdit; a remote edit is pulled.
    set_item(&app, &token, product.id, json!({ "cost": "12.34" })).await;
    emu.set_remote(2, &json!({ "defaultUnitCost": 99.5 }))
        .unwrap();
    emu.reset_stats();
    let second = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!((second.pushed, second.updated), (1, 1), "{second:?}");
    assert_eq!(emu.get_remote(1).unwrap()["internalUnitCost"], json!(12.34));
    assert_eq!(
        emu.stats().edit.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let pulled = app.item_by_code(account, "PVC-10001").await;
    assert_eq!(pulled.price.unwrap().amount(), Decimal::new(995, 1));
    assert_eq!(
        link_of(&app, product.id).await.sync_status,
        LinkStatus::Synced
    );

    // Nothing changed on either side: zero writes anywhere.
    emu.reset_stats();
    let third = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(third.status, RunStatus::Succeeded);
    assert_eq!(
        (third.created, third.updated, third.pushed, third.deleted),
        (0, 0, 0, 0)
    );
    assert_eq!(emu.stats().writes(), 0);

    // Incremental runs list everything again (Jobber has no modified-since filter).
    let incremental = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(
        incremental.status,
        RunStatus::Succeeded,
        "{:?}",
        incremental.error
    );
    assert_eq!(incremental.fetched, 35);
    let again = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(
        again.fetched, 35,
        "the stored cursor starts the listing over"
    );

    // A remote delete soft-deletes after a complete full listing.
    assert!(emu.delete_remote(3));
    let fourth = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(fourth.deleted, 1);
    assert!(
        app.item_by_code(account, "VLV-10002")
            .await
            .deleted_at
            .is_some()
    );

    // Single-record sync by code (the product name).
    emu.set_remote(4, &json!({ "internalUnitCost": 4.5 }))
        .unwrap();
    let single = app
        .run_sync(
            conn,
            RunMode::Entity,
            json!({ "entityTypes": ["products"], "codes": ["brk-10003 "] }),
            false,
        )
        .await;
    assert_eq!(single.status, RunStatus::Succeeded, "{:?}", single.error);
    assert_eq!(
        app.item_by_code(account, "BRK-10003")
            .await
            .cost
            .unwrap()
            .amount(),
        Decimal::new(45, 1)
    );
    // ... and by Jobber id.
    emu.set_remote(5, &json!({ "defaultUnitCost": 7.25 }))
        .unwrap();
    let by_id = app
        .run_sync(
            conn,
            RunMode::Entity,
            json!({ "entityTypes": ["products"], "remoteIds": [encode_id(5)] }),
            false,
        )
        .await;
    assert_eq!(
        (by_id.status, by_id.updated),
        (RunStatus::Succeeded, 1),
        "{by_id:?}"
    );
    assert_eq!(
        app.item_by_code(account, "WH-10004")
            .await
            .price
            .unwrap()
            .amount(),
        Decimal::new(725, 2)
    );
}

#[tokio::test]
async fn jobber_user_errors_are_recorded_per_item_and_the_run_goes_on() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    seed(&app, 12, 0);
    let emu = jobber(&app);
    let (conn, _) = connect(&app, &token, "jobber", json!({})).await;
    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);

    let refused = app.item_by_code(account, "CU-10000").await;
    let accepted = app.item_by_code(account, "PVC-10001").await;
    // The API refuses names over 255 characters; one can still arrive from elsewhere
    // (another connection's sync), and Jobber refuses it.
    let too_long = "x".repeat(300);
    pricebook_sync::store::items::apply_local_edit(
        &app.state.db,
        account,
        refused.id,
        pricebook_sync::store::items::ItemPatch {
            name: Some(too_long),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    set_item(&app, &token, accepted.id, json!({ "cost": "3.21" })).await;
    let before = emu.get_remote(1).unwrap();

    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!((run.pushed, run.errors), (1, 1), "{run:?}");
    assert_eq!(emu.get_remote(2).unwrap()["internalUnitCost"], json!(3.21));
    assert_eq!(
        emu.get_remote(1).unwrap(),
        before,
        "refused edit changed nothing"
    );
    let link = link_of(&app, refused.id).await;
    assert_eq!(link.sync_status, LinkStatus::Error);
    assert!(
        link.last_error
            .as_deref()
            .unwrap_or("")
            .contains("name: is too long"),
        "{:?}",
        link.last_error
    );
    let events = entity::sync_event::Entity::find()
        .filter(entity::sync_event::Column::RunId.eq(run.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.item_id == Some(refused.id) && e.message.contains("too long")),
        "{events:?}"
    );
}

#[tokio::test]
async fn jobber_expired_token_mid_sync_is_refreshed_once_and_rotation_is_persisted() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 30, 5);
    let emu = jobber(&app);
    let (conn, original_refresh) = connect(&app, &token, "jobber", json!({ "pageSize": 10 })).await;
    emu.reset_stats();
    // The third API call finds every access token expired.
    let queued: Value = app
        .client
        .post(format!("{}/sandbox/jobber/_control/faults", app.address))
        .json(&json!({ "kind": "401", "count": 1, "after": 2 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["queued"], 3);

    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.created, 35);
    let stats = emu.stats().to_json();
    assert_eq!(stats["refreshGrants"], 1, "{stats}");
    // Both entity listings run at once and may both meet the expired token: the refresh is
    // still single-flight.
    assert!(stats["unauthorized"].as_u64().unwrap() >= 1, "{stats}");

    let secrets = stored_secrets(&app, conn).await;
    let rotated = secrets["refreshToken"].as_str().unwrap();
    assert_ne!(rotated, original_refresh);
    assert!(
        emu.refresh_token_valid(rotated),
        "the stored token is the live one"
    );
    assert!(!emu.refresh_token_valid(&original_refresh));
    let old = app
        .client
        .post(format!("{}/sandbox/jobber/api/oauth/token", app.address))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", original_refresh.as_str()),
            (
                "client_id",
                pricebook_sync::connectors::jobber::SANDBOX_CLIENT_ID,
            ),
            (
                "client_secret",
                pricebook_sync::connectors::jobber::SANDBOX_CLIENT_SECRET,
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 400, "the used refresh token is retired");

    // The next run uses the stored (rotated) credentials without refreshing again.
    let next = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(next.status, RunStatus::Succeeded, "{:?}", next.error);
    assert_eq!(emu.stats().to_json()["refreshGrants"], 1);
}

#[tokio::test]
async fn jobber_throttled_queries_wait_for_the_bucket_and_the_run_succeeds() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 60, 0);
    let emu = jobber(&app);
    let (conn, _) = connect(&app, &token, "jobber", json!({ "pageSize": 20 })).await;
    // A small bucket that starts empty: the first query is refused with THROTTLED.
    emu.configure(&json!({ "maximumAvailable": 60, "restoreRate": 200, "currentlyAvailable": 0 }))
        .unwrap();
    emu.reset_stats();
    let started = std::time::Instant::now();
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.created, 60);
    let stats = emu.stats().to_json();
    assert!(stats["throttled"].as_u64().unwrap() >= 1, "{stats}");
    // Later queries wait for the bucket instead of being refused each time.
    assert!(
        stats["throttled"].as_u64().unwrap() < stats["list"].as_u64().unwrap(),
        "{stats}"
    );
    // 8 listing calls of ~22 points each from an empty bucket refilling 200/s.
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
}

#[tokio::test]
async fn jobber_oauth_connect_stores_tokens_and_starts_one_sync() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    seed(&app, 8, 2);
    let d = app
        .gql_ok(&token, "mutation{ createConnection(input:{ name:\"jb\", provider: JOBBER, config:{ sandbox: true } }) { id } }", json!({}))
        .await;
    let conn: i64 = d["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        runs_of(&app, &token, conn).await.is_empty(),
        "no sync before consent"
    );

    let viewer = app
        .user_token("default", "viewer@a.test", Role::Viewer)
        .await;
    let refused = app
        .gql(
            Some(&viewer),
            "mutation($c:ID!){ startOAuth(connectionId:$c) { authorizeUrl } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");

    let d = app
        .gql_ok(
            &token,
            "mutation($c:ID!){ startOAuth(connectionId:$c) { authorizeUrl expiresAt } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    let authorize = d["startOAuth"]["authorizeUrl"].as_str().unwrap().to_owned();
    assert!(authorize.starts_with(&format!(
        "{}/sandbox/jobber/api/oauth/authorize?",
        app.address
    )));
    let client = no_redirects();
    let consent = client.get(&authorize).send().await.unwrap();
    assert_eq!(consent.status(), 302);
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&format!("{}/oauth/jobber/callback?code=", app.address)));

    let done = client.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()["location"].to_str().unwrap(),
        format!("/#/connections/{conn}?connected=1")
    );
    let secrets = stored_secrets(&app, conn).await;
    assert!(
        secrets["accessToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(jobber(&app).refresh_token_valid(secrets["refreshToken"].as_str().unwrap()));
    assert!(secrets.get("oauthNonce").is_none(), "nonce consumed");

    let runs = runs_of(&app, &token, conn).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["trigger"], "CONNECT");
    let finished = app
        .wait_for_run(&token, runs[0]["id"].as_str().unwrap())
        .await;
    assert_eq!(finished["status"], "SUCCEEDED", "{finished}");
    assert_eq!(
        app.item_by_code(account, "CU-10000").await.kind,
        ItemKind::Product
    );

    // Replaying the callback is refused and starts nothing.
    let replay = client.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 400);
    assert!(replay.text().await.unwrap().contains("already used"));
    assert_eq!(runs_of(&app, &token, conn).await.len(), 1);
    let after_replay = stored_secrets(&app, conn).await;
    assert_eq!(after_replay["refreshToken"], secrets["refreshToken"]);

    // Forged, foreign-key and expired states are refused; nothing is stored.
    let state_of = |url: &str| {
        reqwest::Url::parse(url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned()
    };
    let user_id = app.state.jwt.verify(&token).unwrap().user_id;
    let d = app
        .gql_ok(
            &token,
            "mutation($c:ID!){ startOAuth(connectionId:$c) { authorizeUrl } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    let live_state = state_of(d["startOAuth"]["authorizeUrl"].as_str().unwrap());
    let nonce = app.state.jwt.verify_oauth_state(&live_state).unwrap().nonce;
    let mut forged = live_state.clone();
    forged.push('x');
    let other_key = JwtKeys::new(b"some-other-secret-that-is-long-enough", 10)
        .sign_oauth_state(&OAuthState::new(
            account,
            user_id,
            conn,
            "jobber",
            nonce.clone(),
        ))
        .unwrap();
    let expired = app
        .state
        .jwt
        .sign_oauth_state(
            &OAuthState::new(account, user_id, conn, "jobber", nonce.clone())
                .expiring_at(chrono::Utc::now() - chrono::Duration::seconds(30)),
        )
        .unwrap();
    for (state, why) in [
        (forged, "invalid"),
        (other_key, "invalid"),
        (expired, "expired"),
        (live_state.clone(), "another provider"),
    ] {
        let path = if why == "another provider" {
            "amazon"
        } else {
            "jobber"
        };
        let r = client
            .get(format!("{}/oauth/{path}/callback", app.address))
            .query(&[("code", "jbc_whatever"), ("state", state.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{why}");
        assert!(r.text().await.unwrap().contains(why), "{why}");
    }
    assert_eq!(
        stored_secrets(&app, conn).await["refreshToken"],
        secrets["refreshToken"]
    );
    assert_eq!(jobber(&app).stats().to_json()["codeGrants"], 1);
    assert_eq!(runs_of(&app, &token, conn).await.len(), 1);
}

#[tokio::test]
async fn jobber_request_budget_429_is_waited_out_and_the_version_header_is_required() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 10, 2);
    let emu = jobber(&app);
    let (conn, _) = connect(&app, &token, "jobber", json!({})).await;

    // The emulator refuses a request without X-JOBBER-GRAPHQL-VERSION, as Jobber does.
    let pair = emu.issue_tokens().unwrap();
    let bare = app
        .client
        .post(format!("{}/sandbox/jobber/api/graphql", app.address))
        .bearer_auth(&pair.access_token)
        .json(&json!({ "query": pricebook_sync::connectors::jobber::wire::products_query(), "variables": { "first": 5 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 400);
    assert!(
        bare.text()
            .await
            .unwrap()
            .contains("X-JOBBER-GRAPHQL-VERSION")
    );

    // Two requests per second: a full sync (estimate + two listings) meets a 429 with
    // Retry-After and waits it out.
    emu.configure(&json!({ "requestBudget": 2, "requestWindowSeconds": 1 }))
        .unwrap();
    emu.reset_stats();
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.created, 12);
    let stats = emu.stats().to_json();
    assert!(stats["rateLimited"].as_u64().unwrap() >= 1, "{stats}");
}

#[tokio::test]
async fn jobber_sends_the_configured_api_version_and_an_unsupported_one_is_a_clear_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 3, 1);
    let emu = jobber(&app);

    // No setting: the current version goes on every call.
    let (current, _) = connect(&app, &token, "jobber-current", json!({})).await;
    let run = app.run_sync(current, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        emu.versions_seen(),
        vec![pricebook_sync::connectors::jobber::wire::DEFAULT_API_VERSION.to_owned()]
    );

    // A configured version is what is sent.
    let (pinned, _) = connect(
        &app,
        &token,
        "jobber-pinned",
        json!({ "apiVersion": "2025-04-16" }),
    )
    .await;
    let run = app.run_sync(pinned, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert!(emu.versions_seen().contains(&"2025-04-16".to_owned()));

    // A retired version: the run stops with a stable code naming the setting, not a
    // record error per item or a generic upstream failure.
    let (old, _) = connect(
        &app,
        &token,
        "jobber-old",
        json!({ "apiVersion": "2025-01-20" }),
    )
    .await;
    let run = app.run_sync(old, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("UPSTREAM_API_VERSION"));
    let message = run.error.unwrap();
    assert!(
        message.contains("2025-01-20") && message.contains("apiVersion"),
        "{message}"
    );

    // Not a version at all: refused when stored.
    let bad = app
        .gql(Some(&token), "mutation($c:JSON!){ createConnection(input:{ name:\"j\", provider: JOBBER, config:$c, startSync: false }) { id } }", json!({ "c": { "sandbox": true, "apiVersion": "latest" } }))
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
}
