//! Push on save, the decisions: which of an edited item's links queue a push run, and
//! which active runs will push an edit. The queueing is `jobs::Jobs::push_on_save`
//! (over `store::runs::join_or_queue_push`); the run is an ordinary PUSH run
//! (`engine`): it re-reads each pending record upstream, compares three-way, then pushes.

use super::apply::Direction;
use entity::enums::{ConnectionHealth, ConnectionStatus, LinkStatus, RunMode, RunStatus};
use entity::{connection, item, item_link, sync_run};

/// Whether a local edit of `item` queues a push run on `link`'s connection: the
/// connection has `push_on_save`, is active, may sync now (not waiting for a reconnect,
/// not paused after failures), writes upstream and pushes the link's entity type; the
/// link owes a push; and what a push would send differs from what upstream holds (an
/// edit of fields the connection does not own — `REMOTE_OWNS` kept locally, `IGNORE` —
/// sends nothing, so it queues nothing).
pub fn queues_for(conn: &connection::Model, link: &item_link::Model, item: &item::Model) -> bool {
    conn.push_on_save
        && conn.status == ConnectionStatus::Active
        && !conn.health.needs_connecting()
        && conn.health != ConnectionHealth::Paused
        && crate::connectors::writes_upstream(conn.provider)
        && Direction::of(&conn.directions, &link.entity_type).pushes()
        && link.connection_id == conn.id
        && link.sync_status == LinkStatus::PendingPush
        && !link.paused
        && !link.deleted_remotely
        && item.deleted_at.is_none()
        && {
            let (_, hash) = super::push::outgoing(&conn.sync_policy, link, item);
            !super::push::already_there(link, &hash)
        }
}

/// Whether `run` (active, of the link's connection) will push an edit made at
/// `edited_at`: a queued run that pushes every pending link, or one running that started
/// after the edit (it lists the pending links once it started). A run that started
/// before the edit may already be past it: not counted (push on save queued a follow-up).
pub fn will_push(run: &sync_run::Model, edited_at: Option<chrono::DateTime<chrono::Utc>>) -> bool {
    match run.status {
        RunStatus::Queued => crate::store::runs::pushes_all_pending(run),
        RunStatus::Running => {
            let kind = !run.dry_run
                && match run.mode {
                    RunMode::Push => true,
                    RunMode::Full | RunMode::Incremental => run.entity_types.is_none(),
                    _ => false,
                };
            kind && match (run.started_at, edited_at) {
                (Some(started), Some(edited)) => started >= edited,
                _ => false,
            }
        }
        _ => false,
    }
}

/// The active runs that will push `item_id`'s pending edit, one per connection at most
/// (`Item.pendingPushRuns`).
pub async fn runs_pushing(
    db: &crate::store::Db,
    account_id: i64,
    item_id: i64,
) -> crate::error::AppResult<Vec<sync_run::Model>> {
    use crate::store;
    let item = store::items::get(db, account_id, item_id).await?;
    let mut runs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for link in store::links::of_item(db, account_id, item_id).await? {
        if link.sync_status != LinkStatus::PendingPush || !seen.insert(link.connection_id) {
            continue;
        }
        let conn = store::connections::get(db, account_id, link.connection_id).await?;
        if !conn.push_on_save {
            continue;
        }
        let active = store::runs::active_runs_for_connection(db, conn.id).await?;
        // The queued follow-up first: it surely comes after the edit.
        if let Some(run) = active
            .into_iter()
            .rev()
            .find(|r| will_push(r, item.local_modified_at))
        {
            runs.push(run);
        }
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::{Provider, RunTrigger};
    use serde_json::json;

    fn conn() -> connection::Model {
        super::super::health::tests::conn(0, ConnectionHealth::Active, false)
    }

    fn item(price: &str) -> item::Model {
        let now = chrono::Utc::now();
        item::Model {
            id: 5,
            account_id: 1,
            kind: entity::enums::ItemKind::Material,
            code: "A".into(),
            name: "Valve".into(),
            description: None,
            cost: None,
            price: Some(entity::Money::new(price.parse().unwrap())),
            member_price: None,
            add_on_price: None,
            active: true,
            category_id: None,
            weight_kg: None,
            length_cm: None,
            width_cm: None,
            height_cm: None,
            quantity: None,
            attributes: json!({}),
            local_modified_at: Some(now),
            deleted_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// A link whose base is `synced_item` as upstream holds it, now owing a push.
    fn link(synced_item: &item::Model) -> item_link::Model {
        let base = super::super::canonical::from_item(synced_item);
        item_link::Model {
            id: 7,
            account_id: 1,
            item_id: 5,
            connection_id: 1,
            entity_type: "materials".into(),
            remote_id: "r1".into(),
            remote_modified_on: None,
            last_synced_at: None,
            base: super::super::canonical::to_json(&base),
            base_hash: crate::record::fields_hash(&base),
            last_pushed_hash: None,
            push_started_hash: None,
            sync_status: LinkStatus::PendingPush,
            deleted_remotely: false,
            paused: false,
            last_seen_run_id: None,
            last_error: None,
            attempts: 0,
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn an_edit_queues_only_where_a_push_can_and_needs_to_happen() {
        let edited = item("12.50");
        let l = link(&item("10.00"));
        assert!(queues_for(&conn(), &l, &edited));

        let off = connection::Model {
            push_on_save: false,
            ..conn()
        };
        assert!(!queues_for(&off, &l, &edited), "pushOnSave off");
        for health in [
            ConnectionHealth::NeedsReauth,
            ConnectionHealth::NotConnected,
            ConnectionHealth::Paused,
        ] {
            let c = connection::Model { health, ..conn() };
            assert!(!queues_for(&c, &l, &edited), "{health:?}");
        }
        let failing = connection::Model {
            health: ConnectionHealth::Failing,
            ..conn()
        };
        assert!(queues_for(&failing, &l, &edited), "failing still tries");
        let paused = connection::Model {
            status: ConnectionStatus::Paused,
            ..conn()
        };
        assert!(!queues_for(&paused, &l, &edited), "paused connection");
        let pull_only = connection::Model {
            directions: json!({"materials": "pull"}),
            ..conn()
        };
        assert!(!queues_for(&pull_only, &l, &edited), "pull-only entity");
        let read_only = connection::Model {
            provider: Provider::Amazon,
            ..conn()
        };
        assert!(!queues_for(&read_only, &l, &edited), "read-only upstream");
        let conflicted = item_link::Model {
            sync_status: LinkStatus::Conflict,
            ..l.clone()
        };
        assert!(
            !queues_for(&conn(), &conflicted, &edited),
            "link in conflict"
        );
        let paused_link = item_link::Model {
            paused: true,
            ..l.clone()
        };
        assert!(!queues_for(&conn(), &paused_link, &edited), "paused link");
    }

    #[test]
    fn an_edit_of_a_field_the_connection_does_not_own_queues_nothing() {
        let edited = item("12.50");
        let l = link(&item("10.00"));
        let remote_owns_price = connection::Model {
            sync_policy: json!({"materials": {"fields": {"price": "REMOTE_OWNS"}, "localEdits": "KEEP_LOCAL"}}),
            ..conn()
        };
        assert!(!queues_for(&remote_owns_price, &l, &edited));
        let already_pushed = item_link::Model {
            last_pushed_hash: Some(super::super::push::outgoing(&json!({}), &l, &edited).1),
            ..l.clone()
        };
        assert!(!queues_for(&conn(), &already_pushed, &edited));
    }

    fn run(status: RunStatus, mode: RunMode, trigger: RunTrigger) -> sync_run::Model {
        sync_run::Model {
            mode,
            trigger,
            ..super::super::health::tests::run(status, None)
        }
    }

    #[test]
    fn a_running_run_counts_only_when_it_started_after_the_edit() {
        let edit = chrono::Utc::now();
        let queued = run(RunStatus::Queued, RunMode::Push, RunTrigger::Save);
        assert!(will_push(&queued, Some(edit)));
        let queued_entity = run(RunStatus::Queued, RunMode::Entity, RunTrigger::User);
        assert!(!will_push(&queued_entity, Some(edit)));
        let queued_dry = sync_run::Model {
            dry_run: true,
            ..run(RunStatus::Queued, RunMode::Full, RunTrigger::User)
        };
        assert!(!will_push(&queued_dry, Some(edit)));
        let limited = sync_run::Model {
            entity_types: Some(",services,".into()),
            ..run(RunStatus::Queued, RunMode::Full, RunTrigger::User)
        };
        assert!(!will_push(&limited, Some(edit)));
        let before = sync_run::Model {
            started_at: Some(edit - chrono::Duration::seconds(1)),
            ..run(RunStatus::Running, RunMode::Push, RunTrigger::Save)
        };
        assert!(!will_push(&before, Some(edit)), "may be past the edit");
        let after = sync_run::Model {
            started_at: Some(edit + chrono::Duration::seconds(1)),
            ..before.clone()
        };
        assert!(will_push(&after, Some(edit)));
    }
}
