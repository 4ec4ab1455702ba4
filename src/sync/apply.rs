//! Applies one page of remote records to the local store: categorise each record
//! three-way, then write the outcome in a few batched statements inside the caller's
//! transaction. Also applies remote deletions and the category tree.

use super::canonical;
use super::diff::{self, Category, Decision};
use super::policy::{self, Policy};
use super::progress::{Counters, RunEvent};
use crate::connectors::{RemoteCategory, RemoteRecord};
use crate::error::AppResult;
use crate::record::{self, Fields};
use crate::store::sync_state as state;
use entity::enums::{AdoptionPolicy, ConflictKind, ConflictStatus, ItemKind, LinkStatus};
use entity::{category, conflict, item, item_link};
use sea_orm::ConnectionTrait;
use std::collections::{HashMap, HashSet};

/// Which ways data may flow for an entity type of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Pull,
    Push,
    Both,
}

impl Direction {
    pub fn of(directions: &serde_json::Value, entity: &str) -> Direction {
        let pick = directions
            .get(entity)
            .or_else(|| directions.get("default"))
            .and_then(|v| v.as_str());
        match pick {
            Some("pull") => Direction::Pull,
            Some("push") => Direction::Push,
            _ => Direction::Both,
        }
    }
    pub fn pulls(self) -> bool {
        self != Direction::Push
    }
    pub fn pushes(self) -> bool {
        self != Direction::Pull
    }
}

/// Everything a page needs to know about its run.
pub struct PageContext<'a> {
    pub account_id: i64,
    pub connection_id: i64,
    pub run_id: i64,
    pub entity: &'a str,
    pub kind: ItemKind,
    pub dry_run: bool,
    /// A full listing: mark links seen so absent ones can be found afterwards.
    pub full: bool,
    pub direction: Direction,
    pub auto_merge: bool,
    /// What a first link does when the local item and the remote record differ.
    pub adoption: AdoptionPolicy,
    /// Remote category id → local category id.
    pub categories: &'a HashMap<String, i64>,
    /// Field ownership of this entity type (`BOTH` everywhere by default).
    pub policy: Policy,
}

#[derive(Debug, Default)]
pub struct PageOutcome {
    pub counters: Counters,
    pub events: Vec<RunEvent>,
    pub by_category: HashMap<Category, u64>,
    /// A few example diffs for dry-run reports.
    pub samples: Vec<serde_json::Value>,
    /// Conflicts the connection's policy merged automatically (disjoint fields).
    pub auto_merged: u64,
    /// Dry runs: the rows the page would have written, so the run's later stages plan on
    /// the state a real run would reach.
    pub planned: Planned,
    /// Dry runs: the links this page found upstream (a complete listing's deletions are
    /// the links no page found).
    pub seen: Vec<i64>,
}

/// Link and item rows as a dry run's page would have left them.
#[derive(Debug, Default)]
pub struct Planned {
    pub links: Vec<item_link::Model>,
    pub items: Vec<item::Model>,
    /// Links the page would have removed (their records left the record filter).
    pub unlinked: Vec<i64>,
}

impl PageOutcome {
    fn count(&mut self, c: Category) {
        *self.by_category.entry(c).or_default() += 1;
    }

    fn sample(&mut self, code: &str, decision: &Decision) {
        if self.samples.len() < 5 && !decision.fields.is_empty() {
            self.samples.push(serde_json::json!({ "code": code, "category": decision.category, "fields": decision.fields }));
        }
    }
}

/// Writes collected by one page, flushed in batches at the end.
#[derive(Default)]
struct Writes {
    new_items: Vec<(item::Model, RemoteRecord)>,
    item_updates: Vec<item::Model>,
    new_links: Vec<item_link::Model>,
    link_updates: Vec<item_link::Model>,
    seen: Vec<i64>,
    new_conflicts: Vec<conflict::Model>,
    refreshed_conflicts: Vec<conflict::Model>,
    /// New links waiting in a FIRST_LINK conflict: the conflict needs the link's id.
    first_links: Vec<(item_link::Model, conflict::Model)>,
    /// Links whose records left the connection's record filter: removed, items kept.
    unlinks: Vec<i64>,
}

impl Writes {
    /// What a dry run reports instead of writing.
    fn planned(self) -> Planned {
        let mut links = self.link_updates;
        links.extend(self.new_links);
        links.extend(self.first_links.into_iter().map(|(link, _)| link));
        Planned {
            links,
            items: self.item_updates,
            unlinked: self.unlinks,
        }
    }
}

/// An open conflict whose sides no longer disagree closes itself.
fn close_settled(w: &mut Writes, open: &HashMap<i64, conflict::Model>, link_id: i64) {
    if let Some(existing) = open.get(&link_id) {
        let mut closed = existing.clone();
        closed.status = ConflictStatus::Resolved;
        closed.resolved_at = Some(now());
        closed.comment = Some("settled by a sync: the records no longer disagree".into());
        closed.updated_at = now();
        w.refreshed_conflicts.push(closed);
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn new_item(ctx: &PageContext<'_>, fields: &Fields) -> item::Model {
    let mut m = item::Model {
        id: 0,
        account_id: ctx.account_id,
        kind: ctx.kind,
        code: String::new(),
        name: String::new(),
        description: None,
        cost: None,
        price: None,
        member_price: None,
        add_on_price: None,
        active: true,
        category_id: None,
        weight_kg: None,
        length_cm: None,
        width_cm: None,
        height_cm: None,
        quantity: None,
        attributes: serde_json::json!({}),
        local_modified_at: None,
        deleted_at: None,
        created_at: now(),
        updated_at: now(),
    };
    take_remote(&mut m, fields, ctx.categories);
    m
}

/// The local item takes the remote values (and the category they point at).
pub(crate) fn take_remote(
    item: &mut item::Model,
    remote: &Fields,
    categories: &HashMap<String, i64>,
) {
    canonical::apply_to_item(item, remote);
    item.category_id = canonical::category_remote_ids(remote)
        .iter()
        .find_map(|id| categories.get(id).copied())
        .or(item.category_id);
    item.deleted_at = None;
    item.updated_at = now();
}

fn link_for(ctx: &PageContext<'_>, item_id: i64, record: &RemoteRecord) -> item_link::Model {
    item_link::Model {
        id: 0,
        account_id: ctx.account_id,
        item_id,
        connection_id: ctx.connection_id,
        entity_type: ctx.entity.to_owned(),
        remote_id: record.remote_id.clone(),
        remote_modified_on: record.modified_on,
        last_synced_at: Some(now()),
        base: canonical::to_json(&record.fields),
        base_hash: record::fields_hash(&record.fields),
        last_pushed_hash: None,
        push_started_hash: None,
        sync_status: LinkStatus::Synced,
        deleted_remotely: false,
        paused: false,
        last_seen_run_id: ctx.full.then_some(ctx.run_id),
        last_error: None,
        attempts: 0,
        updated_at: now(),
    }
}

/// A link whose first sync has not settled: no base yet (empty), waiting in a FIRST_LINK
/// conflict.
fn unsettled_link(ctx: &PageContext<'_>, item_id: i64, record: &RemoteRecord) -> item_link::Model {
    let empty = Fields::new();
    item_link::Model {
        base: canonical::to_json(&empty),
        base_hash: record::fields_hash(&empty),
        sync_status: LinkStatus::Conflict,
        ..link_for(ctx, item_id, record)
    }
}

/// The link now matches the remote record: new base, synced.
fn rebase(link: &mut item_link::Model, record: &RemoteRecord) {
    link.base = canonical::to_json(&record.fields);
    link.base_hash = record::fields_hash(&record.fields);
    link.remote_modified_on = record.modified_on;
    link.last_synced_at = Some(now());
    link.sync_status = LinkStatus::Synced;
    link.deleted_remotely = false;
    link.last_error = None;
    link.attempts = 0;
    link.updated_at = now();
}

fn conflict_row(
    ctx: &PageContext<'_>,
    link: &item_link::Model,
    kind: ConflictKind,
    decision: &Decision,
    base: &Fields,
    local: &Fields,
    remote: Option<&Fields>,
) -> conflict::Model {
    conflict::Model {
        id: 0,
        account_id: ctx.account_id,
        connection_id: ctx.connection_id,
        item_id: link.item_id,
        link_id: link.id,
        run_id: Some(ctx.run_id),
        kind,
        status: ConflictStatus::Open,
        fields: serde_json::to_value(&decision.fields).unwrap_or_default(),
        base: canonical::to_json(base),
        local: canonical::to_json(local),
        remote: remote
            .map(canonical::to_json)
            .unwrap_or(serde_json::Value::Null),
        local_hash: record::fields_hash(local),
        remote_hash: remote.map(record::fields_hash).unwrap_or_default(),
        resolution: None,
        merged: None,
        resolved_by: None,
        resolved_at: None,
        comment: None,
        created_at: now(),
        updated_at: now(),
    }
}

/// Stores a conflict, or refreshes the open one when either side changed again.
fn record_conflict(
    w: &mut Writes,
    open: &HashMap<i64, conflict::Model>,
    row: conflict::Model,
) -> bool {
    match open.get(&row.link_id) {
        Some(existing)
            if existing.local_hash == row.local_hash && existing.remote_hash == row.remote_hash =>
        {
            false
        }
        Some(existing) => {
            let mut refreshed = row;
            refreshed.id = existing.id;
            refreshed.created_at = existing.created_at;
            w.refreshed_conflicts.push(refreshed);
            true
        }
        None => {
            w.new_conflicts.push(row);
            true
        }
    }
}

/// Applies a page of remote records. The caller owns the transaction.
pub async fn apply_items(
    db: &impl ConnectionTrait,
    ctx: &PageContext<'_>,
    records: &[RemoteRecord],
) -> AppResult<PageOutcome> {
    let mut out = PageOutcome::default();
    // A record listed twice (overlapping windows) counts once: the last copy wins.
    let mut unique: Vec<&RemoteRecord> = Vec::with_capacity(records.len());
    let mut position: HashMap<&str, usize> = HashMap::new();
    for r in records {
        match position.get(r.remote_id.as_str()) {
            Some(&i) => unique[i] = r,
            None => {
                position.insert(&r.remote_id, unique.len());
                unique.push(r);
            }
        }
    }
    out.counters.fetched = unique.len() as i64;

    let remote_ids: Vec<String> = unique.iter().map(|r| r.remote_id.clone()).collect();
    let links: HashMap<String, item_link::Model> =
        state::links_by_remote_ids(db, ctx.connection_id, ctx.entity, &remote_ids)
            .await?
            .into_iter()
            .map(|l| (l.remote_id.clone(), l))
            .collect();
    let linked_item_ids: Vec<i64> = links.values().map(|l| l.item_id).collect();
    let mut items: HashMap<i64, item::Model> =
        state::items_by_ids(db, ctx.account_id, &linked_item_ids)
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
    let open: HashMap<i64, conflict::Model> =
        state::open_conflicts_of_links(db, &links.values().map(|l| l.id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|c| (c.link_id, c))
            .collect();

    // Unlinked records may adopt a local item with the same code that no record of this
    // connection is linked to yet.
    let unlinked_codes: Vec<String> = unique
        .iter()
        .filter(|r| !links.contains_key(&r.remote_id))
        .filter_map(|r| {
            r.fields
                .get("code")
                .and_then(|c| c.as_str())
                .map(str::to_owned)
        })
        .collect();
    let mut adoptable: HashMap<String, item::Model> = HashMap::new();
    if !unlinked_codes.is_empty() {
        let candidates =
            state::items_by_codes(db, ctx.account_id, ctx.kind, &unlinked_codes).await?;
        let taken: HashSet<i64> = state::links_of_items(
            db,
            ctx.connection_id,
            &candidates.iter().map(|c| c.id).collect::<Vec<_>>(),
        )
        .await?
        .into_iter()
        .map(|l| l.item_id)
        .collect();
        for c in candidates.into_iter().filter(|c| !taken.contains(&c.id)) {
            adoptable.entry(c.code.clone()).or_insert(c);
        }
    }

    let filter = &ctx.policy.filter;
    let subtree = match filter.category_id {
        Some(root) => state::category_subtree(db, ctx.account_id, root).await?,
        None => HashSet::new(),
    };
    let mut w = Writes::default();
    for record in unique {
        let code = record
            .fields
            .get("code")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_owned();
        let candidate = policy::Candidate {
            fields: &record.fields,
            kind: ctx.kind.as_str(),
            category_id: canonical::category_remote_ids(&record.fields)
                .iter()
                .find_map(|id| ctx.categories.get(id).copied()),
            modified_on: record.modified_on,
        };
        if !filter.is_empty() && !filter.admits(&candidate, &subtree) {
            out.counters.skipped += 1;
            if let Some(link) = links.get(&record.remote_id) {
                close_settled(&mut w, &open, link.id);
                w.unlinks.push(link.id);
                out.events.push(
                    RunEvent::info(
                        "left_filter",
                        "the record left this connection's record filter: unlinked, the item stays",
                    )
                    .for_record(
                        Some(link.item_id),
                        Some(&record.remote_id),
                        Some(&code),
                    ),
                );
            }
            continue;
        }
        if code.is_empty() || !record.fields.contains_key("name") {
            out.counters.errors += 1;
            out.events.push(
                RunEvent::error("invalid_record", "record has no code or name; skipped")
                    .for_record(None, Some(&record.remote_id), Some(&code)),
            );
            continue;
        }
        match links.get(&record.remote_id) {
            Some(link) => apply_linked(
                ctx,
                record,
                link.clone(),
                &mut items,
                &open,
                &mut w,
                &mut out,
            ),
            None => {
                let candidate = adoptable.remove(&code);
                let local = candidate.as_ref().map(canonical::from_item);
                let decision = diff::categorise(Some(&record.fields), None, local.as_ref());
                out.count(
                    if decision.category == Category::Unchanged && decision.adopted {
                        Category::Adopt
                    } else {
                        decision.category
                    },
                );
                out.sample(&code, &decision);
                match candidate {
                    None if ctx.direction.pulls() => {
                        out.counters.created += 1;
                        w.new_items
                            .push((new_item(ctx, &record.fields), record.clone()));
                    }
                    None => out.counters.skipped += 1,
                    Some(item) => {
                        let first = FirstLink {
                            record,
                            item,
                            link: None,
                            decision: &decision,
                        };
                        first.apply(ctx, &open, &mut w, &mut out);
                    }
                }
            }
        }
    }

    if ctx.dry_run {
        out.seen = links.values().map(|l| l.id).collect();
        out.planned = w.planned();
        return Ok(out);
    }
    flush(db, ctx, w).await?;
    Ok(out)
}

/// A local item and a remote record with no base between them: adopted by code, or
/// linked before and still waiting in a FIRST_LINK conflict.
struct FirstLink<'r> {
    record: &'r RemoteRecord,
    item: item::Model,
    /// The existing link (its base still empty), or none yet.
    link: Option<item_link::Model>,
    decision: &'r Decision,
}

impl FirstLink<'_> {
    fn apply(
        self,
        ctx: &PageContext<'_>,
        open: &HashMap<i64, conflict::Model>,
        w: &mut Writes,
        out: &mut PageOutcome,
    ) {
        let FirstLink {
            record,
            mut item,
            link,
            decision,
        } = self;
        let differ = decision.category == Category::FirstLink;
        if differ && ctx.adoption == AdoptionPolicy::Conflict {
            return Self::conflict(ctx, record, item, link, decision, open, w, out);
        }
        // Equal, or the connection's policy names the side that wins.
        let mut settled = match link {
            Some(mut existing) => {
                close_settled(w, open, existing.id);
                rebase(&mut existing, record);
                existing.last_seen_run_id =
                    ctx.full.then_some(ctx.run_id).or(existing.last_seen_run_id);
                existing
            }
            None => link_for(ctx, item.id, record),
        };
        let take_remote_side =
            ctx.adoption == AdoptionPolicy::PreferRemote && ctx.direction.pulls();
        if differ && take_remote_side {
            take_remote(&mut item, &record.fields, ctx.categories);
            w.item_updates.push(item);
            out.counters.updated += 1;
        } else {
            if differ && ctx.direction.pushes() {
                // Local wins: upstream gets it in this run's push.
                settled.sync_status = LinkStatus::PendingPush;
            }
            out.counters.skipped += 1;
        }
        if settled.id == 0 {
            w.new_links.push(settled);
        } else {
            w.link_updates.push(settled);
        }
    }

    /// Neither side is touched: the link waits (empty base) with a FIRST_LINK conflict.
    #[allow(clippy::too_many_arguments)]
    fn conflict(
        ctx: &PageContext<'_>,
        record: &RemoteRecord,
        item: item::Model,
        link: Option<item_link::Model>,
        decision: &Decision,
        open: &HashMap<i64, conflict::Model>,
        w: &mut Writes,
        out: &mut PageOutcome,
    ) {
        let local = canonical::from_item(&item);
        let event = RunEvent::info(
            "first_link_conflict",
            "a local item with this code differs from the remote record; nothing was changed, waiting for review",
        )
        .for_record(Some(item.id), Some(&record.remote_id), Some(&item.code));
        let mut link = link.unwrap_or_else(|| unsettled_link(ctx, item.id, record));
        let row = conflict_row(
            ctx,
            &link,
            ConflictKind::FirstLink,
            decision,
            &Fields::new(),
            &local,
            Some(&record.fields),
        );
        if link.id == 0 {
            // New: the conflict is stored with the link (it needs the link's id).
            w.first_links.push((link, row));
            out.counters.conflicts += 1;
            out.events.push(event);
            return;
        }
        if record_conflict(w, open, row) {
            out.counters.conflicts += 1;
            out.events.push(event);
        }
        let seen = ctx.full.then_some(ctx.run_id).or(link.last_seen_run_id);
        if link.sync_status != LinkStatus::Conflict || link.last_seen_run_id != seen {
            link.sync_status = LinkStatus::Conflict;
            link.last_seen_run_id = seen;
            link.updated_at = now();
            w.link_updates.push(link);
        } else {
            w.seen.push(link.id);
        }
    }
}

fn apply_linked(
    ctx: &PageContext<'_>,
    record: &RemoteRecord,
    mut link: item_link::Model,
    items: &mut HashMap<i64, item::Model>,
    open: &HashMap<i64, conflict::Model>,
    w: &mut Writes,
    out: &mut PageOutcome,
) {
    let code = record
        .fields
        .get("code")
        .and_then(|c| c.as_str())
        .unwrap_or("");
    let item_id = link.item_id;
    let Some(mut item) = items.remove(&link.item_id) else {
        // The item vanished locally (should not happen: items are soft-deleted).
        out.counters.errors += 1;
        out.events.push(
            RunEvent::error("missing_item", "linked item not found").for_record(
                Some(link.item_id),
                Some(&record.remote_id),
                Some(code),
            ),
        );
        return;
    };
    if link.paused {
        out.counters.skipped += 1;
        w.seen.push(link.id);
        return;
    }
    let Some(base) = canonical::base_of(&link) else {
        // Linked before, but the first sync never settled (a FIRST_LINK conflict).
        let local = canonical::from_item(&item);
        let decision = diff::categorise(Some(&record.fields), None, Some(&local));
        out.count(decision.category);
        out.sample(code, &decision);
        let first = FirstLink {
            record,
            item,
            link: Some(link),
            decision: &decision,
        };
        return first.apply(ctx, open, w, out);
    };
    let local = canonical::from_item(&item);
    // A record that reappears after a remote delete is taken as it is now.
    let reappeared = link.deleted_remotely && item.deleted_at.is_some();
    let verdict = if reappeared {
        policy::Verdict {
            decision: Decision {
                category: Category::RemoteOnly,
                fields: Vec::new(),
                adopted: false,
            },
            also_push: false,
            overwritten: Vec::new(),
        }
    } else {
        policy::categorise(&ctx.policy, Some(&record.fields), Some(&base), Some(&local))
    };
    let decision = verdict.decision;
    if !verdict.overwritten.is_empty() && ctx.direction.pushes() {
        out.events.push(
            RunEvent::info(
                "remote_change_overwritten",
                format!(
                    "upstream changed {} which this connection's policy gives to the local side; the push overwrites it",
                    verdict.overwritten.join(", ")
                ),
            )
            .for_record(Some(item_id), Some(&record.remote_id), Some(code)),
        );
    }
    out.count(decision.category);
    out.sample(code, &decision);
    link.last_seen_run_id = if ctx.full {
        Some(ctx.run_id)
    } else {
        link.last_seen_run_id
    };
    let unchanged_meta = link.base_hash == record::fields_hash(&record.fields)
        && link.remote_modified_on == record.modified_on;
    if decision.category != Category::Conflict {
        close_settled(w, open, link.id);
    }
    match decision.category {
        Category::Unchanged | Category::Converged => {
            if unchanged_meta && link.sync_status == LinkStatus::Synced && !link.deleted_remotely {
                w.seen.push(link.id);
            } else {
                rebase(&mut link, record);
                w.link_updates.push(link);
            }
            out.counters.skipped += 1;
        }
        Category::RemoteOnly if ctx.direction.pulls() => {
            let written = ctx
                .policy
                .written(&record.fields, Some(&base), Some(&local));
            take_remote(&mut item, &written, ctx.categories);
            w.item_updates.push(item);
            rebase(&mut link, record);
            if verdict.also_push && ctx.direction.pushes() {
                link.sync_status = LinkStatus::PendingPush;
            }
            w.link_updates.push(link);
            out.counters.updated += 1;
        }
        Category::LocalOnly if ctx.direction.pushes() => {
            if link.sync_status == LinkStatus::PendingPush {
                w.seen.push(link.id);
            } else {
                link.sync_status = LinkStatus::PendingPush;
                link.updated_at = now();
                w.link_updates.push(link);
            }
            out.counters.skipped += 1;
        }
        Category::Conflict => {
            if ctx.auto_merge
                && let Some(merged) = diff::merge_disjoint(&base, &local, &record.fields)
            {
                close_settled(w, open, link.id);
                take_remote(&mut item, &merged, ctx.categories);
                item.local_modified_at = Some(now());
                w.item_updates.push(item);
                rebase(&mut link, record);
                // The merge holds local changes upstream does not have yet.
                if merged != record.fields {
                    link.sync_status = LinkStatus::PendingPush;
                }
                w.link_updates.push(link);
                out.counters.updated += 1;
                out.auto_merged += 1;
                out.events.push(
                    RunEvent::info(
                        "auto_merged",
                        "both sides changed different fields; merged automatically",
                    )
                    .for_record(
                        Some(item_id),
                        Some(&record.remote_id),
                        Some(code),
                    ),
                );
                return;
            }
            let row = conflict_row(
                ctx,
                &link,
                ConflictKind::Fields,
                &decision,
                &base,
                &local,
                Some(&record.fields),
            );
            if record_conflict(w, open, row) {
                out.counters.conflicts += 1;
                out.events.push(
                    RunEvent::info(
                        "conflict",
                        "both sides changed the same fields; waiting for review",
                    )
                    .for_record(
                        Some(item_id),
                        Some(&record.remote_id),
                        Some(code),
                    ),
                );
            }
            if link.sync_status != LinkStatus::Conflict {
                link.sync_status = LinkStatus::Conflict;
                link.updated_at = now();
                w.link_updates.push(link);
            } else {
                w.seen.push(link.id);
            }
        }
        // A local change this connection never pushes (pull direction or a read-only
        // upstream such as Amazon): nothing is owed, so the link is not left pending.
        Category::LocalOnly if link.sync_status == LinkStatus::PendingPush => {
            link.sync_status = LinkStatus::Synced;
            link.updated_at = now();
            w.link_updates.push(link);
            out.counters.skipped += 1;
        }
        // Direction forbids acting on this change: leave both sides as they are.
        _ => {
            out.counters.skipped += 1;
            w.seen.push(link.id);
        }
    }
}

async fn flush(db: &impl ConnectionTrait, ctx: &PageContext<'_>, w: Writes) -> AppResult<()> {
    let (models, records): (Vec<item::Model>, Vec<RemoteRecord>) = w.new_items.into_iter().unzip();
    let inserted = state::insert_items(db, models).await?;
    let mut new_links = w.new_links;
    new_links.extend(
        inserted
            .iter()
            .zip(records.iter())
            .map(|(item, record)| link_for(ctx, item.id, record)),
    );
    state::update_items(db, w.item_updates).await?;
    state::insert_links(db, new_links).await?;
    state::update_links(db, w.link_updates).await?;
    if ctx.full {
        state::mark_seen(db, &w.seen, ctx.run_id).await?;
    }
    let (first_links, mut conflicts): (Vec<item_link::Model>, Vec<conflict::Model>) =
        w.first_links.into_iter().unzip();
    let first_links = state::insert_links_returning(db, first_links).await?;
    for (conflict, link) in conflicts.iter_mut().zip(&first_links) {
        conflict.link_id = link.id;
    }
    conflicts.extend(w.new_conflicts);
    state::insert_conflicts(db, conflicts).await?;
    for c in w.refreshed_conflicts {
        state::refresh_conflict(db, c).await?;
    }
    state::delete_links(db, &w.unlinks).await?;
    Ok(())
}

/// Applies remote deletions found after a complete listing: soft-delete the item, or a
/// delete-vs-local-edit conflict when the item changed locally since the last sync.
pub async fn apply_deletions(
    db: &impl ConnectionTrait,
    ctx: &PageContext<'_>,
    links: Vec<item_link::Model>,
) -> AppResult<PageOutcome> {
    let mut out = PageOutcome::default();
    let item_ids: Vec<i64> = links.iter().map(|l| l.item_id).collect();
    let mut items: HashMap<i64, item::Model> = state::items_by_ids(db, ctx.account_id, &item_ids)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let open: HashMap<i64, conflict::Model> =
        state::open_conflicts_of_links(db, &links.iter().map(|l| l.id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|c| (c.link_id, c))
            .collect();
    let mut w = Writes::default();
    for mut link in links {
        if link.paused {
            continue;
        }
        let Some(mut item) = items.remove(&link.item_id) else {
            continue;
        };
        link.deleted_remotely = true;
        link.updated_at = now();
        let Some(base) = canonical::base_of(&link) else {
            // Gone before its first link settled: the item never came from this
            // connection, so it stays; the FIRST_LINK conflict has nothing left to decide.
            close_settled(&mut w, &open, link.id);
            link.sync_status = LinkStatus::Synced;
            w.link_updates.push(link);
            continue;
        };
        let local = canonical::from_item(&item);
        let decision = policy::categorise(&ctx.policy, None, Some(&base), Some(&local)).decision;
        out.count(decision.category);
        out.sample(&item.code, &decision);
        if decision.category == Category::DeleteConflict && ctx.direction.pushes() {
            let row = conflict_row(
                ctx,
                &link,
                ConflictKind::Delete,
                &decision,
                &base,
                &local,
                None,
            );
            if record_conflict(&mut w, &open, row) {
                out.counters.conflicts += 1;
                out.events.push(
                    RunEvent::info(
                        "delete_conflict",
                        "deleted upstream but edited locally; waiting for review",
                    )
                    .for_record(
                        Some(item.id),
                        Some(&link.remote_id),
                        Some(&item.code),
                    ),
                );
            }
            link.sync_status = LinkStatus::Conflict;
        } else {
            item.deleted_at = Some(now());
            item.updated_at = now();
            w.item_updates.push(item);
            link.sync_status = LinkStatus::Synced;
            out.counters.deleted += 1;
        }
        w.link_updates.push(link);
    }
    if ctx.dry_run {
        out.planned = w.planned();
    } else {
        flush(db, ctx, w).await?;
    }
    Ok(out)
}

/// Upserts the category tree of a connection (pull only), parents resolved afterwards.
pub async fn apply_categories(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: i64,
    remote: &[RemoteCategory],
    dry_run: bool,
) -> AppResult<Counters> {
    let mut counters = Counters {
        fetched: remote.len() as i64,
        ..Default::default()
    };
    let existing: HashMap<String, category::Model> =
        state::categories_of_connection(db, connection_id)
            .await?
            .into_iter()
            .filter_map(|c| c.remote_id.clone().map(|r| (r, c)))
            .collect();
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for rc in remote {
        match existing.get(&rc.remote_id) {
            Some(c)
                if c.name == rc.name
                    && c.active == rc.active
                    && c.remote_parent_id == rc.parent_remote_id =>
            {
                counters.skipped += 1
            }
            Some(c) => {
                let mut c = c.clone();
                c.name = rc.name.clone();
                c.active = rc.active;
                c.remote_parent_id = rc.parent_remote_id.clone();
                c.updated_at = now();
                updates.push(c);
                counters.updated += 1;
            }
            None => {
                inserts.push(category::Model {
                    id: 0,
                    account_id,
                    parent_id: None,
                    name: rc.name.clone(),
                    active: rc.active,
                    connection_id: Some(connection_id),
                    remote_id: Some(rc.remote_id.clone()),
                    remote_parent_id: rc.parent_remote_id.clone(),
                    created_at: now(),
                    updated_at: now(),
                });
                counters.created += 1;
            }
        }
    }
    if !dry_run {
        state::insert_categories(db, inserts).await?;
        state::update_categories(db, updates).await?;
    }
    Ok(counters)
}

/// Points each synced category at its local parent; returns remote id → local id.
pub async fn link_category_parents(
    db: &impl ConnectionTrait,
    connection_id: i64,
    dry_run: bool,
) -> AppResult<HashMap<String, i64>> {
    let all = state::categories_of_connection(db, connection_id).await?;
    let by_remote: HashMap<String, i64> = all
        .iter()
        .filter_map(|c| c.remote_id.clone().map(|r| (r, c.id)))
        .collect();
    let mut changed = Vec::new();
    for c in all {
        let parent = c
            .remote_parent_id
            .as_ref()
            .and_then(|p| by_remote.get(p).copied());
        if parent != c.parent_id {
            let mut c = c;
            c.parent_id = parent;
            changed.push(c);
        }
    }
    if !dry_run {
        state::update_categories(db, changed).await?;
    }
    Ok(by_remote)
}
