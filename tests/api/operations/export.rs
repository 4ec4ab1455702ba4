//! CSV exports of runs, run events, conflicts and the audit log: streamed, filtered like
//! the API, scoped to the account, formula cells made inert.

use super::status::synced;
use crate::helpers::*;
use crate::process::{ready, start};
use entity::enums::{Role, RunMode, RunStatus, RunTrigger};
use pricebook_sync::store;
use pricebook_sync::sync::progress::RunEvent;
use serde_json::json;

/// GET an export; (status, rows including the header).
async fn export(app: &TestApp, token: Option<&str>, path: &str) -> (u16, Vec<Vec<String>>) {
    let mut req = app.client.get(format!("{}/api/export/{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    if status != 200 {
        return (status, Vec::new());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_ref());
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (status, rows)
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

/// A finished run of the connection with these events (as the engine records them).
async fn run_with_events(db: &store::Db, account: i64, conn: i64, events: Vec<RunEvent>) -> i64 {
    let run = store::runs::create(
        db,
        store::runs::NewRun {
            account_id: account,
            connection_id: conn,
            mode: RunMode::Push,
            trigger: RunTrigger::Cli,
            dry_run: false,
            params: json!({}),
            requested_by: None,
            status: RunStatus::Succeeded,
        },
    )
    .await
    .unwrap();
    store::sync_state::insert_events(db, account, conn, run.id, events)
        .await
        .unwrap();
    run.id
}

#[tokio::test]
async fn exports_are_filtered_scoped_and_formula_safe() {
    let s = synced(6, 0, 0).await;
    s.conflict("materials", "MAT-000001", 0).await;
    let inc = s
        .app
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(inc.conflicts, 1);
    let hostile = [
        "=HYPERLINK(\"http://evil\",\"x\")",
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
    ];
    let run = run_with_events(
        &s.app.state.db,
        s.account,
        s.conn,
        hostile
            .iter()
            .map(|m| RunEvent::error("push_failed", *m).for_record(None, Some("77"), Some(m)))
            .chain([RunEvent::info("note", "plain text")])
            .collect(),
    )
    .await;

    // Run events of one run: every cell that starts like a formula is prefixed.
    let (status, rows) = export(
        &s.app,
        Some(&s.token),
        &format!("run-events.csv?runId={run}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        rows[0],
        [
            "id",
            "run_id",
            "connection_id",
            "created_at",
            "level",
            "kind",
            "item_id",
            "remote_id",
            "code",
            "message",
            "details"
        ]
    );
    let expected: Vec<String> = hostile
        .iter()
        .map(|m| format!("'{m}"))
        .chain(["plain text".to_owned()])
        .collect();
    assert_eq!(column(&rows, "message"), expected);
    assert_eq!(column(&rows, "code")[..4], expected[..4]);
    let (_, errors) = export(
        &s.app,
        Some(&s.token),
        &format!("run-events.csv?runId={run}&level=ERROR"),
    )
    .await;
    assert_eq!(errors.len(), 1 + 4);

    // Runs: the same rows as syncRuns with the same filter.
    for (query, filter) in [
        ("runs.csv", ""),
        ("runs.csv?mode=INCREMENTAL", "mode: INCREMENTAL"),
        ("runs.csv?entityType=materials", "entityType: \"materials\""),
    ] {
        let (_, rows) = export(&s.app, Some(&s.token), query).await;
        let d = s
            .app
            .gql_ok(
                &s.token,
                &format!("{{ syncRuns({filter} first: 500) {{ edges {{ node {{ id }} }} }} }}"),
                json!({}),
            )
            .await;
        let ids: Vec<String> = d["syncRuns"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(column(&rows, "id"), ids, "{query}");
    }

    // Conflicts and the audit log.
    let (_, conflicts) = export(&s.app, Some(&s.token), "conflicts.csv?status=OPEN").await;
    assert_eq!(column(&conflicts, "item_code"), ["MAT-000001"]);
    assert!(column(&conflicts, "fields")[0].contains("\"name\""));
    let (_, audit) = export(&s.app, Some(&s.token), "audit-log.csv").await;
    assert!(
        column(&audit, "action")
            .iter()
            .any(|a| a.starts_with("connection")),
        "{audit:?}"
    );

    // Viewers may export; other accounts see none of it; refusals are clear.
    let viewer = s
        .app
        .user_token("default", "viewer@a.test", Role::Viewer)
        .await;
    assert_eq!(export(&s.app, Some(&viewer), "runs.csv").await.0, 200);
    let other = s.app.user_token("other", "other@b.test", Role::Admin).await;
    for file in [
        "runs.csv",
        "run-events.csv",
        "conflicts.csv",
        "audit-log.csv",
    ] {
        let (status, rows) = export(&s.app, Some(&other), file).await;
        assert_eq!(status, 200);
        assert!(
            rows.len() == 1
                || file == "audit-log.csv"
                    && column(&rows, "actor").iter().all(|a| a == "other@b.test"),
            "{file}: {rows:?}"
        );
    }
    assert_eq!(export(&s.app, None, "runs.csv").await.0, 401);
    assert_eq!(
        export(&s.app, Some(&s.token), "runs.csv?stauts=FAILED")
            .await
            .0,
        400
    );
    assert_eq!(
        export(&s.app, Some(&s.token), "runs.csv?status=DONE")
            .await
            .0,
        400
    );
    assert_eq!(
        export(&s.app, Some(&s.token), "runs.csv?entityType=nope")
            .await
            .0,
        400
    );
    assert_eq!(export(&s.app, Some(&s.token), "items.csv").await.0, 404);
}

fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap()
}

/// 100,000 run events exported by a server in its own process: the body arrives in many
/// chunks while the server's peak memory grows by far less than the file it sends.
#[tokio::test]
async fn a_hundred_thousand_run_events_stream_in_bounded_memory() {
    const EVENTS: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path()).await;
    let server = start(dir.path(), url.as_deref(), 0);
    let client = reqwest::Client::new();
    ready(&client, &server.base).await;
    let token = crate::process::gql(
        &client,
        &server.base,
        None,
        "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
        json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
    )
    .await["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let conn: i64 = crate::process::gql(
        &client,
        &server.base,
        Some(&token),
        r#"mutation{ createConnection(input:{ name:"st", provider: SERVICETITAN, config:{ sandbox: true }, startSync: false }) { id } }"#,
        json!({}),
    )
    .await["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // The events go straight into the server's database.
    let db_url =
        url.unwrap_or_else(|| pricebook_sync::config::sqlite_url(&dir.path().join("pricebook.db")));
    let db = store::db::connect(&db_url).await.unwrap();
    let c = store::connections::get_unscoped(&db, conn).await.unwrap();
    let run = run_with_events(&db, c.account_id, conn, Vec::new()).await;
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(2_000) {
        let events = chunk
            .iter()
            .map(|i| {
                let mut e = RunEvent::error(
                    "push_failed",
                    format!(
                        "record {i}: upstream refused the price change; {}",
                        "x".repeat(120)
                    ),
                )
                .for_record(
                    None,
                    Some(&i.to_string()),
                    Some(&format!("MAT-{i:06}")),
                );
                e.details = json!({ "attempt": 1, "field": "price" });
                e
            })
            .collect();
        store::sync_state::insert_events(&db, c.account_id, conn, run, events)
            .await
            .unwrap();
    }

    // A small run to warm the server up with: its database connections, buffers and
    // allocator arenas are in place before the measuring starts, and a server that held
    // the whole file would still have to grow by the big file's size afterwards.
    let warm_up_run = run_with_events(&db, c.account_id, conn, Vec::new()).await;
    let warm_up_events = (0..5_000)
        .map(|i| RunEvent::error("push_failed", format!("warm-up {i}")))
        .collect();
    store::sync_state::insert_events(&db, c.account_id, conn, warm_up_run, warm_up_events)
        .await
        .unwrap();

    let pid = server.pid();
    let warm_up = format!(
        "{}/api/export/run-events.csv?runId={warm_up_run}",
        server.base
    );
    for _ in 0..2 {
        let res = client
            .get(&warm_up)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap();
    }
    let url = format!("{}/api/export/run-events.csv?runId={}", server.base, run);
    // What the server may keep besides one batch: on SQLite each pooled connection's page
    // cache (8 MB each, pool as in store::db::connect), filled as batches land on them.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let caches = if db_url.starts_with("sqlite") {
        (cores * 4).max(8) * (8 << 20)
    } else {
        0
    };
    let bound = caches + (16 << 20);
    let start_kb = peak_rss_kb(pid);
    let mut passes = Vec::new();
    for _ in 0..2 {
        // Start the peak afresh (Linux resets VmHWM when 5 is written to clear_refs).
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
        let before = peak_rss_kb(pid);
        let started = std::time::Instant::now();
        let mut res = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers().get("content-length").is_none(),
            "streamed, not buffered"
        );
        let (mut bytes, mut chunks, mut lines) = (0usize, 0usize, 0usize);
        while let Some(chunk) = res.chunk().await.unwrap() {
            bytes += chunk.len();
            chunks += 1;
            lines += chunk.iter().filter(|b| **b == b'\n').count();
        }
        let peak = peak_rss_kb(pid);
        println!(
            "exported {EVENTS} run events: {:.1} MB in {chunks} chunks, {:.2} s; server peak RSS {:.1} MB (+{:.1} MB during the export)",
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64(),
            peak as f64 / 1024.0,
            peak.saturating_sub(before) as f64 / 1024.0
        );
        assert_eq!(lines, EVENTS + 1, "header and every event");
        assert!(chunks > 50, "{chunks} chunks");
        passes.push((peak.saturating_sub(before) as usize * 1024, bytes));
    }
    let overall = (peak_rss_kb(pid).saturating_sub(start_kb) as usize) * 1024;
    let (_, bytes) = passes[0];
    assert!(
        bytes > 16 << 20,
        "the file ({bytes} bytes) is larger than what an export may hold"
    );
    assert!(
        overall < bound,
        "two exports of {bytes} bytes grew the server by {overall} bytes (bound {bound})"
    );
}
