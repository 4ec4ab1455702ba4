use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::types::vendor_feed::VendorFeed;
use crate::graphql::{caller, parse_id, state};
use crate::store::{page::PageArgs, vendor_feeds::FeedFilter};
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct FeedQuery;

#[Object]
impl FeedQuery {
    /// Vendor price feeds of the account, oldest first.
    async fn vendor_feeds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the feeds of this connection.")] connection_id: Option<ID>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<VendorFeed>> {
        let c = caller(ctx)?;
        let filter = FeedFilter {
            connection_id: connection_id
                .as_ref()
                .map(|id| parse_id(id, "connection"))
                .transpose()?,
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(
            &state(ctx).db,
            c.account_id,
            filter,
            &args,
            VendorFeed::from,
        )
        .await?)
    }
}
