//! A route: a ShipHero connection whose `config.source` names a Fulfil connection of the
//! same account. A run on it (1) pulls Fulfil changes into `items` through the engine, as
//! a run of the Fulfil connection would (same cursors, same links), then (2) writes each
//! product the source feeds to ShipHero — `product_create`, or `product_update` when the
//! SKU exists — converted to pounds and inches. One way: ShipHero is never read back.
//!
//! Idempotent by payload hash: the ShipHero link of an item keeps the hash of the exact
//! write body last accepted, and an item whose body hashes the same is not sent again, so
//! a run with no Fulfil changes makes zero ShipHero writes. A product that cannot be
//! converted or that ShipHero refuses becomes an error event with its SKU; the run goes on.

use super::canonical;
use super::engine::{self, Outcome, RunSpec};
use super::progress::{Counters, Reporter, RunEvent};
use super::push::upstream_error;
use crate::connectors::fulfil;
use crate::connectors::registry::Registry;
use crate::connectors::shiphero::{self, ShipHero, map as ship_map, wire::ProductInput};
use crate::error::{AppError, AppResult};
use crate::record;
use crate::store::{self, Db, sync_state as state};
use entity::enums::{ItemKind, LinkStatus, Provider, RunMode};
use entity::{connection, item, item_link};
use futures::StreamExt;
use std::collections::HashMap;
use tokio_util::sync::CancellationToken;

/// Items examined per batch (one read of items and links, one write transaction).
const BATCH: u64 = 500;
/// Writes in flight at once: enough to keep ShipHero's credit bucket the limit.
const PUSH_CONCURRENCY: usize = 8;
const ENTITY: &str = "products";
/// Longest wait for a run of the source connection to end before this one starts.
const SOURCE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The source connection id of a route, when this connection is one.
pub fn source_of(conn: &connection::Model) -> Option<AppResult<i64>> {
    if conn.provider != Provider::ShipHero {
        return None;
    }
    let v = conn.config.get("source")?;
    if v.is_null() {
        return None;
    }
    Some(parse_source(v))
}

/// `config.source` as a connection id (a number or its decimal text).
pub fn parse_source(v: &serde_json::Value) -> AppResult<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::bad_input("config.source must be the id of a Fulfil connection"))
}

/// Maps a phase's own progress into a share of the run's, adding earlier counters.
struct Phase<'a> {
    inner: &'a dyn Reporter,
    from: i32,
    span: i32,
    before: Counters,
}

impl Reporter for Phase<'_> {
    fn progress(&self, stage: &str, percent: i32, counters: &Counters) {
        let mut total = self.before;
        total.add(counters);
        let percent = self.from + percent.clamp(0, 100) * self.span / 100;
        self.inner.progress(stage, percent.min(99), &total);
    }
}

pub async fn run(
    db: &Db,
    registry: &Registry,
    spec: &RunSpec,
    source_id: i64,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> AppResult<Outcome> {
    let source = store::connections::get(db, spec.account_id, source_id)
        .await
        .map_err(|_| {
            AppError::bad_input(format!(
                "config.source: no connection {source_id} in this account"
            ))
        })?;
    if source.provider != Provider::Fulfil {
        return Err(AppError::bad_input(format!(
            "config.source: connection {source_id} is {}, a route needs a Fulfil source",
            source.provider.as_str()
        )));
    }
    wait_for_source(db, source_id, cancel).await?;
    let target = registry.shiphero_for(db, &spec.connection).await?;
    let mut pulled = Outcome {
        counters: Counters::default(),
        summary: serde_json::json!({}),
    };
    if spec.mode != RunMode::Push {
        let source_connector = registry.connector_for(db, &source).await?;
        let pull = RunSpec {
            run_id: spec.run_id,
            account_id: spec.account_id,
            connection: source.clone(),
            mode: spec.mode,
            dry_run: spec.dry_run,
            entity_types: vec![fulfil::PRODUCTS.name.to_owned()],
            remote_ids: spec.remote_ids.clone(),
            codes: spec.codes.clone(),
            since: None,
            checkpoint: spec.checkpoint.clone(),
        };
        let phase = Phase {
            inner: reporter,
            from: 0,
            span: 60,
            before: Counters::default(),
        };
        pulled = engine::run(db, source_connector.as_ref(), &pull, &phase, cancel).await?;
    }
    let phase = Phase {
        inner: reporter,
        from: 60,
        span: 39,
        before: pulled.counters,
    };
    let push = RoutePush {
        db,
        target: &target,
        spec,
        source_id,
        reporter: &phase,
        cancel,
    };
    let pushed = push.run().await?;
    let mut counters = pulled.counters;
    counters.add(&pushed.counters);
    let mut summary = pulled.summary;
    if let Some(s) = summary.as_object_mut() {
        s.insert(
            "route".into(),
            serde_json::json!({
                "source": source_id,
                "createdUpstream": pushed.created,
                "updatedUpstream": pushed.updated,
                "unchanged": pushed.counters.skipped,
                "errors": pushed.counters.errors,
            }),
        );
    }
    Ok(Outcome { counters, summary })
}

/// A run of the source connection itself writes the same links and cursor: let it
/// finish first (bounded), rather than pull the same changes twice at once.
async fn wait_for_source(db: &Db, source_id: i64, cancel: &CancellationToken) -> AppResult<()> {
    let deadline = std::time::Instant::now() + SOURCE_WAIT;
    loop {
        let Some(active) = store::runs::active_for_connection(db, source_id).await? else {
            return Ok(());
        };
        if std::time::Instant::now() >= deadline {
            return Err(AppError::SyncInProgress { run_id: active.id });
        }
        if cancel.is_cancelled() {
            return Err(AppError::Cancelled("cancelled".into()));
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[derive(Default)]
struct Pushed {
    counters: Counters,
    created: u64,
    updated: u64,
}

struct RoutePush<'a> {
    db: &'a Db,
    target: &'a ShipHero,
    spec: &'a RunSpec,
    source_id: i64,
    reporter: &'a dyn Reporter,
    cancel: &'a CancellationToken,
}

/// One product to send: the item, its existing ShipHero link, the body and its hash.
struct Write {
    item: item::Model,
    link: Option<item_link::Model>,
    input: ProductInput,
    hash: String,
}

impl RoutePush<'_> {
    async fn run(&self) -> AppResult<Pushed> {
        let mut total = Pushed::default();
        if self.spec.mode == RunMode::Entity {
            let ids = self.single_record_items().await?;
            self.push_items(&ids, &mut total, 100).await?;
            return Ok(total);
        }
        let expected =
            store::route_links::count_source_links(self.db, self.source_id, ENTITY).await?;
        let mut after = 0;
        let mut seen = 0u64;
        loop {
            if self.cancel.is_cancelled() {
                return Err(AppError::Cancelled("cancelled while pushing".into()));
            }
            let links =
                store::route_links::source_links(self.db, self.source_id, ENTITY, after, BATCH)
                    .await?;
            let Some(last) = links.last() else {
                return Ok(total);
            };
            after = last.id;
            let ids: Vec<i64> = links.iter().map(|l| l.item_id).collect();
            seen += ids.len() as u64;
            let percent = (seen * 100 / expected.max(1)).min(100) as i32;
            self.push_items(&ids, &mut total, percent).await?;
        }
    }

    /// The items an ENTITY run names (by Fulfil id or by SKU).
    async fn single_record_items(&self) -> AppResult<Vec<i64>> {
        let mut ids: Vec<i64> =
            state::links_by_remote_ids(self.db, self.source_id, ENTITY, &self.spec.remote_ids)
                .await?
                .into_iter()
                .map(|l| l.item_id)
                .collect();
        if !self.spec.codes.is_empty() {
            ids.extend(
                state::items_by_codes(
                    self.db,
                    self.spec.account_id,
                    ItemKind::Product,
                    &self.spec.codes,
                )
                .await?
                .into_iter()
                .map(|i| i.id),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    fn event(&self, kind: &str, message: String, item: &item::Model) -> RunEvent {
        RunEvent::error(kind, message).for_record(Some(item.id), Some(&item.code), Some(&item.code))
    }

    /// Writes what changed among `item_ids`; `percent` is how far the phase will be after.
    async fn push_items(
        &self,
        item_ids: &[i64],
        total: &mut Pushed,
        percent: i32,
    ) -> AppResult<()> {
        let items = state::items_by_ids(self.db, self.spec.account_id, item_ids).await?;
        let mut links: HashMap<i64, item_link::Model> =
            state::links_of_items(self.db, self.spec.connection.id, item_ids)
                .await?
                .into_iter()
                .map(|l| (l.item_id, l))
                .collect();
        let mut counters = Counters::default();
        let mut events = Vec::new();
        let mut writes = Vec::new();
        for item in items {
            if item.deleted_at.is_some() {
                continue;
            }
            let link = links.remove(&item.id);
            if link.as_ref().is_some_and(|l| l.paused) {
                continue;
            }
            let input = match ship_map::to_input(&canonical::from_item(&item)) {
                Ok(i) => i,
                Err(e) => {
                    counters.errors += 1;
                    events.push(self.event("convert_failed", e, &item));
                    continue;
                }
            };
            let hash = ship_map::payload_hash(&input);
            if link.as_ref().and_then(|l| l.last_pushed_hash.as_deref()) == Some(hash.as_str()) {
                counters.skipped += 1;
                continue;
            }
            if self.spec.dry_run {
                counters.pushed += 1;
                continue;
            }
            writes.push(Write {
                item,
                link,
                input,
                hash,
            });
        }
        let results: Vec<(Write, _)> = futures::stream::iter(writes)
            .map(|w| async move {
                // Known products go straight to an update: one write per change.
                let answer = if w.link.is_some() {
                    self.target.update_or_create(&w.input).await
                } else {
                    self.target.upsert_product(&w.input).await
                };
                (w, answer)
            })
            .buffer_unordered(PUSH_CONCURRENCY)
            .collect()
            .await;
        let mut new_links = Vec::new();
        let mut changed_links = Vec::new();
        let mut stop = None;
        let now = chrono::Utc::now();
        for (w, answer) in results {
            match answer {
                Ok(done) => {
                    counters.pushed += 1;
                    if done.created {
                        total.created += 1;
                    } else {
                        total.updated += 1;
                    }
                    let base = ship_map::to_fields(&done.product);
                    let mut link = w.link.unwrap_or_else(|| self.new_link(&w.item, now));
                    link.remote_id = done.product.sku.clone();
                    link.base_hash = record::fields_hash(&base);
                    link.base = canonical::to_json(&base);
                    link.last_pushed_hash = Some(w.hash);
                    link.last_synced_at = Some(now);
                    link.sync_status = LinkStatus::Synced;
                    link.last_error = None;
                    link.attempts = 0;
                    link.updated_at = now;
                    if link.id == 0 {
                        new_links.push(link);
                    } else {
                        changed_links.push(link);
                    }
                }
                Err(e) if e.is_record_level() => {
                    counters.errors += 1;
                    events.push(self.event("push_failed", e.to_string(), &w.item));
                    if let Some(mut link) = w.link {
                        link.sync_status = LinkStatus::Error;
                        link.last_error = Some(e.to_string());
                        link.attempts += 1;
                        link.updated_at = now;
                        changed_links.push(link);
                    }
                }
                // Connection-wide trouble: keep what was written, then stop the run.
                Err(e) => stop = Some(e),
            }
        }
        if !self.spec.dry_run {
            let txn = crate::store::db::begin_write(self.db).await?;
            state::insert_links(&txn, new_links).await?;
            state::update_links(&txn, changed_links).await?;
            state::insert_events(
                &txn,
                self.spec.account_id,
                self.spec.connection.id,
                self.spec.run_id,
                events,
            )
            .await?;
            txn.commit().await?;
        }
        total.counters.add(&counters);
        self.reporter.progress(
            &format!(
                "writing products to ShipHero ({} sent)",
                total.counters.pushed
            ),
            percent,
            &total.counters,
        );
        match stop {
            Some(e) => Err(upstream_error(e)),
            None => Ok(()),
        }
    }

    fn new_link(&self, item: &item::Model, now: chrono::DateTime<chrono::Utc>) -> item_link::Model {
        item_link::Model {
            id: 0,
            account_id: self.spec.account_id,
            item_id: item.id,
            connection_id: self.spec.connection.id,
            entity_type: shiphero::PRODUCTS.name.to_owned(),
            remote_id: item.code.clone(),
            remote_modified_on: None,
            last_synced_at: Some(now),
            base: serde_json::json!({}),
            base_hash: String::new(),
            last_pushed_hash: None,
            push_started_hash: None,
            sync_status: LinkStatus::Synced,
            deleted_remotely: false,
            paused: false,
            last_seen_run_id: None,
            last_error: None,
            attempts: 0,
            updated_at: now,
        }
    }
}
