//! The demo: a seeded ServiceTitan sandbox and a connection named `demo` to it, with its
//! first full sync started in the background.

use crate::app::AppState;
use crate::error::AppResult;
use crate::sandbox::servicetitan::SeedSpec;
use crate::store::{self, connections::NewConnection};
use entity::enums::{Provider, RunMode, RunStatus, RunTrigger};

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
            };
            store::connections::create(&state.db, &state.secrets, account_id, new).await?
        }
    };
    let run = store::runs::create(
        &state.db,
        store::runs::NewRun {
            account_id,
            connection_id: connection.id,
            mode: RunMode::Full,
            trigger: RunTrigger::Connect,
            dry_run: false,
            params: serde_json::json!({}),
            requested_by: Some(admin.id),
            status: RunStatus::Running,
        },
    )
    .await?;
    let (db, registry) = (state.db.clone(), state.registry.clone());
    tokio::spawn(async move {
        let reporter = crate::sync::progress::LastState::default();
        let cancel = tokio_util::sync::CancellationToken::new();
        match crate::sync::runner::execute(&db, &registry, &run, &reporter, &cancel).await {
            Ok(done) => tracing::info!(
                run_id = done.id,
                status = done.status.as_str(),
                created = done.created,
                "demo: first full sync finished"
            ),
            Err(e) => tracing::warn!(
                "demo: first sync could not be recorded: {}",
                e.public_message()
            ),
        }
    });
    Ok(())
}
