//! Pushes local changes upstream: links marked `pending_push` (or in `error`, retried)
//! are written through the connector; the upstream's answer becomes the new base.
//! Idempotent by payload hash: a payload already pushed is never sent twice.

use super::canonical;
use super::progress::{Counters, RunEvent, Tracker};
use crate::connectors::http::UpstreamError;
use crate::connectors::{Connector, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record;
use crate::store::{Db, sync_state as state};
use entity::enums::LinkStatus;
use entity::item_link;
use std::collections::HashMap;
use tokio_util::sync::CancellationToken;

const BATCH: u64 = 100;

pub struct PushContext<'a> {
    pub account_id: i64,
    pub connection_id: i64,
    pub run_id: i64,
    pub dry_run: bool,
    /// Restrict to these items (single-record syncs, retries).
    pub only_items: Option<&'a [i64]>,
    /// Entity types this connection may push to.
    pub allowed: &'a (dyn Fn(&str) -> bool + Sync),
}

pub async fn push_pending(
    db: &Db,
    connector: &dyn Connector,
    ctx: &PushContext<'_>,
    tracker: &Tracker<'_>,
    cancel: &CancellationToken,
) -> AppResult<Counters> {
    let mut total = Counters::default();
    let mut after = 0i64;
    loop {
        if cancel.is_cancelled() {
            return Err(AppError::Cancelled("cancelled while pushing".into()));
        }
        let links =
            state::links_to_push(db, ctx.connection_id, after, BATCH, ctx.only_items).await?;
        let Some(last) = links.last() else { break };
        after = last.id;
        let item_ids: Vec<i64> = links.iter().map(|l| l.item_id).collect();
        let items: HashMap<i64, entity::item::Model> =
            state::items_by_ids(db, ctx.account_id, &item_ids)
                .await?
                .into_iter()
                .map(|i| (i.id, i))
                .collect();
        let mut updates: Vec<item_link::Model> = Vec::new();
        let mut events = Vec::new();
        let mut counters = Counters::default();
        for mut link in links {
            let Some(item) = items.get(&link.item_id) else {
                continue;
            };
            let Some(entity) = connector
                .entity_types()
                .iter()
                .find(|e| e.name == link.entity_type)
            else {
                continue;
            };
            if !(ctx.allowed)(entity.name) || item.deleted_at.is_some() {
                continue;
            }
            let local = canonical::from_item(item);
            let hash = record::fields_hash(&local);
            if hash == link.base_hash || link.last_pushed_hash.as_deref() == Some(hash.as_str()) {
                // Upstream already has this content (or normalised what we sent).
                link.sync_status = LinkStatus::Synced;
                link.updated_at = chrono::Utc::now();
                updates.push(link);
                counters.skipped += 1;
                continue;
            }
            if ctx.dry_run {
                counters.pushed += 1;
                continue;
            }
            match connector.update(entity, &link.remote_id, &local).await {
                Ok(answer) => {
                    mark_pushed(&mut link, &answer, hash);
                    updates.push(link);
                    counters.pushed += 1;
                }
                Err(e) if e.is_record_level() => {
                    counters.errors += 1;
                    events.push(RunEvent::error("push_failed", e.to_string()).for_record(
                        Some(item.id),
                        Some(&link.remote_id),
                        Some(&item.code),
                    ));
                    link.sync_status = LinkStatus::Error;
                    link.last_error = Some(e.to_string());
                    link.attempts += 1;
                    link.updated_at = chrono::Utc::now();
                    updates.push(link);
                }
                Err(e) => {
                    // Connection-wide trouble: keep what was pushed, stop; the rest stays pending.
                    save(db, ctx, updates, events).await?;
                    return Err(upstream_error(e));
                }
            }
        }
        if !ctx.dry_run {
            save(db, ctx, updates, events).await?;
        }
        tracker.add(&counters);
        total.add(&counters);
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
    let txn = crate::store::db::begin_write(db).await?;
    state::update_links(&txn, updates).await?;
    state::insert_events(&txn, ctx.account_id, ctx.connection_id, ctx.run_id, events).await?;
    txn.commit().await?;
    Ok(())
}

pub fn upstream_error(e: UpstreamError) -> AppError {
    match e {
        UpstreamError::RateLimitBudget { .. } => AppError::RateLimited(e.to_string()),
        other => AppError::Upstream(other.to_string()),
    }
}
