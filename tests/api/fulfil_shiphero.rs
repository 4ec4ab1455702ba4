//! The Fulfil → ShipHero route end to end: the real server, both emulators over loopback
//! HTTP, a real database. Full and incremental runs, idempotency, faults, per-product
//! errors, exact unit conversion, the create→update fallback and on-demand single SKUs.

use crate::helpers::*;
use entity::enums::{RunMode, RunStatus};
use pricebook_sync::connectors::shiphero::wire::{Dimensions, Product};
use pricebook_sync::sandbox::{fulfil, shiphero};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

impl TestApp {
    fn fulfil(&self) -> &fulfil::Emulator {
        &self.state.sandboxes.as_ref().expect("sandbox").fulfil
    }

    fn shiphero(&self) -> &shiphero::Emulator {
        &self.state.sandboxes.as_ref().expect("sandbox").shiphero
    }

    async fn connection(&self, token: &str, provider: &str, config: Value) -> Result<i64, Value> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = format!("{provider}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let body = self
            .gql(
                Some(token),
                "mutation($n:String!,$p:Provider!,$c:JSON!){ createConnection(input:{ name:$n, provider:$p, config:$c, startSync:false }) { id } }",
                json!({ "n": name, "p": provider, "c": config }),
            )
            .await;
        match body["data"]["createConnection"]["id"].as_str() {
            Some(id) => Ok(id.parse().unwrap()),
            None => Err(body),
        }
    }

    /// A Fulfil sandbox connection and a ShipHero route fed by it: (fulfil, route).
    async fn route(&self, token: &str) -> (i64, i64) {
        let source = self
            .connection(token, "FULFIL", json!({ "sandbox": true, "maxRetries": 4 }))
            .await
            .unwrap();
        let route = self
            .connection(
                token,
                "SHIPHERO",
                json!({ "sandbox": true, "source": source, "maxRetries": 4 }),
            )
            .await
            .unwrap();
        (source, route)
    }

    async fn fault(&self, provider: &str, body: Value) {
        let r = self
            .client
            .post(format!(
                "{}/sandbox/{provider}/_control/faults",
                self.address
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{provider} fault {body}");
    }

    async fn events_of(&self, run_id: i64) -> Vec<entity::sync_event::Model> {
        entity::sync_event::Entity::find()
            .filter(entity::sync_event::Column::RunId.eq(run_id))
            .all(&self.state.db)
            .await
            .unwrap()
    }
}

fn seed(app: &TestApp, products: usize) {
    app.fulfil().seed(&fulfil::SeedSpec { products });
}

fn dims(p: &Product) -> (String, String, String, String) {
    let d = &p.dimensions;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    (s(&d.weight), s(&d.length), s(&d.width), s(&d.height))
}

#[tokio::test]
async fn full_then_incremental_runs_write_each_change_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    seed(&app, 30);
    let (source, route) = app.route(&token).await;

    let first = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!(first.fetched, 30);
    assert_eq!(first.created, 30);
    assert_eq!(first.pushed, 30);
    assert_eq!(first.errors, 0);
    let ship = app.shiphero();
    assert_eq!(ship.products().len(), 30);
    assert_eq!(ship.stats().create.load(Ordering::Relaxed), 30);
    // Seeded product 1: 87 g as 0.087 kg, 11 × 5.5 × 2.6 cm.
    let item = app.item_by_code(account, "FUL-000001").await;
    assert_eq!(item.weight_kg.as_deref(), Some("0.087"));
    let p = ship.product("FUL-000001").unwrap();
    assert_eq!(
        dims(&p),
        ("0.1918".into(), "4.33".into(), "2.17".into(), "1.02".into())
    );

    // Nothing changed in Fulfil: zero ShipHero writes.
    ship.reset_stats();
    let again = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(again.status, RunStatus::Succeeded, "{:?}", again.error);
    assert_eq!(ship.stats().writes(), 0);
    assert_eq!(again.pushed, 0);
    // 30 unchanged bodies (plus the rows re-read in the overlap window, unchanged).
    assert!(again.skipped >= 30, "{}", again.skipped);
    assert!(
        again.fetched < 30,
        "incremental re-read everything: {}",
        again.fetched
    );

    // Two products change in Fulfil: each is written once, as an update.
    let f = app.fulfil();
    f.set_remote(3, &json!({ "name": "Renamed in Fulfil" }))
        .unwrap();
    f.set_remote(
        7,
        &json!({ "weight": 2, "weight_uom": "kg", "list_price": {"__class__": "Decimal", "decimal": "99.95"} }),
    )
    .unwrap();
    let changed = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(changed.status, RunStatus::Succeeded, "{:?}", changed.error);
    assert!(
        changed.fetched >= 2 && changed.fetched < 30,
        "{}",
        changed.fetched
    );
    assert_eq!(changed.updated, 2);
    assert_eq!(changed.pushed, 2);
    assert_eq!(ship.stats().update.load(Ordering::Relaxed), 2);
    assert_eq!(ship.stats().create.load(Ordering::Relaxed), 0);
    assert_eq!(
        ship.product("FUL-000003").unwrap().name.as_deref(),
        Some("Renamed in Fulfil")
    );
    assert_eq!(
        ship.product("FUL-000007")
            .unwrap()
            .dimensions
            .weight
            .as_deref(),
        Some("4.4092")
    );
    let price = app.item_by_code(account, "FUL-000007").await.price;
    assert_eq!(price.map(|m| m.to_string()).as_deref(), Some("99.9500"));

    // A price-only change in Fulfil updates the item but not the ShipHero body.
    ship.reset_stats();
    f.set_remote(
        9,
        &json!({ "list_price": {"__class__": "Decimal", "decimal": "1.00"} }),
    )
    .unwrap();
    let price_only = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(price_only.updated, 1);
    assert_eq!(ship.stats().writes(), 0);

    // The Fulfil connection's own cursor advanced: a run of it alone finds nothing new.
    let alone = app
        .run_sync(source, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(alone.status, RunStatus::Succeeded, "{:?}", alone.error);
    assert_eq!(alone.updated + alone.created, 0);
}

#[tokio::test]
async fn create_falls_back_to_update_when_the_sku_exists() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 3);
    app.shiphero().insert_remote(Product {
        sku: "FUL-000002".into(),
        name: Some("Made in ShipHero".into()),
        dimensions: Dimensions {
            weight: Some("9".into()),
            ..Default::default()
        },
        ..Default::default()
    });
    let (_, route) = app.route(&token).await;
    let run = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.pushed, 3);
    let stats = app.shiphero().stats();
    assert_eq!(stats.create_conflicts.load(Ordering::Relaxed), 1);
    assert_eq!(stats.update.load(Ordering::Relaxed), 1);
    assert_eq!(app.shiphero().products().len(), 3);
    let p = app.shiphero().product("FUL-000002").unwrap();
    assert_eq!(p.name.as_deref(), Some("Fulfil product 2"));
    assert_ne!(p.dimensions.weight.as_deref(), Some("9"));
    assert_eq!(run.summary["route"]["updatedUpstream"], 1);
    assert_eq!(run.summary["route"]["createdUpstream"], 2);
}

#[tokio::test]
async fn units_convert_exactly_with_the_stated_rounding() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 0);
    // (weight, unit, [length, width, height], unit) → (lb 4 dp, in 2 dp ×3), half-even.
    let cases = [
        (
            "1",
            "kg",
            ["10", "20", "30"],
            "cm",
            ["2.2046", "3.94", "7.87", "11.81"],
        ),
        (
            "500",
            "g",
            ["100", "250", "5"],
            "mm",
            ["1.1023", "3.94", "9.84", "0.20"],
        ),
        (
            "2",
            "lb",
            ["1", "0.5", "0.25"],
            "m",
            ["2.0000", "39.37", "19.69", "9.84"],
        ),
        (
            "0.45359237",
            "kg",
            ["2.54", "5.08", "7.62"],
            "cm",
            ["1.0000", "1.00", "2.00", "3.00"],
        ),
        (
            "16",
            "oz",
            ["12", "6", "0.5"],
            "in",
            ["1.0000", "12.00", "6.00", "0.50"],
        ),
        (
            "0.001",
            "kg",
            ["0.127", "0.381", "1"],
            "mm",
            ["0.0022", "0.00", "0.02", "0.04"],
        ),
    ];
    for (i, (w, wu, d, du, _)) in cases.iter().enumerate() {
        app.fulfil()
            .set_remote(
                100 + i as i64,
                &json!({
                    "code": format!("CONV-{i}"), "name": format!("conversion {i}"),
                    "weight": w.parse::<f64>().unwrap(), "weight_uom": wu,
                    "length": {"__class__": "Decimal", "decimal": d[0]},
                    "width": {"__class__": "Decimal", "decimal": d[1]},
                    "height": {"__class__": "Decimal", "decimal": d[2]},
                    "dimensions_uom": du,
                }),
            )
            .unwrap();
    }
    let (_, route) = app.route(&token).await;
    let run = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    for (i, (.., want)) in cases.iter().enumerate() {
        let p = app.shiphero().product(&format!("CONV-{i}")).unwrap();
        assert_eq!(
            dims(&p),
            (
                want[0].to_string(),
                want[1].to_string(),
                want[2].to_string(),
                want[3].to_string()
            ),
            "case {i}"
        );
    }
}

#[tokio::test]
async fn faults_on_both_sides_are_survived() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 40);
    let (_, route) = app.route(&token).await;
    app.fault(
        "fulfil",
        json!({ "kind": "429", "count": 1, "retryAfter": 1 }),
    )
    .await;
    app.fault("fulfil", json!({ "kind": "500", "count": 1 }))
        .await;
    app.fault("fulfil", json!({ "kind": "drop", "count": 1 }))
        .await;
    let run = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(app.fulfil().stats().faults.load(Ordering::Relaxed), 3);
    assert_eq!(app.shiphero().products().len(), 40);

    // ShipHero: an expired token, credit throttling (code 30), a 5xx.
    for (id, name) in [(1, "a"), (2, "b"), (3, "c")] {
        app.fulfil()
            .set_remote(id, &json!({ "name": name }))
            .unwrap();
    }
    app.shiphero().reset_stats();
    app.fault("shiphero", json!({ "kind": "401", "count": 1 }))
        .await;
    app.fault("shiphero", json!({ "kind": "30", "count": 2 }))
        .await;
    app.fault("shiphero", json!({ "kind": "500", "count": 1 }))
        .await;
    let run = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.pushed, 3);
    let stats = app.shiphero().stats();
    assert_eq!(
        stats.refresh.load(Ordering::Relaxed),
        1,
        "{}",
        stats.to_json()
    );
    assert_eq!(stats.throttled.load(Ordering::Relaxed), 2);
    for sku in ["FUL-000001", "FUL-000002", "FUL-000003"] {
        let name = app.shiphero().product(sku).unwrap().name.unwrap();
        assert_eq!(name.len(), 1, "{sku}: {name}");
    }

    // A real credit shortage: a tiny bucket that refills fast enough to finish.
    app.shiphero().set_credits(shiphero::CreditConfig {
        max: 20.0,
        refill_per_second: 20.0,
        query_cost: 1.0,
        mutation_cost: 10.0,
    });
    for id in 4..10 {
        app.fulfil()
            .set_remote(id, &json!({ "name": format!("n{id}") }))
            .unwrap();
    }
    app.shiphero().reset_stats();
    let run = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.pushed, 6);
    assert!(app.shiphero().stats().throttled.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn per_product_errors_are_recorded_and_the_run_goes_on() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 10);
    let long_sku = "X".repeat(70);
    app.fulfil()
        .set_remote(4, &json!({ "weight_uom": "stone" }))
        .unwrap();
    app.fulfil()
        .set_remote(5, &json!({ "code": long_sku }))
        .unwrap();
    let (_, route) = app.route(&token).await;
    let run = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.errors, 2);
    assert_eq!(run.pushed, 8);
    let events = app.events_of(run.id).await;
    let by_code = |code: &str| {
        events
            .iter()
            .find(|e| e.code.as_deref() == Some(code))
            .unwrap_or_else(|| panic!("no event for {code}: {events:?}"))
    };
    let stone = by_code("FUL-000004");
    assert_eq!(stone.kind, "convert_failed");
    assert!(stone.message.contains("stone"), "{}", stone.message);
    let long = by_code(&long_sku);
    assert_eq!(long.kind, "push_failed");
    assert!(long.message.contains("sku"), "{}", long.message);
    assert!(app.shiphero().product("FUL-000004").is_none());

    // Fixed in Fulfil: the next run sends it, and only it.
    app.fulfil()
        .set_remote(4, &json!({ "weight_uom": "kg" }))
        .unwrap();
    app.shiphero().reset_stats();
    let run = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(run.errors, 1, "the long SKU still fails");
    assert_eq!(run.pushed, 1);
    assert!(app.shiphero().product("FUL-000004").is_some());
}

#[tokio::test]
async fn one_sku_on_demand_through_the_job_queue_in_under_two_seconds() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 50);
    let (_, route) = app.route(&token).await;
    let full = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(full.status, RunStatus::Succeeded, "{:?}", full.error);
    app.fulfil()
        .set_remote(
            12,
            &json!({ "name": "Just this one", "weight": 1, "weight_uom": "kg" }),
        )
        .unwrap();
    app.fulfil()
        .set_remote(13, &json!({ "name": "Not this one" }))
        .unwrap();
    app.shiphero().reset_stats();
    let started = std::time::Instant::now();
    let d = app
        .gql_ok(
            &token,
            "mutation($c:ID!){ startSync(connectionId:$c, mode: ENTITY, codes:[\"FUL-000012\"]) { run { id } } }",
            json!({ "c": route.to_string() }),
        )
        .await;
    let run_id = d["startSync"]["run"]["id"].as_str().unwrap().to_owned();
    let done = app.wait_for_run(&token, &run_id).await;
    let elapsed = started.elapsed();
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert!(elapsed.as_secs_f64() < 2.0, "took {elapsed:?}");
    assert_eq!(done["counters"]["pushed"], 1);
    assert_eq!(app.shiphero().stats().writes(), 1);
    let p = app.shiphero().product("FUL-000012").unwrap();
    assert_eq!(p.name.as_deref(), Some("Just this one"));
    assert_eq!(p.dimensions.weight.as_deref(), Some("2.2046"));
    assert_eq!(
        app.shiphero()
            .product("FUL-000013")
            .unwrap()
            .name
            .as_deref(),
        Some("Fulfil product 13")
    );
}

#[tokio::test]
async fn a_route_needs_a_fulfil_source_in_the_same_account() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bad = app
        .connection(
            &token,
            "SHIPHERO",
            json!({ "sandbox": true, "source": "abc" }),
        )
        .await
        .unwrap_err();
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");

    let st = app.sandbox_connection(&token, "st", json!({})).await;
    let route = app
        .connection(&token, "SHIPHERO", json!({ "sandbox": true, "source": st }))
        .await
        .unwrap();
    let run = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("BAD_USER_INPUT"));
    assert!(
        run.error.as_deref().unwrap_or_default().contains("Fulfil"),
        "{:?}",
        run.error
    );

    let other = app
        .user_token("other", "o@example.com", entity::enums::Role::Admin)
        .await;
    let theirs = app
        .connection(&other, "FULFIL", json!({ "sandbox": true }))
        .await
        .unwrap();
    let route = app
        .connection(
            &token,
            "SHIPHERO",
            json!({ "sandbox": true, "source": theirs }),
        )
        .await
        .unwrap();
    let run = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(app.shiphero().products().len(), 0);
}

/// A ShipHero connection holding only a refresh token: it refreshes once, stores the
/// access token encrypted, a rebuilt connector (what a restart does) reuses it without
/// authenticating again, and a refused refresh makes the connection NEEDS_REAUTH.
#[tokio::test]
async fn shiphero_with_a_refresh_token_only_persists_its_access_token_and_needs_reauth_when_refused()
 {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    seed(&app, 3);
    let (_, route) = app.route(&token).await;
    let ship = app.shiphero();
    // The refresh token an operator copies from ShipHero's developer settings.
    let issued: Value = app
        .client
        .post(format!("{}/sandbox/shiphero/auth/token", app.address))
        .json(&json!({ "username": pricebook_sync::connectors::shiphero::SANDBOX_USERNAME, "password": pricebook_sync::connectors::shiphero::SANDBOX_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    app.gql_ok(
        &token,
        "mutation($id:ID!,$s:JSON!){ updateConnection(id:$id, input:{ secrets:$s }) { id } }",
        json!({ "id": route.to_string(), "s": { "refreshToken": refresh } }),
    )
    .await;
    ship.reset_stats();

    let first = app.run_sync(route, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!(
        ship.stats().token.load(Ordering::Relaxed),
        0,
        "no password login"
    );
    assert_eq!(ship.stats().refresh.load(Ordering::Relaxed), 1);
    let stored = stored_secrets(&app, route).await;
    assert!(stored["accessToken"].is_string(), "{stored}");
    assert!(stored["accessTokenExpiresAt"].is_i64(), "{stored}");
    assert_eq!(stored["refreshToken"], refresh.as_str());

    // A restart builds the connector again from the stored secrets: no new authentication.
    app.state.registry.forget(route);
    ship.reset_stats();
    let again = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(again.status, RunStatus::Succeeded, "{:?}", again.error);
    assert_eq!(ship.stats().token.load(Ordering::Relaxed), 0);
    assert_eq!(ship.stats().refresh.load(Ordering::Relaxed), 0);

    // The refresh token is revoked and the access token expires: the refresh is refused.
    ship.revoke_refresh_tokens();
    ship.expire_tokens();
    // A Fulfil change, so the run has something to write to ShipHero.
    app.fulfil()
        .set_remote(1, &json!({ "name": "renamed in Fulfil" }))
        .unwrap();
    app.state.registry.forget(route);
    let refused = app
        .run_sync(route, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(refused.status, RunStatus::Failed);
    assert_eq!(refused.error_code.as_deref(), Some("UPSTREAM_UNAUTHORIZED"));
    assert_eq!(
        ship.stats().token.load(Ordering::Relaxed),
        0,
        "no login without a password"
    );
    let conn = pricebook_sync::store::connections::get_unscoped(&app.state.db, route)
        .await
        .unwrap();
    assert_eq!(conn.health, entity::enums::ConnectionHealth::NeedsReauth);
}
