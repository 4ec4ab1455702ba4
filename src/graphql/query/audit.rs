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
        action: Option<String>,
        entity_type: Option<String>,
        entity_id: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
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
