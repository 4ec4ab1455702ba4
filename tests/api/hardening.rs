//! Hostile and careless input against data, money, secrets and run accounting: a
//! 500,000-row CSV within a memory bound, one money rule (a file's decimal separator
//! decided once, no silent rounding or overflow), upstream-echoed secrets never stored or
//! shown, no progress written after a run ended, counters across resumed attempts,
//! replayed webhooks, private data files, length limits, and a 401 mid-run.

use crate::helpers::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Runs the calling test alone in a child process of this test binary when it is not that
/// child already (returns true: the caller should return). Memory measured from /proc is
/// then the test's own, not the sum of the tests running beside it.
fn run_in_own_process(test: &str) -> bool {
    const CHILD: &str = "PRICEBOOK_HARDENING_CHILD";
    if std::env::var(CHILD).as_deref() == Ok(test) {
        return false;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .output()
        .expect("run the test in its own process");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "{test} failed in its own process");
    assert!(text.contains("1 passed"), "{test} did not run: {text}");
    true
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Samples this process's resident memory every few milliseconds until dropped.
struct PeakRss {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
    baseline: u64,
}

impl PeakRss {
    fn start() -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let baseline = rss_kib();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib());
                std::thread::sleep(Duration::from_millis(5));
            }
            peak.max(rss_kib())
        });
        PeakRss {
            stop,
            thread: Some(thread),
            baseline,
        }
    }

    /// (baseline MB, peak MB, growth MB)
    fn finish(mut self) -> (u64, u64, u64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = self.thread.take().unwrap().join().unwrap();
        (
            self.baseline / 1024,
            peak / 1024,
            peak.saturating_sub(self.baseline) / 1024,
        )
    }
}

const CSV_RESULT: &str = "runId dryRun rows updated unchanged skusNotFound skusNotFoundCount errorCount warningCount previewCapped errors { line column message } warnings { line column message } preview { key code field old new }";

/// Uploads, then waits for the import's push (the connection is free again after).
async fn upload_ok(app: &TestApp, token: &str, file: impl Into<Vec<u8>>, vars: Value) -> Value {
    let body = app.upload_csv(token, file.into(), CSV_RESULT, vars).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    let r = body["data"]["uploadCsv"].clone();
    if let Some(run) = r["runId"].as_str() {
        app.wait_for_run(token, run).await;
    }
    r
}

fn cost(item: &entity::item::Model) -> String {
    item.cost
        .map(|m| m.display_amount().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_500000_row_csv_dry_run_and_import_stay_under_150_mb() {
    if run_in_own_process("hardening::a_500000_row_csv_dry_run_and_import_stay_under_150_mb") {
        return;
    }
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let items = 5_000;
    pricebook_sync::bench::fixtures::seed_local_items(&app.state.db, account, items)
        .await
        .unwrap();
    app.sandbox_connection(&token, "st", json!({})).await;
    let codes: Vec<String> = (0..items)
        .map(pricebook_sync::bench::fixtures::code)
        .collect();

    // Vendor prices: 500,000 distinct prices (100 vendor SKUs for each of 5,000 items).
    let rows = 500_000;
    let mut file = String::from("SKU,Vendor,Vendor SKU,Price\n");
    for i in 0..rows {
        use std::fmt::Write;
        let _ = writeln!(
            file,
            "{},Acme,AC-{i},{}.{:02}",
            codes[i % items],
            1 + i % 900,
            i % 100
        );
    }
    let file = file.into_bytes();
    let peak = PeakRss::start();
    let started = Instant::now();
    let r = upload_ok(
        &app,
        &token,
        file,
        json!({ "target": "VENDOR_PRICES", "dryRun": true }),
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let (base, top, growth) = peak.finish();
    eprintln!(
        "500,000-row vendor-price dry run: {seconds:.1} s, RSS {base} MB → peak {top} MB (+{growth} MB)"
    );
    assert_eq!(r["rows"], rows);
    assert_eq!(r["updated"], rows);
    assert_eq!(r["errorCount"], 0, "{}", r["errors"]);
    assert_eq!(r["previewCapped"], true, "the preview says it is capped");
    let shown = r["preview"].as_array().unwrap().len();
    assert!((1..rows).contains(&shown), "{shown} preview entries");
    assert!(growth < 150, "a dry run grew memory by {growth} MB");

    // Item costs, applied: 500,000 rows, 5,000 known items, the rest unknown.
    let mut file = String::from("SKU,Cost\n");
    for (i, code) in codes.iter().enumerate() {
        use std::fmt::Write;
        let _ = writeln!(file, "{code},{}.25", 7 + i % 50);
    }
    for i in items..rows {
        use std::fmt::Write;
        let _ = writeln!(file, "NOT-THERE-{i},1.50");
    }
    let file = file.into_bytes();
    let peak = PeakRss::start();
    let started = Instant::now();
    let r = upload_ok(&app, &token, file, json!({})).await;
    let seconds = started.elapsed().as_secs_f64();
    let (base, top, growth) = peak.finish();
    eprintln!(
        "500,000-row item-cost import: {seconds:.1} s, RSS {base} MB → peak {top} MB (+{growth} MB)"
    );
    assert_eq!(
        r["updated"].as_u64().unwrap() + r["unchanged"].as_u64().unwrap(),
        items as u64,
        "{}",
        r["errors"]
    );
    assert!(r["updated"].as_u64().unwrap() > 4_900);
    assert_eq!(r["skusNotFoundCount"], rows - items);
    let listed = r["skusNotFound"].as_array().unwrap().len();
    assert!(
        listed < rows - items,
        "the not-found list is capped ({listed})"
    );
    assert_eq!(r["skusNotFound"][0], "NOT-THERE-5000");
    assert!(r["runId"].is_string());
    assert!(growth < 150, "an import grew memory by {growth} MB");
    assert_eq!(cost(&app.item_by_code(account, &codes[1]).await), "8.25");
}

/// A synced sandbox connection with 25 items MAT-000001…: (token, account id, connection id).
async fn synced(app: &TestApp) -> (String, i64, i64) {
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    app.emulator().seed(
        &serde_json::from_value(json!({ "materials": 20, "equipment": 0, "services": 5 })).unwrap(),
    );
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let run = app
        .run_sync(conn, entity::enums::RunMode::Full, json!({}), false)
        .await;
    assert_eq!(run.status, entity::enums::RunStatus::Succeeded);
    (token, account, conn)
}

#[tokio::test]
async fn a_files_decimal_separator_is_decided_once_and_ambiguous_cells_are_errors() {
    let app = TestApp::spawn().await;
    let (token, account, conn) = synced(&app).await;
    let conn = conn.to_string();
    let costs = |codes: &[&str]| {
        let app = &app;
        let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        async move {
            let mut out = Vec::new();
            for c in codes {
                out.push(cost(&app.item_by_code(account, &c).await));
            }
            out
        }
    };
    // The issue's file: `2.345,50` and `1,50` show a decimal comma, so `1.500` is 1500
    // and `1,500` is 1.5 — the same reading for every cell of the file.
    let file = "sku;cost\nMAT-000001;2.345,50\nMAT-000002;1.500,00\nMAT-000003;1.500\nMAT-000004;1,500\nMAT-000005;1,50\n";
    let r = upload_ok(&app, &token, file, json!({ "connectionId": conn })).await;
    assert_eq!(r["errors"], json!([]), "{r}");
    assert_eq!(
        costs(&[
            "MAT-000001",
            "MAT-000002",
            "MAT-000003",
            "MAT-000004",
            "MAT-000005"
        ])
        .await,
        ["2345.5", "1500", "1500", "1.5", "1.5"]
    );

    // Nothing shows the separator: the ambiguous cells are per-line errors, not guesses.
    let before = costs(&["MAT-000006", "MAT-000007"]).await;
    let file = "sku;cost\nMAT-000006;1.500\nMAT-000007;1,500\nMAT-000008;3\n";
    let r = upload_ok(&app, &token, file, json!({ "connectionId": conn })).await;
    assert_eq!(r["updated"], 1, "{r}");
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{r}");
    for (e, line) in errors.iter().zip([2, 3]) {
        assert_eq!(
            (e["line"].as_i64(), e["column"].as_i64()),
            (Some(line), Some(2))
        );
        let m = e["message"].as_str().unwrap();
        assert!(
            m.contains("ambiguous") && m.contains("decimalSeparator"),
            "{m}"
        );
    }
    assert_eq!(costs(&["MAT-000006", "MAT-000007"]).await, before);

    // The explicit option decides; a cell contradicting it is an error.
    let file = "sku;cost\nMAT-000006;1.500\nMAT-000007;1,500\nMAT-000009;2,345.50\n";
    let r = upload_ok(
        &app,
        &token,
        file,
        json!({ "connectionId": conn, "decimalSeparator": "POINT" }),
    )
    .await;
    assert_eq!(costs(&["MAT-000006", "MAT-000007"]).await, ["1.5", "1500"]);
    assert_eq!(r["errors"], json!([]), "{r}");
    let r = upload_ok(
        &app,
        &token,
        "sku,cost\nMAT-000010,\"1,500\"\nMAT-000011,2.5\n",
        json!({ "connectionId": conn, "mapping": { "decimalSeparator": "," } }),
    )
    .await;
    assert_eq!(cost(&app.item_by_code(account, "MAT-000010").await), "1.5");
    assert_eq!(r["errors"][0]["line"], 3, "{r}");

    // Beyond the stored precision or scale: errors, not rounding or overflow.
    let file = "sku,cost\nMAT-000012,9999999999999999999999999999.9999\nMAT-000013,1.23456\nMAT-000014,99999999999.9999\n";
    let before = costs(&["MAT-000012", "MAT-000013"]).await;
    let r = upload_ok(&app, &token, file, json!({ "connectionId": conn })).await;
    let messages: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{r}");
    assert!(messages[0].contains("too large"), "{}", messages[0]);
    assert!(
        messages[1].contains("more than 4 decimal places"),
        "{}",
        messages[1]
    );
    assert_eq!(costs(&["MAT-000012", "MAT-000013"]).await, before);
    assert_eq!(
        cost(&app.item_by_code(account, "MAT-000014").await),
        "99999999999.9999"
    );
}

#[tokio::test]
async fn graphql_money_input_is_a_plain_decimal_within_the_stored_scale() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let id = seed_items(&app, account, 1).await[0].to_string();
    let update = "mutation($id: ID!, $input: ItemInput!) { updateItem(id: $id, input: $input) { cost price } }";
    for bad in [
        json!("12.34567"),
        json!("12,34"),
        json!("9999999999999999999999999999.9999"),
        json!("1_000"),
        json!("-1"),
        json!(12.34567),
        json!("1e3"),
    ] {
        let body = app
            .gql(
                Some(&token),
                update,
                json!({ "id": id, "input": { "cost": bad } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
    // The same through a literal in the document.
    let body = app
        .gql(
            Some(&token),
            &format!(r#"mutation {{ updateItem(id: "{id}", input: {{ price: "12.34567" }}) {{ price }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let item = app.item_by_code(account, "ITEM-0000").await;
    assert_eq!(cost(&item), "0", "nothing was rounded and stored");

    let d = app
        .gql_ok(
            &token,
            update,
            json!({ "id": id, "input": { "cost": "12.3456", "price": 20 } }),
        )
        .await;
    assert_eq!(d["updateItem"], json!({ "cost": "12.3456", "price": "20" }));
}

#[tokio::test]
async fn a_late_heartbeat_cannot_overwrite_a_finished_run() {
    use pricebook_sync::store::runs;
    use pricebook_sync::sync::progress::Counters;
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(
        &serde_json::from_value(json!({ "materials": 1500, "equipment": 0, "services": 0 }))
            .unwrap(),
    );
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let started = app.start_sync(&token, conn, "FULL").await;
    let run_id = started["run"]["id"].as_str().unwrap().to_owned();
    let done = app.wait_for_run(&token, &run_id).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    // The worker's heartbeat wrote its snapshot after the run was recorded as finished
    // (the race the issue saw 1 in 40 runs): exactly that write, made deterministic.
    let id: i64 = run_id.parse().unwrap();
    let stale = Counters {
        fetched: 300,
        created: 12,
        ..Default::default()
    };
    let written = runs::save_progress(
        &app.state.db,
        id,
        Some("the-old-worker"),
        "fetching materials page 36",
        81,
        &stale,
    )
    .await
    .unwrap();
    assert!(!written, "no progress is written once a run has ended");
    let unowned = runs::save_progress(&app.state.db, id, None, "late", 81, &stale)
        .await
        .unwrap();
    assert!(!unowned);
    let after = app.wait_for_run(&token, &run_id).await;
    assert_eq!(after, done, "the finished run is untouched");
    assert_eq!(after["progress"], 100);
    assert_eq!(after["stage"], "finished");
    // A worker whose run was taken over by another writes nothing either.
    let taken = runs::create(
        &app.state.db,
        runs::NewRun {
            account_id: app.account_id_of(&token).await,
            connection_id: conn,
            mode: entity::enums::RunMode::Incremental,
            trigger: entity::enums::RunTrigger::Cli,
            dry_run: false,
            params: json!({}),
            requested_by: None,
            status: entity::enums::RunStatus::Running,
        },
    )
    .await
    .unwrap();
    {
        use sea_orm::{ActiveModelTrait, Set};
        let mut a: entity::sync_run::ActiveModel = taken.clone().into();
        a.lease_owner = Set(Some("the-new-worker".into()));
        a.update(&app.state.db).await.unwrap();
    }
    let stale_owner = runs::save_progress(
        &app.state.db,
        taken.id,
        Some("the-old-worker"),
        "late",
        50,
        &stale,
    )
    .await
    .unwrap();
    assert!(!stale_owner, "the old owner's heartbeat lost the run");
    assert!(
        runs::save_progress(
            &app.state.db,
            taken.id,
            Some("the-new-worker"),
            "now",
            50,
            &stale
        )
        .await
        .unwrap()
    );
    // Nor is a lease renewed.
    let owner = "late-worker";
    let renewed = runs::heartbeat(&app.state.db, id, owner, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(renewed, None);
}

/// Log lines of this thread's tasks (the server under test runs on the test's runtime),
/// through the same scrubbing writer the binary installs.
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Every row of the tables an upstream's words can reach, as JSON text (both backends),
/// plus the SQLite files themselves.
async fn database_text(app: &TestApp) -> String {
    use sea_orm::{FromQueryResult, Statement};
    let db = &app.state.db;
    let mut out = String::new();
    for table in [
        "sync_runs",
        "sync_events",
        "audit_log",
        "item_links",
        "connections",
        "conflicts",
        "items",
    ] {
        let rows = sea_orm::JsonValue::find_by_statement(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT * FROM {table}"),
        ))
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
        out.push_str(&serde_json::to_string(&rows).unwrap());
    }
    if app.state.settings.database_url.is_none() {
        for entry in std::fs::read_dir(&app.state.settings.data_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains("pricebook.db") {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[tokio::test]
async fn upstream_echoed_secrets_never_reach_the_database_the_logs_or_the_api() {
    use pricebook_sync::connectors::servicetitan::{
        SANDBOX_APP_KEY, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET,
    };
    use pricebook_sync::sandbox::faults::FaultKind;
    let logs = CapturedLogs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("pricebook_sync=trace,info")
        .with_writer(pricebook_sync::redact::ScrubbingWriter(move || {
            sink.clone()
        }))
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let viewer = app
        .user_token("default", "viewer@a.test", entity::enums::Role::Viewer)
        .await;
    let account = app.account_id_of(&token).await;
    app.emulator().seed(
        &serde_json::from_value(json!({ "materials": 20, "equipment": 0, "services": 5 })).unwrap(),
    );
    let webhook_secret = "whsec-0f1e2d3c4b5a69788796a5b4";
    let mut answers: Vec<Value> = Vec::new();
    let created = app
        .gql(
            Some(&token),
            "mutation($s: JSON) { createConnection(input: { name: \"st\", provider: SERVICETITAN, config: { sandbox: true, maxRetries: 1 }, secrets: $s, startSync: false, pushOnSave: false }) { id } }",
            json!({ "s": {
                "clientId": SANDBOX_CLIENT_ID,
                "clientSecret": SANDBOX_CLIENT_SECRET,
                "appKey": SANDBOX_APP_KEY,
                "webhookSecret": webhook_secret,
            } }),
        )
        .await;
    let conn: i64 = created["data"]["createConnection"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .parse()
        .unwrap();
    answers.push(created);
    let ok = app
        .run_sync(conn, entity::enums::RunMode::Full, json!({}), false)
        .await;
    assert_eq!(
        ok.status,
        entity::enums::RunStatus::Succeeded,
        "{:?}",
        ok.error
    );

    // A listing answered with the request's headers echoed back.
    app.emulator().faults().push(FaultKind::EchoHeaders, 1);
    let started = app.start_sync(&token, conn, "FULL").await;
    let failed_id = started["run"]["id"].as_str().unwrap().to_owned();
    let failed = app.wait_for_run(&token, &failed_id).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("[redacted]") && error.contains("HTTP 400"),
        "the echo reached the run, masked: {error}"
    );

    // A push answered the same way (one record: read it, then write it).
    let item = app.item_by_code(account, "MAT-000001").await;
    answers.push(
        app.gql(
            Some(&token),
            "mutation($id: ID!) { updateItem(id: $id, input: { cost: \"42.5\" }) { id } }",
            json!({ "id": item.id.to_string() }),
        )
        .await,
    );
    let link = app
        .gql_ok(
            &token,
            "query($id: ID!) { item(id: $id) { links { remoteId entityType } } }",
            json!({ "id": item.id.to_string() }),
        )
        .await;
    let remote = link["item"]["links"][0]["remoteId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.emulator().faults().push(FaultKind::Latency(0), 1);
    app.emulator().faults().push(FaultKind::EchoHeaders, 1);
    app.run_sync(
        conn,
        entity::enums::RunMode::Entity,
        json!({ "entityTypes": ["materials"], "remoteIds": [remote] }),
        false,
    )
    .await;

    // A webhook with a wrong signature, and one without.
    for signature in [Some("t=1,sha256=00"), None] {
        let mut req = app
            .client
            .post(format!("{}/webhooks/{conn}", app.address))
            .body("{}");
        if let Some(s) = signature {
            req = req.header("x-pricebook-signature", s);
        }
        let r = req.send().await.unwrap();
        answers.push(json!({ "status": r.status().as_u16(), "body": r.text().await.unwrap() }));
    }

    // Everything a client can read about it, as an admin and as a viewer.
    let everything = "query($c: ID!, $r: ID!) {
        connections { edges { node { id name provider status config } } }
        syncRuns(connectionId: $c) { edges { node { id status stage error errorCode } } }
        syncRun(id: $r) { error stage events { edges { node { kind message details } } } }
        syncStatus(connectionId: $c) { lastError lastRun { error } }
        items { edges { node { code links { lastError } } } }
        reviewQueue { failed { edges { node { error remoteId } } } }
        auditLog { edges { node { action details } } }
    }";
    for who in [&token, &viewer] {
        let answer = app
            .gql(
                Some(who),
                everything,
                json!({ "c": conn.to_string(), "r": failed_id }),
            )
            .await;
        if who == &token {
            assert!(answer.get("errors").is_none(), "{answer}");
        }
        answers.push(answer);
    }
    let runs = app
        .gql_ok(
            &token,
            "query($c: ID!) { syncRuns(connectionId: $c) { edges { node { id } } } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    for run in runs["syncRuns"]["edges"].as_array().unwrap() {
        answers.push(
            app.gql(
                Some(&viewer),
                "query($r: ID!) { syncRun(id: $r) { error events(first: 100) { edges { node { message details } } } } }",
                json!({ "r": run["node"]["id"] }),
            )
            .await,
        );
        let sse = app
            .client
            .get(format!(
                "{}/api/sync/runs/{}/events",
                app.address,
                run["node"]["id"].as_str().unwrap()
            ))
            .bearer_auth(&viewer)
            .timeout(Duration::from_millis(500))
            .send()
            .await;
        if let Ok(r) = sse {
            let text = tokio::time::timeout(Duration::from_millis(500), r.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            answers.push(json!(text));
        }
    }

    let mut secrets: Vec<String> = vec![
        SANDBOX_CLIENT_ID.into(),
        SANDBOX_CLIENT_SECRET.into(),
        SANDBOX_APP_KEY.into(),
        webhook_secret.into(),
    ];
    let tokens = app.emulator().live_tokens();
    assert!(!tokens.is_empty());
    secrets.extend(tokens);
    let db = database_text(&app).await;
    let api = serde_json::to_string(&answers).unwrap();
    let logged = logs.text();
    assert!(logged.contains("[redacted]"), "the echo was logged, masked");
    for secret in &secrets {
        assert!(!db.contains(secret.as_str()), "{secret} is in the database");
        assert!(!logged.contains(secret.as_str()), "{secret} is in the logs");
        assert!(
            !api.contains(secret.as_str()),
            "{secret} is in an API answer"
        );
    }
}

/// `t=<unix>,id=<delivery>,sha256=<HMAC-SHA256 of "t.id.body">`, computed here from the
/// README's description rather than with the server's own helper.
fn webhook_signature(secret: &str, t: i64, id: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{id}.").as_bytes());
    mac.update(body);
    format!(
        "t={t},id={id},sha256={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn signed_webhooks_carry_a_timestamp_and_replays_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(
        &serde_json::from_value(json!({ "materials": 5, "equipment": 0, "services": 0 })).unwrap(),
    );
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let secret = "hook-secret-4567";
    app.gql_ok(&token, "mutation($c:ID!,$s:String!){ updateConnection(id:$c, input:{ secrets: { webhookSecret: $s } }) { id } }", json!({ "c": conn.to_string(), "s": secret })).await;
    let url = format!("{}/webhooks/{conn}", app.address);
    let body = br#"{"event":"pricebook.changed"}"#.to_vec();
    let post = |signature: String| {
        let req = app
            .client
            .post(&url)
            .header("x-pricebook-signature", signature)
            .body(body.clone());
        async move { req.send().await.unwrap() }
    };
    let runs = || async {
        app.gql_ok(&token, "{ syncRuns { totalCount } }", json!({}))
            .await["syncRuns"]["totalCount"]
            .as_i64()
            .unwrap()
    };
    let now = chrono::Utc::now().timestamp();

    let signed = webhook_signature(secret, now, "delivery-1", &body);
    let first = post(signed.clone()).await;
    assert_eq!(first.status(), 202);
    let answer: Value = first.json().await.unwrap();
    let run = app
        .wait_for_run(&token, answer["runId"].as_str().unwrap())
        .await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(runs().await, 1);

    // The same delivery again, after its run ended: refused, nothing started.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let replay = post(signed).await;
    assert_eq!(replay.status(), 401);
    assert!(replay.text().await.unwrap().contains("already received"));
    // Outside the five-minute window, either way, even with a fresh id.
    let now = chrono::Utc::now().timestamp();
    for (t, id) in [(now - 305, "delivery-2"), (now + 305, "delivery-3")] {
        let late = post(webhook_signature(secret, t, id, &body)).await;
        assert_eq!(late.status(), 401, "t = now {:+}", t - now);
        assert!(late.text().await.unwrap().contains("window"));
    }
    // The old format (no timestamp), and a timestamp changed after signing.
    let old = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    assert_eq!(post(old).await.status(), 401);
    let moved = webhook_signature(secret, now - 1000, "delivery-4", &body)
        .replace(&format!("t={}", now - 1000), &format!("t={now}"));
    assert_eq!(post(moved).await.status(), 401);
    assert_eq!(runs().await, 1, "only the first delivery started a run");

    // A new delivery is welcome.
    let next = post(webhook_signature(secret, now, "delivery-5", &body)).await;
    assert_eq!(next.status(), 202);
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_is_private_and_so_is_every_file_in_it() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let mut settings = pricebook_sync::config::Settings::for_dir(&data);
    settings.database_url = database_url(root.path()).await;
    settings.admin_email = Some(ADMIN_EMAIL.into());
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    let sqlite = settings.database_url.is_none();
    let app = pricebook_sync::app::Application::build(settings)
        .await
        .unwrap();
    let state = app.state.clone();
    // Write something, so SQLite has its -wal and -shm files.
    pricebook_sync::store::accounts::find_or_create(&state.db, "perms")
        .await
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data dir");
    let mut files: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["encryption.key", "jwt.secret"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    if sqlite {
        for expected in ["pricebook.db", "pricebook.db-wal", "pricebook.db-shm"] {
            assert!(names.iter().any(|n| n == expected), "{names:?}");
        }
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    drop(app);

    // A data dir and database left readable by an older version are made private.
    if sqlite {
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = data.join("pricebook.db");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut settings = pricebook_sync::config::Settings::for_dir(&data);
        settings.admin_email = Some(ADMIN_EMAIL.into());
        settings.admin_password = Some(ADMIN_PASSWORD.into());
        let again = pricebook_sync::app::Application::build(settings)
            .await
            .unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&db), 0o600);
        drop(again);
    }
}

#[tokio::test]
async fn stored_strings_and_searches_have_length_limits() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let id = seed_items(&app, account, 1).await[0].to_string();
    let bad = |body: &Value, what: &str| {
        let shown: String = body.to_string().chars().take(400).collect();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{what}: {shown}"
        );
    };
    let update =
        "mutation($id: ID!, $input: ItemInput!) { updateItem(id: $id, input: $input) { name } }";
    // A 5 MB name used to be stored, then failed every push with 413.
    for (input, what) in [
        (json!({ "name": "n".repeat(5_000_000) }), "a 5 MB name"),
        (json!({ "name": "n".repeat(256) }), "a 256-character name"),
        (
            json!({ "description": "d".repeat(10_001) }),
            "a long description",
        ),
    ] {
        bad(
            &app.gql(Some(&token), update, json!({ "id": id, "input": input }))
                .await,
            what,
        );
    }
    let fits = app
        .gql_ok(&token, update, json!({ "id": id, "input": { "name": "é".repeat(255), "description": "d".repeat(10_000) } }))
        .await;
    assert_eq!(
        fits["updateItem"]["name"].as_str().unwrap().chars().count(),
        255
    );

    // Searches: 49,999 characters used to answer INTERNAL ("pattern too complex").
    for query in [
        "query($s: String) { items(search: $s) { totalCount } }",
        "query($s: String) { conflicts(search: $s) { totalCount } }",
    ] {
        for n in [49_999, 201] {
            bad(
                &app.gql(Some(&token), query, json!({ "s": "x".repeat(n) }))
                    .await,
                query,
            );
        }
        let ok = app
            .gql(Some(&token), query, json!({ "s": "x".repeat(200) }))
            .await;
        assert!(ok.get("errors").is_none(), "{ok}");
    }

    // Connections, schedules, syncs, conflicts.
    let create = "mutation($n: String!, $c: JSON!) { createConnection(input: { name: $n, provider: SERVICETITAN, config: $c, startSync: false }) { id } }";
    bad(
        &app.gql(
            Some(&token),
            create,
            json!({ "n": "c".repeat(256), "c": { "sandbox": true } }),
        )
        .await,
        "connection name",
    );
    bad(
        &app.gql(
            Some(&token),
            create,
            json!({ "n": "st", "c": { "sandbox": true, "x": "y".repeat(70_000) } }),
        )
        .await,
        "connection config",
    );
    let conn = app
        .sandbox_connection(&token, "st", json!({}))
        .await
        .to_string();
    bad(
        &app.gql(
            Some(&token),
            "mutation($c: ID!, $s: JSON) { updateConnection(id: $c, input: { secrets: $s }) { id } }",
            json!({ "c": conn, "s": { "webhookSecret": "s".repeat(70_000) } }),
        )
        .await,
        "connection secrets",
    );
    bad(
        &app.gql(
            Some(&token),
            "mutation($c: ID!, $k: String) { setSchedule(connectionId: $c, incrementalCron: $k, enabled: true) { id } }",
            json!({ "c": conn, "k": "*".repeat(101) }),
        )
        .await,
        "cron",
    );
    let start = "mutation($c: ID!, $codes: [String!]!) { startSync(connectionId: $c, mode: ENTITY, entityTypes: [\"materials\"], codes: $codes) { run { id } } }";
    bad(
        &app.gql(
            Some(&token),
            start,
            json!({ "c": conn, "codes": ["c".repeat(101)] }),
        )
        .await,
        "a long code",
    );
    let many: Vec<String> = (0..1_001).map(|i| format!("C{i}")).collect();
    bad(
        &app.gql(Some(&token), start, json!({ "c": conn, "codes": many }))
            .await,
        "too many codes",
    );
    bad(
        &app.gql(
            Some(&token),
            "mutation($k: String) { resolveConflict(id: \"1\", resolution: USE_LOCAL, comment: $k) { id } }",
            json!({ "k": "k".repeat(2_001) }),
        )
        .await,
        "conflict comment",
    );
    bad(
        &app.gql(
            Some(&token),
            "mutation($v: String) { resolveConflict(id: \"1\", resolution: MERGED, fields: [{ field: \"description\", pick: CUSTOM, value: $v }]) { id } }",
            json!({ "v": "v".repeat(10_001) }),
        )
        .await,
        "a custom merge value",
    );
}

#[tokio::test]
async fn a_token_refused_at_30_percent_of_a_run_is_refreshed_not_fatal() {
    use pricebook_sync::sandbox::faults::FaultKind;
    use std::sync::atomic::Ordering;
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let emu = app.emulator();
    emu.seed(
        &serde_json::from_value(json!({ "materials": 3000, "equipment": 0, "services": 0 }))
            .unwrap(),
    );
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    // Estimates, categories and the first materials pages go through; then the token is
    // revoked upstream, and the request after the refresh is refused once more (a
    // revocation racing the refresh), before everything goes through again.
    emu.faults().push(FaultKind::Latency(0), 7);
    emu.faults().push(FaultKind::Unauthorized, 2);
    let run = app
        .run_sync(conn, entity::enums::RunMode::Full, json!({}), false)
        .await;
    assert_eq!(
        run.status,
        entity::enums::RunStatus::Succeeded,
        "{:?}",
        run.error
    );
    assert_eq!(run.created, 3000);
    assert_eq!(
        emu.stats().faults.load(Ordering::Relaxed),
        9,
        "every fault was met"
    );
}
