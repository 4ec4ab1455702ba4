//! `pricebook-sync backup` (a consistent online SQLite copy that restores) and
//! `pricebook-sync copy-db` (SQLite to an empty PostgreSQL, verified, and the next
//! incremental sync there writes nothing upstream).

use super::status::{Synced, synced_in};
use crate::helpers::*;
use crate::process::{ready, start};
use entity::enums::{RunMode, RunStatus};
use pricebook_sync::store;
use serde_json::json;
use std::path::Path;
use std::process::Output;

/// A synced app on SQLite whatever TEST_DATABASE_URL says.
async fn synced_on_sqlite(materials: usize) -> Synced {
    let app = TestApp::spawn_with(|s| s.database_url = None).await;
    synced_in(app, materials, 5, 5).await
}

async fn cli(data_dir: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_pricebook-sync"))
        .args(args)
        .env("PRICEBOOK_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run the binary")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn an_online_backup_is_consistent_and_restores() {
    let s = synced_on_sqlite(40).await;
    s.conflict("materials", "MAT-000003", 2).await;
    s.app
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    let data_dir = s.app.state.settings.data_dir.clone();
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("pricebook-backup.db");

    // While the server runs (and writes: a sync in the background).
    let busy = s.app.start_sync(&s.token, s.conn, "FULL").await;
    let done = cli(&data_dir, &["backup", "--out", file.to_str().unwrap()]).await;
    assert!(done.status.success(), "{}", text(&done));
    assert!(
        text(&done).contains("encryption.key"),
        "reminds of the keys"
    );
    s.app
        .wait_for_run(&s.token, busy["run"]["id"].as_str().unwrap())
        .await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = cli(&data_dir, &["backup", "--out", file.to_str().unwrap()]).await;
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );

    let copy = store::db::connect(&pricebook_sync::config::sqlite_url(&file))
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let check = copy
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");

    // Restore: the copy and the keys in a new data directory, served by the binary.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&file, restored.path().join("pricebook.db")).unwrap();
    for key in ["jwt.secret", "encryption.key"] {
        std::fs::copy(data_dir.join(key), restored.path().join(key)).unwrap();
    }
    let server = start(restored.path(), None, 0);
    let client = reqwest::Client::new();
    ready(&client, &server.base).await;
    let login = crate::process::gql(
        &client,
        &server.base,
        None,
        "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
        json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
    )
    .await;
    let token = login["login"]["token"].as_str().unwrap();
    let d = crate::process::gql(
        &client,
        &server.base,
        Some(token),
        "{ items(first: 0) { totalCount } conflicts(status: OPEN) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(d["items"]["totalCount"], 50);
    assert_eq!(d["conflicts"]["totalCount"], 1);
    // The copied secrets open with the copied key.
    let restored_db = store::db::connect(&pricebook_sync::config::sqlite_url(
        &restored.path().join("pricebook.db"),
    ))
    .await
    .unwrap();
    let conn = store::connections::get_unscoped(&restored_db, s.conn)
        .await
        .unwrap();
    assert_eq!(conn.name, "st");
}

#[tokio::test]
async fn backup_refuses_postgres() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        dir.path(),
        &[
            "backup",
            "--database-url",
            &base,
            "--out",
            dir.path().join("x.db").to_str().unwrap(),
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
}

/// A fresh PostgreSQL database next to TEST_DATABASE_URL (None without one).
async fn fresh_postgres() -> Option<String> {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        assert!(
            std::env::var("PRICEBOOK_REQUIRE_PG").as_deref() != Ok("1"),
            "PRICEBOOK_REQUIRE_PG=1 but TEST_DATABASE_URL is not set"
        );
        eprintln!("skipped: copy-db needs TEST_DATABASE_URL");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    database_url(dir.path()).await
}

#[tokio::test]
async fn copy_db_moves_a_synced_sqlite_database_to_postgres() {
    let Some(target) = fresh_postgres().await else {
        return;
    };
    // More rows than one read batch (1,000), so paging is exercised on both sides.
    let s = synced_on_sqlite(1_100).await;
    // History worth keeping: a conflict, a vendor price import, run events.
    s.conflict("materials", "MAT-000004", 3).await;
    let inc = s
        .app
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(inc.conflicts, 1);
    let csv = "SKU,Price,Vendor\nMAT-000001,1.25,CED\nMAT-000002,2.50,CED\n";
    let upload = s
        .app
        .client
        .post(format!("{}/graphql", s.app.address))
        .bearer_auth(&s.token)
        .header("x-pricebook-csrf", "1")
        .multipart(
            reqwest::multipart::Form::new()
                .text("operations", r#"{"query":"mutation($f:Upload!,$c:ID){ uploadCsv(file:$f, target: VENDOR_PRICES, connectionId:$c) { updated } }","variables":{"f":null,"c":"CONN"}}"#.replace("CONN", &s.conn.to_string()))
                .text("map", r#"{"0":["variables.f"]}"#)
                .part("0", reqwest::multipart::Part::text(csv).file_name("p.csv")),
        )
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(upload["data"]["uploadCsv"]["updated"], 2, "{upload}");

    let data_dir = s.app.state.settings.data_dir.clone();
    let copied = cli(&data_dir, &["copy-db", "--to", &target]).await;
    let out = text(&copied);
    assert!(copied.status.success(), "{out}");
    assert!(out.contains("every count and checksum matches"), "{out}");
    assert!(
        out.contains("item_links") && out.contains("sync_cursors"),
        "{out}"
    );

    // Checked again from here: the same counts and checksums on both sides.
    let target_db = store::db::connect(&target).await.unwrap();
    let source_sums = store::copy::checksums(&s.app.state.db).await.unwrap();
    let target_sums = store::copy::checksums(&target_db).await.unwrap();
    assert_eq!(source_sums, target_sums);
    assert_eq!(source_sums["items"].0, 1_110);

    // A second copy into the same database is refused.
    let refused = cli(&data_dir, &["copy-db", "--to", &target]).await;
    assert!(!refused.status.success());
    assert!(text(&refused).contains("not empty"), "{}", text(&refused));

    // The same deployment on PostgreSQL: the keys of the data dir, the same emulator.
    let on_pg = TestApp::spawn_with(|settings| {
        settings.database_url = Some(target.clone());
        settings.data_dir = data_dir.clone();
    })
    .await;
    on_pg.state.registry.set_sandbox_base(s.app.address.clone());
    s.app.emulator().reset_stats();
    let next = on_pg
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(next.status, RunStatus::Succeeded, "{:?}", next.error);
    assert_eq!(
        (next.created, next.updated, next.deleted, next.pushed),
        (0, 0, 0, 0),
        "{next:?}"
    );
    assert_eq!(
        s.app.emulator().stats().writes(),
        0,
        "nothing written upstream"
    );
    assert!(next.id > inc.id, "sequences continue after the copied ids");
    let d = on_pg
        .gql_ok(
            &s.token,
            "{ conflicts(status: OPEN) { totalCount } vendorPrices { totalCount } syncRuns { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(d["conflicts"]["totalCount"], 1);
    assert_eq!(d["vendorPrices"]["totalCount"], 2);
    assert!(d["syncRuns"]["totalCount"].as_i64().unwrap() >= 4);
}
