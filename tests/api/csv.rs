//! CSV imports over the real GraphQL multipart transport (reqwest multipart), against
//! the ServiceTitan emulator: costs pushed upstream, dry runs, row errors with exact
//! lines and columns, size limits, a 100,000-row file, failed pushes that stay pending,
//! vendor prices, roles, and the `import-csv` CLI.

use crate::helpers::*;
use entity::enums::{LinkStatus, Role, RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const RESULT: &str = "runId dryRun connectionId rows updated unchanged skusNotFound pushQueued errors { line column message } warnings { line column message } preview { key itemId code field old new }";

fn small() -> SeedSpec {
    serde_json::from_value(json!({ "materials": 20, "equipment": 0, "services": 5 })).unwrap()
}

/// POSTs `uploadCsv` as a GraphQL multipart request; returns the JSON body.
async fn upload(app: &TestApp, token: &str, file: impl Into<Vec<u8>>, vars: Value) -> Value {
    app.upload_csv(token, file.into(), RESULT, vars).await
}

async fn upload_ok(app: &TestApp, token: &str, file: impl Into<Vec<u8>>, vars: Value) -> Value {
    let body = upload(app, token, file, vars).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"]["uploadCsv"].clone()
}

/// A synced sandbox connection: (token, account id, connection id).
async fn synced(app: &TestApp, config: Value) -> (String, i64, i64) {
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    app.emulator().seed(&small());
    let conn = app.sandbox_connection(&token, "st", config).await;
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    (token, account, conn)
}

async fn link_of(app: &TestApp, item_id: i64) -> entity::item_link::Model {
    entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(item_id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

fn remote_cost(app: &TestApp, link: &entity::item_link::Model) -> f64 {
    app.emulator()
        .get_remote(&link.entity_type, link.remote_id.parse().unwrap())
        .expect("remote record")["cost"]
        .as_f64()
        .expect("cost")
}

fn cost_of(item: &entity::item::Model) -> String {
    item.cost.unwrap().display_amount().to_string()
}

#[tokio::test]
async fn seed_compatible_item_costs_import_pushes_costs_upstream() {
    let app = TestApp::spawn().await;
    let (token, account, conn) = synced(&app, json!({})).await;
    let third = app.item_by_code(account, "MAT-000003").await;
    let shouting_name = format!("  {}  ", third.name.to_uppercase());
    let csv = format!(
        "Part_Num,Trade_Cost\nMAT-000001,12.34\nMAT-000002,\"$1,234.50\"\nNO-SUCH-1,5\n\"{shouting_name}\",7.5\nNO-SUCH-1,6\n"
    );
    let r = upload_ok(
        &app,
        &token,
        csv,
        json!({ "connectionId": conn.to_string() }),
    )
    .await;
    assert_eq!(r["updated"], 3, "{r}");
    assert_eq!(r["skusNotFound"], json!(["NO-SUCH-1"]));
    assert_eq!(r["errors"], json!([]));
    assert_eq!(r["rows"], 5);
    assert_eq!(r["pushQueued"], true);
    assert_eq!(r["dryRun"], false);
    assert_eq!(
        r["warnings"],
        json!([{ "line": 6, "column": 1, "message": "duplicate Part_Num 'NO-SUCH-1' on lines 4 and 6: line 6 wins" }])
    );
    let run_id = r["runId"].as_str().expect("a run").to_owned();

    // Local costs changed at once, exactly.
    let first = app.item_by_code(account, "MAT-000001").await;
    assert_eq!(cost_of(&first), "12.34");
    assert!(first.local_modified_at.is_some());
    assert_eq!(
        cost_of(&app.item_by_code(account, "MAT-000002").await),
        "1234.5"
    );
    assert_eq!(
        cost_of(&app.item_by_code(account, "MAT-000003").await),
        "7.5"
    );

    // The run pushes them upstream in the background.
    let run = app.wait_for_run(&token, &run_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["counters"]["pushed"], 3, "{run}");
    assert_eq!(run["counters"]["updated"], 3, "{run}");
    assert_eq!(run["counters"]["fetched"], 5, "{run}");
    assert_eq!(run["progress"], 100);
    for (code, cost) in [
        ("MAT-000001", 12.34),
        ("MAT-000002", 1234.5),
        ("MAT-000003", 7.5),
    ] {
        let link = link_of(&app, app.item_by_code(account, code).await.id).await;
        assert_eq!(remote_cost(&app, &link), cost, "{code} upstream");
        assert_eq!(link.sync_status, LinkStatus::Synced, "{code}");
    }
    let d = app
        .gql_ok(
            &token,
            "query($id: ID!) { syncRun(id: $id) { mode trigger } syncRuns(mode: CSV_IMPORT) { totalCount } auditLog { edges { node { action } } } }",
            json!({ "id": run_id }),
        )
        .await;
    assert_eq!(d["syncRun"]["mode"], "CSV_IMPORT");
    assert_eq!(d["syncRun"]["trigger"], "USER");
    assert_eq!(d["syncRuns"]["totalCount"], 1);
    assert!(
        d["auditLog"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["action"] == "csv.import"),
        "{d}"
    );

    // Importing the same file again changes nothing and pushes nothing.
    let again = upload_ok(
        &app,
        &token,
        "Part_Num,Trade_Cost\nMAT-000001,12.34\nMAT-000002,1234.50\n",
        json!({ "connectionId": conn.to_string() }),
    )
    .await;
    assert_eq!(
        (again["updated"].as_i64(), again["unchanged"].as_i64()),
        (Some(0), Some(2))
    );
    assert_eq!(again["pushQueued"], false);
    let run = app
        .wait_for_run(&token, again["runId"].as_str().unwrap())
        .await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["counters"]["pushed"], 0);
}

#[tokio::test]
async fn a_dry_run_previews_old_and_new_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (token, account, conn) = synced(&app, json!({})).await;
    let before = app.item_by_code(account, "MAT-000001").await;
    let link = link_of(&app, before.id).await;
    let remote_before = remote_cost(&app, &link);
    let runs_before = entity::sync_run::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    let r = upload_ok(
        &app,
        &token,
        "sku,cost\nMAT-000001,99.99\nMAT-000002,abc\nGHOST,1\n",
        json!({ "connectionId": conn.to_string(), "dryRun": true }),
    )
    .await;
    assert_eq!(r["dryRun"], true);
    assert_eq!(r["runId"], Value::Null);
    assert_eq!(r["updated"], 1);
    assert_eq!(r["skusNotFound"], json!(["GHOST"]));
    assert_eq!(
        r["errors"],
        json!([{ "line": 3, "column": 2, "message": "cost 'abc' is not an amount" }])
    );
    assert_eq!(
        r["preview"],
        json!([{ "key": "MAT-000001", "itemId": before.id.to_string(), "code": "MAT-000001", "field": "cost", "old": cost_of(&before), "new": "99.99" }])
    );
    let after = app.item_by_code(account, "MAT-000001").await;
    assert_eq!(after, before, "a dry run writes nothing");
    assert_eq!(link_of(&app, before.id).await, link);
    assert_eq!(remote_cost(&app, &link), remote_before);
    let runs_after = entity::sync_run::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(runs_after, runs_before);
}

#[tokio::test]
async fn malformed_input_is_reported_by_line_and_column_and_the_rest_imports() {
    let app = TestApp::spawn().await;
    let (token, account, conn) = synced(&app, json!({})).await;
    let conn = conn.to_string();
    // Windows-1252 bytes, semicolons, decimal commas, quotes, CRLF and blank lines (line 1
    // is blank, the header is line 2), a bad row of each kind, and a duplicate.
    let mut file = b"\r\nArticle;Item Code ; Unit_Cost\r\n".to_vec();
    file.extend_from_slice(b"x;MAT-000001;\"1.234,50\"\r\n");
    file.extend_from_slice(b"\r\n");
    file.extend_from_slice(b"y;MAT-000002;12,5 \xE2\r\n"); // stray byte: not UTF-8 at all
    file.extend_from_slice(b"z;;3\r\n");
    file.extend_from_slice(b"w;MAT-000003;-4\r\n");
    file.extend_from_slice(b"v;MAT-000004;\r\n");
    file.extend_from_slice(b"u;MAT-000005;\"$ 7.00\"\r\n");
    file.extend_from_slice(b"t;MAT-000005;8\r\n");
    // The push waits on a slow upstream, so the run is still active for the next upload.
    app.emulator().faults().push(
        pricebook_sync::sandbox::faults::FaultKind::Latency(1_500),
        1,
    );
    let r = upload_ok(&app, &token, file, json!({ "connectionId": conn })).await;
    assert_eq!(
        r["errors"],
        json!([
            { "line": 5, "column": 3, "message": "Unit_Cost '12,5 â' is not an amount" },
            { "line": 6, "column": 2, "message": "Item Code is empty" },
            { "line": 7, "column": 3, "message": "Unit_Cost '-4' is negative; amounts cannot be negative" },
            { "line": 8, "column": 3, "message": "Unit_Cost is empty" },
        ]),
        "{r}"
    );
    assert_eq!(
        r["warnings"],
        json!([
            { "line": null, "column": null, "message": "the file is not UTF-8; read it as windows-1252" },
            { "line": null, "column": null, "message": "the file writes decimals both with '.' (line 9 '$ 7.00') and with ',' (line 3 '1.234,50'); amounts that could be read either way are refused — set decimalSeparator" },
            { "line": 10, "column": 2, "message": "duplicate Item Code 'MAT-000005' on lines 9 and 10: line 10 wins" },
        ])
    );
    assert_eq!(r["updated"], 2);
    assert_eq!(
        cost_of(&app.item_by_code(account, "MAT-000001").await),
        "1234.5"
    );
    assert_eq!(cost_of(&app.item_by_code(account, "MAT-000005").await), "8");

    // While that push runs, another import on the connection is refused whole: atomic,
    // nothing of it applied.
    let mapped = "Cost,Ref,New Cost\n1,MAT-000006,2.25\n";
    let vars = json!({ "connectionId": conn, "mapping": { "sku": "Ref", "cost": "New Cost" } });
    let before = app.item_by_code(account, "MAT-000006").await;
    let busy = upload(&app, &token, mapped, vars.clone()).await;
    assert_eq!(error_code(&busy), "SYNC_IN_PROGRESS", "{busy}");
    assert_eq!(busy["errors"][0]["extensions"]["runId"], r["runId"]);
    assert_eq!(app.item_by_code(account, "MAT-000006").await, before);
    let run = app.wait_for_run(&token, r["runId"].as_str().unwrap()).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["counters"]["pushed"], 2, "{run}");
    assert_eq!(run["counters"]["errors"], 4, "row errors count: {run}");

    // An explicit mapping beats the aliases.
    let r = upload_ok(&app, &token, mapped, vars).await;
    assert_eq!(r["updated"], 1, "{r}");
    assert_eq!(
        cost_of(&app.item_by_code(account, "MAT-000006").await),
        "2.25"
    );

    // Whole-file problems are clean BAD_USER_INPUT errors.
    for (file, mapping, needle) in [
        ("", Value::Null, "empty"),
        ("\n\n", Value::Null, "empty"),
        ("sku,cost\n", Value::Null, "no data rows"),
        ("foo,bar\n1,2\n", Value::Null, "no usable header"),
        ("sku,qty\nA,1\n", Value::Null, "no cost column"),
        (
            "sku,cost\nA,1\n",
            json!({ "sku": "Part" }),
            "mapping: column 'Part'",
        ),
        ("sku,cost\nA,1\n", json!({ "colour": "x" }), "unknown field"),
        ("sku,cost\nA,1\n", json!("sku"), "JSON object"),
    ] {
        let body = upload(
            &app,
            &token,
            file,
            json!({ "connectionId": conn, "mapping": mapping }),
        )
        .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{file:?}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{file:?}: {message}");
    }
}

#[tokio::test]
async fn files_over_the_size_limit_are_refused() {
    let app = TestApp::spawn().await;
    let (token, _, conn) = synced(&app, json!({})).await;
    let limit = pricebook_sync::sync::csv::import::MAX_FILE_BYTES;
    let mut file = b"sku,cost\n".to_vec();
    let row = b"MAT-000001,1.00\n";
    while file.len() <= limit {
        file.extend_from_slice(row);
    }
    let body = upload(
        &app,
        &token,
        file,
        json!({ "connectionId": conn.to_string() }),
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 16 MB"),
        "{body}"
    );
}

#[tokio::test]
async fn a_failed_push_leaves_items_pending_and_a_later_sync_pushes_them() {
    let app = TestApp::spawn().await;
    let (token, account, conn) = synced(&app, json!({ "maxRetries": 1 })).await;
    let item = app.item_by_code(account, "MAT-000004").await;
    let link = link_of(&app, item.id).await;
    let remote_before = remote_cost(&app, &link);
    // Every upstream call fails with 500 (after the client's retries).
    app.emulator().faults().push(
        pricebook_sync::sandbox::faults::FaultKind::ServerError,
        1_000,
    );
    let r = upload_ok(
        &app,
        &token,
        "sku,cost\nMAT-000004,42.42\n",
        json!({ "connectionId": conn.to_string() }),
    )
    .await;
    let run = app.wait_for_run(&token, r["runId"].as_str().unwrap()).await;
    assert_eq!(run["status"], "FAILED", "{run}");
    assert_eq!(run["errorCode"], "UPSTREAM_ERROR");
    assert_eq!(
        run["counters"]["updated"], 1,
        "the import's own figures stay: {run}"
    );
    // Nothing lost: the local cost stands and the link still owes the push.
    assert_eq!(
        cost_of(&app.item_by_code(account, "MAT-000004").await),
        "42.42"
    );
    assert_eq!(
        link_of(&app, item.id).await.sync_status,
        LinkStatus::PendingPush
    );
    assert_eq!(remote_cost(&app, &link), remote_before);

    app.emulator().faults().clear();
    let later = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(later.status, RunStatus::Succeeded, "{:?}", later.error);
    assert_eq!(later.pushed, 1);
    assert_eq!(remote_cost(&app, &link), 42.42);
    assert_eq!(link_of(&app, item.id).await.sync_status, LinkStatus::Synced);
}

#[tokio::test]
async fn vendor_prices_are_local_upserted_and_survive_remote_deletes() {
    let app = TestApp::spawn().await;
    let (token, account, conn) = synced(&app, json!({})).await;
    let writes_before = app.emulator().stats().writes();
    let csv = "SKU,Vendor,Vendor SKU,Price,Effective Date\n\
               MAT-000001,Acme,AC-1,$2.50,2026-12-01\n\
               MAT-000001,Acme,AC-1,2.75,2027-01-01\n\
               MAT-000002,Ferguson,F-2,\"1,200\",2026-12-01\n\
               MAT-000003,Acme,AC-3,oops,2026-12-01\n\
               UNKNOWN,Acme,AC-9,1,2026-12-01\n";
    let r = upload_ok(
        &app,
        &token,
        csv,
        json!({ "target": "VENDOR_PRICES", "connectionId": conn.to_string() }),
    )
    .await;
    assert_eq!(r["updated"], 3, "{r}");
    assert_eq!(r["skusNotFound"], json!(["UNKNOWN"]));
    assert_eq!(
        r["errors"],
        json!([{ "line": 5, "column": 4, "message": "Price 'oops' is not an amount" }])
    );
    assert_eq!(r["pushQueued"], false);
    let run_id = r["runId"].as_str().unwrap().to_owned();
    let run = app.wait_for_run(&token, &run_id).await;
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["counters"]["pushed"], 0);
    assert_eq!(
        app.emulator().stats().writes(),
        writes_before,
        "vendor prices are never pushed"
    );

    let first = app.item_by_code(account, "MAT-000001").await;
    let d = app
        .gql_ok(
            &token,
            "query($id: ID) { vendorPrices(itemId: $id) { totalCount edges { node { vendor vendorSku price effectiveDate importRunId } } } }",
            json!({ "id": first.id.to_string() }),
        )
        .await;
    assert_eq!(d["vendorPrices"]["totalCount"], 2, "{d}");
    let prices: Vec<&str> = d["vendorPrices"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["price"].as_str().unwrap())
        .collect();
    assert_eq!(prices, vec!["2.5", "2.75"]);
    assert_eq!(d["vendorPrices"]["edges"][0]["node"]["importRunId"], run_id);

    // Same file again: unchanged; a new price for one row: updated in place.
    let r = upload_ok(
        &app,
        &token,
        "sku,vendor,vendor sku,price,effective date\nMAT-000001,Acme,AC-1,3.00,2026-12-01\nMAT-000002,Ferguson,F-2,1200,2026-12-01\n",
        json!({ "target": "VENDOR_PRICES", "connectionId": conn.to_string() }),
    )
    .await;
    assert_eq!(
        (r["updated"].as_i64(), r["unchanged"].as_i64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(
        r["preview"][0],
        json!({ "key": "MAT-000001", "itemId": first.id.to_string(), "code": "MAT-000001", "field": "vendorPrice", "old": "2.5", "new": "3" })
    );

    // The item goes away upstream; its vendor prices stay.
    let link = link_of(&app, first.id).await;
    assert!(
        app.emulator()
            .delete_remote("materials", link.remote_id.parse().unwrap())
    );
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.deleted, 1);
    let left = entity::vendor_price::Entity::find()
        .filter(entity::vendor_price::Column::ItemId.eq(first.id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, 2);
}

#[tokio::test]
async fn a_hundred_thousand_row_file_imports() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let n = 100_000;
    pricebook_sync::bench::fixtures::seed_local_items(&app.state.db, account, n)
        .await
        .unwrap();
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let file = pricebook_sync::bench::fixtures::vendor_price_file(n);
    let started = std::time::Instant::now();
    let r = upload_ok(
        &app,
        &token,
        file,
        json!({ "target": "VENDOR_PRICES", "connectionId": Value::Null }),
    )
    .await;
    eprintln!(
        "100,000 vendor prices imported in {:.2} s (debug build)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(r["errors"], json!([]), "{}", r["errors"]);
    assert_eq!(r["updated"], n);
    assert_eq!(r["connectionId"], conn.to_string());
    let stored = entity::vendor_price::Entity::find()
        .filter(entity::vendor_price::Column::AccountId.eq(account))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, n as u64);
}

#[tokio::test]
async fn viewers_cannot_import_and_other_accounts_items_are_not_matched() {
    let app = TestApp::spawn().await;
    let (token, _, conn) = synced(&app, json!({})).await;
    let viewer = app
        .user_token("default", "viewer@a.test", Role::Viewer)
        .await;
    let body = upload(
        &app,
        &viewer,
        "sku,cost\nMAT-000001,1\n",
        json!({ "connectionId": conn.to_string() }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Another account's editor cannot reach this connection, nor match its items.
    let other = app.user_token("other", "editor@b.test", Role::Editor).await;
    let body = upload(
        &app,
        &other,
        "sku,cost\nMAT-000001,1\n",
        json!({ "connectionId": conn.to_string() }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = upload(&app, &other, "sku,cost\nMAT-000001,1\n", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let _ = token;
}

#[tokio::test]
async fn the_import_csv_command_prints_the_seed_json_and_pushes() {
    let app = TestApp::spawn().await;
    let (token, account, _) = synced(&app, json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("costs.csv");
    std::fs::write(
        &file,
        "Part_Num,Trade_Cost\nMAT-000007,3.21\nNOPE,1\nMAT-000008,x\n",
    )
    .unwrap();
    // Not std::process: the server under test shares this runtime and must keep serving
    // the emulator while the command pushes to it.
    let cli = |args: Vec<&str>| {
        let settings = &app.state.settings;
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_pricebook-sync"));
        cmd.arg("import-csv")
            .arg("--data-dir")
            .arg(&settings.data_dir)
            .arg("--database-url")
            .arg(settings.resolved_database_url())
            .arg("--public-url")
            .arg(&app.address)
            .args(args)
            .env("RUST_LOG", "warn");
        async move { cmd.output().await.expect("run the binary") }
    };
    let path = file.to_str().unwrap();
    let dry = cli(vec![path, "--connection", "st", "--dry-run"]).await;
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let out: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(out["updated"], 1);
    assert_eq!(out["run_id"], Value::Null);
    assert_ne!(
        cost_of(&app.item_by_code(account, "MAT-000007").await),
        "3.21"
    );

    let done = cli(vec![path, "--connection", "st"]).await;
    assert!(
        done.status.success(),
        "{} {}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
    let out: Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(out["updated"], 1, "{out}");
    assert_eq!(out["skus_not_found"], json!(["NOPE"]));
    assert_eq!(
        out["errors"],
        json!([{ "line": 4, "column": 2, "message": "Trade_Cost 'x' is not an amount" }])
    );
    assert_eq!(out["run_status"], "succeeded", "{out}");
    assert_eq!(out["pushed"], 1);
    let item = app.item_by_code(account, "MAT-000007").await;
    assert_eq!(cost_of(&item), "3.21");
    assert_eq!(remote_cost(&app, &link_of(&app, item.id).await), 3.21);
    let run = app.wait_for_run(&token, &out["run_id"].to_string()).await;
    assert_eq!(run["trigger"], "CLI");

    // Nothing applicable: non-zero exit, same JSON shape.
    std::fs::write(&file, "Part_Num,Trade_Cost\nNOPE,1\n").unwrap();
    let none = cli(vec![path, "--connection", "st"]).await;
    assert!(!none.status.success());
    let out: Value = serde_json::from_slice(&none.stdout).unwrap();
    assert_eq!(
        (out["updated"].as_i64(), out["skus_not_found"].clone()),
        (Some(0), json!(["NOPE"]))
    );
    std::fs::write(&file, "no,header\n").unwrap();
    let bad = cli(vec![path, "--connection", "st"]).await;
    assert!(!bad.status.success());
    let out: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert!(
        out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no usable header")
    );
}
