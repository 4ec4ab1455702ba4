use crate::graphql::types::audit::AuditEntry;
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::{caller, state};
use crate::store::{audit::AuditFilter, page::PageArgs};
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Who did what in this account, newest first.
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only entries of this action, e.g. `login`, `item.update`, `conflict.resolve`."
        )]
        action: Option<String>,
        #[graphql(desc = "Only entries about this kind of record, e.g. `item`, `connection`.")]
        entity_type: Option<String>,
        #[graphql(desc = "Only entries about this record (with `entityType`).")] entity_id: Option<
            String,
        >,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<AuditEntry>> {
        let c = caller(ctx)?;
        let filter = AuditFilter {
            action,
            entity_type,
            entity_id,
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(
            &state(ctx).db,
            c.account_id,
            filter,
            &args,
            AuditEntry::from,
        )
        .await?)
    }
}
