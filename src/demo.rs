//! The demo: a seeded ServiceTitan sandbox and a connection named `demo` to it, with its
//! first full sync queued.

use crate::error::AppResult;
use crate::sandbox::servicetitan::SeedSpec;
use crate::state::AppState;
use crate::store::{self, connections::NewConnection};
use entity::enums::{Provider, RunMode, RunTrigger};

pub const CONNECTION_NAME: &str = "demo";

pub async fn prepare(state: &AppState, admin_email: &str) -> AppResult<()> {
    let Some(sandboxes) = &state.sandboxes else {
        return Ok(());
    };
    sandboxes.servicetitan.seed(&SeedSpec::demo());
    let admin = store::users::find_by_email(&state.db, admin_email)
        .await?
        .ok_or_else(|| crate::error::AppError::not_found("user", admin_email))?;
    let account_id = admin.account_id;
    let existing =
        store::connections::find_by_id_or_name(&state.db, Some(account_id), CONNECTION_NAME)
            .await
            .ok();
    let connection = match existing {
        Some(c) => c,
        None => {
            let new = NewConnection {
                provider: Provider::ServiceTitan,
                name: CONNECTION_NAME.into(),
                config: serde_json::json!({ "sandbox": true }),
                directions: crate::connectors::settings::default_directions(),
                secrets: None,
                time_zone: "UTC".into(),
                adoption_policy: entity::enums::AdoptionPolicy::Conflict,
                push_on_save: true,
            };
            store::connections::create(&state.db, &state.secrets, account_id, new).await?
        }
    };
    let req = crate::jobs::StartRequest {
        mode: RunMode::Full,
        params: Default::default(),
        dry_run: false,
        trigger: RunTrigger::Connect,
        requested_by: Some(admin.id),
        force: false,
    };
    let (run, _) = state
        .jobs
        .start_sync(account_id, connection.id, req)
        .await?;
    tracing::info!(run_id = run.id, "demo: first full sync queued");
    Ok(())
}
