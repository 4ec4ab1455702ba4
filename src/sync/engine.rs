//! Drives one run: list every entity type (categories first, the rest in parallel),
//! apply each page in one transaction with its checkpoint, then — only when every
//! listing completed — apply remote deletions, then push local changes.
//!
//! Deletions come from complete listings: a full run's, and an incremental run's when the
//! provider's listing from its cursor returns everything
//! ([`Connector::lists_everything_from`], Jobber). Between them, a push answered 404 is a
//! remote delete (`push`).
//!
//! A dry run takes the same path and stops before each write: the rows a page would
//! have written are kept in memory (a [`Plan`]) so the deletion and push stages decide
//! on the state the real run would reach, and its counters equal the real run's.

use super::apply::{self, Direction, PageContext, PageOutcome};
use super::diff::Category;
use super::policy::Policy;
use super::progress::{Counters, Reporter, RunEvent, Tracker};
use super::push::{self, Plan, PushContext, PushReport};
use crate::connectors::{Connector, EntityType, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::store::{Db, runs, sync_state as state};
use entity::connection;
use entity::enums::RunMode;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// Entity types listed at the same time (the connector's rate limit is shared anyway).
const PARALLEL_ENTITIES: usize = 3;
const DELETE_BATCH: u64 = 500;
/// Records a PUSH run reads back upstream per batch before pushing them.
const REREAD_BATCH: u64 = 100;

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
    /// The listing started where it returns every record (deletions follow from it).
    #[serde(default)]
    pub complete: bool,
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
    /// `startSync(since:)`: list from records modified at or after it; the stored cursor
    /// is neither read nor moved.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
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
    would_push: Vec<serde_json::Value>,
    would_push_omitted: u64,
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

    fn absorb_push(&mut self, mut report: PushReport) {
        self.absorb(&mut report.deletions);
        self.would_push_omitted += report.omitted;
        let room = push::MAX_LISTED.saturating_sub(self.would_push.len());
        self.would_push_omitted += report.would_push.len().saturating_sub(room) as u64;
        self.would_push
            .extend(report.would_push.into_iter().take(room));
    }

    fn to_json(&self, dry_run: bool) -> serde_json::Value {
        let cats: BTreeMap<String, u64> = self
            .by_category
            .iter()
            .map(|(k, v)| (format!("{k:?}"), *v))
            .collect();
        let mut summary = serde_json::json!({
            "categories": cats,
            "autoMerged": self.auto_merged,
            "samples": self.samples,
            "dryRun": dry_run,
        });
        if dry_run {
            summary["wouldPush"] = serde_json::json!(self.would_push);
            summary["wouldPushOmitted"] = serde_json::json!(self.would_push_omitted);
        }
        summary
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
    recoveries_outcome: Mutex<Option<serde_json::Value>>,
    /// Entity types whose listing in this run is complete.
    complete: Mutex<HashSet<&'static str>>,
    /// Dry runs: what the pages would have written, and the links they found.
    plan: Mutex<Plan>,
    seen: Mutex<HashSet<i64>>,
    /// A PUSH run: the items whose records it re-read, the only ones it pushes.
    reread: Mutex<Vec<i64>>,
}

/// How the progress bar is shared: listing up to `listing`, then the finances and
/// recoveries stages (Amazon), then pushing from 90.
struct Bar {
    listing: i32,
    finances: (i32, i32),
    recoveries: (i32, i32),
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
        recoveries_outcome: Mutex::new(None),
        complete: Mutex::new(HashSet::new()),
        plan: Mutex::new(Plan::default()),
        seen: Mutex::new(HashSet::new()),
        reread: Mutex::new(Vec::new()),
    };
    let entities = run.selected_entities()?;
    let finances = match spec.mode {
        RunMode::Entity => {
            run.single_records(&entities).await?;
            None
        }
        RunMode::Push => {
            run.pending_records(&entities).await?;
            None
        }
        // A CSV import changed local costs already; its run only pushes them.
        RunMode::CsvImport => None,
        _ => {
            run.listings(&entities).await?;
            let finances = run.pull_finances().await?;
            run.pull_recoveries().await?;
            finances
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
    let recoveries = run
        .recoveries_outcome
        .lock()
        .ok()
        .and_then(|mut r| r.take());
    if let (Some(r), Some(obj)) = (recoveries, summary.as_object_mut()) {
        obj.insert("recoveries".into(), r);
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

    fn bar(&self) -> Bar {
        match (
            self.connector.finances().is_some(),
            self.connector.recoveries().is_some(),
        ) {
            (true, true) => Bar {
                listing: 35,
                finances: (35, 60),
                recoveries: (60, 89),
            },
            (false, true) => Bar {
                listing: 50,
                finances: (50, 50),
                recoveries: (50, 89),
            },
            (true, false) => Bar {
                listing: 50,
                finances: (50, 89),
                recoveries: (89, 89),
            },
            (false, false) => Bar {
                listing: 90,
                finances: (90, 90),
                recoveries: (90, 90),
            },
        }
    }

    /// FBA recoveries (Amazon), after the finances: reports, inbound items, claims.
    async fn pull_recoveries(&self) -> AppResult<()> {
        let Some(source) = self.connector.recoveries() else {
            return Ok(());
        };
        if !self.spec.entity_types.is_empty() {
            return Ok(());
        }
        let outcome = super::recoveries::Stage {
            db: self.db,
            source,
            account_id: self.spec.account_id,
            connection_id: self.spec.connection.id,
            rule_overrides: self.spec.connection.config.get("claimRules"),
            run_id: self.spec.run_id,
            mode: self.spec.mode,
            dry_run: self.spec.dry_run,
            tracker: &self.tracker,
            cancel: self.cancel,
            percent: self.bar().recoveries,
        }
        .run()
        .await?;
        if let Ok(mut slot) = self.recoveries_outcome.lock() {
            *slot = serde_json::to_value(outcome).ok();
        }
        Ok(())
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
            percent: self.bar().finances,
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
            adoption: self.spec.connection.adoption_policy,
            categories,
            policy: Policy::of(&self.spec.connection.sync_policy, entity.name),
        })
    }

    /// Full and incremental listings; deletions only after every listing completed.
    async fn listings(&self, entities: &[EntityType]) -> AppResult<()> {
        self.tracker.stage("connecting", 0);
        if self.connector.finances().is_some() || self.connector.recoveries().is_some() {
            // Leave the rest of the bar to the finances and recoveries stages.
            self.tracker.set_listing_ceiling(self.bar().listing);
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
        let complete = self.complete.lock().map(|c| c.clone()).unwrap_or_default();
        for e in items.iter().filter(|e| complete.contains(e.name)) {
            self.apply_deletions(e, categories).await?;
        }
        Ok(())
    }

    /// Stores a page's events with its writes (a dry run stores none).
    async fn store_events(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        outcome: &mut PageOutcome,
    ) -> AppResult<()> {
        if self.spec.dry_run {
            return Ok(());
        }
        let events = std::mem::take(&mut outcome.events);
        let spec = self.spec;
        state::insert_events(
            txn,
            spec.account_id,
            spec.connection.id,
            spec.run_id,
            events,
        )
        .await
    }

    /// Takes a page's figures into the summary; a dry run keeps what it would have written.
    fn absorb(&self, outcome: &mut PageOutcome) {
        if self.spec.dry_run {
            if let Ok(mut plan) = self.plan.lock() {
                plan.absorb(std::mem::take(&mut outcome.planned));
            }
            if let Ok(mut seen) = self.seen.lock() {
                seen.extend(outcome.seen.drain(..));
            }
        }
        if let Ok(mut s) = self.summary.lock() {
            s.absorb(outcome);
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
        // A `since` run starts at that instant instead and leaves the stored cursor alone.
        let stored = match self.spec.since {
            _ if full => None,
            Some(since) => Some(self.connector.cursor_since(entity, since).ok_or_else(|| {
                AppError::bad_input("this provider cannot list by modification time (since)")
            })?),
            None => state::get_cursor(self.db, self.spec.connection.id, entity.name).await?,
        };
        // Decided when the listing starts; a resumed run keeps its first answer.
        let complete = full
            || if resume.pages > 0 {
                resume.complete
            } else {
                self.connector
                    .lists_everything_from(entity, stored.as_deref())
            };
        if complete
            && entity.kind.is_some()
            && let Ok(mut c) = self.complete.lock()
        {
            c.insert(entity.name);
        }
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
            let mut outcome = match self.context(entity, categories, complete) {
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
                    && self.spec.since.is_none()
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
                        complete,
                    },
                    &outcome.counters,
                );
                runs::save_checkpoint(&txn, self.spec.run_id, snapshot).await?;
            }
            let applied_in = started.elapsed() - fetched_in;
            outcome.events.push(page_event(
                entity.name,
                page_no,
                &outcome.counters,
                fetched_in,
                applied_in,
            ));
            self.store_events(&txn, &mut outcome).await?;
            txn.commit().await?;
            tracing::info!(
                run_id = self.spec.run_id,
                entity = entity.name,
                "fetched {} {} in {:.2} s, applied in {:.2} s",
                outcome.counters.fetched,
                entity.name,
                fetched_in.as_secs_f64(),
                applied_in.as_secs_f64()
            );
            self.tracker.page_done(&stage, &outcome.counters);
            self.keep_statistics_fresh(outcome.counters.created).await?;
            self.absorb(&mut outcome);
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
        reached: EntityCheckpoint,
        page: &Counters,
    ) -> serde_json::Value {
        let Ok(mut c) = self.checkpoint.lock() else {
            return serde_json::Value::Null;
        };
        c.entities.insert(entity.to_owned(), reached);
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
            // A dry run marked nothing: the links its pages found are in memory.
            let links = match self.seen.lock() {
                Ok(seen) if self.spec.dry_run => links
                    .into_iter()
                    .filter(|l| !seen.contains(&l.id))
                    .collect(),
                _ => links,
            };
            let txn = crate::store::db::begin_write(self.db).await?;
            let mut outcome = apply::apply_deletions(&txn, &ctx, links).await?;
            self.store_events(&txn, &mut outcome).await?;
            txn.commit().await?;
            self.tracker.add(&outcome.counters);
            self.absorb(&mut outcome);
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
        let categories = self.category_map().await?;
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
        let gone = if missing.is_empty() {
            Vec::new()
        } else {
            state::links_by_remote_ids(&txn, self.spec.connection.id, entity.name, &missing).await?
        };
        self.apply_records(txn, &ctx, &found, gone, events).await
    }

    /// Applies re-read records (three-way, like a listing's page) and the links whose
    /// records were not found upstream (remote deletes), with `events`, in one transaction.
    async fn apply_records(
        &self,
        txn: sea_orm::DatabaseTransaction,
        ctx: &PageContext<'_>,
        found: &[RemoteRecord],
        gone: Vec<entity::item_link::Model>,
        events: Vec<RunEvent>,
    ) -> AppResult<()> {
        let mut outcome = apply::apply_items(&txn, ctx, found).await?;
        if !gone.is_empty() {
            let mut gone = apply::apply_deletions(&txn, ctx, gone).await?;
            outcome.counters.add(&gone.counters);
            outcome.by_category.extend(gone.by_category.drain());
            outcome.events.append(&mut gone.events);
            outcome.planned.links.append(&mut gone.planned.links);
            outcome.planned.items.append(&mut gone.planned.items);
            outcome.planned.unlinked.append(&mut gone.planned.unlinked);
        }
        outcome.counters.errors += events.len() as i64;
        outcome.events.extend(events);
        self.store_events(&txn, &mut outcome).await?;
        txn.commit().await?;
        self.tracker.page_done(
            &format!("synced {} record(s)", found.len()),
            &outcome.counters,
        );
        self.absorb(&mut outcome);
        Ok(())
    }

    /// The connection's categories by remote id.
    async fn category_map(&self) -> AppResult<HashMap<String, i64>> {
        Ok(
            state::categories_of_connection(self.db, self.spec.connection.id)
                .await?
                .into_iter()
                .filter_map(|c| c.remote_id.map(|r| (r, c.id)))
                .collect(),
        )
    }

    /// A PUSH run (push on save): every record owing a push is first read upstream and
    /// compared three-way, as an ENTITY run does, so a remote change made since the last
    /// sync becomes a conflict (or converges) instead of being overwritten. Only the
    /// records read here are pushed afterwards: an edit made after this listing waits
    /// for the next run (push on save queues one).
    async fn pending_records(&self, entities: &[EntityType]) -> AppResult<()> {
        if !self.connector.capabilities().update {
            return Ok(());
        }
        self.tracker.stage("reading pending records upstream", 0);
        let categories = self.category_map().await?;
        let mut after = 0;
        loop {
            self.check_cancel()?;
            let links =
                state::links_to_push(self.db, self.spec.connection.id, after, REREAD_BATCH, None)
                    .await?;
            let Some(last) = links.last() else {
                return Ok(());
            };
            after = last.id;
            let mut by_entity: BTreeMap<String, Vec<entity::item_link::Model>> = BTreeMap::new();
            for link in links {
                by_entity
                    .entry(link.entity_type.clone())
                    .or_default()
                    .push(link);
            }
            for (name, links) in by_entity {
                let Some(entity) = entities.iter().find(|e| e.name == name) else {
                    continue;
                };
                if !self.direction(entity.name).pushes() {
                    continue;
                }
                let Some(ctx) = self.context(entity, &categories, false) else {
                    continue;
                };
                self.tracker.expect(links.len() as u64);
                if let Ok(mut items) = self.reread.lock() {
                    items.extend(links.iter().map(|l| l.item_id));
                }
                let ids: Vec<String> = links.iter().map(|l| l.remote_id.clone()).collect();
                let found = self
                    .connector
                    .fetch_many(entity, &ids)
                    .await
                    .map_err(push::upstream_error)?;
                let present: HashSet<&str> = found.iter().map(|r| r.remote_id.as_str()).collect();
                let gone = links
                    .iter()
                    .filter(|l| !present.contains(l.remote_id.as_str()))
                    .cloned()
                    .collect();
                let txn = crate::store::db::begin_write(self.db).await?;
                self.apply_records(txn, &ctx, &found, gone, Vec::new())
                    .await?;
            }
        }
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
        let only_items = match self.spec.mode {
            RunMode::Entity => Some(self.items_of_single_records().await?),
            RunMode::Push => Some(self.reread.lock().map(|i| i.clone()).unwrap_or_default()),
            _ => None,
        };
        let allowed = |name: &str| names.contains(&name);
        let plan = self
            .spec
            .dry_run
            .then(|| self.plan.lock().map(|mut p| std::mem::take(&mut *p)).ok())
            .flatten();
        let ctx = PushContext {
            account_id: self.spec.account_id,
            connection_id: self.spec.connection.id,
            run_id: self.spec.run_id,
            dry_run: self.spec.dry_run,
            only_items: only_items.as_deref(),
            allowed: &allowed,
            plan: plan.as_ref(),
            policies: &self.spec.connection.sync_policy,
        };
        let report =
            push::push_pending(self.db, self.connector, &ctx, &self.tracker, self.cancel).await?;
        if let Ok(mut s) = self.summary.lock() {
            s.absorb_push(report);
        }
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

/// The `page_applied` event of one listed page: how long the upstream took to answer
/// (`fetchMs`) and how long categorising and writing it took before its commit
/// (`applyMs`), so a slow run shows which side was slow and from which page on.
fn page_event(
    entity: &str,
    page: u32,
    counters: &Counters,
    fetched_in: std::time::Duration,
    applied_in: std::time::Duration,
) -> RunEvent {
    let (fetch_ms, apply_ms) = (fetched_in.as_millis() as u64, applied_in.as_millis() as u64);
    let mut event = RunEvent::info(
        "page_applied",
        format!(
            "{entity} page {page}: {} records fetched in {fetch_ms} ms, applied in {apply_ms} ms",
            counters.fetched
        ),
    );
    event.details = serde_json::json!({
        "entityType": entity,
        "page": page,
        "fetched": counters.fetched,
        "created": counters.created,
        "updated": counters.updated,
        "fetchMs": fetch_ms,
        "applyMs": apply_ms,
    });
    event
}
