//! Drives one run: list every entity type (categories first, the rest in parallel),
//! apply each page in one transaction with its checkpoint, then — only when every
//! listing completed — apply remote deletions, then push local changes.

use super::apply::{self, Direction, PageContext, PageOutcome};
use super::diff::Category;
use super::progress::{Counters, Reporter, RunEvent, Tracker};
use super::push::{self, PushContext};
use crate::connectors::{Connector, EntityType, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::store::{Db, runs, sync_state as state};
use entity::connection;
use entity::enums::RunMode;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// Entity types listed at the same time (the connector's rate limit is shared anyway).
const PARALLEL_ENTITIES: usize = 3;
const DELETE_BATCH: u64 = 500;

/// Where a run got to, saved with every page so a crash resumes instead of restarting.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    pub entities: BTreeMap<String, EntityCheckpoint>,
    /// What the committed pages counted, across attempts: a resumed attempt starts its
    /// counters (and so its percent) here, not at zero.
    #[serde(default)]
    pub counters: Counters,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EntityCheckpoint {
    pub cursor: Option<String>,
    pub listed: bool,
    pub pages: u32,
}

pub struct RunSpec {
    pub run_id: i64,
    pub account_id: i64,
    pub connection: connection::Model,
    pub mode: RunMode,
    pub dry_run: bool,
    /// Restrict to these entity types (empty: all).
    pub entity_types: Vec<String>,
    pub remote_ids: Vec<String>,
    pub codes: Vec<String>,
    pub checkpoint: Checkpoint,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub counters: Counters,
    pub summary: serde_json::Value,
}

/// Aggregates page outcomes into the run summary (counts per category, sample diffs).
#[derive(Default)]
struct Summary {
    by_category: HashMap<Category, u64>,
    samples: Vec<serde_json::Value>,
    auto_merged: u64,
}

impl Summary {
    fn absorb(&mut self, page: &mut PageOutcome) {
        self.auto_merged += std::mem::take(&mut page.auto_merged);
        for (k, v) in page.by_category.drain() {
            *self.by_category.entry(k).or_default() += v;
        }
        for s in page.samples.drain(..) {
            if self.samples.len() < 20 {
                self.samples.push(s);
            }
        }
    }

    fn to_json(&self, dry_run: bool) -> serde_json::Value {
        let cats: BTreeMap<String, u64> = self
            .by_category
            .iter()
            .map(|(k, v)| (format!("{k:?}"), *v))
            .collect();
        serde_json::json!({
            "categories": cats,
            "autoMerged": self.auto_merged,
            "samples": self.samples,
            "dryRun": dry_run,
        })
    }
}

struct Run<'a> {
    db: &'a Db,
    connector: &'a dyn Connector,
    spec: &'a RunSpec,
    tracker: Tracker<'a>,
    cancel: &'a CancellationToken,
    checkpoint: Mutex<Checkpoint>,
    summary: Mutex<Summary>,
}

pub async fn run(
    db: &Db,
    connector: &dyn Connector,
    spec: &RunSpec,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> AppResult<Outcome> {
    let run = Run {
        db,
        connector,
        spec,
        tracker: Tracker::resume(reporter, spec.checkpoint.counters),
        cancel,
        checkpoint: Mutex::new(spec.checkpoint.clone()),
        summary: Mutex::new(Summary::default()),
    };
    let entities = run.selected_entities()?;
    let finances = match spec.mode {
        RunMode::Entity => {
            run.single_records(&entities).await?;
            None
        }
        // A CSV import changed local costs already; its run only pushes them.
        RunMode::Push | RunMode::CsvImport => None,
        _ => {
            run.listings(&entities).await?;
            run.pull_finances().await?
        }
    };
    run.tracker.stage("pushing local changes", 90);
    run.push(&entities).await?;
    run.tracker.stage("finalising", 99);
    let mut summary = run
        .summary
        .lock()
        .map(|s| s.to_json(spec.dry_run))
        .unwrap_or_default();
    if let (Some(f), Some(obj)) = (finances, summary.as_object_mut()) {
        obj.insert("finances".into(), f);
    }
    Ok(Outcome {
        counters: run.tracker.counters(),
        summary,
    })
}

impl Run<'_> {
    fn selected_entities(&self) -> AppResult<Vec<EntityType>> {
        let all = self.connector.entity_types();
        if self.spec.entity_types.is_empty() {
            return Ok(all.to_vec());
        }
        self.spec
            .entity_types
            .iter()
            .map(|name| {
                all.iter()
                    .find(|e| e.name == name.as_str())
                    .copied()
                    .ok_or_else(|| {
                        let known: Vec<&str> = all.iter().map(|e| e.name).collect();
                        AppError::bad_input(format!(
                            "unknown entity type '{name}' (known: {})",
                            known.join(", ")
                        ))
                    })
            })
            .collect()
    }

    fn direction(&self, entity: &str) -> Direction {
        let caps = self.connector.capabilities();
        if !caps.update && !caps.create {
            // A read-only upstream (Amazon): local edits stay local, never queued to push.
            return Direction::Pull;
        }
        Direction::of(&self.spec.connection.directions, entity)
    }

    /// The connector's financial events, after the price book (full and incremental runs
    /// over all entity types).
    async fn pull_finances(&self) -> AppResult<Option<serde_json::Value>> {
        let Some(source) = self.connector.finances() else {
            return Ok(None);
        };
        if !self.spec.entity_types.is_empty() {
            return Ok(None);
        }
        let outcome = super::finances::Stage {
            db: self.db,
            source,
            account_id: self.spec.account_id,
            connection_id: self.spec.connection.id,
            run_id: self.spec.run_id,
            mode: self.spec.mode,
            dry_run: self.spec.dry_run,
            tracker: &self.tracker,
            cancel: self.cancel,
        }
        .run()
        .await?;
        Ok(Some(serde_json::to_value(outcome).unwrap_or_default()))
    }

    fn check_cancel(&self) -> AppResult<()> {
        if self.cancel.is_cancelled() {
            Err(AppError::Cancelled("cancelled".into()))
        } else {
            Ok(())
        }
    }

    fn context<'c>(
        &'c self,
        entity: &'c EntityType,
        categories: &'c HashMap<String, i64>,
        full: bool,
    ) -> Option<PageContext<'c>> {
        Some(PageContext {
            account_id: self.spec.account_id,
            connection_id: self.spec.connection.id,
            run_id: self.spec.run_id,
            entity: entity.name,
            kind: entity.kind?,
            dry_run: self.spec.dry_run,
            full,
            direction: self.direction(entity.name),
            auto_merge: self.spec.connection.auto_merge_disjoint,
            categories,
        })
    }

    /// Full and incremental listings; deletions only after every listing completed.
    async fn listings(&self, entities: &[EntityType]) -> AppResult<()> {
        self.tracker.stage("connecting", 0);
        if self.connector.finances().is_some() {
            // Leave the second half of the bar to the finances stage.
            self.tracker.set_listing_ceiling(50);
        }
        let full = self.spec.mode == RunMode::Full;
        for e in entities.iter().filter(|_| full) {
            if let Some(n) = self
                .connector
                .estimate(e)
                .await
                .map_err(push::upstream_error)?
            {
                self.tracker.expect(n);
            }
        }
        let (trees, items): (Vec<EntityType>, Vec<EntityType>) =
            entities.iter().partition(|e| e.kind.is_none());
        for tree in &trees {
            self.list_entity(tree, &HashMap::new()).await?;
        }
        let categories =
            apply::link_category_parents(self.db, self.spec.connection.id, self.spec.dry_run)
                .await?;
        let categories = &categories;
        // Boxed so the futures' borrow of `self` has one nameable lifetime (spawnable).
        let listings: Vec<futures::future::BoxFuture<'_, AppResult<()>>> = items
            .iter()
            .map(|e| Box::pin(self.list_entity(e, categories)) as _)
            .collect();
        futures::stream::iter(listings)
            .buffer_unordered(PARALLEL_ENTITIES)
            .try_collect::<Vec<()>>()
            .await?;
        if full && !self.spec.dry_run {
            for e in &items {
                self.apply_deletions(e, categories).await?;
            }
        } else if full {
            // A dry run marks nothing as seen, so it cannot tell deletions apart.
            self.summary_note("deletions are not computed in a dry run");
        }
        Ok(())
    }

    fn summary_note(&self, note: &str) {
        if let Ok(mut s) = self.summary.lock() {
            s.samples.push(serde_json::json!({ "note": note }));
        }
    }

    async fn list_entity(
        &self,
        entity: &EntityType,
        categories: &HashMap<String, i64>,
    ) -> AppResult<()> {
        let full = self.spec.mode == RunMode::Full;
        let resume = self
            .checkpoint
            .lock()
            .ok()
            .and_then(|c| c.entities.get(entity.name).cloned())
            .unwrap_or_default();
        if resume.listed {
            return Ok(());
        }
        // Incremental runs continue from the stored cursor; without one they list fully.
        let stored = if full {
            None
        } else {
            state::get_cursor(self.db, self.spec.connection.id, entity.name).await?
        };
        let full_listing = full || stored.is_none();
        let mut cursor = resume.cursor.or(stored);
        let mut page_no = resume.pages;
        loop {
            self.check_cancel()?;
            page_no += 1;
            let started = std::time::Instant::now();
            let page = self
                .connector
                .list_page(entity, cursor.as_deref())
                .await
                .map_err(push::upstream_error)?;
            let fetched_in = started.elapsed();
            let stage = format!("fetching {} page {page_no}", entity.name);
            let txn = crate::store::db::begin_write(self.db).await?;
            let mut outcome = match self.context(entity, categories, full_listing && full) {
                Some(ctx) => apply::apply_items(&txn, &ctx, &page.records).await?,
                None => {
                    let c = apply::apply_categories(
                        &txn,
                        self.spec.account_id,
                        self.spec.connection.id,
                        &page.categories,
                        self.spec.dry_run,
                    )
                    .await?;
                    // Item counters stay about items; the tree's changes go to the summary.
                    let samples = vec![
                        serde_json::json!({ "categories": { "created": c.created, "updated": c.updated } }),
                    ];
                    PageOutcome {
                        counters: Counters {
                            fetched: c.fetched,
                            ..Default::default()
                        },
                        samples,
                        ..Default::default()
                    }
                }
            };
            if !self.spec.dry_run {
                // The cursor commits with the page it covers: a crash never skips a page.
                if let Some(next) = &page.cursor
                    && (!page.has_more || !full)
                {
                    state::set_cursor(
                        &txn,
                        self.spec.account_id,
                        self.spec.connection.id,
                        entity.name,
                        next,
                    )
                    .await?;
                }
                let snapshot = self.advance_checkpoint(
                    entity.name,
                    EntityCheckpoint {
                        cursor: page.cursor.clone(),
                        listed: !page.has_more,
                        pages: page_no,
                    },
                    &outcome.counters,
                );
                runs::save_checkpoint(&txn, self.spec.run_id, snapshot).await?;
                state::insert_events(
                    &txn,
                    self.spec.account_id,
                    self.spec.connection.id,
                    self.spec.run_id,
                    std::mem::take(&mut outcome.events),
                )
                .await?;
            }
            txn.commit().await?;
            tracing::info!(
                run_id = self.spec.run_id,
                entity = entity.name,
                "fetched {} {} in {:.2} s, applied in {:.2} s",
                outcome.counters.fetched,
                entity.name,
                fetched_in.as_secs_f64(),
                (started.elapsed() - fetched_in).as_secs_f64()
            );
            self.tracker.page_done(&stage, &outcome.counters);
            self.keep_statistics_fresh(outcome.counters.created).await?;
            if let Ok(mut s) = self.summary.lock() {
                s.absorb(&mut outcome);
            }
            if !page.has_more {
                return Ok(());
            }
            if page.cursor.is_none() || page.cursor == cursor {
                return Err(AppError::Upstream(format!(
                    "{} listing did not advance",
                    entity.name
                )));
            }
            cursor = page.cursor;
        }
    }

    /// After each fourfold growth of the rows this run created (500, 2,000, 8,000, …).
    async fn keep_statistics_fresh(&self, created_now: i64) -> AppResult<()> {
        if created_now == 0 {
            return Ok(());
        }
        let total = self.tracker.counters().created;
        let before = total - created_now;
        let crossed = (0..12)
            .map(|k| 500i64 * 4i64.pow(k))
            .any(|t| before < t && total >= t);
        if crossed {
            crate::store::db::refresh_statistics(self.db).await?;
        }
        Ok(())
    }

    /// The checkpoint with one more page of `entity`, as saved in that page's transaction.
    fn advance_checkpoint(
        &self,
        entity: &str,
        at: EntityCheckpoint,
        page: &Counters,
    ) -> serde_json::Value {
        let Ok(mut c) = self.checkpoint.lock() else {
            return serde_json::Value::Null;
        };
        c.entities.insert(entity.to_owned(), at);
        c.counters.add(page);
        serde_json::to_value(&*c).unwrap_or_default()
    }

    async fn apply_deletions(
        &self,
        entity: &EntityType,
        categories: &HashMap<String, i64>,
    ) -> AppResult<()> {
        let Some(ctx) = self.context(entity, categories, true) else {
            return Ok(());
        };
        self.tracker
            .stage(&format!("applying deletions of {}", entity.name), 0);
        let mut after = 0;
        loop {
            self.check_cancel()?;
            let links = state::unseen_links(
                self.db,
                self.spec.connection.id,
                entity.name,
                self.spec.run_id,
                after,
                DELETE_BATCH,
            )
            .await?;
            let Some(last) = links.last() else {
                return Ok(());
            };
            after = last.id;
            let txn = crate::store::db::begin_write(self.db).await?;
            let mut outcome = apply::apply_deletions(&txn, &ctx, links).await?;
            txn.commit().await?;
            self.tracker.add(&outcome.counters);
            if let Ok(mut s) = self.summary.lock() {
                s.absorb(&mut outcome);
            }
        }
    }

    /// Single-record sync by remote id or code, for one entity type.
    async fn single_records(&self, entities: &[EntityType]) -> AppResult<()> {
        let [entity] = entities else {
            return Err(AppError::bad_input(
                "an ENTITY sync needs exactly one entity type",
            ));
        };
        if self.spec.remote_ids.is_empty() && self.spec.codes.is_empty() {
            return Err(AppError::bad_input(
                "an ENTITY sync needs remoteIds or codes",
            ));
        }
        let categories = state::categories_of_connection(self.db, self.spec.connection.id)
            .await?
            .into_iter()
            .filter_map(|c| c.remote_id.map(|r| (r, c.id)))
            .collect::<HashMap<_, _>>();
        let Some(ctx) = self.context(entity, &categories, false) else {
            return Err(AppError::bad_input(format!(
                "{} cannot be synced one record at a time",
                entity.name
            )));
        };
        self.tracker
            .expect((self.spec.remote_ids.len() + self.spec.codes.len()) as u64);
        let mut found: Vec<RemoteRecord> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        for id in &self.spec.remote_ids {
            match self
                .connector
                .fetch(entity, id)
                .await
                .map_err(push::upstream_error)?
            {
                Some(r) => found.push(r),
                None => missing.push(id.clone()),
            }
        }
        let mut events = Vec::new();
        for code in &self.spec.codes {
            match self
                .connector
                .find_by_code(entity, code)
                .await
                .map_err(push::upstream_error)?
            {
                Some(r) => found.push(r),
                None => events.push(
                    RunEvent::error(
                        "not_found",
                        format!("no {} with code {code} upstream", entity.name),
                    )
                    .for_record(None, None, Some(code)),
                ),
            }
        }
        let txn = crate::store::db::begin_write(self.db).await?;
        let mut outcome = apply::apply_items(&txn, &ctx, &found).await?;
        if !missing.is_empty() {
            let links =
                state::links_by_remote_ids(&txn, self.spec.connection.id, entity.name, &missing)
                    .await?;
            let mut gone = apply::apply_deletions(&txn, &ctx, links).await?;
            outcome.counters.add(&gone.counters);
            outcome.by_category.extend(gone.by_category.drain());
        }
        outcome.counters.errors += events.len() as i64;
        outcome.events.extend(events);
        if !self.spec.dry_run {
            state::insert_events(
                &txn,
                self.spec.account_id,
                self.spec.connection.id,
                self.spec.run_id,
                std::mem::take(&mut outcome.events),
            )
            .await?;
        }
        txn.commit().await?;
        self.tracker.page_done(
            &format!("synced {} record(s)", found.len()),
            &outcome.counters,
        );
        if let Ok(mut s) = self.summary.lock() {
            s.absorb(&mut outcome);
        }
        Ok(())
    }

    async fn push(&self, entities: &[EntityType]) -> AppResult<()> {
        if !self.connector.capabilities().update {
            return Ok(());
        }
        let names: Vec<&str> = entities
            .iter()
            .filter(|e| self.direction(e.name).pushes())
            .map(|e| e.name)
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        let only_items = if self.spec.mode == RunMode::Entity {
            Some(self.items_of_single_records().await?)
        } else {
            None
        };
        let allowed = |name: &str| names.contains(&name);
        let ctx = PushContext {
            account_id: self.spec.account_id,
            connection_id: self.spec.connection.id,
            run_id: self.spec.run_id,
            dry_run: self.spec.dry_run,
            only_items: only_items.as_deref(),
            allowed: &allowed,
        };
        push::push_pending(self.db, self.connector, &ctx, &self.tracker, self.cancel).await?;
        Ok(())
    }

    async fn items_of_single_records(&self) -> AppResult<Vec<i64>> {
        let mut ids = Vec::new();
        for e in self.connector.entity_types() {
            let links = state::links_by_remote_ids(
                self.db,
                self.spec.connection.id,
                e.name,
                &self.spec.remote_ids,
            )
            .await?;
            ids.extend(links.into_iter().map(|l| l.item_id));
        }
        if !self.spec.codes.is_empty() {
            for e in self.connector.entity_types().iter().filter_map(|e| e.kind) {
                ids.extend(
                    state::items_by_codes(self.db, self.spec.account_id, e, &self.spec.codes)
                        .await?
                        .into_iter()
                        .map(|i| i.id),
                );
            }
        }
        Ok(ids)
    }
}
