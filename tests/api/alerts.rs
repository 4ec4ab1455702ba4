//! Alerts: health changes and conflicts waiting too long reach a webhook receiver (a real
//! HTTP server in the test) as signed JSON, retried after a 500, once each; only admins
//! manage targets, and neither the URL nor the signing secret is ever answered back.

use crate::helpers::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use entity::enums::{Role, RunMode, RunStatus};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A webhook receiver on a free port that answers the statuses it is given, then 200.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(answers: Vec<u16>) -> (Receiver, String) {
        let receiver = Receiver {
            answers: Arc::new(Mutex::new(answers)),
            ..Default::default()
        };
        async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
            r.got.lock().unwrap().push(Received { headers, body });
            let mut answers = r.answers.lock().unwrap();
            let status = if answers.is_empty() {
                200
            } else {
                answers.remove(0)
            };
            StatusCode::from_u16(status).unwrap()
        }
        let app = axum::Router::new()
            .route("/hooks/T0/B0/s3cret-path", axum::routing::post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/hooks/T0/B0/s3cret-path",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (the sender polls every second; a retry waits 5 s).
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{} of {n} deliveries within {within:?}",
            self.received().len()
        );
    }
}

/// Checks `X-Pricebook-Signature: t=…,id=…,sha256=…` over `t.body` with `secret`.
fn verify(r: &Received, secret: &str) -> bool {
    let header = r.headers["x-pricebook-signature"].to_str().unwrap();
    let parts: std::collections::HashMap<&str, &str> = header
        .split(',')
        .filter_map(|p| p.split_once('='))
        .collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.{}", parts["t"], r.body).as_bytes());
    hex::decode(parts["sha256"]).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

const CREATE: &str = "mutation($i:CreateAlertTargetInput!){ createAlertTarget(input:$i){ signingSecret target { id name url events conflictAgeMinutes } } }";

async fn create_target(app: &TestApp, token: &str, input: Value) -> (String, String) {
    let d = app.gql_ok(token, CREATE, json!({ "i": input })).await;
    let created = &d["createAlertTarget"];
    (
        created["target"]["id"].as_str().unwrap().to_owned(),
        created["signingSecret"].as_str().unwrap().to_owned(),
    )
}

async fn deliveries(app: &TestApp, token: &str) -> Vec<Value> {
    let d = app
        .gql_ok(
            token,
            "{ alertDeliveries(first: 50) { edges { node { id event status attempts lastStatusCode lastError body } } } }",
            json!({}),
        )
        .await;
    d["alertDeliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// A connection that stops accepting the server's credentials turns NEEDS_REAUTH: the
/// receiver gets one signed alert saying so, after a 500 is retried, and the log shows it.
#[tokio::test]
async fn a_health_change_delivers_one_signed_alert_retried_after_a_500() {
    use pricebook_sync::sandbox::faults::FaultKind;
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (receiver, url) = Receiver::start(vec![500]).await;
    let (_, secret) = create_target(
        &app,
        &token,
        json!({ "name": "ops", "url": url, "events": ["CONNECTION_HEALTH"] }),
    )
    .await;
    let conn = app.sandbox_connection(&token, "ST main", json!({})).await;
    app.emulator().faults().push(FaultKind::Unauthorized, 50);
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let d = app
        .gql_ok(
            &token,
            "query($c:ID!){ connection(id:$c){ health } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    assert_eq!(d["connection"]["health"], "NEEDS_REAUTH", "{d}");

    // First attempt answered 500, the retry 200: two requests of the same delivery.
    let got = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(got[0].body, got[1].body, "a retry sends the same body");
    for r in &got {
        assert!(verify(r, &secret), "signature verifies: {:?}", r.headers);
        assert_eq!(r.headers["x-pricebook-event"], "connection.health");
        assert_eq!(r.headers["content-type"], "application/json");
    }
    let body: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(body["event"], "connection.health");
    assert_eq!(body["health"]["from"], "ACTIVE");
    assert_eq!(body["health"]["to"], "NEEDS_REAUTH");
    assert_eq!(body["connection"]["id"], conn.to_string());
    assert!(
        body["text"].as_str().unwrap().contains("ST main"),
        "a Slack-compatible text: {body}"
    );
    // A wrong secret does not verify.
    assert!(!verify(&got[1], "whsec_wrong"));

    let log = deliveries(&app, &token).await;
    assert_eq!(log.len(), 1, "one alert: {log:?}");
    assert_eq!(log[0]["status"], "DELIVERED");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["lastStatusCode"], 200);
    // Nothing more arrives for the same change.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 2);
}

/// Open conflicts older than the target's threshold make one alert per crossing, however
/// many passes of the check run; a receiver that refuses for good (404) is not retried.
#[tokio::test]
async fn conflicts_waiting_too_long_alert_once_and_a_gone_receiver_is_not_retried() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (receiver, url) = Receiver::start(vec![]).await;
    let (_, secret) = create_target(
        &app,
        &token,
        json!({ "name": "review", "url": url, "events": ["CONFLICTS_WAITING"], "conflictAgeMinutes": 0 }),
    )
    .await;
    // Items synced from one connection; the upstream changes three prices; a second
    // connection to the same upstream meets them with other values: FIRST_LINK conflicts.
    app.emulator()
        .seed(&pricebook_sync::sandbox::servicetitan::SeedSpec {
            materials: 10,
            equipment: 0,
            services: 0,
            seed: 5,
        });
    let first = app.sandbox_connection(&token, "first", json!({})).await;
    let run = app.run_sync(first, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    for id in app.emulator().ids("materials").into_iter().take(3) {
        app.emulator()
            .set_remote("materials", id, &json!({ "price": 987.65 }))
            .unwrap();
    }
    let second = app.sandbox_connection(&token, "second", json!({})).await;
    let run = app.run_sync(second, RunMode::Full, json!({}), false).await;
    assert_eq!(run.conflicts, 3, "{run:?}");

    let got = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert!(verify(&got[0], &secret));
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["event"], "conflicts.waiting");
    assert_eq!(body["conflicts"]["count"], 3, "{body}");
    assert_eq!(body["conflicts"]["byConnection"][0]["name"], "second");
    // Later passes of the check alert nothing more about the same conflicts.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(receiver.received().len(), 1);

    // A receiver that is gone for good: one attempt, then FAILED.
    let (gone, gone_url) = Receiver::start(vec![404]).await;
    let (gone_id, _) =
        create_target(&app, &token, json!({ "name": "gone", "url": gone_url })).await;
    let d = app
        .gql_ok(
            &token,
            "mutation($id:ID!){ sendTestAlert(id:$id){ id status } }",
            json!({ "id": gone_id }),
        )
        .await;
    assert_eq!(d["sendTestAlert"]["status"], "PENDING");
    gone.wait_for(1, Duration::from_secs(30)).await;
    let mut failed = None;
    for _ in 0..50 {
        let log = deliveries(&app, &token).await;
        if let Some(d) = log
            .iter()
            .find(|d| d["event"] == "test" && d["status"] == "FAILED")
        {
            failed = Some(d.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = failed.expect("the test alert failed for good");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(failed["lastStatusCode"], 404);
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(gone.received().len(), 1, "not retried");
}

/// Only admins manage targets; the URL's path and the signing secret never come back;
/// bad input is refused with a clear code.
#[tokio::test]
async fn targets_are_admin_only_and_never_answer_their_secrets() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (_, url) = Receiver::start(vec![]).await;
    let (id, secret) = create_target(&app, &token, json!({ "name": "ops", "url": url })).await;
    assert!(secret.starts_with("whsec_"));

    let listed = app
        .gql_ok(
            &token,
            "{ alertTargets { id name url events conflictAgeMinutes } }",
            json!({}),
        )
        .await;
    let text = listed.to_string();
    assert!(!text.contains("s3cret-path"), "URL path hidden: {text}");
    assert!(!text.contains(&secret), "secret hidden");
    assert_eq!(
        listed["alertTargets"][0]["events"],
        json!(["CONFLICTS_WAITING", "CONNECTION_HEALTH"])
    );
    assert_eq!(listed["alertTargets"][0]["conflictAgeMinutes"], 1440);
    let audit = app
        .gql_ok(
            &token,
            "{ auditLog(first: 50) { edges { node { details } } } }",
            json!({}),
        )
        .await
        .to_string();
    assert!(
        !audit.contains("s3cret-path") && !audit.contains(&secret),
        "{audit}"
    );

    for role in [Role::Editor, Role::Viewer] {
        let other = app
            .user_token("default", &format!("{role:?}@a.test").to_lowercase(), role)
            .await;
        for query in [
            "{ alertTargets { id } }",
            "{ alertDeliveries { totalCount } }",
        ] {
            let refused = app.gql(Some(&other), query, json!({})).await;
            assert_eq!(error_code(&refused), "FORBIDDEN", "{role:?} {query}");
        }
        let refused = app
            .gql(
                Some(&other),
                CREATE,
                json!({ "i": { "name": "x", "url": url } }),
            )
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
        let refused = app
            .gql(
                Some(&other),
                "mutation($id:ID!){ deleteAlertTarget(id:$id) }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
    }

    for bad in [
        json!({ "name": "x", "url": "ftp://example.com/hook" }),
        json!({ "name": "x", "url": "not a url" }),
        json!({ "name": "", "url": "https://example.com/hook" }),
        json!({ "name": "x", "url": "https://example.com/hook", "conflictAgeMinutes": -1 }),
    ] {
        let refused = app.gql(Some(&token), CREATE, json!({ "i": bad })).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{bad}");
    }

    let d = app
        .gql_ok(
            &token,
            "mutation($id:ID!){ deleteAlertTarget(id:$id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(d["deleteAlertTarget"], true);
    let d = app
        .gql_ok(&token, "{ alertTargets { id } }", json!({}))
        .await;
    assert_eq!(d["alertTargets"], json!([]));
}

/// Plain http:// receivers are refused unless the server allows them.
#[tokio::test]
async fn http_alert_urls_need_the_insecure_setting() {
    let app = TestApp::spawn_with(|s| s.insecure_alert_urls = false).await;
    let token = app.admin_token().await;
    let refused = app
        .gql(
            Some(&token),
            CREATE,
            json!({ "i": { "name": "x", "url": "http://127.0.0.1:9/hook" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");
    assert!(
        refused
            .to_string()
            .contains("PRICEBOOK_INSECURE_ALERT_URLS")
    );
}
