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

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ConflictStatus")]
pub enum ConflictStatus {
    Open,
    Resolved,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ConflictKind")]
pub enum ConflictKind {
    /// Both sides changed the same fields differently.
    Fields,
    /// Deleted upstream, edited locally.
    Delete,
}

/// For a deletion conflict: USE_REMOTE accepts the delete, USE_LOCAL keeps the item
/// (re-created upstream when the connection can create records).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::Resolution")]
pub enum Resolution {
    UseRemote,
    UseLocal,
    Merged,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pick {
    Base,
    Local,
    Remote,
    /// The value given in `FieldPick.value`.
    Custom,
}

/// Where one field of a merge comes from.
#[derive(InputObject, Clone, Debug)]
pub struct FieldPick {
    #[graphql(validator(custom = "MaxChars(bounds::CODE)"))]
    pub field: String,
    pub pick: Pick,
    /// Required with CUSTOM: the value as text (decimals for money, true/false, …; at
    /// most 10,000 characters).
    #[graphql(validator(custom = "MaxChars(bounds::DESCRIPTION)"))]
    pub value: Option<String>,
}

/// One field as it stands on each side (null = absent).
#[derive(SimpleObject, Clone)]
pub struct ConflictField {
    pub field: String,
    pub base: Json<Option<serde_json::Value>>,
    pub local: Json<Option<serde_json::Value>>,
    pub remote: Json<Option<serde_json::Value>>,
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Conflict {
    pub id: ID,
    pub status: ConflictStatus,
    pub kind: ConflictKind,
    pub connection_id: ID,
    pub item_id: ID,
    /// The run that detected (or last refreshed) it.
    pub run_id: Option<ID>,
    /// Every field where local and remote disagree.
    pub fields: Vec<ConflictField>,
    /// The full records: at the last sync, local now, remote now (null when deleted).
    pub base: Json<serde_json::Value>,
    pub local: Json<serde_json::Value>,
    pub remote: Json<serde_json::Value>,
    pub resolution: Option<Resolution>,
    /// The record a MERGED resolution wrote.
    pub merged: Option<Json<serde_json::Value>>,
    pub resolved_by_id: Option<ID>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub comment: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    pub raw: conflict::Model,
}

#[ComplexObject]
impl Conflict {
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

    async fn connection(&self, ctx: &Context<'_>) -> async_graphql::Result<Connection> {
        let db = &state(ctx).db;
        Ok(
            store::connections::get(db, self.raw.account_id, self.raw.connection_id)
                .await?
                .into(),
        )
    }

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
        Conflict {
            id: c.id.into(),
            status: c.status.into(),
            kind: c.kind.into(),
            connection_id: c.connection_id.into(),
            item_id: c.item_id.into(),
            run_id: c.run_id.map(Into::into),
            fields: fields
                .into_iter()
                .map(|f| ConflictField {
                    field: f.field,
                    base: Json(f.base),
                    local: Json(f.local),
                    remote: Json(f.remote),
                })
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
    pub link: ItemLink,
    pub error: Option<String>,
    pub attempts: i32,
    pub remote_id: String,
    pub connection_id: ID,
    #[graphql(skip)]
    pub item_id: i64,
}

#[ComplexObject]
impl FailedRecord {
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

#[derive(SimpleObject, Clone)]
pub struct KindCount {
    pub kind: ConflictKind,
    pub count: i64,
}
