use crate::graphql::types::policy::{ConnectionPolicy, ConnectionPolicyInput};
use crate::graphql::types::run::SyncRun;
use crate::graphql::{admin, parse_id, state};
use crate::jobs::StartRequest;
use crate::store;
use crate::sync::runner::RunParams;
use async_graphql::{Context, ID, Object, SimpleObject};
use entity::enums::{RunMode, RunTrigger};

/// What `setConnectionPolicy` did.
#[derive(SimpleObject)]
pub struct SetConnectionPolicyPayload {
    /// The policy as it stands now (the proposed one when previewing).
    pub policy: ConnectionPolicy,
    /// True when the policy was saved; false for a preview.
    pub applied: bool,
    /// A preview: the full dry run of the proposed policy (queued; its counters, `byCategory`
    /// and samples are what the next full run would do). Nothing is written.
    pub preview: Option<SyncRun>,
}

#[derive(Default)]
pub struct PolicyMutation;

#[Object]
impl PolicyMutation {
    /// Replaces a connection's sync policy, or (`preview: true`) answers what the next full
    /// run would do under it without saving anything. Saving is audited and rewrites no
    /// data by itself: the next run does, visibly.
    async fn set_connection_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection.")] connection_id: ID,
        #[graphql(desc = "The whole new policy.")] input: ConnectionPolicyInput,
        #[graphql(
            default,
            desc = "Start a dry run under the proposed policy instead of saving it."
        )]
        preview: bool,
    ) -> async_graphql::Result<SetConnectionPolicyPayload> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&connection_id, "connection")?;
        let stored = input.to_stored()?;
        for category in input.category_ids() {
            store::categories::get(&st.db, c.account_id, category).await?;
        }
        let current = store::connections::get(&st.db, c.account_id, id).await?;
        let policy = ConnectionPolicy::from_stored(id, &stored);
        if preview {
            let req = StartRequest {
                mode: RunMode::Full,
                params: RunParams {
                    policy: Some(stored),
                    ..Default::default()
                },
                dry_run: true,
                trigger: RunTrigger::User,
                requested_by: Some(c.user_id),
                force: false,
            };
            let (run, already_running) = st.jobs.start_sync(c.account_id, id, req).await?;
            if already_running {
                return Err(crate::error::AppError::SyncInProgress { run_id: run.id }.into());
            }
            return Ok(SetConnectionPolicyPayload {
                policy,
                applied: false,
                preview: Some(SyncRun(run)),
            });
        }
        let txn = store::db::begin_write(&st.db).await?;
        store::connections::set_sync_policy(&txn, c.account_id, id, stored.clone()).await?;
        store::audit::record(
            &txn,
            c,
            "connection.policy",
            Some(("connection", id.to_string())),
            serde_json::json!({ "from": current.sync_policy, "to": stored }),
        )
        .await?;
        txn.commit().await?;
        Ok(SetConnectionPolicyPayload {
            policy,
            applied: true,
            preview: None,
        })
    }
}
