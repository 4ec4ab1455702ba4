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
    async fn connections(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
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

    async fn connection(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Connection> {
        let c = caller(ctx)?;
        Ok(
            store::connections::get(&state(ctx).db, c.account_id, parse_id(&id, "connection")?)
                .await?
                .into(),
        )
    }
}
