//! `createRunEventsTicket`: a browser `EventSource` cannot send an `Authorization`
//! header, so it follows a run with a short-lived ticket in the URL instead, good for
//! that one run's progress stream and nothing else.

use crate::auth::jwt::RunEventsTicket as TicketClaims;
use crate::graphql::{caller, parse_id, state};
use crate::store;
use async_graphql::{Context, ID, Object, SimpleObject};

/// A URL that streams one run's progress as server-sent events, for `new EventSource(url)`.
#[derive(SimpleObject)]
pub struct RunEventsTicket {
    /// The ticket alone, for building the URL yourself (`?ticket=`).
    pub ticket: String,
    /// `{public URL}/api/sync/runs/{runId}/events?ticket=…`, ready for `EventSource`.
    pub url: String,
    /// The stream must be opened (or reopened) before this; once open it lasts until the
    /// run ends. Ask for a new ticket after it.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
pub struct EventsMutation;

#[Object]
impl EventsMutation {
    /// A ticket to follow one run of your account with `EventSource` (any role).
    async fn create_run_events_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The run to follow.")] run_id: ID,
    ) -> async_graphql::Result<RunEventsTicket> {
        let c = caller(ctx)?;
        let st = state(ctx);
        let id = parse_id(&run_id, "sync run")?;
        store::runs::get(&st.db, c.account_id, id).await?;
        let version = match c.api_key_id {
            Some(_) => 0,
            None => st.principals.token_version(&st.db, c.user_id).await?,
        };
        let claims =
            TicketClaims::new(c.account_id, c.user_id, id).issued_to(c.api_key_id, version);
        let ticket = st.jwt.sign_run_events_ticket(&claims)?;
        let url = format!(
            "{}/api/sync/runs/{id}/events?ticket={ticket}",
            st.registry.sandbox_base()
        );
        Ok(RunEventsTicket {
            ticket,
            url,
            expires_at: claims.expires_at(),
        })
    }
}
