use crate::graphql::bounds::{self, MaxChars, MaxList};
use crate::graphql::types::connection::Connection;
use crate::graphql::types::item::Item;
use crate::graphql::types::run::{StartSyncPayload, SyncMode, SyncRun};
use crate::graphql::{admin, editor, parse_id, state};
use crate::jobs::{StartRequest, schedule};
use crate::store;
use crate::sync::runner::RunParams;
use async_graphql::{Context, ID, Object};
use entity::enums::RunTrigger;

#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Queues a sync and returns at once. With a run already active for the connection,
    /// returns that run with `alreadyRunning: true` — or, with `strict: true`, a
    /// `SYNC_IN_PROGRESS` error. `force: true` cancels the active run and starts anew.
    #[allow(clippy::too_many_arguments)]
    async fn start_sync(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection to sync.")] connection_id: ID,
        #[graphql(
            desc = "FULL (everything, applies deletions), INCREMENTAL (changes since the last run) or ENTITY (the records named by remoteIds or codes)."
        )]
        mode: SyncMode,
        #[graphql(
            default,
            desc = "Compute and report everything; write nothing but the run record."
        )]
        dry_run: bool,
        #[graphql(
            default,
            desc = "Limit the run to these entity types of the provider, e.g. [\"materials\"].",
            validator(custom = "MaxList { items: bounds::LIST, chars: bounds::CODE }")
        )]
        entity_types: Vec<String>,
        #[graphql(
            default,
            desc = "ENTITY mode: the upstream ids to sync.",
            validator(custom = "MaxList { items: bounds::LIST, chars: bounds::CODE }")
        )]
        remote_ids: Vec<String>,
        #[graphql(
            default,
            desc = "ENTITY mode: the item codes (SKUs) to sync.",
            validator(custom = "MaxList { items: bounds::LIST, chars: bounds::CODE }")
        )]
        codes: Vec<String>,
        #[graphql(
            default,
            desc = "Cancel the active run of the connection and start this one."
        )]
        force: bool,
        #[graphql(
            default,
            desc = "Answer SYNC_IN_PROGRESS instead of the active run when one exists."
        )]
        strict: bool,
        #[graphql(
            desc = "INCREMENTAL mode: re-read every record modified at or after this instant instead of continuing from the stored cursor, which stays where it was. Refused (BAD_USER_INPUT) by providers that cannot filter by modification time (Jobber, Amazon, ShipHero routes)."
        )]
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> async_graphql::Result<StartSyncPayload> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let req = StartRequest {
            mode: mode.into(),
            params: RunParams {
                entity_types,
                remote_ids,
                codes,
                since,
                ..Default::default()
            },
            dry_run,
            trigger: RunTrigger::User,
            requested_by: Some(c.user_id),
            force,
        };
        let (run, already_running) = st
            .jobs
            .start_sync(c.account_id, parse_id(&connection_id, "connection")?, req)
            .await?;
        if already_running && strict {
            return Err(crate::error::AppError::SyncInProgress { run_id: run.id }.into());
        }
        Ok(StartSyncPayload {
            run: SyncRun(run),
            already_running,
        })
    }

    /// Cancels a queued run, or stops a running one between pages (applied pages stay).
    async fn cancel_sync(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The run to cancel.")] run_id: ID,
    ) -> async_graphql::Result<SyncRun> {
        let c = editor(ctx)?;
        Ok(SyncRun(
            state(ctx)
                .jobs
                .cancel(c.account_id, parse_id(&run_id, "sync run")?)
                .await?,
        ))
    }

    /// Sets a connection's schedule (cron, in the connection's time zone); enabling
    /// re-activates a schedule that paused itself after repeated failures.
    async fn set_schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection.")] connection_id: ID,
        #[graphql(
            desc = "Cron expression for incremental runs (5 fields, e.g. \"*/15 * * * *\"); absent keeps the current one.",
            validator(custom = "MaxChars(bounds::CODE)")
        )]
        incremental_cron: Option<String>,
        #[graphql(
            desc = "Cron expression for full runs (e.g. \"0 2 * * *\"); absent keeps the current one.",
            validator(custom = "MaxChars(bounds::CODE)")
        )]
        full_cron: Option<String>,
        #[graphql(desc = "Whether scheduled runs happen.")] enabled: bool,
    ) -> async_graphql::Result<Connection> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&connection_id, "connection")?;
        let conn =
            schedule::set_schedule(&st.db, c, id, incremental_cron, full_cron, enabled).await?;
        let details = serde_json::json!({ "incrementalCron": conn.incremental_cron, "fullCron": conn.full_cron, "enabled": conn.schedule_enabled });
        store::audit::record(
            &st.db,
            c,
            "connection.schedule",
            Some(("connection", id.to_string())),
            details,
        )
        .await?;
        Ok(conn.into())
    }

    /// Syncs one item now on every connection it is linked to (pull, then push).
    async fn retry_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item.")] item_id: ID,
    ) -> async_graphql::Result<Vec<SyncRun>> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let item_id = parse_id(&item_id, "item")?;
        store::items::get(&st.db, c.account_id, item_id).await?;
        let mut runs = Vec::new();
        for link in store::links::of_item(&st.db, c.account_id, item_id).await? {
            let req = StartRequest {
                mode: entity::enums::RunMode::Entity,
                params: RunParams {
                    entity_types: vec![link.entity_type.clone()],
                    remote_ids: vec![link.remote_id.clone()],
                    ..Default::default()
                },
                dry_run: false,
                trigger: RunTrigger::User,
                requested_by: Some(c.user_id),
                force: false,
            };
            let (run, _) = st
                .jobs
                .start_sync(c.account_id, link.connection_id, req)
                .await?;
            runs.push(SyncRun(run));
        }
        Ok(runs)
    }

    /// Excludes an item from sync in both directions until un-paused.
    async fn set_item_sync_paused(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item.")] item_id: ID,
        #[graphql(desc = "true excludes it from sync; false includes it again.")] paused: bool,
    ) -> async_graphql::Result<Item> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let id = parse_id(&item_id, "item")?;
        let item = store::items::get(&st.db, c.account_id, id).await?;
        store::links::set_paused(&st.db, c.account_id, id, paused).await?;
        store::audit::record(
            &st.db,
            c,
            if paused { "item.pause" } else { "item.resume" },
            Some(("item", id.to_string())),
            serde_json::json!({}),
        )
        .await?;
        Ok(item.into())
    }
}
