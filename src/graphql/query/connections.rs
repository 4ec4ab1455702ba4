use crate::graphql::types::connection::Connection;
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::{caller, parse_id, state};
use crate::store::connections::AllConnections;
use crate::store::{self, page::PageArgs};
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct ConnectionQuery;

#[Object]
impl ConnectionQuery {
    /// The connections of your account to upstream systems.
    async fn connections(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<Connection>> {
        let c = caller(ctx)?;
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(
            &state(ctx).db,
            c.account_id,
            AllConnections,
            &args,
            Connection::from,
        )
        .await?)
    }

    /// The sync policy of a connection: which side owns each field, per entity type.
    async fn connection_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection id.")] connection_id: ID,
    ) -> async_graphql::Result<crate::graphql::types::policy::ConnectionPolicy> {
        let c = caller(ctx)?;
        let id = parse_id(&connection_id, "connection")?;
        let connection = store::connections::get(&state(ctx).db, c.account_id, id).await?;
        Ok(
            crate::graphql::types::policy::ConnectionPolicy::from_stored(
                id,
                &connection.sync_policy,
            ),
        )
    }

    /// One connection of your account by id.
    async fn connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection id.")] id: ID,
    ) -> async_graphql::Result<Connection> {
        let c = caller(ctx)?;
        Ok(
            store::connections::get(&state(ctx).db, c.account_id, parse_id(&id, "connection")?)
                .await?
                .into(),
        )
    }
}
