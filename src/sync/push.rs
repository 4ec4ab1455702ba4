//! Pushes local changes upstream: links marked `pending_push` (or in `error`, retried)
//! are written through the connector; the upstream's answer becomes the new base.
//!
//! Each upstream write is sent at most once, as far as the upstream lets us tell:
//! - a payload upstream already holds (hash equal to the base or to the last push) is not
//!   sent;
//! - before a batch's writes are sent, each link records the payload hash it is about to
//!   send (`push_started_hash`, committed first). A run resumed after a crash finds those
//!   marks, reads the records back from upstream and sends again only the writes that did
//!   not land — it never repeats a write the upstream already applied;
//! - a write answered 404/410 (or refused, for a record that a read then shows gone) is a
//!   remote delete: a delete conflict when the item has local edits, else a soft delete —
//!   never an error retried every run.
//!
//! A local record outside the connection's record filter (judged on the local item:
//! deactivated or moved out here, or outside a filter set since it was linked) is never
//! written upstream: it is counted as skipped with an `outside_filter` event and keeps
//! owing its push, should it come back inside.
//!
//! A dry run goes through the same decisions on the rows the listing would have left
//! (its [`Plan`]), reads which records still exist upstream instead of writing, and lists
//! each write it would send with old → new values.

use super::apply::{self, Direction, PageContext, PageOutcome, Planned};
use super::canonical;
use super::policy::{self, Policy};
use super::progress::{Counters, RunEvent, Tracker};
use crate::connectors::http::UpstreamError;
use crate::connectors::{Connector, EntityType, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record::{self, Fields};
use crate::store::{Db, sync_state as state};
use entity::enums::{AdoptionPolicy, LinkStatus};
use entity::{item, item_link};
use std::collections::{HashMap, HashSet};
use tokio_util::sync::CancellationToken;

const BATCH: u64 = 100;
/// Writes a dry run lists in its summary at most (its counters stay exact).
pub const MAX_LISTED: usize = 1_000;

pub struct PushContext<'a> {
    pub account_id: i64,
    pub connection_id: i64,
    pub run_id: i64,
    pub dry_run: bool,
    /// Restrict to these items (single-record syncs, retries).
    pub only_items: Option<&'a [i64]>,
    /// Entity types this connection may push to.
    pub allowed: &'a (dyn Fn(&str) -> bool + Sync),
    /// Dry runs: the rows the listing would have written.
    pub plan: Option<&'a Plan>,
    /// The connection's stored sync policy: fields it does not own are never pushed.
    pub policies: &'a serde_json::Value,
}

/// Rows a dry run's listing would have left, by id (new links keep id 0).
#[derive(Debug, Default)]
pub struct Plan {
    pub links: HashMap<i64, item_link::Model>,
    pub new_links: Vec<item_link::Model>,
    pub items: HashMap<i64, item::Model>,
    /// Links the listing would have removed (left the record filter): not pushed.
    pub unlinked: HashSet<i64>,
}

impl Plan {
    pub fn absorb(&mut self, planned: Planned) {
        for link in planned.links {
            if link.id == 0 {
                self.new_links.push(link);
            } else {
                self.links.insert(link.id, link);
            }
        }
        for item in planned.items {
            self.items.insert(item.id, item);
        }
        self.unlinked.extend(planned.unlinked);
    }

    /// The listing would have removed this link.
    fn unlinks(&self, link: &item_link::Model) -> bool {
        link.id != 0 && self.unlinked.contains(&link.id)
    }
}

/// The record filter of each entity type this push writes, with the category subtree a
/// category filter needs (read once per push stage).
struct Filters {
    by_entity: HashMap<&'static str, (Policy, HashSet<i64>)>,
}

impl Filters {
    async fn load(db: &Db, connector: &dyn Connector, ctx: &PushContext<'_>) -> AppResult<Self> {
        let mut by_entity = HashMap::new();
        for e in connector.entity_types().iter().filter(|e| e.kind.is_some()) {
            let policy = Policy::of(ctx.policies, e.name);
            if policy.filter.is_empty() {
                continue;
            }
            let subtree = match policy.filter.category_id {
                Some(root) => state::category_subtree(db, ctx.account_id, root).await?,
                None => HashSet::new(),
            };
            by_entity.insert(e.name, (policy, subtree));
        }
        Ok(Filters { by_entity })
    }

    /// Whether the local item of `link` may be written upstream.
    fn pushes(&self, link: &item_link::Model, item: &item::Model) -> bool {
        let Some((policy, subtree)) = self.by_entity.get(link.entity_type.as_str()) else {
            return true;
        };
        let fields = canonical::from_item(item);
        policy.pushes(
            &policy::Candidate {
                fields: &fields,
                kind: item.kind.as_str(),
                category_id: item.category_id,
                modified_on: link.remote_modified_on,
            },
            subtree,
        )
    }
}

/// What the push stage did besides its counters (which go to the tracker).
#[derive(Debug, Default)]
pub struct PushReport {
    /// Dry runs: each write the run would send, `{code, entity, remoteId, changes}`.
    pub would_push: Vec<serde_json::Value>,
    /// Writes left out of `would_push` (beyond [`MAX_LISTED`]).
    pub omitted: u64,
    /// Records the push found deleted upstream, categorised like a listing's deletions.
    pub deletions: PageOutcome,
}

/// What one link needs.
enum Step {
    /// Not this stage's business (entity not pushed here, item deleted, missing).
    Ignore,
    /// Upstream already has this content (or normalised what we sent).
    AlreadyThere,
    /// The local item is outside the record filter: nothing is sent.
    OutsideFilter,
    Send {
        local: Fields,
        hash: String,
    },
}

fn step(
    link: &item_link::Model,
    item: Option<&item::Model>,
    connector: &dyn Connector,
    ctx: &PushContext<'_>,
    filters: &Filters,
) -> Step {
    let Some(item) = item else {
        return Step::Ignore;
    };
    let pushable = entity_of(connector, &link.entity_type).is_some()
        && (ctx.allowed)(&link.entity_type)
        && item.deleted_at.is_none()
        && !link.paused
        && !link.deleted_remotely
        && matches!(
            link.sync_status,
            LinkStatus::PendingPush | LinkStatus::Error
        )
        && ctx.only_items.is_none_or(|ids| ids.contains(&item.id));
    if !pushable {
        return Step::Ignore;
    }
    let (local, hash) = outgoing(ctx.policies, link, item);
    if already_there(link, &hash) {
        Step::AlreadyThere
    } else if !filters.pushes(link, item) {
        Step::OutsideFilter
    } else {
        Step::Send { local, hash }
    }
}

/// What a push of `item` through `link` sends under the connection's stored policies
/// (fields it does not own keep the upstream's values), and its hash.
pub(crate) fn outgoing(
    policies: &serde_json::Value,
    link: &item_link::Model,
    item: &item::Model,
) -> (Fields, String) {
    let local = Policy::of(policies, &link.entity_type).outgoing(
        &canonical::from_item(item),
        canonical::base_of(link).as_ref(),
    );
    let hash = record::fields_hash(&local);
    (local, hash)
}

/// Upstream already holds a payload hashing `hash` (the base, or the last push).
pub(crate) fn already_there(link: &item_link::Model, hash: &str) -> bool {
    hash == link.base_hash || link.last_pushed_hash.as_deref() == Some(hash)
}

fn entity_of<'c>(connector: &'c dyn Connector, name: &str) -> Option<&'c EntityType> {
    connector.entity_types().iter().find(|e| e.name == name)
}

/// One write to send: the link, its item and the payload.
struct Send {
    link: item_link::Model,
    item: item::Model,
    local: Fields,
    hash: String,
}

/// Pushes every link that owes a push (in id order, a batch at a time).
pub async fn push_pending(
    db: &Db,
    connector: &dyn Connector,
    ctx: &PushContext<'_>,
    tracker: &Tracker<'_>,
    cancel: &CancellationToken,
) -> AppResult<PushReport> {
    let mut report = PushReport::default();
    let filters = Filters::load(db, connector, ctx).await?;
    let mut visited: HashSet<i64> = HashSet::new();
    let mut after = 0i64;
    loop {
        if cancel.is_cancelled() {
            return Err(AppError::Cancelled("cancelled while pushing".into()));
        }
        let links =
            state::links_to_push(db, ctx.connection_id, after, BATCH, ctx.only_items).await?;
        let Some(last) = links.last() else { break };
        after = last.id;
        visited.extend(links.iter().map(|l| l.id));
        // A dry run's listing may have settled, re-marked or removed some of these links.
        let links: Vec<item_link::Model> = links
            .into_iter()
            .filter(|l| ctx.plan.is_none_or(|p| !p.unlinks(l)))
            .map(|l| planned_link(ctx, l))
            .collect();
        push_batch(db, connector, ctx, &filters, links, tracker, &mut report).await?;
    }
    if let Some(plan) = ctx.plan {
        // Links the listing would have marked (or created) owing a push.
        let extra: Vec<item_link::Model> = plan
            .links
            .values()
            .filter(|l| !visited.contains(&l.id))
            .chain(plan.new_links.iter())
            .cloned()
            .collect();
        for chunk in extra.chunks(BATCH as usize) {
            let links = chunk.iter().filter(|l| !plan.unlinks(l)).cloned().collect();
            push_batch(db, connector, ctx, &filters, links, tracker, &mut report).await?;
        }
    }
    Ok(report)
}

fn planned_link(ctx: &PushContext<'_>, link: item_link::Model) -> item_link::Model {
    ctx.plan
        .and_then(|p| p.links.get(&link.id).cloned())
        .unwrap_or(link)
}

async fn items_of(
    db: &Db,
    ctx: &PushContext<'_>,
    links: &[item_link::Model],
) -> AppResult<HashMap<i64, item::Model>> {
    let ids: Vec<i64> = links.iter().map(|l| l.item_id).collect();
    let mut items: HashMap<i64, item::Model> = state::items_by_ids(db, ctx.account_id, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    if let Some(plan) = ctx.plan {
        for id in &ids {
            if let Some(planned) = plan.items.get(id) {
                items.insert(*id, planned.clone());
            }
        }
    }
    Ok(items)
}

async fn push_batch(
    db: &Db,
    connector: &dyn Connector,
    ctx: &PushContext<'_>,
    filters: &Filters,
    links: Vec<item_link::Model>,
    tracker: &Tracker<'_>,
    report: &mut PushReport,
) -> AppResult<()> {
    let items = items_of(db, ctx, &links).await?;
    let mut counters = Counters::default();
    let mut settled: Vec<item_link::Model> = Vec::new();
    let mut sends: Vec<Send> = Vec::new();
    let mut events: Vec<RunEvent> = Vec::new();
    for mut link in links {
        let item = items.get(&link.item_id);
        match step(&link, item, connector, ctx, filters) {
            Step::Ignore => {}
            Step::OutsideFilter => {
                counters.skipped += 1;
                let item = item.expect("step only judges links with an item");
                events.push(
                    RunEvent::info(
                        "outside_filter",
                        "the local record is outside this connection's record filter: not pushed",
                    )
                    .for_record(
                        Some(item.id),
                        Some(&link.remote_id),
                        Some(&item.code),
                    ),
                );
            }
            Step::AlreadyThere => {
                link.sync_status = LinkStatus::Synced;
                link.push_started_hash = None;
                link.updated_at = chrono::Utc::now();
                settled.push(link);
                counters.skipped += 1;
            }
            Step::Send { local, hash } => sends.push(Send {
                item: item.cloned().expect("step only sends links with an item"),
                link,
                local,
                hash,
            }),
        }
    }
    let result = if ctx.dry_run {
        plan_sends(connector, sends, &mut counters, report)
            .await
            .map(|gone| (gone, Vec::new()))
    } else {
        save(db, ctx, settled, events).await?;
        send(db, connector, ctx, sends, &mut counters).await
    };
    tracker.add(&counters);
    let (gone, events) = result?;
    if !gone.is_empty() {
        let deletions = remote_deletes(db, connector, ctx, gone, events).await?;
        tracker.add(&deletions.counters);
        absorb(&mut report.deletions, deletions);
    }
    Ok(())
}

fn absorb(into: &mut PageOutcome, mut page: PageOutcome) {
    into.counters.add(&page.counters);
    for (k, v) in page.by_category.drain() {
        *into.by_category.entry(k).or_default() += v;
    }
    into.samples.extend(page.samples.drain(..).take(5));
}

/// Dry run: which of these records still exist upstream (the rest would be answered 404);
/// each existing one is a write the real run sends. Returns the gone ones.
async fn plan_sends(
    connector: &dyn Connector,
    sends: Vec<Send>,
    counters: &mut Counters,
    report: &mut PushReport,
) -> AppResult<Vec<item_link::Model>> {
    let existing = read_back(connector, sends.iter().map(|s| &s.link)).await?;
    let mut gone = Vec::new();
    for s in sends {
        if !existing.contains_key(&(s.link.entity_type.clone(), s.link.remote_id.clone())) {
            gone.push(s.link);
            continue;
        }
        counters.pushed += 1;
        if report.would_push.len() < MAX_LISTED {
            report.would_push.push(would_push(&s));
        } else {
            report.omitted += 1;
        }
    }
    Ok(gone)
}

/// One entry of a dry run's `wouldPush`: the record and each field's old → new value.
fn would_push(s: &Send) -> serde_json::Value {
    let base = canonical::base_of(&s.link).unwrap_or_default();
    let names: std::collections::BTreeSet<&String> = base.keys().chain(s.local.keys()).collect();
    let changes: Vec<serde_json::Value> = names
        .into_iter()
        .filter(|name| base.get(*name) != s.local.get(*name))
        .map(|name| serde_json::json!({ "field": name, "old": base.get(name), "new": s.local.get(name) }))
        .collect();
    serde_json::json!({
        "code": s.item.code,
        "entity": s.link.entity_type,
        "remoteId": s.link.remote_id,
        "changes": changes,
        "propagated": propagated(&s.link, &s.item),
    })
}

/// The current upstream records of these links, keyed by (entity type, remote id).
async fn read_back<'l>(
    connector: &dyn Connector,
    links: impl Iterator<Item = &'l item_link::Model>,
) -> AppResult<HashMap<(String, String), RemoteRecord>> {
    let mut by_entity: HashMap<&str, Vec<String>> = HashMap::new();
    for link in links {
        by_entity
            .entry(link.entity_type.as_str())
            .or_default()
            .push(link.remote_id.clone());
    }
    let mut found = HashMap::new();
    for (name, ids) in by_entity {
        let Some(entity) = entity_of(connector, name) else {
            continue;
        };
        for record in connector
            .fetch_many(entity, &ids)
            .await
            .map_err(upstream_error)?
        {
            found.insert((name.to_owned(), record.remote_id.clone()), record);
        }
    }
    Ok(found)
}

/// All of `local`'s changes since the base are in `remote`: a write sent before a crash
/// landed, so sending it again would repeat it.
fn landed(base: Option<&Fields>, local: &Fields, remote: &Fields) -> bool {
    let empty = Fields::new();
    let base = base.unwrap_or(&empty);
    let names: HashSet<&String> = base.keys().chain(local.keys()).collect();
    names
        .into_iter()
        .filter(|name| base.get(*name) != local.get(*name))
        .all(|name| remote.get(name) == local.get(name))
}

/// The pushed values were not edited locally since this connection last synced the
/// record: they came from another connection's pull, an adoption or a resolution.
fn propagated(link: &item_link::Model, item: &item::Model) -> bool {
    match (item.local_modified_at, link.last_synced_at) {
        (None, _) => true,
        (Some(edited), Some(synced)) => edited <= synced,
        (Some(_), None) => false,
    }
}

/// Real run: writes upstream, each at most once. Returns the links found deleted
/// upstream and the events to store with their handling.
async fn send(
    db: &Db,
    connector: &dyn Connector,
    ctx: &PushContext<'_>,
    sends: Vec<Send>,
    counters: &mut Counters,
) -> AppResult<(Vec<item_link::Model>, Vec<RunEvent>)> {
    let mut updates: Vec<item_link::Model> = Vec::new();
    let mut events = Vec::new();
    let mut gone: Vec<item_link::Model> = Vec::new();
    // Writes sent before a crash without their answer recorded: read them back first.
    let (resumed, fresh): (Vec<Send>, Vec<Send>) = sends
        .into_iter()
        .partition(|s| s.link.push_started_hash.is_some());
    let mut to_send = fresh;
    if !resumed.is_empty() {
        let current = read_back(connector, resumed.iter().map(|s| &s.link)).await?;
        for mut s in resumed {
            let key = (s.link.entity_type.clone(), s.link.remote_id.clone());
            match current.get(&key) {
                None => gone.push(s.link),
                Some(remote)
                    if landed(
                        canonical::base_of(&s.link).as_ref(),
                        &s.local,
                        &remote.fields,
                    ) =>
                {
                    events.extend(pushed_event(&s));
                    mark_pushed(&mut s.link, remote, s.hash);
                    updates.push(s.link);
                    counters.pushed += 1;
                }
                Some(_) => to_send.push(s),
            }
        }
    }
    // Each link says what it is about to send before anything is sent.
    let intents: Vec<item_link::Model> = to_send
        .iter_mut()
        .map(|s| {
            s.link.push_started_hash = Some(s.hash.clone());
            s.link.clone()
        })
        .collect();
    save(db, ctx, intents, Vec::new()).await?;
    let mut stop = None;
    for mut s in to_send {
        let Some(entity) = entity_of(connector, &s.link.entity_type) else {
            continue;
        };
        match connector.update(entity, &s.link.remote_id, &s.local).await {
            Ok(answer) => {
                events.extend(pushed_event(&s));
                mark_pushed(&mut s.link, &answer, s.hash);
                updates.push(s.link);
                counters.pushed += 1;
            }
            Err(e) if e.is_gone() => gone.push(s.link),
            Err(e) if e.is_record_level() => {
                // Some upstreams refuse a write to a deleted record without a 404.
                if connector
                    .fetch(entity, &s.link.remote_id)
                    .await
                    .is_ok_and(|r| r.is_none())
                {
                    gone.push(s.link);
                    continue;
                }
                counters.errors += 1;
                events.push(RunEvent::error("push_failed", e.to_string()).for_record(
                    Some(s.item.id),
                    Some(&s.link.remote_id),
                    Some(&s.item.code),
                ));
                let link = &mut s.link;
                link.sync_status = LinkStatus::Error;
                link.push_started_hash = None;
                link.last_error = Some(e.to_string());
                link.attempts += 1;
                link.updated_at = chrono::Utc::now();
                updates.push(s.link);
            }
            Err(e) => {
                // Connection-wide trouble: keep what was pushed and stop; the rest stays
                // pending (with its intent, so the next run reads it back first).
                stop = Some(upstream_error(e));
                break;
            }
        }
    }
    let mut gone_events = Vec::new();
    for link in &mut gone {
        link.push_started_hash = None;
        gone_events.push(
            RunEvent::info(
                "deleted_upstream",
                "the push found the record deleted upstream",
            )
            .for_record(Some(link.item_id), Some(&link.remote_id), None),
        );
    }
    save(db, ctx, updates, events).await?;
    match stop {
        Some(e) => Err(e),
        None => Ok((gone, gone_events)),
    }
}

/// An info event when a push passes on values that were not edited locally.
fn pushed_event(s: &Send) -> Option<RunEvent> {
    propagated(&s.link, &s.item).then(|| {
        RunEvent::info(
            "propagated",
            "pushed values not edited locally since this connection's last sync (another connection's pull, an adoption or a resolution)",
        )
        .for_record(Some(s.item.id), Some(&s.link.remote_id), Some(&s.item.code))
    })
}

/// Records the push found deleted upstream: handled like a listing's remote deletes.
async fn remote_deletes(
    db: &Db,
    connector: &dyn Connector,
    ctx: &PushContext<'_>,
    gone: Vec<item_link::Model>,
    mut events: Vec<RunEvent>,
) -> AppResult<PageOutcome> {
    let mut total = PageOutcome::default();
    let empty = HashMap::new();
    let mut by_entity: HashMap<String, Vec<item_link::Model>> = HashMap::new();
    for link in gone {
        by_entity
            .entry(link.entity_type.clone())
            .or_default()
            .push(link);
    }
    for (name, links) in by_entity {
        let Some(entity) = entity_of(connector, &name) else {
            continue;
        };
        let Some(kind) = entity.kind else { continue };
        let page = PageContext {
            account_id: ctx.account_id,
            connection_id: ctx.connection_id,
            run_id: ctx.run_id,
            entity: entity.name,
            kind,
            dry_run: ctx.dry_run,
            full: false,
            direction: Direction::Both,
            auto_merge: false,
            adoption: AdoptionPolicy::Conflict,
            categories: &empty,
            policy: Policy::of(ctx.policies, entity.name),
        };
        let txn = crate::store::db::begin_write(db).await?;
        let mut outcome = apply::apply_deletions(&txn, &page, links).await?;
        if !ctx.dry_run {
            let mut stored = std::mem::take(&mut events);
            stored.append(&mut outcome.events);
            state::insert_events(&txn, ctx.account_id, ctx.connection_id, ctx.run_id, stored)
                .await?;
        }
        txn.commit().await?;
        absorb(&mut total, outcome);
    }
    Ok(total)
}

/// The link now matches what upstream answered to a write whose payload hashed `sent`.
pub(crate) fn mark_pushed(link: &mut item_link::Model, answer: &RemoteRecord, sent: String) {
    let now = chrono::Utc::now();
    link.base = canonical::to_json(&answer.fields);
    link.base_hash = record::fields_hash(&answer.fields);
    link.remote_modified_on = answer.modified_on.or(link.remote_modified_on);
    link.last_pushed_hash = Some(sent);
    link.push_started_hash = None;
    link.last_synced_at = Some(now);
    link.sync_status = LinkStatus::Synced;
    link.last_error = None;
    link.attempts = 0;
    link.updated_at = now;
}

async fn save(
    db: &Db,
    ctx: &PushContext<'_>,
    updates: Vec<item_link::Model>,
    events: Vec<RunEvent>,
) -> AppResult<()> {
    if updates.is_empty() && events.is_empty() {
        return Ok(());
    }
    let txn = crate::store::db::begin_write(db).await?;
    state::update_links(&txn, updates).await?;
    state::insert_events(&txn, ctx.account_id, ctx.connection_id, ctx.run_id, events).await?;
    txn.commit().await?;
    Ok(())
}

/// A run-ending upstream error as the domain error (rate budget, refused credentials, or
/// anything else upstream).
pub fn upstream_error(e: UpstreamError) -> AppError {
    AppError::from(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: serde_json::Value) -> Fields {
        record::canonicalise(v.as_object().unwrap().clone().into_iter().collect())
    }

    #[test]
    fn a_write_landed_when_every_local_change_is_upstream() {
        let base = fields(json!({"code": "A", "name": "Valve", "price": 1, "cost": 1}));
        let local = fields(json!({"code": "A", "name": "Valve", "price": 2, "cost": 1}));
        let applied = fields(json!({"code": "A", "name": "Valve", "price": 2, "cost": 1}));
        assert!(landed(Some(&base), &local, &applied));
        // Upstream also changed an untouched field since: the write still landed.
        let applied_and_more =
            fields(json!({"code": "A", "name": "Valve X", "price": 2, "cost": 1}));
        assert!(landed(Some(&base), &local, &applied_and_more));
        assert!(!landed(Some(&base), &local, &base), "not applied");
        // A field removed locally must be absent upstream too.
        let cleared = fields(json!({"code": "A", "name": "Valve", "cost": 1}));
        assert!(!landed(Some(&base), &cleared, &base));
        assert!(landed(Some(&base), &cleared, &cleared));
    }
}
