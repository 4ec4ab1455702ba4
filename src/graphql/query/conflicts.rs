use crate::graphql::bounds::{self, MaxChars};
use crate::graphql::types::conflict::{
    Conflict, ConflictKind, ConflictStatus, FailedRecord, KindCount,
};
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::{caller, parse_id, state};
use crate::store::{self, conflicts::ConflictFilter, page::PageArgs};
use async_graphql::{Context, ID, Object, SimpleObject};

#[derive(Default)]
pub struct ConflictQuery;

/// Everything waiting for an admin: open conflicts by kind and records whose last sync
/// failed (retry them with `retryItem`, ignore them with `setItemSyncPaused`).
#[derive(SimpleObject)]
pub struct ReviewQueue {
    pub open_conflicts: i64,
    pub conflicts_by_kind: Vec<KindCount>,
    pub failed_records: i64,
    /// Newest first.
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
        connection_id: Option<ID>,
        status: Option<ConflictStatus>,
        kind: Option<ConflictKind>,
        #[graphql(
            desc = "Matches the item's code or name (at most 200 characters)",
            validator(custom = "MaxChars(bounds::SEARCH)")
        )]
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Conflict>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let filter = ConflictFilter {
            connection_id: optional_id(&connection_id, "connection")?,
            status: status.map(Into::into),
            kind: kind.map(Into::into),
            search,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let page = store::conflicts::list(&db, c.account_id, &filter, &args).await?;
        let account = c.account_id;
        Ok(relay::connection(page, Conflict::from, move || {
            let (db, filter) = (db.clone(), filter.clone());
            Box::pin(async move { store::conflicts::count(&db, account, &filter).await })
        }))
    }

    async fn conflict(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Conflict> {
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
        connection_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ReviewQueue> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let connection = optional_id(&connection_id, "connection")?;
        let by_kind = store::conflicts::open_counts(&db, c.account_id, connection).await?;
        let failed_records =
            store::conflicts::count_failed_links(&db, c.account_id, connection).await? as i64;
        let args = PageArgs {
            first,
            after,
            ..Default::default()
        };
        let page =
            store::conflicts::list_failed_links(&db, c.account_id, connection, &args).await?;
        let account = c.account_id;
        let failed = relay::connection(page, FailedRecord::from, move || {
            let db = db.clone();
            Box::pin(
                async move { store::conflicts::count_failed_links(&db, account, connection).await },
            )
        });
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
