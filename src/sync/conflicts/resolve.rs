//! Resolving one conflict: re-read both sides (refusing stale conflicts), write upstream
//! when the outcome needs it, then save item, link, conflict and audit entry in one
//! transaction. A failed upstream write leaves the link `pending_push` with its error, so
//! the chosen values are pushed by the next sync instead of being lost.

use super::merge::{self, Pick};
use crate::auth::Caller;
use crate::connectors::{Connector, EntityType, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record::{self, Fields};
use crate::store::{self, Db, sync_state as state};
use crate::sync::apply::{self, Direction};
use crate::sync::canonical;
use crate::sync::diff::{self, Category};
use crate::sync::policy::Policy;
use crate::sync::push::{mark_pushed, upstream_error};
use entity::enums::{ConflictKind, ConflictStatus, LinkStatus, Resolution};
use entity::{conflict, item, item_link};
use std::collections::{BTreeMap, HashMap};

/// What the admin asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub resolution: Resolution,
    /// Per-field picks, for `Merged` only.
    pub picks: BTreeMap<String, Pick>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub conflict: conflict::Model,
    /// The upstream write failed: the link is `pending_push` and the next sync retries it.
    pub push_error: Option<String>,
}

/// Everything one resolution reads before deciding.
struct Sides {
    conflict: conflict::Model,
    link: item_link::Model,
    item: item::Model,
    entity: EntityType,
    direction: Direction,
    /// The connection's sync policy of the entity type: what the upstream write sends.
    policy: Policy,
    remote: Option<RemoteRecord>,
}

pub async fn resolve(
    db: &Db,
    connector: &dyn Connector,
    actor: &Caller,
    conflict_id: i64,
    req: Request,
) -> AppResult<Resolved> {
    let sides = read_sides(db, connector, actor.account_id, conflict_id).await?;
    check_request(&sides.conflict, &req)?;
    if let Some(stale) = refresh_if_stale(db, &sides).await? {
        return Err(stale);
    }
    match sides.conflict.kind {
        ConflictKind::Fields | ConflictKind::FirstLink => {
            resolve_fields(db, connector, actor, sides, req).await
        }
        ConflictKind::Delete => resolve_delete(db, connector, actor, sides, req).await,
    }
}

fn check_request(c: &conflict::Model, req: &Request) -> AppResult<()> {
    if c.status != ConflictStatus::Open {
        return Err(AppError::ConflictStale(format!(
            "conflict {} was already resolved ({})",
            c.id,
            c.resolution
                .map(|r| r.as_str())
                .unwrap_or("no longer conflicting")
        )));
    }
    match (c.kind, req.resolution) {
        (ConflictKind::Delete, Resolution::Merged) => Err(AppError::bad_input(
            "a deletion conflict resolves with USE_LOCAL (keep the item) or USE_REMOTE (accept the delete)",
        )),
        (_, Resolution::UseLocal | Resolution::UseRemote) if !req.picks.is_empty() => {
            Err(AppError::bad_input("fields are only used with MERGED"))
        }
        _ => Ok(()),
    }
}

async fn read_sides(
    db: &Db,
    connector: &dyn Connector,
    account_id: i64,
    conflict_id: i64,
) -> AppResult<Sides> {
    let conflict = store::conflicts::get(db, account_id, conflict_id).await?;
    let link = store::links::get(db, account_id, conflict.link_id).await?;
    let item = store::items::get(db, account_id, conflict.item_id).await?;
    let connection = store::connections::get(db, account_id, conflict.connection_id).await?;
    let entity = *connector
        .entity_types()
        .iter()
        .find(|e| e.name == link.entity_type)
        .ok_or_else(|| {
            AppError::internal(format!("connector has no entity type {}", link.entity_type))
        })?;
    let direction = Direction::of(&connection.directions, entity.name);
    let policy = Policy::of(&connection.sync_policy, entity.name);
    let remote = if conflict.status == ConflictStatus::Open {
        connector
            .fetch(&entity, &link.remote_id)
            .await
            .map_err(upstream_error)?
    } else {
        None
    };
    Ok(Sides {
        conflict,
        link,
        item,
        entity,
        direction,
        policy,
        remote,
    })
}

/// When either side changed since the conflict was stored, stores the sides as they are
/// now and answers `CONFLICT_STALE` (or closes the conflict if the sides now agree).
async fn refresh_if_stale(db: &Db, s: &Sides) -> AppResult<Option<AppError>> {
    let local = canonical::from_item(&s.item);
    let remote = s.remote.as_ref().map(|r| r.fields.clone());
    let local_hash = record::fields_hash(&local);
    let remote_hash = remote.as_ref().map(record::fields_hash).unwrap_or_default();
    if local_hash == s.conflict.local_hash && remote_hash == s.conflict.remote_hash {
        return Ok(None);
    }
    let base = canonical::base_of(&s.link);
    let decision = diff::categorise(remote.as_ref(), base.as_ref(), Some(&local));
    let mut row = s.conflict.clone();
    row.local = canonical::to_json(&local);
    row.remote = remote
        .as_ref()
        .map(canonical::to_json)
        .unwrap_or(serde_json::Value::Null);
    row.local_hash = local_hash;
    row.remote_hash = remote_hash;
    row.updated_at = chrono::Utc::now();
    let kind = match decision.category {
        Category::Conflict => Some(ConflictKind::Fields),
        Category::DeleteConflict => Some(ConflictKind::Delete),
        Category::FirstLink => Some(ConflictKind::FirstLink),
        _ => None,
    };
    let still_conflicting = kind.is_some();
    let error = if let Some(kind) = kind {
        row.kind = kind;
        row.fields = serde_json::to_value(&decision.fields).unwrap_or_default();
        AppError::ConflictStale(format!(
            "conflict {} changed since it was detected; review the refreshed versions and resolve again",
            row.id
        ))
    } else {
        // The sides converged or only one changed now: the next sync handles it plainly.
        row.status = ConflictStatus::Resolved;
        row.resolved_at = Some(chrono::Utc::now());
        row.comment = Some("no longer conflicting: the records changed since detection".into());
        AppError::ConflictStale(format!(
            "conflict {} no longer needs resolving: the records changed since it was detected; the next sync takes them as they are",
            row.id
        ))
    };
    let txn = store::db::begin_write(db).await?;
    store::conflicts::save(&txn, row).await?;
    if !still_conflicting {
        let mut link = s.link.clone();
        link.sync_status = LinkStatus::Synced;
        link.updated_at = chrono::Utc::now();
        state::update_links(&txn, vec![link]).await?;
    }
    txn.commit().await?;
    Ok(Some(error))
}

async fn resolve_fields(
    db: &Db,
    connector: &dyn Connector,
    actor: &Caller,
    s: Sides,
    req: Request,
) -> AppResult<Resolved> {
    let Some(remote) = s.remote.clone() else {
        return Err(AppError::internal("field conflict without a remote record"));
    };
    let base = canonical::base_of(&s.link);
    let local = canonical::from_item(&s.item);
    let chosen: Fields = match req.resolution {
        Resolution::UseRemote => remote.fields.clone(),
        Resolution::UseLocal => local.clone(),
        Resolution::Merged => merge::merge(
            base.as_ref(),
            &local,
            &remote.fields,
            &differing_of(&s.conflict),
            &req.picks,
        )?,
    };
    let mut item = s.item.clone();
    if chosen != local {
        let categories = category_map(db, s.conflict.connection_id).await?;
        apply::take_remote(&mut item, &chosen, &categories);
        if req.resolution == Resolution::Merged {
            item.local_modified_at = Some(chrono::Utc::now());
        }
    }
    // What a push sends under the policy (fields local does not own keep the upstream's
    // values); upstream may already hold it, or this connection does not push.
    let outgoing = s.policy.outgoing(&chosen, Some(&remote.fields));
    let push_needed = outgoing != remote.fields;
    let can_push = s.direction.pushes() && connector.capabilities().update;
    let mut link = s.link.clone();
    let mut push_error = None;
    if push_needed && can_push {
        match connector
            .update(&s.entity, &link.remote_id, &outgoing)
            .await
        {
            Ok(answer) => mark_pushed(&mut link, &answer, record::fields_hash(&outgoing)),
            Err(e) => {
                push_error = Some(e.to_string());
                owe_push(&mut link, &remote, e.to_string());
            }
        }
    } else {
        // Base = remote: a local difference on a pull-only connection stays local.
        mark_pushed(&mut link, &remote, record::fields_hash(&chosen));
        if !push_needed {
            link.last_pushed_hash = None;
        }
    }
    let merged = (req.resolution == Resolution::Merged).then(|| canonical::to_json(&chosen));
    save(
        db,
        actor,
        s.conflict,
        Some(item),
        link,
        &req,
        merged,
        &push_error,
    )
    .await
}

async fn resolve_delete(
    db: &Db,
    connector: &dyn Connector,
    actor: &Caller,
    s: Sides,
    req: Request,
) -> AppResult<Resolved> {
    let mut item = s.item.clone();
    let mut link = s.link.clone();
    let now = chrono::Utc::now();
    if req.resolution == Resolution::UseRemote {
        // Accept the delete: soft-delete locally (vendor prices stay with the item).
        item.deleted_at = Some(now);
        item.updated_at = now;
        link.sync_status = LinkStatus::Synced;
        link.deleted_remotely = true;
        link.updated_at = now;
        return save(db, actor, s.conflict, Some(item), link, &req, None, &None).await;
    }
    let local = canonical::from_item(&item);
    let can_create = s.direction.pushes() && connector.capabilities().create;
    if !can_create {
        // Keep the item locally and stop syncing it with this connection.
        link.paused = true;
        link.sync_status = LinkStatus::Synced;
        link.updated_at = now;
        return save(db, actor, s.conflict, None, link, &req, None, &None).await;
    }
    // Re-create upstream under the policy (`IGNORE` fields left out); a refusal or a
    // failure leaves the conflict open (nothing half-done).
    let sent = s
        .policy
        .created(&local, connector.required_on_create(&s.entity))
        .map_err(|ignored| {
            AppError::bad_input(format!(
                "{} cannot be re-created upstream: {} requires {} on create, which this connection's sync policy has as IGNORE; change the policy or accept the delete (USE_REMOTE)",
                item.code,
                s.entity.name,
                ignored.join(", ")
            ))
        })?;
    let answer = connector
        .create(&s.entity, &sent)
        .await
        .map_err(upstream_error)?;
    link.remote_id = answer.remote_id.clone();
    link.deleted_remotely = false;
    mark_pushed(&mut link, &answer, record::fields_hash(&sent));
    save(db, actor, s.conflict, None, link, &req, None, &None).await
}

fn differing_of(c: &conflict::Model) -> Vec<diff::FieldDiff> {
    serde_json::from_value(c.fields.clone()).unwrap_or_default()
}

/// The write failed: base = the remote as it is, so the next sync sees a local-only
/// change and pushes it.
fn owe_push(link: &mut item_link::Model, remote: &RemoteRecord, error: String) {
    let now = chrono::Utc::now();
    link.base = canonical::to_json(&remote.fields);
    link.base_hash = record::fields_hash(&remote.fields);
    link.remote_modified_on = remote.modified_on.or(link.remote_modified_on);
    link.sync_status = LinkStatus::PendingPush;
    link.last_error = Some(error);
    link.attempts += 1;
    link.updated_at = now;
}

async fn category_map(db: &Db, connection_id: i64) -> AppResult<HashMap<String, i64>> {
    Ok(state::categories_of_connection(db, connection_id)
        .await?
        .into_iter()
        .filter_map(|c| c.remote_id.map(|r| (r, c.id)))
        .collect())
}

#[allow(clippy::too_many_arguments)]
async fn save(
    db: &Db,
    actor: &Caller,
    mut conflict: conflict::Model,
    item: Option<item::Model>,
    link: item_link::Model,
    req: &Request,
    merged: Option<serde_json::Value>,
    push_error: &Option<String>,
) -> AppResult<Resolved> {
    let now = chrono::Utc::now();
    conflict.status = ConflictStatus::Resolved;
    conflict.resolution = Some(req.resolution);
    conflict.merged = merged;
    conflict.resolved_by = Some(actor.user_id);
    conflict.resolved_at = Some(now);
    conflict.comment = req.comment.clone().filter(|c| !c.trim().is_empty());
    conflict.updated_at = now;
    let dropped: Vec<serde_json::Value> =
        merge::dropped(conflict.kind, req.resolution, &differing_of(&conflict))
            .iter()
            .map(|f| {
                serde_json::json!({
                    "field": f.field,
                    "change": merge::change_of(conflict.kind, f),
                    "local": f.local,
                    "remote": f.remote,
                })
            })
            .collect();
    let txn = store::db::begin_write(db).await?;
    if let Some(mut item) = item {
        item.updated_at = now;
        state::update_items(&txn, vec![item]).await?;
    }
    state::update_links(&txn, vec![link]).await?;
    let conflict = store::conflicts::save(&txn, conflict).await?;
    store::audit::record(
        &txn,
        actor,
        "conflict.resolve",
        Some(("conflict", conflict.id.to_string())),
        serde_json::json!({
            "resolution": req.resolution.as_str(),
            "kind": conflict.kind.as_str(),
            "itemId": conflict.item_id,
            "connectionId": conflict.connection_id,
            "picks": req.picks.iter().map(|(f, p)| (f.clone(), pick_label(p))).collect::<BTreeMap<_, _>>(),
            "comment": conflict.comment,
            "pushError": push_error,
            "dropped": dropped,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(Resolved {
        conflict,
        push_error: push_error.clone(),
    })
}

fn pick_label(p: &Pick) -> serde_json::Value {
    match p {
        Pick::Base => "base".into(),
        Pick::Local => "local".into(),
        Pick::Remote => "remote".into(),
        Pick::Custom(v) => serde_json::json!({ "custom": v }),
    }
}
