use crate::graphql::types::alert::{AlertDelivery, AlertTarget};
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::{admin, parse_id, state};
use crate::store::{self, alerts::DeliveryFilter, page::PageArgs};
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// The account's alert targets, oldest first (admins only).
    async fn alert_targets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AlertTarget>> {
        let c = admin(ctx)?;
        let targets = store::alerts::targets(&state(ctx).db, c.account_id).await?;
        Ok(targets.into_iter().map(Into::into).collect())
    }

    /// The delivery log of the account's alerts, newest first (admins only).
    async fn alert_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the deliveries to this target.")] target_id: Option<ID>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<AlertDelivery>> {
        let c = admin(ctx)?;
        let filter = DeliveryFilter {
            target_id: target_id
                .as_ref()
                .map(|id| parse_id(id, "alert target"))
                .transpose()?,
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(
            &state(ctx).db,
            c.account_id,
            filter,
            &args,
            AlertDelivery::from,
        )
        .await?)
    }
}
