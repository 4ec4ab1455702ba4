use crate::error::AppError;
use crate::graphql::bounds::{self, MaxChars};
use crate::graphql::types::conflict::{Conflict, FieldPick, Pick, Resolution};
use crate::graphql::types::run::SyncRun;
use crate::graphql::{editor, parse_id, state};
use crate::jobs::StartRequest;
use crate::sync::conflicts::{self, merge};
use crate::sync::runner::RunParams;
use async_graphql::{Context, ID, Object};
use entity::enums::{RunMode, RunTrigger};
use std::collections::BTreeMap;

#[derive(Default)]
pub struct ConflictMutation;

/// Turns the client's picks into merge picks; CUSTOM needs a value, a field is picked once.
fn picks(fields: Vec<FieldPick>) -> async_graphql::Result<BTreeMap<String, merge::Pick>> {
    let mut out = BTreeMap::new();
    for f in fields {
        let pick = match f.pick {
            Pick::Base => merge::Pick::Base,
            Pick::Local => merge::Pick::Local,
            Pick::Remote => merge::Pick::Remote,
            Pick::Custom => merge::Pick::Custom(f.value.ok_or_else(|| {
                AppError::bad_input(format!("field '{}': CUSTOM needs a value", f.field))
            })?),
        };
        if out.insert(f.field.clone(), pick).is_some() {
            return Err(AppError::bad_input(format!("field '{}' is picked twice", f.field)).into());
        }
    }
    Ok(out)
}

#[Object]
impl ConflictMutation {
    /// Resolves one conflict (editors and admins). USE_REMOTE takes the remote values
    /// locally; USE_LOCAL pushes the local values upstream; both answer the one-sided
    /// changes they discarded in `droppedChanges`. MERGED saves and pushes the per-field
    /// picks: a pick is needed for each field whose `change` is BOTH; a field only one side
    /// changed keeps that side's value unless picked. Refused with CONFLICT_STALE when either side changed since the
    /// conflict was detected (the conflict then shows the new versions). If the upstream
    /// write fails the resolution still stands and `pushError` says why: the item stays
    /// pending push and the next sync sends it.
    async fn resolve_conflict(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conflict.")] id: ID,
        #[graphql(desc = "Which side wins, or MERGED with `fields`.")] resolution: Resolution,
        #[graphql(desc = "MERGED: one pick per differing field.")] fields: Option<Vec<FieldPick>>,
        #[graphql(
            desc = "Why, for the audit log (at most 2,000 characters).",
            validator(custom = "MaxChars(bounds::COMMENT)")
        )]
        comment: Option<String>,
    ) -> async_graphql::Result<Conflict> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let req = conflicts::Request {
            resolution: resolution.into(),
            picks: picks(fields.unwrap_or_default())?,
            comment,
        };
        let done = conflicts::resolve_now(&st.db, &st.registry, c, parse_id(&id, "conflict")?, req)
            .await?;
        Ok(done.conflict.into())
    }

    /// Resolves many conflicts of one connection the same way (USE_REMOTE or USE_LOCAL)
    /// as one background run with progress; stale ones are skipped and reported.
    async fn resolve_conflicts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conflicts, all of one connection.")] ids: Vec<ID>,
        #[graphql(desc = "USE_REMOTE or USE_LOCAL for all of them.")] resolution: Resolution,
    ) -> async_graphql::Result<SyncRun> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let mut ids = ids
            .iter()
            .map(|id| parse_id(id, "conflict"))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        ids.dedup();
        let resolution = resolution.into();
        let connection_id = conflicts::check_bulk(&st.db, c.account_id, &ids, resolution).await?;
        let req = StartRequest {
            mode: RunMode::Resolve,
            params: RunParams {
                conflict_ids: ids,
                resolution: Some(resolution),
                ..Default::default()
            },
            dry_run: false,
            trigger: RunTrigger::User,
            requested_by: Some(c.user_id),
            force: false,
        };
        let (run, already_running) = st.jobs.start_sync(c.account_id, connection_id, req).await?;
        if already_running {
            return Err(AppError::SyncInProgress { run_id: run.id }.into());
        }
        Ok(SyncRun(run))
    }
}
