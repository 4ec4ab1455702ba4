//! Dry runs are exact: for random local and remote edits, a dry run writes nothing, and
//! its counters equal those of the real run that follows on the same data; its summary
//! lists each record the real run pushes, with old → new values.
//!
//! One server for every case (a fresh account, connection and emulator per case) and a
//! modest number of cases, so this runs in the normal suite on both databases.

use crate::helpers::*;
use crate::price_safety::other_servicetitan;
use entity::enums::{ItemKind, RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use pricebook_sync::store::{self, connections::NewConnection};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Seeded records per case.
const RECORDS: usize = 6;

/// What happens to one synced record before the dry run.
#[derive(Debug, Clone)]
enum Edit {
    Nothing,
    LocalPrice(u32),
    LocalName,
    /// Edited locally, then set back to the synced value (still owed a push check).
    LocalRevert,
    RemotePrice(u32),
    BothPrice(u32, u32),
    /// Local renames, remote changes the price: disjoint fields.
    Disjoint(u32),
    BothSamePrice(u32),
    RemoteDelete,
    RemoteDeleteLocalChange(u32),
    /// Deactivated locally with a new price: outside an `activeOnly` filter here while
    /// still inside upstream.
    LocalDeactivate(u32),
}

fn edit() -> impl Strategy<Value = Edit> {
    let cents = 100u32..5_000;
    prop_oneof![
        2 => Just(Edit::Nothing),
        1 => cents.clone().prop_map(Edit::LocalPrice),
        1 => Just(Edit::LocalName),
        1 => Just(Edit::LocalRevert),
        1 => cents.clone().prop_map(Edit::RemotePrice),
        1 => (cents.clone(), cents.clone()).prop_map(|(l, r)| Edit::BothPrice(l, r + 5_000)),
        1 => cents.clone().prop_map(Edit::Disjoint),
        1 => cents.clone().prop_map(Edit::BothSamePrice),
        1 => Just(Edit::RemoteDelete),
        1 => cents.clone().prop_map(Edit::RemoteDeleteLocalChange),
        1 => cents.prop_map(Edit::LocalDeactivate),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    edits: Vec<Edit>,
    /// New upstream records meeting an unlinked local item with the same code; `true`:
    /// equal values.
    adoptions: Vec<bool>,
    policy: &'static str,
    auto_merge: bool,
    full: bool,
    /// The connection's sync policy (field ownership of price and name, local-edit rule,
    /// record filter).
    sync_policy: Value,
}

fn ownership() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        3 => Just("BOTH"),
        1 => Just("REMOTE_OWNS"),
        1 => Just("LOCAL_OWNS"),
        1 => Just("IGNORE"),
    ]
}

/// No filter, active records only, one record's code, or both: records outside are
/// neither pulled nor pushed, linked ones leaving it are unlinked.
fn record_filter() -> impl Strategy<Value = Value> {
    let code = (1..=RECORDS).prop_map(|k| json!(format!("MAT-{k:06}")));
    prop_oneof![
        3 => Just(json!({})),
        1 => Just(json!({ "activeOnly": true })),
        1 => code.clone().prop_map(|c| json!({ "codePattern": c })),
        1 => code.prop_map(|c| json!({ "codePattern": c, "activeOnly": true })),
    ]
}

fn sync_policy() -> impl Strategy<Value = Value> {
    (ownership(), ownership(), any::<bool>(), record_filter()).prop_map(
        |(price, name, keep, filter)| {
            json!({ "default": {
                "fields": { "price": price, "name": name },
                "localEdits": if keep { "KEEP_LOCAL" } else { "REFUSE" },
                "filter": filter,
            }})
        },
    )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        proptest::collection::vec(edit(), RECORDS),
        proptest::collection::vec(any::<bool>(), 0..=2),
        prop_oneof![
            Just("conflict"),
            Just("prefer_remote"),
            Just("prefer_local")
        ],
        any::<bool>(),
        any::<bool>(),
        sync_policy(),
    )
        .prop_map(
            |(edits, adoptions, policy, auto_merge, full, sync_policy)| Scenario {
                edits,
                adoptions,
                policy,
                auto_merge,
                full,
                sync_policy,
            },
        )
}

#[test]
fn a_dry_run_counts_exactly_what_the_real_run_then_does() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(TestApp::spawn());
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let case = AtomicUsize::new(0);
    let result = runner.run(&scenario(), |s| {
        let n = case.fetch_add(1, Ordering::Relaxed);
        rt.block_on(check(&app, n, s));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn money(cents: u32) -> entity::Money {
    entity::Money::new(rust_decimal::Decimal::new(i64::from(cents), 2))
}

async fn check(app: &TestApp, case: usize, s: Scenario) {
    let db = &app.state.db;
    let account = store::accounts::find_or_create(db, &format!("dry-run-{case}"))
        .await
        .unwrap()
        .id;
    let (emu, base) = other_servicetitan(&SeedSpec {
        materials: RECORDS,
        equipment: 0,
        services: 0,
        seed: 40 + case as u64,
    })
    .await;
    let conn = store::connections::create(
        db,
        &app.state.secrets,
        account,
        NewConnection {
            provider: entity::enums::Provider::ServiceTitan,
            name: "st".into(),
            config: json!({ "sandbox": true, "baseUrl": base, "requestsPerSecond": 1000, "maxRetries": 1 }),
            directions: json!({ "default": "both" }),
            secrets: None,
            time_zone: "UTC".into(),
            adoption_policy: s.policy.parse().unwrap(),
            // Dry runs are compared with the real run they precede: no edit pushes itself.
            push_on_save: false,
        },
    )
    .await
    .unwrap()
    .id;
    set_auto_merge(app, conn, s.auto_merge).await;
    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);

    let ids = emu.ids("materials");
    for (i, e) in s.edits.iter().enumerate() {
        let code = format!("MAT-{:06}", i + 1);
        let item = app.item_by_code(account, &code).await;
        let local = |patch: store::items::ItemPatch| async move {
            store::items::apply_local_edit(db, account, item.id, patch)
                .await
                .unwrap();
        };
        let price = |cents: u32| store::items::ItemPatch {
            price: Some(money(cents)),
            ..Default::default()
        };
        let remote_price = |cents: u32| {
            emu.set_remote(
                "materials",
                ids[i],
                &json!({ "price": f64::from(cents) / 100.0 }),
            )
            .unwrap();
        };
        match e {
            Edit::Nothing => {}
            Edit::LocalPrice(c) => local(price(*c)).await,
            Edit::LocalName => {
                local(store::items::ItemPatch {
                    name: Some(format!("Local {i}")),
                    ..Default::default()
                })
                .await
            }
            Edit::LocalRevert => {
                local(price(1)).await;
                local(store::items::ItemPatch {
                    price: item.price,
                    ..Default::default()
                })
                .await
            }
            Edit::RemotePrice(c) => remote_price(*c),
            Edit::BothPrice(l, r) => {
                local(price(*l)).await;
                remote_price(*r);
            }
            Edit::Disjoint(c) => {
                local(store::items::ItemPatch {
                    name: Some(format!("Local {i}")),
                    ..Default::default()
                })
                .await;
                remote_price(*c);
            }
            Edit::BothSamePrice(c) => {
                local(price(*c)).await;
                remote_price(*c);
            }
            Edit::RemoteDelete => {
                emu.delete_remote("materials", ids[i]);
            }
            Edit::RemoteDeleteLocalChange(c) => {
                local(price(*c)).await;
                emu.delete_remote("materials", ids[i]);
            }
            Edit::LocalDeactivate(c) => {
                local(store::items::ItemPatch {
                    active: Some(false),
                    ..price(*c)
                })
                .await
            }
        }
    }
    for (k, equal) in s.adoptions.iter().enumerate() {
        adoption(app, &base, account, k, *equal).await;
    }

    // Set after the edits: a policy applies to local edits made before it, too.
    set_sync_policy(app, conn, s.sync_policy.clone()).await;
    emu.reset_stats();
    let before = snapshot(app, account).await;
    let mode = if s.full {
        RunMode::Full
    } else {
        RunMode::Incremental
    };
    let dry = app.run_sync(conn, mode, json!({}), true).await;
    assert_eq!(dry.status, RunStatus::Succeeded, "{:?}", dry.error);
    assert_eq!(emu.stats().writes(), 0, "a dry run writes nothing upstream");
    assert_eq!(snapshot(app, account).await, before, "nor locally");

    let real = app.run_sync(conn, mode, json!({}), false).await;
    assert_eq!(real.status, RunStatus::Succeeded, "{:?}", real.error);
    let counters = |r: &entity::sync_run::Model| {
        json!({
            "fetched": r.fetched, "created": r.created, "updated": r.updated, "deleted": r.deleted,
            "pushed": r.pushed, "conflicts": r.conflicts, "skipped": r.skipped, "errors": r.errors,
            "autoMerged": r.summary["autoMerged"],
        })
    };
    assert_eq!(
        counters(&dry),
        counters(&real),
        "scenario {s:?}\ndry summary {}\nreal summary {}",
        dry.summary,
        real.summary
    );
    let listed = dry.summary["wouldPush"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed.len() as i64, real.pushed, "{}", dry.summary);
    for entry in &listed {
        assert!(entry["code"].is_string(), "{entry}");
        let changes = entry["changes"].as_array().unwrap();
        assert!(!changes.is_empty(), "{entry}");
        for c in changes {
            assert!(c.get("field").is_some() && c.get("old").is_some() && c.get("new").is_some());
            assert_ne!(c["old"], c["new"], "{entry}");
        }
    }
}

async fn set_auto_merge(app: &TestApp, conn: i64, auto_merge: bool) {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let c = store::connections::get_unscoped(&app.state.db, conn)
        .await
        .unwrap();
    let mut a = c.into_active_model();
    a.auto_merge_disjoint = Set(auto_merge);
    a.update(&app.state.db).await.unwrap();
}

async fn set_sync_policy(app: &TestApp, conn: i64, policy: Value) {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let c = store::connections::get_unscoped(&app.state.db, conn)
        .await
        .unwrap();
    let mut a = c.into_active_model();
    a.sync_policy = Set(policy);
    a.update(&app.state.db).await.unwrap();
}

/// A record created upstream after the last sync, and an unlinked local item with its code.
async fn adoption(app: &TestApp, base: &str, account: i64, k: usize, equal: bool) {
    let code = format!("ADOPT-{k}");
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created: Value = http
        .post(format!("{base}/tenant/1001/materials"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("ST-App-Key", "sandbox-app-key")
        .json(&json!({ "code": code, "displayName": format!("Adopted {k}"), "price": 12.5, "cost": 4.25 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["code"], code.as_str(), "{created}");
    let name = if equal {
        format!("Adopted {k}")
    } else {
        format!("Ours {k}")
    };
    let row = item_row(
        account,
        ItemKind::Material,
        code,
        name,
        Some(money(425)),
        Some(money(1250)),
        true,
    );
    entity::item::Entity::insert(row)
        .exec(&app.state.db)
        .await
        .unwrap();
}

/// Everything a run may write for an account, in a comparable form.
async fn snapshot(app: &TestApp, account: i64) -> Value {
    use entity::{conflict, item, item_link};
    let db = &app.state.db;
    json!({
        "items": rows::<item::Entity>(db, item::Column::AccountId, item::Column::Id, account).await,
        "links": rows::<item_link::Entity>(db, item_link::Column::AccountId, item_link::Column::Id, account).await,
        "conflicts": rows::<conflict::Entity>(db, conflict::Column::AccountId, conflict::Column::Id, account).await,
    })
}

/// An account's rows of one table in id order, printed.
async fn rows<E>(
    db: &sea_orm::DatabaseConnection,
    account_column: E::Column,
    id_column: E::Column,
    account: i64,
) -> String
where
    E: EntityTrait,
    E::Model: std::fmt::Debug,
{
    let rows = E::find()
        .filter(account_column.eq(account))
        .order_by_asc(id_column)
        .all(db)
        .await
        .unwrap();
    format!("{rows:?}")
}
