//! Vendor price feeds: a `file://` feed and one on a local HTTP server apply as
//! vendor-price imports with per-line errors; an unchanged feed (304, or the same file)
//! writes nothing; credentials stay encrypted; schedules queue a run once per tick.

use super::status::{Synced, synced};
use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use entity::enums::{Role, RunMode, RunStatus, RunTrigger};
use entity::{audit_log, sync_run, vendor_feed, vendor_price};
use pricebook_sync::store;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const FEED_FIELDS: &str = "id connectionId vendor url mapping schedule enabled lastCheckedAt \
    lastCheck lastError headerNames nextRunAt lastRun { id status mode summary \
    counters { fetched updated skipped errors } }";

const MAPPING: &str = r#"{"sku": "Part", "price": "Net Price", "vendorSku": "Vendor SKU"}"#;

impl Synced {
    async fn create_feed(&self, url: &str, headers: Value) -> Value {
        let d = self
            .app
            .gql_ok(
                &self.token,
                &format!("mutation($i:CreateVendorFeedInput!){{ createVendorFeed(input:$i) {{ {FEED_FIELDS} }} }}"),
                json!({ "i": { "connectionId": self.conn.to_string(), "vendor": "CED", "url": url,
                               "headers": headers, "mapping": serde_json::from_str::<Value>(MAPPING).unwrap() } }),
            )
            .await;
        d["createVendorFeed"].clone()
    }

    /// Checks the feed now and waits for the run; the feed as it is afterwards.
    async fn check_feed(&self, id: &Value) -> Value {
        let d = self
            .app
            .gql_ok(
                &self.token,
                "mutation($id:ID!){ startVendorFeed(id:$id) { alreadyRunning run { id mode } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(d["startVendorFeed"]["alreadyRunning"], false);
        assert_eq!(d["startVendorFeed"]["run"]["mode"], "VENDOR_FEED");
        let run = d["startVendorFeed"]["run"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.app.wait_for_run(&self.token, &run).await;
        self.feed(id).await
    }

    async fn feed(&self, id: &Value) -> Value {
        let d = self
            .app
            .gql_ok(
                &self.token,
                &format!("{{ vendorFeeds(first: 50) {{ totalCount edges {{ node {{ {FEED_FIELDS} }} }} }} }}"),
                json!({}),
            )
            .await;
        d["vendorFeeds"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .find(|n| &n["id"] == id)
            .unwrap()
    }

    /// Every vendor price row, for before/after comparisons.
    async fn prices(&self) -> Vec<vendor_price::Model> {
        vendor_price::Entity::find()
            .order_by_asc(vendor_price::Column::Id)
            .all(&self.app.state.db)
            .await
            .unwrap()
    }

    async fn count_runs(&self, mode: RunMode) -> u64 {
        sync_run::Entity::find()
            .filter(sync_run::Column::Mode.eq(mode))
            .count(&self.app.state.db)
            .await
            .unwrap()
    }

    async fn count_audit(&self, action: &str) -> u64 {
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .count(&self.app.state.db)
            .await
            .unwrap()
    }
}

fn price_list(net: &str) -> String {
    format!(
        "Part,Net Price,Vendor SKU\nMAT-000001,{net},C-1\nMAT-000002,\"$1,234.00\",C-2\nMAT-000003,twelve,C-3\nNOPE-1,1.00,C-9\n"
    )
}

fn price_of(prices: &[vendor_price::Model], vendor_sku: &str) -> String {
    prices
        .iter()
        .find(|p| p.vendor_sku == vendor_sku)
        .map(|p| p.price.display_amount().normalize().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_file_feed_applies_and_an_unchanged_file_writes_nothing() {
    let s = synced(5, 0, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ced.csv");
    std::fs::write(&path, price_list("12.50")).unwrap();
    let url = format!("file://{}", path.display());
    let feed = s.create_feed(&url, Value::Null).await;
    assert_eq!(feed["schedule"], "0 3 * * *", "daily at 03:00 by default");
    assert_eq!(feed["lastCheck"], Value::Null);

    let checked = s.check_feed(&feed["id"]).await;
    assert_eq!(checked["lastCheck"], "APPLIED", "{checked}");
    let run = &checked["lastRun"];
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["counters"]["updated"], 2);
    assert_eq!(run["counters"]["errors"], 1, "the 'twelve' row");
    let prices = s.prices().await;
    assert_eq!(prices.len(), 2);
    assert!(prices.iter().all(|p| p.vendor == "CED"));
    assert_eq!(price_of(&prices, "C-1"), "12.5");
    assert_eq!(price_of(&prices, "C-2"), "1234");
    // The import it made carries the per-line error.
    let import_run = run["summary"]["feed"]["importRunId"].as_str().unwrap();
    let d = s
        .app
        .gql_ok(
            &s.token,
            "query($id:ID!){ syncRun(id:$id) { mode events { edges { node { kind details } } } } }",
            json!({ "id": import_run }),
        )
        .await;
    assert_eq!(d["syncRun"]["mode"], "CSV_IMPORT");
    let events = d["syncRun"]["events"]["edges"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["node"]["details"]["line"], 4);

    // The same file again: nothing is written but the feed run saying so.
    let (imports, audits) = (
        s.count_runs(RunMode::CsvImport).await,
        s.count_audit("csv.import").await,
    );
    let again = s.check_feed(&feed["id"]).await;
    assert_eq!(again["lastCheck"], "NOT_MODIFIED");
    assert_eq!(again["lastRun"]["summary"]["feed"]["notModified"], true);
    assert_eq!(s.prices().await, prices);
    assert_eq!(s.count_runs(RunMode::CsvImport).await, imports);
    assert_eq!(s.count_audit("csv.import").await, audits);

    // A changed file applies again.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    std::fs::write(&path, price_list("13.75")).unwrap();
    let changed = s.check_feed(&feed["id"]).await;
    assert_eq!(changed["lastCheck"], "APPLIED");
    assert_eq!(changed["lastRun"]["counters"]["updated"], 1);
    assert_eq!(price_of(&s.prices().await, "C-1"), "13.75");

    // A file that is gone fails the run and says why.
    std::fs::remove_file(&path).unwrap();
    let gone = s.check_feed(&feed["id"]).await;
    assert_eq!(gone["lastCheck"], "FAILED");
    assert_eq!(gone["lastRun"]["status"], "FAILED");
    assert!(gone["lastError"].as_str().unwrap().contains("ced.csv"));
}

/// A vendor's server: answers with an ETag, 304 to a matching If-None-Match, and only
/// to the right token and key.
#[derive(Default)]
struct Vendor {
    body: String,
    etag: String,
    fail: bool,
    /// (If-None-Match sent, status answered) per request.
    seen: Vec<(Option<String>, u16)>,
}

async fn vendor_server(vendor: Arc<Mutex<Vendor>>) -> String {
    use axum::extract::{Query, State};
    use std::collections::HashMap;
    async fn serve(
        State(v): State<Arc<Mutex<Vendor>>>,
        Query(q): Query<HashMap<String, String>>,
        headers: HeaderMap,
    ) -> axum::response::Response {
        let mut v = v.lock().unwrap();
        let sent = headers
            .get("if-none-match")
            .map(|h| h.to_str().unwrap().to_owned());
        let authorised = q.get("token").map(String::as_str) == Some("s3cret-token")
            && headers.get("x-api-key").and_then(|h| h.to_str().ok()) == Some("key-123");
        let (status, response) = if !authorised {
            (401, StatusCode::UNAUTHORIZED.into_response())
        } else if v.fail {
            (500, StatusCode::INTERNAL_SERVER_ERROR.into_response())
        } else if sent.as_deref() == Some(v.etag.as_str()) {
            (304, StatusCode::NOT_MODIFIED.into_response())
        } else {
            (
                200,
                ([("etag", v.etag.clone())], v.body.clone()).into_response(),
            )
        };
        v.seen.push((sent, status));
        response
    }
    let app = axum::Router::new()
        .route("/prices.csv", axum::routing::get(serve))
        .with_state(vendor);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_http_feed_downloads_conditionally_with_encrypted_credentials() {
    let s = synced(5, 0, 0).await;
    let vendor = Arc::new(Mutex::new(Vendor {
        body: price_list("12.50"),
        etag: "\"v1\"".into(),
        ..Default::default()
    }));
    let base = vendor_server(vendor.clone()).await;
    let feed = s
        .create_feed(
            &format!("{base}/prices.csv?token=s3cret-token"),
            json!({ "X-Api-Key": "key-123" }),
        )
        .await;
    // Credentials are never shown and never stored in clear.
    assert_eq!(feed["url"], format!("{base}/prices.csv?token=***"));
    assert_eq!(feed["headerNames"], json!(["X-Api-Key"]));
    let row = vendor_feed::Entity::find()
        .one(&s.app.state.db)
        .await
        .unwrap()
        .unwrap();
    let stored = format!("{row:?}");
    assert!(!stored.contains("s3cret-token") && !stored.contains("key-123"));

    let first = s.check_feed(&feed["id"]).await;
    assert_eq!(first["lastCheck"], "APPLIED", "{first}");
    assert_eq!(first["lastRun"]["counters"]["updated"], 2);
    let prices = s.prices().await;
    assert_eq!(price_of(&prices, "C-2"), "1234");

    // Unchanged upstream: a conditional GET answered 304 writes nothing.
    let (imports, audits) = (
        s.count_runs(RunMode::CsvImport).await,
        s.count_audit("csv.import").await,
    );
    let second = s.check_feed(&feed["id"]).await;
    assert_eq!(second["lastCheck"], "NOT_MODIFIED");
    assert_eq!(
        vendor.lock().unwrap().seen.last().unwrap(),
        &(Some("\"v1\"".to_owned()), 304)
    );
    assert_eq!(s.prices().await, prices);
    assert_eq!(s.count_runs(RunMode::CsvImport).await, imports);
    assert_eq!(s.count_audit("csv.import").await, audits);

    // A new version upstream applies.
    {
        let mut v = vendor.lock().unwrap();
        v.body = price_list("9.99");
        v.etag = "\"v2\"".into();
    }
    let third = s.check_feed(&feed["id"]).await;
    assert_eq!(third["lastCheck"], "APPLIED");
    assert_eq!(price_of(&s.prices().await, "C-1"), "9.99");

    // A server error fails the run without leaking the token.
    vendor.lock().unwrap().fail = true;
    let failed = s.check_feed(&feed["id"]).await;
    assert_eq!(failed["lastCheck"], "FAILED");
    let error = failed["lastError"].as_str().unwrap();
    assert!(
        error.contains("500") && !error.contains("s3cret"),
        "{error}"
    );
    vendor.lock().unwrap().fail = false;

    // A new URL forgets the old validators: the next check downloads again.
    s.app
        .gql_ok(
            &s.token,
            "mutation($id:ID!,$u:String!){ updateVendorFeed(id:$id, input:{ url:$u }) { id } }",
            json!({ "id": feed["id"], "u": format!("{base}/prices.csv?token=s3cret-token&v=2") }),
        )
        .await;
    let refetched = s.check_feed(&feed["id"]).await;
    assert_eq!(refetched["lastCheck"], "APPLIED");
    assert_eq!(
        vendor.lock().unwrap().seen.last().unwrap(),
        &(None, 200),
        "the headers were kept and no validator was sent"
    );
}

#[tokio::test]
async fn feeds_run_on_their_schedule_once_per_tick() {
    let s = synced(3, 0, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ced.csv");
    std::fs::write(&path, price_list("1.00")).unwrap();
    let feed = s
        .create_feed(&format!("file://{}", path.display()), Value::Null)
        .await;
    let jobs = &s.app.state.jobs;
    let now = chrono::Utc::now();
    assert!(jobs.feed_tick(now).await.unwrap().is_empty(), "not due yet");
    let next: chrono::DateTime<chrono::Utc> = feed["nextRunAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(next.format("%H:%M").to_string(), "03:00");

    // The connection is busy at 03:00: the tick waits for it instead of being lost.
    let busy = store::runs::create(
        &s.app.state.db,
        store::runs::NewRun {
            account_id: s.account,
            connection_id: s.conn,
            mode: RunMode::Full,
            trigger: RunTrigger::Cli,
            dry_run: false,
            params: json!({}),
            requested_by: None,
            status: RunStatus::Running,
        },
    )
    .await
    .unwrap();
    let due = next + chrono::Duration::seconds(30);
    assert!(jobs.feed_tick(due).await.unwrap().is_empty());
    store::runs::finish(
        &s.app.state.db,
        busy.id,
        store::runs::Finish {
            status: RunStatus::Succeeded,
            stage: "finished",
            counters: Default::default(),
            summary: json!({}),
            error: None,
        },
    )
    .await
    .unwrap();
    let later = due + chrono::Duration::seconds(15);
    let queued = jobs.feed_tick(later).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(
        jobs.feed_tick(later + chrono::Duration::seconds(15))
            .await
            .unwrap()
            .is_empty(),
        "one run per tick"
    );
    let run = s.app.wait_for_run(&s.token, &queued[0].to_string()).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["trigger"], "SCHEDULE");
    assert_eq!(s.prices().await.len(), 2);

    // Disabled feeds are left alone.
    s.app
        .gql_ok(
            &s.token,
            "mutation($id:ID!){ updateVendorFeed(id:$id, input:{ enabled: false }) { enabled } }",
            json!({ "id": feed["id"] }),
        )
        .await;
    assert!(
        jobs.feed_tick(later + chrono::Duration::days(2))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn feeds_are_admin_managed_and_account_scoped() {
    let s = synced(1, 0, 0).await;
    let feed = s
        .create_feed("file:///nonexistent/ced.csv", Value::Null)
        .await;
    let editor = s
        .app
        .user_token("default", "editor@a.test", Role::Editor)
        .await;
    let create = "mutation($c:ID!){ createVendorFeed(input:{ connectionId:$c, vendor:\"X\", url:\"https://x.test/p.csv\" }) { id } }";
    let refused = s
        .app
        .gql(Some(&editor), create, json!({ "c": s.conn.to_string() }))
        .await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let other = s.app.user_token("other", "admin@b.test", Role::Admin).await;
    let d = s
        .app
        .gql_ok(&other, "{ vendorFeeds { totalCount } }", json!({}))
        .await;
    assert_eq!(d["vendorFeeds"]["totalCount"], 0);
    let hidden = s
        .app
        .gql(
            Some(&other),
            "mutation($id:ID!){ startVendorFeed(id:$id) { run { id } } }",
            json!({ "id": feed["id"] }),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");
    let bad = s
        .app
        .gql(
            Some(&s.token),
            "mutation($c:ID!){ createVendorFeed(input:{ connectionId:$c, vendor:\"X\", url:\"https://x.test/p.csv\", schedule:\"every day\" }) { id } }",
            json!({ "c": s.conn.to_string() }),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    let sync_mode = s
        .app
        .gql(
            Some(&s.token),
            "mutation($c:ID!){ startSync(connectionId:$c, mode: VENDOR_FEED) { run { id } } }",
            json!({ "c": s.conn.to_string() }),
        )
        .await;
    assert_eq!(error_code(&sync_mode), "BAD_USER_INPUT");
    let deleted = s
        .app
        .gql_ok(
            &s.token,
            "mutation($id:ID!){ deleteVendorFeed(id:$id) }",
            json!({ "id": feed["id"] }),
        )
        .await;
    assert_eq!(deleted["deleteVendorFeed"], true);
}
