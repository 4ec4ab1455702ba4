//! Conflicts as the review screens see them: the three versions, the differing fields,
//! and how (and by whom) a conflict was resolved.

use super::connection::Connection;
use super::item::{Item, ItemLink};
use super::run::SyncRun;
use crate::graphql::bounds::{self, MaxChars};
use crate::graphql::loaders::{ItemId, LinkId, load};
use crate::graphql::state;
use crate::store;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Json, SimpleObject};
use entity::conflict;
use entity::enums as e;
use entity::enums::LinkStatus as StoredLinkStatus;

/// Whether a conflict still waits for a decision.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ConflictStatus")]
pub enum ConflictStatus {
    /// Waiting for a decision.
    Open,
    /// Decided; see `resolution`.
    Resolved,
}

/// What kind of disagreement a conflict is.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ConflictKind")]
pub enum ConflictKind {
    /// Both sides changed the same fields differently.
    Fields,
    /// Deleted upstream, edited locally.
    Delete,
    /// A connection met an existing local item (matched by code, with no common base) whose
    /// values differ from the remote record. Never resolved automatically; the
    /// connection's `adoptionPolicy` can pick a side instead.
    FirstLink,
}

/// Who changed a field since the base (the last sync both sides agreed on).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::sync::diff::FieldChange")]
pub enum FieldChange {
    /// Only the local item: kept by MERGED unless picked otherwise.
    Local,
    /// Only the remote record: kept by MERGED unless picked otherwise.
    Remote,
    /// Both sides, or there is no base to tell (FIRST_LINK): MERGED needs a pick.
    Both,
}

/// For a deletion conflict: USE_REMOTE accepts the delete, USE_LOCAL keeps the item
/// (re-created upstream when the connection can create records).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::Resolution")]
pub enum Resolution {
    /// Take the remote values locally (for a deletion: accept it).
    UseRemote,
    /// Push the local values upstream (for a deletion: keep the item).
    UseLocal,
    /// Field by field, as picked in `fields`.
    Merged,
}

/// Which version of a field a merge takes.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pick {
    /// The value at the last sync.
    Base,
    /// The local value.
    Local,
    /// The upstream value.
    Remote,
    /// The value given in `FieldPick.value`.
    Custom,
}

/// Where one field of a merge comes from.
#[derive(InputObject, Clone, Debug)]
pub struct FieldPick {
    /// The field name as in `Conflict.fields.field`, e.g. `price`.
    #[graphql(validator(custom = "MaxChars(bounds::CODE)"))]
    pub field: String,
    /// Which version to take.
    pub pick: Pick,
    /// Required with CUSTOM: the value as text (decimals for money, true/false, …; at
    /// most 10,000 characters).
    #[graphql(validator(custom = "MaxChars(bounds::DESCRIPTION)"))]
    pub value: Option<String>,
}

/// One field as it stands on each side (null = absent).
#[derive(SimpleObject, Clone)]
pub struct ConflictField {
    /// The field name, e.g. `price`, `name`, `materialsIncluded`.
    pub field: String,
    /// The value at the last sync.
    pub base: Json<Option<serde_json::Value>>,
    /// The local value now.
    pub local: Json<Option<serde_json::Value>>,
    /// The upstream value now.
    pub remote: Json<Option<serde_json::Value>>,
    /// Who changed it since the base. The fields of a DELETE conflict are local edits.
    pub change: FieldChange,
}

impl ConflictField {
    fn of(kind: e::ConflictKind, f: crate::sync::diff::FieldDiff) -> Self {
        ConflictField {
            change: crate::sync::conflicts::merge::change_of(kind, &f).into(),
            field: f.field,
            base: Json(f.base),
            local: Json(f.local),
            remote: Json(f.remote),
        }
    }
}

/// A record changed on both sides since the last sync (or deleted upstream and edited locally): both versions are kept and nothing is written until someone decides.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Conflict {
    /// The conflict id.
    pub id: ID,
    /// Open or resolved.
    pub status: ConflictStatus,
    /// Field changes on both sides, or a remote delete of a locally edited item.
    pub kind: ConflictKind,
    /// The connection it came from.
    pub connection_id: ID,
    /// The local item.
    pub item_id: ID,
    /// The run that detected (or last refreshed) it.
    pub run_id: Option<ID>,
    /// Every field where local and remote disagree, with who changed it.
    pub fields: Vec<ConflictField>,
    /// The one-sided changes the resolution discarded: local-only edits for USE_REMOTE,
    /// remote-only changes for USE_LOCAL (empty while open, and for MERGED, whose every
    /// value was picked).
    pub dropped_changes: Vec<ConflictField>,
    /// The full records: at the last sync, local now, remote now (null when deleted).
    pub base: Json<serde_json::Value>,
    /// The whole local record now.
    pub local: Json<serde_json::Value>,
    /// The whole upstream record now (null when deleted upstream).
    pub remote: Json<serde_json::Value>,
    /// How it was resolved; null while open.
    pub resolution: Option<Resolution>,
    /// The record a MERGED resolution wrote.
    pub merged: Option<Json<serde_json::Value>>,
    /// The user who resolved it.
    pub resolved_by_id: Option<ID>,
    /// When it was resolved.
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The comment given with the resolution.
    pub comment: Option<String>,
    /// When it was detected.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed (refreshed by a sync, or resolved).
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    pub raw: conflict::Model,
}

#[ComplexObject]
impl Conflict {
    /// The local item (null if it is gone).
    async fn item(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Item>> {
        Ok(load(ctx, ItemId(self.raw.item_id)).await?.map(Into::into))
    }

    /// The item's link to the connection: sync status, last error, attempts.
    async fn link(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ItemLink>> {
        Ok(self.load_link(ctx).await?.map(Into::into))
    }

    /// Set when the resolution's upstream write failed: the item stays `PENDING_PUSH`
    /// and the next sync pushes it again.
    async fn push_error(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if self.raw.status != e::ConflictStatus::Resolved {
            return Ok(None);
        }
        Ok(self
            .load_link(ctx)
            .await?
            .filter(|l| {
                matches!(
                    l.sync_status,
                    StoredLinkStatus::PendingPush | StoredLinkStatus::Error
                )
            })
            .and_then(|l| l.last_error))
    }

    /// The connection it came from.
    async fn connection(&self, ctx: &Context<'_>) -> async_graphql::Result<Connection> {
        let db = &state(ctx).db;
        Ok(
            store::connections::get(db, self.raw.account_id, self.raw.connection_id)
                .await?
                .into(),
        )
    }

    /// The run that detected (or last refreshed) it.
    async fn run(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SyncRun>> {
        let Some(run_id) = self.raw.run_id else {
            return Ok(None);
        };
        let db = &state(ctx).db;
        Ok(store::runs::get(db, self.raw.account_id, run_id)
            .await
            .ok()
            .map(SyncRun))
    }
}

impl Conflict {
    async fn load_link(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<entity::item_link::Model>> {
        load(ctx, LinkId(self.raw.link_id)).await
    }
}

impl From<conflict::Model> for Conflict {
    fn from(c: conflict::Model) -> Self {
        let fields: Vec<crate::sync::diff::FieldDiff> =
            serde_json::from_value(c.fields.clone()).unwrap_or_default();
        let dropped = match (c.status, c.resolution) {
            (e::ConflictStatus::Resolved, Some(r)) => {
                crate::sync::conflicts::merge::dropped(c.kind, r, &fields)
            }
            _ => Vec::new(),
        };
        Conflict {
            id: c.id.into(),
            status: c.status.into(),
            kind: c.kind.into(),
            connection_id: c.connection_id.into(),
            item_id: c.item_id.into(),
            run_id: c.run_id.map(Into::into),
            fields: fields
                .into_iter()
                .map(|f| ConflictField::of(c.kind, f))
                .collect(),
            dropped_changes: dropped
                .into_iter()
                .map(|f| ConflictField::of(c.kind, f))
                .collect(),
            base: Json(c.base.clone()),
            local: Json(c.local.clone()),
            remote: Json(c.remote.clone()),
            resolution: c.resolution.map(Into::into),
            merged: c.merged.clone().map(Json),
            resolved_by_id: c.resolved_by.map(Into::into),
            resolved_at: c.resolved_at,
            comment: c.comment.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            raw: c,
        }
    }
}

/// A record whose last sync failed: the review queue's other kind of entry.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct FailedRecord {
    /// The item's link to the connection.
    pub link: ItemLink,
    /// Why the last sync of the record failed.
    pub error: Option<String>,
    /// Failed attempts since the last success.
    pub attempts: i32,
    /// The record id upstream.
    pub remote_id: String,
    /// The connection.
    pub connection_id: ID,
    #[graphql(skip)]
    pub item_id: i64,
}

#[ComplexObject]
impl FailedRecord {
    /// The local item (null if it is gone).
    async fn item(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Item>> {
        Ok(load(ctx, ItemId(self.item_id)).await?.map(Into::into))
    }
}

impl From<entity::item_link::Model> for FailedRecord {
    fn from(l: entity::item_link::Model) -> Self {
        FailedRecord {
            error: l.last_error.clone(),
            attempts: l.attempts,
            remote_id: l.remote_id.clone(),
            connection_id: l.connection_id.into(),
            item_id: l.item_id,
            link: l.into(),
        }
    }
}

/// How many open conflicts are of one kind.
#[derive(SimpleObject, Clone)]
pub struct KindCount {
    /// The kind.
    pub kind: ConflictKind,
    /// Open conflicts of that kind.
    pub count: i64,
}
