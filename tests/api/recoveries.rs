//! Amazon FBA recoveries against the emulator over loopback: the Reports API flow
//! (reuse, 429s, FATAL, expired URLs, stuck and empty reports), inbound items, claim
//! detection over the stored rows, the recoveries overview with its sync fallback, and
//! the seller's case work on claims.

use crate::helpers::*;
use entity::enums::{Role, RunMode, RunStatus};
use pricebook_sync::sandbox::amazon::recoveries::{Planted, StoredReimbursement};
use pricebook_sync::sandbox::amazon::{Emulator, SeedSpec};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::atomic::Ordering;

fn amazon(app: &TestApp) -> &Emulator {
    &app.state
        .sandboxes
        .as_ref()
        .expect("sandbox mounted in tests")
        .amazon
}

/// A server with the Amazon emulator seeded with `skus` SKUs, and an admin's token.
async fn setup(skus: usize) -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    amazon(&app).seed(&seed(skus));
    (app, token)
}

fn seed(skus: usize) -> SeedSpec {
    serde_json::from_value(json!({ "skus": skus, "months": 4, "ordersPerSkuPerMonth": 2 })).unwrap()
}

/// An Amazon sandbox connection tuned for tests: no report-window alignment (so every run
/// asks for a fresh window), fast polling, finances far enough back for the planted refunds.
async fn connection(app: &TestApp, token: &str, extra: Value) -> i64 {
    let mut config = json!({
        "sandbox": true, "maxRetries": 4, "financesLookbackDays": 100,
        "reportAlignMinutes": 0, "reportPollMs": 20,
    });
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let d = app
        .gql_ok(token, "mutation($c:JSON!){ createConnection(input:{ name:\"amz\", provider: AMAZON, config:$c, startSync: false }) { id } }", json!({ "c": config }))
        .await;
    d["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

const CLAIMS: &str = "query($c:ID!,$s:ClaimStatus,$k:ClaimKind,$sku:String){ amazonClaims(connectionId:$c, status:$s, kind:$k, sku:$sku, first: 250) { totalCount edges { node { id kind status sku reference quantity openQuantity settledQuantity currency estimatedValue valueSource eventDate eligibleFrom deadline caseId note reimbursementIds evidence { source rowId date quantity amount reason role } } } } }";

async fn claims(app: &TestApp, token: &str, conn: i64, status: Option<&str>) -> Vec<Value> {
    let d = app
        .gql_ok(token, CLAIMS, json!({ "c": conn.to_string(), "s": status }))
        .await;
    d["amazonClaims"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn kind_name(p: &Planted) -> String {
    p.kind.as_str().to_uppercase()
}

/// (kind, SKU, reference, open units) of claims, comparable with what the seed planted.
fn found(claims: &[Value]) -> BTreeSet<(String, String, Option<String>, i64)> {
    claims
        .iter()
        .map(|c| {
            let kind = c["kind"].as_str().unwrap().to_owned();
            let reference = match kind.as_str() {
                "LOST_IN_WAREHOUSE" | "DAMAGED_IN_WAREHOUSE" => None,
                _ => c["reference"].as_str().map(str::to_owned),
            };
            (
                kind,
                c["sku"].as_str().unwrap().to_owned(),
                reference,
                c["openQuantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn planted(emu: &Emulator) -> BTreeSet<(String, String, Option<String>, i64)> {
    emu.planted_claims()
        .iter()
        .map(|p| {
            (
                kind_name(p),
                p.sku.clone(),
                p.reference.clone(),
                p.quantity as i64,
            )
        })
        .collect()
}

fn rec(run: &entity::sync_run::Model) -> &Value {
    &run.summary["recoveries"]
}

/// Every rule finds exactly the seeded cases and none of the decoys; a second run changes
/// nothing; a later reimbursement closes its claim.
#[tokio::test]
async fn rules_find_exactly_the_planted_cases_reruns_change_nothing_and_reimbursements_close() {
    let (app, token) = setup(120).await;
    let emu = amazon(&app);
    let conn = connection(&app, &token, json!({})).await;

    // Through the job system, as a user would start it.
    let started = app.start_sync(&token, conn, "FULL").await;
    let run_id = started["run"]["id"].as_str().unwrap().to_owned();
    let done = app.wait_for_run(&token, &run_id).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let counters = app
        .gql_ok(&token, "query($id:ID!){ syncRun(id:$id){ counters { fetched created updated deleted pushed conflicts skipped errors reimbursements ledgerEvents claimsDetected } } }", json!({ "id": run_id }))
        .await["syncRun"]["counters"]
        .clone();
    let expected = planted(emu);
    assert_eq!(
        expected.len(),
        6 * 5,
        "120 SKUs plant six cases of each of five kinds"
    );
    assert_eq!(counters["claimsDetected"], expected.len(), "{counters}");
    assert_eq!(counters["errors"], 0, "{counters}");
    assert_eq!(counters["created"], 120);
    assert!(
        counters["reimbursements"].as_i64().unwrap() >= 30,
        "{counters}"
    );
    assert!(
        counters["ledgerEvents"].as_i64().unwrap() > 500,
        "{counters}"
    );
    assert_eq!(
        emu.stats().throttled.load(Ordering::Relaxed),
        0,
        "the reports stay under their usage plans"
    );

    let detected = claims(&app, &token, conn, Some("DETECTED")).await;
    assert_eq!(found(&detected), expected, "exactly the planted cases");
    let all = claims(&app, &token, conn, None).await;
    assert_eq!(
        all.len(),
        detected.len(),
        "no decoy became a claim of any status"
    );
    for c in &detected {
        assert_eq!(c["evidence"][0]["role"], "opening", "{c}");
        let deadline =
            chrono::NaiveDate::parse_from_str(c["deadline"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert!(deadline >= chrono::Utc::now().date_naive(), "{c}");
        if c["kind"] != "INBOUND_SHORTAGE" {
            assert!(c["estimatedValue"].is_string(), "valued from evidence: {c}");
        }
    }
    let refund = detected
        .iter()
        .find(|c| c["kind"] == "REFUND_NOT_RETURNED")
        .unwrap();
    assert_eq!(refund["valueSource"], "refund");
    let reversed = detected
        .iter()
        .find(|c| c["kind"] == "REIMBURSEMENT_REVERSED")
        .unwrap();
    assert!(reversed["reference"].as_str().unwrap().starts_with("RV-"));

    // Reimbursements also reach the finances as account adjustments, to the cent.
    let sum = |rows: &Value, field: &str| -> Decimal {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| Decimal::from_str(r[field].as_str().unwrap()).unwrap())
            .sum()
    };
    let adjustments = app
        .gql_ok(&token, "query($c:ID!){ amazonFinanceSummary(connectionId:$c, kind: ADJUSTMENT, groupBy: MONTH) { amount } }", json!({ "c": conn.to_string() }))
        .await;
    let lines = app
        .gql_ok(&token, "query($c:ID!){ amazonReimbursements(connectionId:$c, first: 500) { edges { node { amountTotal } } } }", json!({ "c": conn.to_string() }))
        .await;
    let report_total: Decimal = lines["amazonReimbursements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Decimal::from_str(e["node"]["amountTotal"].as_str().unwrap()).unwrap())
        .sum();
    assert!(report_total > Decimal::ZERO);
    assert_eq!(
        sum(&adjustments["amazonFinanceSummary"], "amount"),
        report_total
    );

    // Idempotent: a second full run writes no row and changes no claim.
    let second = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!(second.claims_detected, 0);
    let r = rec(&second);
    for report in ["reimbursements", "ledger"] {
        assert_eq!(r[report]["rows"]["created"], 0, "{r}");
        assert_eq!(r[report]["rows"]["updated"], 0, "{r}");
    }
    assert_eq!(r["claims"]["unchanged"], expected.len(), "{r}");
    assert_eq!(r["claims"]["updated"], 0, "{r}");
    assert_eq!(claims(&app, &token, conn, None).await.len(), expected.len());

    // A reimbursement arriving later closes its claim (added over the control API).
    let lost = detected
        .iter()
        .find(|c| c["kind"] == "LOST_IN_WAREHOUSE")
        .unwrap();
    let sku = lost["sku"].as_str().unwrap();
    let remote = emu.get_remote(sku).unwrap();
    let paid = StoredReimbursement {
        approved_at: chrono::Utc::now() - chrono::Duration::hours(2),
        reimbursement_id: "LATE-1".into(),
        case_id: Some("CASE-9".into()),
        order_id: None,
        reason: "Lost_Warehouse".into(),
        sku: sku.into(),
        fnsku: remote.fn_sku.clone(),
        asin: remote.asin.clone(),
        product_name: None,
        condition: "NewItem".into(),
        currency: "USD".into(),
        amount_per_unit: Decimal::new(1234, 2),
        amount_total: Decimal::new(2468, 2),
        quantity_cash: 2,
        quantity_inventory: 0,
        quantity_total: 2,
        original_reimbursement_id: None,
        original_reimbursement_type: None,
    };
    let r = app
        .client
        .post(format!(
            "{}/sandbox/amazon/_control/reimbursements",
            app.address
        ))
        .json(&json!([paid]))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let third = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(third.status, RunStatus::Succeeded, "{:?}", third.error);
    assert_eq!(rec(&third)["claims"]["reimbursed"], 1, "{}", rec(&third));
    let closed = app
        .gql_ok(&token, "query($id:ID!){ amazonClaim(id:$id){ status openQuantity reimbursementIds estimatedValue } }", json!({ "id": lost["id"] }))
        .await["amazonClaim"]
        .clone();
    assert_eq!(closed["status"], "REIMBURSED", "{closed}");
    assert_eq!(closed["openQuantity"], 0);
    assert_eq!(closed["reimbursementIds"], json!(["LATE-1"]));

    // The overview: recovered money includes the new reimbursement, exactly.
    let o = app
        .gql_ok(&token, "query($c:ID!){ amazonRecoveries(connectionId:$c){ syncStarted hasData recovered { currency amount } claimable { currency amount } byKind { kind openClaims openQuantity claimable { amount } recovered { amount } } byStatus { status claims } byMonth { month recovered { amount } claims } } }", json!({ "c": conn.to_string() }))
        .await["amazonRecoveries"]
        .clone();
    assert_eq!(o["syncStarted"], false);
    assert_eq!(o["hasData"], true);
    let statuses: Vec<(String, i64)> = o["byStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap().to_owned(),
                s["claims"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(statuses.contains(&("REIMBURSED".into(), 1)), "{statuses:?}");
    assert!(statuses.contains(&("DETECTED".into(), expected.len() as i64 - 1)));
    let lost_totals = o["byKind"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "LOST_IN_WAREHOUSE")
        .unwrap();
    assert_eq!(lost_totals["openClaims"], 5);
    // Recovered for lost units: the seed's Lost_Warehouse lines plus 24.68 — net of nothing.
    let from_rows: Decimal = app
        .gql_ok(&token, "query($c:ID!){ amazonReimbursements(connectionId:$c, reason:\"Lost_Warehouse\", first: 500) { totalCount edges { node { amountTotal } } } }", json!({ "c": conn.to_string() }))
        .await["amazonReimbursements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Decimal::from_str(e["node"]["amountTotal"].as_str().unwrap()).unwrap())
        .sum();
    assert_eq!(
        Decimal::from_str(lost_totals["recovered"][0]["amount"].as_str().unwrap()).unwrap(),
        from_rows
    );
}

/// `amazonRecoveries` on a connection without data queues exactly one run under 20
/// concurrent requests, answers at once, and later shows the data without a new run.
#[tokio::test]
async fn recoveries_on_an_empty_connection_start_exactly_one_run() {
    let (app, token) = setup(40).await;
    let emu = amazon(&app);
    // Reports take a while, so every request lands while the run is queued or running.
    emu.configure(&json!({ "reportQueueMs": 1000, "reportProcessingMs": 1000 }))
        .unwrap();
    let conn = connection(&app, &token, json!({})).await;
    let viewer = app
        .user_token("Default", "viewer@a.test", Role::Viewer)
        .await;
    let q = "query($c:ID!){ amazonRecoveries(connectionId:$c){ syncStarted hasData run { id status } claimable { amount } } }";
    let vars = json!({ "c": conn.to_string() });
    if app.account_id_of(&viewer).await == app.account_id_of(&token).await {
        let v = app.gql_ok(&viewer, q, vars.clone()).await;
        assert_eq!(
            v["amazonRecoveries"]["syncStarted"], false,
            "viewers do not start syncs"
        );
        assert!(runs_of(&app, &token, conn).await.is_empty());
    }
    let answers =
        futures::future::join_all((0..20).map(|_| app.gql(Some(&token), q, vars.clone()))).await;
    let mut run_ids = BTreeSet::new();
    let mut starts = 0;
    for a in &answers {
        assert!(a.get("errors").is_none(), "{a}");
        let r = &a["data"]["amazonRecoveries"];
        assert_eq!(r["hasData"], false);
        if r["syncStarted"] == true {
            starts += 1;
        }
        run_ids.insert(r["run"]["id"].as_str().unwrap().to_owned());
        let status = r["run"]["status"].as_str().unwrap();
        assert!(
            status == "QUEUED" || status == "RUNNING",
            "answered at once, while the run is active: {r}"
        );
    }
    assert_eq!(starts, 1, "exactly one request queued the sync");
    assert_eq!(run_ids.len(), 1, "every answer names the same run");
    assert_eq!(runs_of(&app, &token, conn).await.len(), 1);

    let run_id = run_ids.into_iter().next().unwrap();
    let done = app.wait_for_run(&token, &run_id).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let after = app.gql_ok(&token, q, vars.clone()).await;
    let r = &after["amazonRecoveries"];
    assert_eq!(r["hasData"], true);
    assert_eq!(r["syncStarted"], false);
    assert!(r["run"].is_null());
    assert!(!r["claimable"].as_array().unwrap().is_empty(), "{r}");
    assert_eq!(runs_of(&app, &token, conn).await.len(), 1, "no second run");
}

async fn fault(app: &TestApp, kind: &str, count: u32) {
    let r = app
        .client
        .post(format!("{}/sandbox/amazon/_control/faults", app.address))
        .json(&json!({ "kind": kind, "count": count }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{kind}");
}

async fn run_events(app: &TestApp, run_id: i64) -> Vec<entity::sync_event::Model> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::sync_event::Entity::find()
        .filter(entity::sync_event::Column::RunId.eq(run_id))
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Usage-plan 429s, a FATAL report and expired document URLs are survived; plain
/// (uncompressed) documents read like gzip ones.
#[tokio::test]
async fn report_polling_survives_429_fatal_and_expired_urls() {
    let (app, token) = setup(40).await;
    let emu = amazon(&app);
    emu.configure(&json!({
        "createReportRate": 5.0, "createReportBurst": 1,
        "getReportRate": 10.0, "getReportBurst": 1,
        "getDocumentRate": 5.0,
        "reportGzip": false,
    }))
    .unwrap();
    fault(&app, "report-fatal", 1).await;
    fault(&app, "expired-url", 2).await;
    let conn = connection(&app, &token, json!({ "finances": false })).await;
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let r = rec(&run);
    assert!(
        r["reimbursements"]["rows"]["read"].as_u64().unwrap() > 0,
        "{r}"
    );
    assert!(r["ledger"]["rows"]["read"].as_u64().unwrap() > 0, "{r}");
    assert!(r["reimbursements"]["unavailable"].is_null() && r["ledger"]["unavailable"].is_null());
    let s = emu.stats();
    assert_eq!(
        s.create_report.load(Ordering::Relaxed),
        3,
        "two reports, one of them requested again after FATAL"
    );
    assert_eq!(s.expired_urls.load(Ordering::Relaxed), 2);
    assert!(
        s.throttled.load(Ordering::Relaxed) >= 1,
        "the usage plans answered 429"
    );
    let notes: Vec<String> = run_events(&app, run.id)
        .await
        .into_iter()
        .filter(|e| e.kind == "report_retry")
        .map(|e| e.message)
        .collect();
    assert!(notes.iter().any(|n| n.contains("FATAL")), "{notes:?}");
    assert_eq!(
        notes.iter().filter(|n| n.contains("expired")).count(),
        2,
        "{notes:?}"
    );
    // Same data as gzip documents would give: the planted cases (refunds need finances).
    let expected: BTreeSet<_> = planted(emu)
        .into_iter()
        .filter(|p| p.0 != "REFUND_NOT_RETURNED")
        .collect();
    assert_eq!(
        found(&claims(&app, &token, conn, Some("DETECTED")).await),
        expected
    );
}

/// A report that stays IN_QUEUE past the wait bound is left for the next run without
/// failing the others; a window without data is CANCELLED upstream and reads as empty.
#[tokio::test]
async fn stuck_and_empty_reports_do_not_fail_the_run() {
    let (app, token) = setup(40).await;
    let emu = amazon(&app);
    fault(&app, "report-stuck", 1).await;
    let conn = connection(
        &app,
        &token,
        json!({ "reportWaitSeconds": 1, "finances": false }),
    )
    .await;
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let r = rec(&run);
    let why = r["reimbursements"]["unavailable"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(why.contains("IN_QUEUE"), "{why}");
    assert!(
        r["ledger"]["rows"]["read"].as_u64().unwrap() > 0,
        "the ledger still came: {r}"
    );
    assert_eq!(run.reimbursements, 0);
    assert!(run.ledger_events > 0);
    let warned = run_events(&app, run.id)
        .await
        .into_iter()
        .find(|e| e.kind == "report_unavailable")
        .expect("a warning on the run");
    assert_eq!(warned.level, entity::enums::EventLevel::Warn);

    // No recoveries data at all: both reports come back CANCELLED, the run succeeds.
    emu.seed(
        &serde_json::from_value(json!({ "skus": 10, "months": 1, "recoveries": false })).unwrap(),
    );
    let empty = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(empty.status, RunStatus::Succeeded, "{:?}", empty.error);
    let r = rec(&empty);
    assert_eq!(r["reimbursements"]["noData"], true, "{r}");
    assert_eq!(r["ledger"]["noData"], true, "{r}");
    assert_eq!(empty.errors, 0);
}

/// Runs close together ask for the same aligned window and reuse Amazon's DONE report
/// instead of creating another.
#[tokio::test]
async fn reports_of_the_same_window_are_reused() {
    let (app, token) = setup(40).await;
    let emu = amazon(&app);
    let conn = connection(
        &app,
        &token,
        json!({ "reportAlignMinutes": 1440, "finances": false }),
    )
    .await;
    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!(emu.stats().create_report.load(Ordering::Relaxed), 2);
    let second = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!(
        emu.stats().create_report.load(Ordering::Relaxed),
        2,
        "no new report for the same window"
    );
    let r = rec(&second);
    assert_eq!(r["reimbursements"]["reused"], true, "{r}");
    assert_eq!(r["ledger"]["reused"], true, "{r}");
    assert_eq!(
        r["ledger"]["reportId"],
        rec(&first)["ledger"]["reportId"],
        "the first run's report"
    );
}

/// Case work: FILED with a case id, audited; sync-owned statuses, bad input, viewers and
/// other accounts are refused; filters narrow the lists.
#[tokio::test]
async fn claims_are_worked_on_by_editors_and_scoped_to_their_account() {
    let (app, token) = setup(40).await;
    let conn = connection(&app, &token, json!({})).await;
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let all = claims(&app, &token, conn, None).await;
    assert_eq!(all.len(), 10, "40 SKUs plant two cases of each kind");
    let d = app
        .gql_ok(
            &token,
            CLAIMS,
            json!({ "c": conn.to_string(), "k": "DAMAGED_IN_WAREHOUSE" }),
        )
        .await;
    assert_eq!(d["amazonClaims"]["totalCount"], 2);
    let one = &all[0];
    let sku = one["sku"].as_str().unwrap();
    let by_sku = app
        .gql_ok(&token, CLAIMS, json!({ "c": conn.to_string(), "sku": sku }))
        .await;
    assert!(by_sku["amazonClaims"]["totalCount"].as_i64().unwrap() >= 1);

    let update = "mutation($id:ID!,$s:ClaimStatus,$case:String,$note:String){ updateClaim(id:$id, status:$s, caseId:$case, note:$note){ id status caseId note } }";
    let filed = app
        .gql_ok(&token, update, json!({ "id": one["id"], "s": "FILED", "case": "1234567890", "note": "Opened in Seller Central" }))
        .await;
    assert_eq!(filed["updateClaim"]["status"], "FILED");
    assert_eq!(filed["updateClaim"]["caseId"], "1234567890");
    let audit = app
        .gql_ok(
            &token,
            "{ auditLog(action: \"claim.update\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(audit["auditLog"]["totalCount"], 1);
    // A re-run keeps the seller's status, case id and note.
    let again = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(again.status, RunStatus::Succeeded);
    let kept = app
        .gql_ok(
            &token,
            "query($id:ID!){ amazonClaim(id:$id){ status caseId note } }",
            json!({ "id": one["id"] }),
        )
        .await;
    assert_eq!(kept["amazonClaim"]["status"], "FILED");
    assert_eq!(kept["amazonClaim"]["note"], "Opened in Seller Central");

    let bad = app
        .gql(
            Some(&token),
            update,
            json!({ "id": one["id"], "s": "REIMBURSED" }),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    let bad = app
        .gql(
            Some(&token),
            update,
            json!({ "id": one["id"], "note": "x".repeat(2001) }),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    let bad = app
        .gql(
            Some(&token),
            update,
            json!({ "id": one["id"], "case": "12 34" }),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");

    let viewer = app
        .user_token("Default", "viewer@a.test", Role::Viewer)
        .await;
    if app.account_id_of(&viewer).await == app.account_id_of(&token).await {
        let denied = app
            .gql(
                Some(&viewer),
                update,
                json!({ "id": one["id"], "s": "DISMISSED" }),
            )
            .await;
        assert_eq!(error_code(&denied), "FORBIDDEN");
    }
    let other = app.user_token("Other", "other@b.test", Role::Admin).await;
    let hidden = app
        .gql(
            Some(&other),
            update,
            json!({ "id": one["id"], "s": "DISMISSED" }),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");
    let hidden = app
        .gql(Some(&other), CLAIMS, json!({ "c": conn.to_string() }))
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");
    let none = app
        .gql_ok(
            &other,
            "{ amazonClaims { totalCount } amazonReimbursements { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(none["amazonClaims"]["totalCount"], 0);
    assert_eq!(none["amazonReimbursements"]["totalCount"], 0);

    // A day range that ends before it starts is refused, not answered as an empty page.
    for list in ["amazonClaims", "amazonReimbursements"] {
        let backwards = app
            .gql(
                Some(&token),
                &format!("{{ {list}(from: \"2026-05-02\", to: \"2026-05-01\") {{ totalCount }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(
            error_code(&backwards),
            "BAD_USER_INPUT",
            "{list}: {backwards}"
        );
    }

    // Not an Amazon connection: refused clearly.
    let st = app.sandbox_connection(&token, "st", json!({})).await;
    let wrong = app
        .gql(
            Some(&token),
            "query($c:ID!){ amazonRecoveries(connectionId:$c){ hasData } }",
            json!({ "c": st.to_string() }),
        )
        .await;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
}

/// The stage shows where each report is (requested, processing, downloading) in its part
/// of the bar, and a cancel while Amazon is still processing ends the run at once.
#[tokio::test]
async fn report_stages_show_progress_and_cancel_while_processing() {
    let (app, token) = setup(20).await;
    let emu = amazon(&app);
    emu.configure(&json!({ "reportQueueMs": 60000, "reportProcessingMs": 1000 }))
        .unwrap();
    let conn = connection(
        &app,
        &token,
        json!({ "finances": false, "reportPollMs": 100 }),
    )
    .await;
    let started = app.start_sync(&token, conn, "FULL").await;
    let run_id = started["run"]["id"].as_str().unwrap().to_owned();
    let mut sub = app
        .subscribe(
            &token,
            "subscription($id:ID!){ syncProgress(runId:$id){ stage progress } }",
            json!({ "id": run_id }),
        )
        .await;
    let mut seen: Vec<(String, i64)> = Vec::new();
    while let Some(msg) = sub.next(std::time::Duration::from_secs(20)).await {
        let p = &msg["payload"]["data"]["syncProgress"];
        let stage = p["stage"].as_str().unwrap_or("").to_owned();
        if seen.last().map(|s| &s.0) != Some(&stage) {
            seen.push((stage.clone(), p["progress"].as_i64().unwrap_or(0)));
        }
        if stage.contains("processing (IN_QUEUE") {
            break;
        }
    }
    let (stage, progress) = seen.last().cloned().unwrap();
    assert!(
        stage.starts_with("recoveries: reimbursements report processing"),
        "{seen:?}"
    );
    assert!((50..89).contains(&progress), "{seen:?}");
    assert!(
        seen.iter()
            .any(|(s, _)| s.contains("reimbursements report") && s.contains("requested")),
        "{seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "never goes back: {seen:?}"
    );
    let cancelled_at = std::time::Instant::now();
    app.gql_ok(
        &token,
        "mutation($id:ID!){ cancelSync(runId:$id) { id } }",
        json!({ "id": run_id }),
    )
    .await;
    let done = app.wait_for_run(&token, &run_id).await;
    assert_eq!(done["status"], "CANCELLED", "{done}");
    assert!(
        cancelled_at.elapsed() < std::time::Duration::from_secs(10),
        "not waiting out the report"
    );
    let cursor = pricebook_sync::store::sync_state::get_cursor(
        &app.state.db,
        conn,
        pricebook_sync::sync::recoveries::CURSOR_ENTITY,
    )
    .await
    .unwrap();
    assert!(cursor.is_none(), "a cancelled stage leaves no watermark");
}
