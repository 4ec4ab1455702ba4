use crate::graphql::types::connection::Connection;
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::{caller, parse_id, state};
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
        let db = state(ctx).db.clone();
        let page = store::connections::list(
            &db,
            c.account_id,
            &PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await?;
        let account = c.account_id;
        Ok(relay::connection(page, Connection::from, move || {
            let db = db.clone();
            Box::pin(async move { store::connections::count(&db, account).await })
        }))
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
