use crate::graphql::bounds::{self, MaxChars};
use crate::graphql::types::conflict::{
    Conflict, ConflictKind, ConflictStatus, FailedRecord, KindCount,
};
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::{caller, parse_id, state};
use crate::store::conflicts::{ConflictFilter, FailedLinks};
use crate::store::{self, page::PageArgs};
use async_graphql::{Context, ID, Object, SimpleObject};

#[derive(Default)]
pub struct ConflictQuery;

/// Everything waiting for an admin: open conflicts by kind and records whose last sync
/// failed (retry them with `retryItem`, ignore them with `setItemSyncPaused`).
#[derive(SimpleObject)]
pub struct ReviewQueue {
    /// Open conflicts in total.
    pub open_conflicts: i64,
    /// Open conflicts per kind.
    pub conflicts_by_kind: Vec<KindCount>,
    /// Records whose last sync failed, not counting ignored (sync paused) ones.
    pub failed_records: i64,
    /// Newest first; ignored (sync paused) records are left out.
    pub failed: RelayConnection<FailedRecord>,
}

fn optional_id(id: &Option<ID>, what: &str) -> async_graphql::Result<Option<i64>> {
    Ok(id.as_ref().map(|id| parse_id(id, what)).transpose()?)
}

#[Object]
impl ConflictQuery {
    /// Conflicts, newest first; `search` matches the item's code or name.
    #[allow(clippy::too_many_arguments)]
    async fn conflicts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only conflicts of this connection.")] connection_id: Option<ID>,
        #[graphql(desc = "Only OPEN or RESOLVED conflicts.")] status: Option<ConflictStatus>,
        #[graphql(desc = "Only conflicts of this kind.")] kind: Option<ConflictKind>,
        #[graphql(
            desc = "Matches the item's code or name, case-insensitive (at most 200 characters).",
            validator(custom = "MaxChars(bounds::SEARCH)")
        )]
        search: Option<String>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Conflict>> {
        let c = caller(ctx)?;
        let filter = ConflictFilter {
            connection_id: optional_id(&connection_id, "connection")?,
            status: status.map(Into::into),
            kind: kind.map(Into::into),
            search,
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(&state(ctx).db, c.account_id, filter, &args, Conflict::from).await?)
    }

    /// One conflict of your account by id, with the three versions and the per-field diff.
    async fn conflict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conflict id.")] id: ID,
    ) -> async_graphql::Result<Conflict> {
        let c = caller(ctx)?;
        let id = parse_id(&id, "conflict")?;
        Ok(store::conflicts::get(&state(ctx).db, c.account_id, id)
            .await?
            .into())
    }

    /// One queue for admins: open conflicts and failed records, with counts.
    async fn review_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this connection.")] connection_id: Option<ID>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
    ) -> async_graphql::Result<ReviewQueue> {
        let c = caller(ctx)?;
        let db = &state(ctx).db;
        let connection = optional_id(&connection_id, "connection")?;
        let by_kind = store::conflicts::open_counts(db, c.account_id, connection).await?;
        let failed_links = FailedLinks {
            connection_id: connection,
        };
        let failed_records = store::page::count(db, c.account_id, &failed_links).await? as i64;
        let args = PageArgs {
            first,
            after,
            ..Default::default()
        };
        let failed = relay::list(db, c.account_id, failed_links, &args, FailedRecord::from).await?;
        Ok(ReviewQueue {
            open_conflicts: by_kind.iter().map(|(_, n)| n).sum(),
            conflicts_by_kind: by_kind
                .into_iter()
                .map(|(kind, count)| KindCount {
                    kind: kind.into(),
                    count,
                })
                .collect(),
            failed_records,
            failed,
        })
    }
}
