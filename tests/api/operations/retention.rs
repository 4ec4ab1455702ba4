//! Pruning run history: old runs and their events go; each connection's last successful
//! full run and anything a conflict, an audit entry, a vendor price or a feed points at
//! stay.

use super::status::synced;
use crate::helpers::*;
use entity::enums::{RunMode, RunStatus, RunTrigger};
use entity::{sync_event, sync_run};
use pricebook_sync::jobs::retention::prune_once;
use pricebook_sync::store;
use pricebook_sync::sync::progress::RunEvent;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

const AGE_DAYS: i64 = 90;

/// An ended run of `mode` with two events, finished `days_ago`.
async fn ended(
    app: &TestApp,
    account: i64,
    conn: i64,
    mode: RunMode,
    status: RunStatus,
    dry_run: bool,
    days_ago: i64,
) -> i64 {
    let run = store::runs::create(
        &app.state.db,
        store::runs::NewRun {
            account_id: account,
            connection_id: conn,
            mode,
            trigger: RunTrigger::Schedule,
            dry_run,
            params: json!({}),
            requested_by: None,
            status,
        },
    )
    .await
    .unwrap();
    store::sync_state::insert_events(
        &app.state.db,
        account,
        conn,
        run.id,
        vec![
            RunEvent::info("note", "first"),
            RunEvent::error("push_failed", "second"),
        ],
    )
    .await
    .unwrap();
    age(app, run.id, days_ago).await;
    run.id
}

async fn age(app: &TestApp, run_id: i64, days_ago: i64) {
    let at = chrono::Utc::now() - chrono::Duration::days(days_ago);
    sync_run::Entity::update_many()
        .col_expr(sync_run::Column::FinishedAt, Expr::value(at))
        .col_expr(sync_run::Column::QueuedAt, Expr::value(at))
        .filter(sync_run::Column::Id.eq(run_id))
        .exec(&app.state.db)
        .await
        .unwrap();
}

async fn exists(app: &TestApp, run_id: i64) -> bool {
    sync_run::Entity::find_by_id(run_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .is_some()
}

async fn events_of(app: &TestApp, run_id: i64) -> u64 {
    sync_event::Entity::find()
        .filter(sync_event::Column::RunId.eq(run_id))
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn pruning_keeps_what_is_pointed_at_and_the_last_full_run() {
    let s = synced(4, 0, 0).await;
    let (app, account, a) = (&s.app, s.account, s.conn);
    let b = app.sandbox_connection(&s.token, "second", json!({})).await;
    use RunMode::{CsvImport, Full, Incremental};
    use RunStatus::{Failed, Queued, Succeeded};

    // Connection A: the first sync (synced() ran it) and older history.
    let first_sync = sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(a))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    age(app, first_sync, 400).await;
    // Its `page_applied` event per listed page and its `schedule_enabled` (its schedule
    // went on when it succeeded).
    let first_sync_events = events_of(app, first_sync).await;
    assert!(first_sync_events > 1, "page events and schedule_enabled");
    let last_full = ended(app, account, a, Full, Succeeded, false, 200).await;
    let failed_full = ended(app, account, a, Full, Failed, false, 150).await;
    let dry_full = ended(app, account, a, Full, Succeeded, true, 140).await;
    let plain_old = ended(app, account, a, Incremental, Succeeded, false, 120).await;
    let recent = ended(app, account, a, Incremental, Succeeded, false, 10).await;
    let audited = ended(app, account, a, CsvImport, Succeeded, false, 300).await;
    store::audit::record_raw(
        &app.state.db,
        account,
        None,
        "cli",
        "csv.import",
        Some(("sync_run", audited.to_string())),
        json!({}),
    )
    .await
    .unwrap();
    let priced = ended(app, account, a, CsvImport, Succeeded, false, 300).await;
    let item = app.item_by_code(account, "MAT-000001").await;
    entity::vendor_price::ActiveModel {
        account_id: Set(account),
        item_id: Set(item.id),
        vendor: Set("CED".into()),
        vendor_sku: Set("C-1".into()),
        price: Set(entity::Money::new(rust_decimal::Decimal::ONE)),
        effective_date: Set(chrono::Utc::now().date_naive()),
        import_run_id: Set(Some(priced)),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    // A run that found a conflict (through the real engine), then aged.
    s.conflict("materials", "MAT-000002", 1).await;
    let with_conflict = app.run_sync(a, Incremental, json!({}), false).await;
    assert_eq!(with_conflict.conflicts, 1);
    age(app, with_conflict.id, 100).await;
    // A run still queued (never finished) from long ago.
    let queued = store::runs::create(
        &app.state.db,
        store::runs::NewRun {
            account_id: account,
            connection_id: b,
            mode: Incremental,
            trigger: RunTrigger::Schedule,
            dry_run: false,
            params: json!({}),
            requested_by: None,
            status: Queued,
        },
    )
    .await
    .unwrap()
    .id;
    sync_run::Entity::update_many()
        .col_expr(
            sync_run::Column::QueuedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(365)),
        )
        .filter(sync_run::Column::Id.eq(queued))
        .exec(&app.state.db)
        .await
        .unwrap();
    // Connection B: its only successful full run is old; it stays.
    let b_full = ended(app, account, b, Full, Succeeded, false, 500).await;
    // Many old runs: pruning goes in chunks.
    let mut bulk = Vec::new();
    for _ in 0..1_100 {
        bulk.push(ended(app, account, b, Incremental, Failed, false, 95).await);
    }

    let pruned = prune_once(
        &app.state.db,
        chrono::Utc::now(),
        chrono::Duration::days(AGE_DAYS),
    )
    .await
    .unwrap();
    for (run, kept, why) in [
        (first_sync, false, "an older successful full run"),
        (last_full, true, "A's last successful full run"),
        (failed_full, false, "a failed full run"),
        (dry_full, false, "a dry run is not a full sync"),
        (plain_old, false, "old and unreferenced"),
        (recent, true, "younger than the retention age"),
        (audited, true, "an audit entry points at it"),
        (priced, true, "a vendor price points at it"),
        (with_conflict.id, true, "a conflict points at it"),
        (queued, true, "not ended"),
        (b_full, true, "B's last successful full run"),
    ] {
        assert_eq!(exists(app, run).await, kept, "run {run}: {why}");
        if !kept {
            assert_eq!(events_of(app, run).await, 0, "events of run {run} go too");
        }
    }
    assert_eq!(
        events_of(app, last_full).await,
        2,
        "kept runs keep their events"
    );
    for run in [bulk[0], bulk[550], bulk[1_099]] {
        assert!(!exists(app, run).await);
    }
    assert_eq!(pruned.runs, 4 + 1_100);
    // Two events a pruned run, and the first sync's own.
    assert_eq!(pruned.events, 2 * (3 + 1_100) + first_sync_events);

    let again = prune_once(
        &app.state.db,
        chrono::Utc::now(),
        chrono::Duration::days(AGE_DAYS),
    )
    .await
    .unwrap();
    assert_eq!(again.runs, 0, "nothing left to prune");
}
