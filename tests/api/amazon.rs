//! Amazon SP-API: the connector against the emulator over loopback — inventory into
//! products, financial events into `financial_events`, faults, throttling, expiring
//! pagination tokens, the LWA connect flow, and the dashboard queries.

use crate::helpers::*;
use entity::enums::{LinkStatus, Role, RunMode, RunStatus};
use pricebook_sync::connectors::amazon::auth;
use pricebook_sync::connectors::amazon::wire;
use pricebook_sync::sandbox::amazon::{Emulator, SeedSpec};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::str::FromStr;
use std::sync::atomic::Ordering;

fn amazon(app: &TestApp) -> &Emulator {
    &app.state
        .sandboxes
        .as_ref()
        .expect("sandbox mounted in tests")
        .amazon
}

fn small() -> SeedSpec {
    serde_json::from_value(json!({ "skus": 120, "months": 2, "ordersPerSkuPerMonth": 1 })).unwrap()
}

/// An Amazon sandbox connection (generated credentials) through GraphQL.
async fn connection(app: &TestApp, token: &str, extra: Value) -> i64 {
    let mut config = json!({ "sandbox": true, "maxRetries": 4, "financesLookbackDays": 70 });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let d = app
        .gql_ok(token, "mutation($c:JSON!){ createConnection(input:{ name:\"amz\", provider: AMAZON, config:$c, startSync: false }) { id provider } }", json!({ "c": config }))
        .await;
    assert_eq!(d["createConnection"]["provider"], "AMAZON");
    d["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn finance_rows(app: &TestApp, connection_id: i64) -> u64 {
    entity::financial_event::Entity::find()
        .filter(entity::financial_event::Column::ConnectionId.eq(connection_id))
        .count(&app.state.db)
        .await
        .unwrap()
}

fn fin(run: &entity::sync_run::Model, key: &str) -> u64 {
    run.summary["finances"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no finances.{key} in {}", run.summary))
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("not a decimal: {v}"))).unwrap()
}

/// Full run through the job system, then full and incremental runs: products with
/// quantities, financial lines, nothing written twice, nothing pushed, remote changes,
/// new events and deletions picked up.
#[tokio::test]
async fn full_and_incremental_runs_are_idempotent_and_pull_only() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let emu = amazon(&app);
    emu.seed(&small());
    let conn = connection(&app, &token, json!({})).await;

    // The async path: startSync returns at once, the worker runs the stages.
    let started = app.start_sync(&token, conn, "FULL").await;
    let run_id = started["run"]["id"].as_str().unwrap().to_owned();
    let done = app.wait_for_run(&token, &run_id).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["counters"]["created"], 120);
    assert_eq!(
        emu.stats().throttled.load(Ordering::Relaxed),
        0,
        "the connector stays under Amazon's usage plans"
    );

    let first = entity::sync_run::Entity::find_by_id(run_id.parse::<i64>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let lines = fin(&first, "lines");
    assert!(lines > 300, "{}", first.summary);
    assert_eq!(fin(&first, "created"), lines);
    assert_eq!(finance_rows(&app, conn).await, lines);
    assert_eq!(fin(&first, "errors"), 0);

    // Products: SKU as code, name (ASIN when Amazon has no title), quantities.
    let named = app.item_by_code(account, "AMZ-000001").await;
    let remote = emu.get_remote("AMZ-000001").unwrap();
    assert_eq!(named.kind, entity::enums::ItemKind::Product);
    assert_eq!(named.name, "Sandbox product 1");
    assert_eq!(named.quantity, remote.total_quantity);
    assert_eq!(
        named.attributes["fulfillable_quantity"],
        json!(remote.inventory_details.unwrap().fulfillable_quantity)
    );
    let untitled = app.item_by_code(account, "AMZ-000025").await;
    assert_eq!(
        Some(untitled.name.clone()),
        emu.get_remote("AMZ-000025").unwrap().asin
    );

    // Idempotent: a second full run changes nothing, writes no line.
    let second = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!(
        (
            second.created,
            second.updated,
            second.deleted,
            second.pushed
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        (
            fin(&second, "created"),
            fin(&second, "updated"),
            fin(&second, "unchanged")
        ),
        (0, 0, lines)
    );
    assert_eq!(finance_rows(&app, conn).await, lines);

    // Pull only: a local edit stays local, is never queued for a push.
    app.gql_ok(
        &token,
        "mutation($id:ID!){ updateItem(id:$id, input:{ price: \"19.99\" }) { id } }",
        json!({ "id": named.id.to_string() }),
    )
    .await;
    // Remote changes since the last listing; one new shipment three hours ago.
    // Through the control API, as a demo or another client would.
    let r = app
        .client
        .patch(format!(
            "{}/sandbox/amazon/_control/inventory/AMZ-000002",
            app.address
        ))
        .json(&json!({ "totalQuantity": 999 }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let held: Value = app
        .client
        .get(format!(
            "{}/sandbox/amazon/_control/inventory/AMZ-000002",
            app.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(held["totalQuantity"], 999);
    let posted = chrono::Utc::now() - chrono::Duration::hours(3);
    emu.add_events(
        serde_json::from_value(json!({ "ShipmentEventList": [{
            "AmazonOrderId": "112-NEW", "PostedDate": posted.to_rfc3339(),
            "ShipmentItemList": [{ "SellerSKU": "AMZ-000002", "OrderItemId": "NEW-1", "QuantityShipped": 1,
                "ItemChargeList": [{ "ChargeType": "Principal", "ChargeAmount": { "CurrencyCode": "USD", "CurrencyAmount": 10.1 } }],
                "ItemFeeList": [{ "FeeType": "Commission", "FeeAmount": { "CurrencyCode": "USD", "CurrencyAmount": -1.52 } }] }] }] }))
        .unwrap(),
        posted,
    );
    emu.reset_stats();
    let inc = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(inc.status, RunStatus::Succeeded, "{:?}", inc.error);
    assert_eq!(
        (inc.fetched, inc.updated, inc.pushed),
        (1, 1, 0),
        "only the changed SKU is listed: {inc:?}"
    );
    assert_eq!(
        (fin(&inc, "created"), fin(&inc, "updated")),
        (2, 0),
        "the overlap is re-read without duplicates: {}",
        inc.summary
    );
    assert_eq!(finance_rows(&app, conn).await, lines + 2);
    assert_eq!(
        app.item_by_code(account, "AMZ-000002").await.quantity,
        Some(999)
    );

    // The new sale reaches the dashboard summary, exactly.
    let d = app
        .gql_ok(&token, "query($c:ID!,$s:String!){ amazonFinanceSummary(connectionId:$c, sku:$s, groupBy: DAY) { sku period kind currency amount lines } }", json!({ "c": conn.to_string(), "s": "AMZ-000002" }))
        .await;
    let today = posted.format("%Y-%m-%d").to_string();
    let rows = d["amazonFinanceSummary"].as_array().unwrap();
    let sale = rows
        .iter()
        .find(|r| r["period"] == today.as_str() && r["kind"] == "SALE")
        .unwrap_or_else(|| panic!("no sale on {today}: {rows:?}"));
    assert_eq!(dec(&sale["amount"]), Decimal::new(1010, 2));

    // A remote delete soft-deletes on the next full run.
    assert!(emu.delete_remote("AMZ-000003"));
    let third = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(third.status, RunStatus::Succeeded, "{:?}", third.error);
    assert_eq!(
        (third.deleted, third.created, third.updated, third.pushed),
        (1, 0, 0, 0)
    );
    assert!(
        app.item_by_code(account, "AMZ-000003")
            .await
            .deleted_at
            .is_some()
    );
    // Pull only: the local edit survived a full listing and was never queued to push.
    let edited = app.item_by_code(account, "AMZ-000001").await;
    assert_eq!(edited.price.unwrap().to_string(), "19.9900");
    let link = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(edited.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.sync_status, LinkStatus::Synced, "never pending a push");
}

/// Throttling, 5xx, a dead access token (403), a dropped connection, latency and an
/// expired pagination token in one run; a summary without SKU and an event without
/// currency are recorded per record and the rest goes on.
#[tokio::test]
async fn faults_are_survived_and_bad_records_are_recorded() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let emu = amazon(&app);
    emu.seed(&small());
    emu.put_summary(wire::InventorySummary {
        asin: Some("B0NOSKU".into()),
        total_quantity: Some(3),
        ..Default::default()
    });
    let posted = chrono::Utc::now() - chrono::Duration::days(2);
    emu.add_events(
        serde_json::from_value(json!({ "ShipmentEventList": [{
            "AmazonOrderId": "112-BAD", "PostedDate": posted.to_rfc3339(),
            "ShipmentItemList": [{ "SellerSKU": "AMZ-000004", "OrderItemId": "BAD-1",
                "ItemChargeList": [{ "ChargeType": "Principal", "ChargeAmount": { "CurrencyAmount": 5 } }] }] }] }))
        .unwrap(),
        posted,
    );
    let conn = connection(&app, &token, json!({ "maxRetries": 6 })).await;
    for kind in ["429", "500", "403", "drop", "latency"] {
        let r = app
            .client
            .post(format!("{}/sandbox/amazon/_control/faults", app.address))
            .json(&json!({ "kind": kind, "count": if kind == "403" { 1 } else { 2 }, "ms": 50, "retryAfter": 0 }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{kind}");
    }
    let r = app
        .client
        .post(format!("{}/sandbox/amazon/_control/faults", app.address))
        .json(&json!({ "kind": "expired-token", "count": 1 }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.created, 120, "the summary without SKU is not an item");
    assert_eq!(run.errors, 2, "{run:?}");
    let s = emu.stats();
    assert!(s.faults.load(Ordering::Relaxed) >= 9);
    assert_eq!(s.expired_tokens.load(Ordering::Relaxed), 1);
    assert!(
        s.token.load(Ordering::Relaxed) >= 2,
        "the 403 refreshed the access token"
    );
    let events = entity::sync_event::Entity::find()
        .filter(entity::sync_event::Column::RunId.eq(run.id))
        .all(&app.state.db)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"invalid_record"), "{kinds:?}");
    let bad = events
        .iter()
        .find(|e| e.kind == "invalid_financial_event")
        .unwrap_or_else(|| panic!("{kinds:?}"));
    assert_eq!(bad.code.as_deref(), Some("AMZ-000004"));
    assert_eq!(bad.remote_id.as_deref(), Some("112-BAD"));
}

/// The emulator enforces a usage plan the connection is configured to exceed: 429s
/// carrying `x-amzn-RateLimit-Limit` slow the connector down until the run completes.
#[tokio::test]
async fn throttled_calls_wait_out_the_announced_rate() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let emu = amazon(&app);
    emu.seed(&serde_json::from_value(json!({ "skus": 150, "months": 1 })).unwrap());
    emu.configure(&json!({ "inventoryRate": 4.0, "inventoryBurst": 1 }))
        .unwrap();
    let conn = connection(
        &app,
        &token,
        json!({ "inventoryRate": 50, "inventoryBurst": 10, "finances": false }),
    )
    .await;
    let started = std::time::Instant::now();
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.created, 150);
    assert!(emu.stats().throttled.load(Ordering::Relaxed) >= 1);
    assert!(
        run.summary.get("finances").is_none(),
        "finances off by config"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(250 * 2));
}

/// Tokens that always expire (a listing slower than their lifetime) fail the run with a
/// clear message after a bounded number of restarts; a token refused even after a
/// refresh fails it as unauthorized.
#[tokio::test]
async fn endless_token_expiry_and_revoked_access_fail_clearly() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let emu = amazon(&app);
    emu.seed(&small());
    emu.configure(&json!({ "nextTokenTtlMs": 0 })).unwrap();
    let conn = connection(&app, &token, json!({ "finances": false })).await;
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("UPSTREAM_ERROR"));
    assert!(
        run.error.as_deref().unwrap().contains("expired"),
        "{:?}",
        run.error
    );
    assert_eq!(
        emu.stats().expired_tokens.load(Ordering::Relaxed),
        pricebook_sync::connectors::amazon::MAX_RESTARTS as u64 + 1
    );
    assert!(
        app.item_by_code(account, "AMZ-000001")
            .await
            .deleted_at
            .is_none(),
        "a failed run deletes nothing"
    );

    emu.configure(&json!({ "nextTokenTtlMs": 30000 })).unwrap();
    emu.faults()
        .push(pricebook_sync::sandbox::faults::FaultKind::Unauthorized, 10);
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.error.as_deref().unwrap().contains("unauthorized"),
        "{:?}",
        run.error
    );
    emu.faults().clear();
}

/// The seller connect flow against the emulator: consent URL → redirect with
/// `spapi_oauth_code` → code exchange → a refresh token that syncs.
#[tokio::test]
async fn lwa_consent_and_code_exchange() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let emu = amazon(&app);
    emu.seed(&serde_json::from_value(json!({ "skus": 10, "months": 1 })).unwrap());
    let config = json!({ "sandbox": true });
    let redirect = "https://pricebook.example/oauth/amazon/callback";
    let url = auth::authorize_url(&config, &app.address, "st-123", redirect).unwrap();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects.get(&url).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let location = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(redirect));
    let q: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "st-123");
    assert_eq!(q["selling_partner_id"], auth::SANDBOX_SELLING_PARTNER_ID);
    let code = &q["spapi_oauth_code"];

    let token_url = auth::token_url(&config, &app.address);
    let http = reqwest::Client::new();
    let wrong_uri = auth::exchange_code(
        &http,
        &token_url,
        auth::SANDBOX_CLIENT_ID,
        auth::SANDBOX_CLIENT_SECRET,
        code,
        "https://evil.example/cb",
    )
    .await;
    assert!(wrong_uri.is_err(), "the redirect_uri must match");
    // The failed attempt consumed the code, as LWA does: ask again.
    let resp = no_redirects.get(&url).send().await.unwrap();
    let location = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code: String = location
        .query_pairs()
        .find(|(k, _)| k == "spapi_oauth_code")
        .unwrap()
        .1
        .into_owned();
    let tokens = auth::exchange_code(
        &http,
        &token_url,
        auth::SANDBOX_CLIENT_ID,
        auth::SANDBOX_CLIENT_SECRET,
        &code,
        redirect,
    )
    .await
    .unwrap();
    assert!(tokens.refresh_token.starts_with("Atzr|"));
    assert!(tokens.expires_in > 0);
    let again = auth::exchange_code(
        &http,
        &token_url,
        auth::SANDBOX_CLIENT_ID,
        auth::SANDBOX_CLIENT_SECRET,
        &code,
        redirect,
    )
    .await
    .unwrap_err();
    assert!(again.to_string().contains("invalid_grant"), "{again}");
    assert!(
        !again.to_string().contains(&code),
        "errors never echo credentials"
    );

    // The new refresh token works; a made-up one does not.
    let secrets = tokens.to_secrets(
        auth::SANDBOX_CLIENT_ID,
        auth::SANDBOX_CLIENT_SECRET,
        Some(&q["selling_partner_id"]),
    );
    for (refresh, ok) in [
        (secrets["refreshToken"].clone(), true),
        (json!("Atzr|made-up"), false),
    ] {
        let d = app
            .gql_ok(&token, "mutation($n:String!,$c:JSON!,$s:JSON!){ createConnection(input:{ name:$n, provider: AMAZON, config:$c, secrets:$s, startSync: false }) { id } }",
                json!({ "n": format!("seller {ok}"), "c": { "sandbox": true, "finances": false }, "s": { "refreshToken": refresh } }))
            .await;
        let conn: i64 = d["createConnection"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
        if ok {
            assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
        } else {
            assert_eq!(run.status, RunStatus::Failed);
            assert!(!run.error.clone().unwrap_or_default().contains("made-up"));
        }
    }
    let bad_app = no_redirects
        .get(url.replace(auth::SANDBOX_APPLICATION_ID, "amzn1.sp.solution.other"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_app.status(), 400);
}

/// Dashboard queries: exact totals that match the lines, viewer access, account scoping,
/// clear input errors.
#[tokio::test]
async fn finance_queries_are_exact_scoped_and_validated() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let emu = amazon(&app);
    emu.seed(
        &serde_json::from_value(json!({ "skus": 20, "months": 2, "ordersPerSkuPerMonth": 3 }))
            .unwrap(),
    );
    let conn = connection(&app, &token, json!({})).await;
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);

    let viewer = app
        .user_token("default", "viewer@a.test", Role::Viewer)
        .await;
    let vars = json!({ "c": conn.to_string(), "s": "AMZ-000001" });
    let lines = app
        .gql_ok(&viewer, "query($c:ID!,$s:String!){ amazonFinances(connectionId:$c, sku:$s, first: 500) { totalCount edges { node { kind amount currency period eventType component } } } }", vars.clone())
        .await;
    let edges = lines["amazonFinances"]["edges"].as_array().unwrap();
    assert!(!edges.is_empty());
    assert_eq!(lines["amazonFinances"]["totalCount"], edges.len());
    let mut by_month: std::collections::BTreeMap<(String, String), Decimal> = Default::default();
    for e in edges {
        let n = &e["node"];
        let month = n["period"].as_str().unwrap()[..7].to_owned();
        *by_month
            .entry((month, n["kind"].as_str().unwrap().to_owned()))
            .or_default() += dec(&n["amount"]);
    }
    let summary = app
        .gql_ok(&viewer, "query($c:ID!,$s:String!){ amazonFinanceSummary(connectionId:$c, sku:$s, groupBy: MONTH) { sku period kind currency amount lines } }", vars.clone())
        .await;
    let rows = summary["amazonFinanceSummary"].as_array().unwrap();
    assert_eq!(rows.len(), by_month.len());
    for r in rows {
        let key = (
            r["period"].as_str().unwrap().to_owned(),
            r["kind"].as_str().unwrap().to_owned(),
        );
        assert_eq!(dec(&r["amount"]), by_month[&key], "{r}");
        assert_eq!(r["sku"], "AMZ-000001");
    }
    assert!(by_month.keys().any(|(_, k)| k == "FEE"));
    assert!(by_month.keys().any(|(_, k)| k == "SALE"));

    // Another account sees nothing of it.
    let other = app.user_token("other", "o@b.test", Role::Admin).await;
    let body = app
        .gql(
            Some(&other),
            "query($c:ID!){ amazonFinances(connectionId:$c) { totalCount } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let all = app
        .gql_ok(
            &other,
            "{ amazonFinances { totalCount } amazonFinanceSummary { amount } }",
            json!({}),
        )
        .await;
    assert_eq!(all["amazonFinances"]["totalCount"], 0);
    assert_eq!(all["amazonFinanceSummary"], json!([]));

    let body = app
        .gql(
            Some(&viewer),
            "{ amazonFinanceSummary(from: \"2026-05-02\", to: \"2026-05-01\") { amount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app
        .gql(None, "{ amazonFinances { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

/// The finances stage reports its own stage and its part of the progress bar, and
/// a cancel between its pages ends the run as cancelled without advancing the watermark.
#[tokio::test]
async fn finances_stage_reports_progress_and_can_be_cancelled() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let emu = amazon(&app);
    emu.seed(
        &serde_json::from_value(json!({ "skus": 50, "months": 3, "ordersPerSkuPerMonth": 4 }))
            .unwrap(),
    );
    // One finances call per second: the stage takes several seconds.
    let conn = connection(
        &app,
        &token,
        json!({ "financesRate": 1, "financesBurst": 1 }),
    )
    .await;
    let started = app.start_sync(&token, conn, "FULL").await;
    let run_id = started["run"]["id"].as_str().unwrap().to_owned();
    let mut seen = None;
    for _ in 0..200 {
        let d = app
            .gql_ok(
                &token,
                "query($id:ID!){ syncRun(id:$id) { status progress stage } }",
                json!({ "id": run_id }),
            )
            .await;
        let stage = d["syncRun"]["stage"].as_str().unwrap_or("").to_owned();
        if stage.starts_with("fetching financial events:") {
            seen = Some((stage, d["syncRun"]["progress"].as_i64().unwrap()));
            break;
        }
        let status = d["syncRun"]["status"].as_str().unwrap().to_owned();
        assert!(status == "QUEUED" || status == "RUNNING", "{d}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let (stage, progress) = seen.expect("the finances stage shows up");
    // Inventory fills 0–35 %, finances 35–60 %, the recoveries stage 60–89 %.
    assert!((35..60).contains(&progress), "{stage} at {progress}");
    app.gql_ok(
        &token,
        "mutation($id:ID!){ cancelSync(runId:$id) { id } }",
        json!({ "id": run_id }),
    )
    .await;
    let done = app.wait_for_run(&token, &run_id).await;
    assert_eq!(done["status"], "CANCELLED", "{done}");
    let cursor = pricebook_sync::store::sync_state::get_cursor(
        &app.state.db,
        conn,
        pricebook_sync::sync::finances::CURSOR_ENTITY,
    )
    .await
    .unwrap();
    assert!(cursor.is_none(), "a cancelled window leaves no watermark");
    assert!(
        finance_rows(&app, conn).await > 0,
        "pages stored before the cancel stay"
    );
}

/// The seller connects through the real callback: consent → `/oauth/amazon/callback`
/// with `spapi_oauth_code` → tokens stored → exactly one automatic first sync; a replay
/// changes nothing.
#[tokio::test]
async fn seller_connect_through_the_callback_starts_exactly_one_sync() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    amazon(&app).seed(&serde_json::from_value(json!({ "skus": 12, "months": 1 })).unwrap());
    let d = app
        .gql_ok(&token, "mutation{ createConnection(input:{ name:\"amz\", provider: AMAZON, config:{ sandbox: true, finances: false } }) { id } }", json!({}))
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

    let d = app
        .gql_ok(
            &token,
            "mutation($c:ID!){ startOAuth(connectionId:$c) { authorizeUrl } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    let authorize = d["startOAuth"]["authorizeUrl"].as_str().unwrap().to_owned();
    let client = no_redirects();
    let consent = client.get(&authorize).send().await.unwrap();
    assert!(consent.status().is_redirection(), "{}", consent.status());
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        callback.starts_with(&format!("{}/oauth/amazon/callback?", app.address)),
        "{callback}"
    );
    assert!(callback.contains("spapi_oauth_code="));
    let done = client.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());

    let secrets = stored_secrets(&app, conn).await;
    assert!(
        secrets["refreshToken"]
            .as_str()
            .unwrap()
            .starts_with("Atzr|")
    );
    let runs = runs_of(&app, &token, conn).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["trigger"], "CONNECT");
    let finished = app
        .wait_for_run(&token, runs[0]["id"].as_str().unwrap())
        .await;
    assert_eq!(finished["status"], "SUCCEEDED", "{finished}");
    assert_eq!(finished["counters"]["created"], 12, "{finished}");

    let replay = client.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 400);
    assert_eq!(
        runs_of(&app, &token, conn).await.len(),
        1,
        "a replay starts nothing"
    );
}
