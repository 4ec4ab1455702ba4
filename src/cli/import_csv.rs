//! `pricebook-sync import-csv`: the import in the foreground, straight on the store (like
//! `sync`), then the push of changed costs with a progress bar. Prints the JSON the
//! original tool printed (`updated`, `skus_not_found`, `errors`) plus the run's outcome.

use super::CsvTargetArg;
use crate::config::Settings;
use crate::error::AppError;
use crate::store;
use crate::sync::csv::import::{self, ImportRequest};
use crate::sync::csv::parse::Target;
use entity::enums::{RunStatus, RunTrigger};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// How to read the file (the command's options).
pub struct CsvOptions {
    pub target: CsvTargetArg,
    pub mapping: Option<String>,
    pub decimal_separator: Option<String>,
    pub dry_run: bool,
}

pub async fn run(
    settings: Settings,
    file: &Path,
    connection: &str,
    options: CsvOptions,
) -> anyhow::Result<ExitCode> {
    let CsvOptions {
        target,
        mapping,
        decimal_separator,
        dry_run,
    } = options;
    settings.ensure_data_dir()?;
    let keys = crate::auth::keys::load_or_generate(&settings)?;
    let db = store::db::connect(&settings.resolved_database_url()).await?;
    store::db::migrate(&db).await?;
    let conn = store::connections::find_by_id_or_name(&db, None, connection).await?;
    let mapping = match mapping {
        Some(m) => Some(
            serde_json::from_str(&m)
                .map_err(|e| anyhow::anyhow!("--mapping is not valid JSON: {e}"))?,
        ),
        None => None,
    };
    let mapping = import::mapping_with_decimal_separator(mapping, decimal_separator.as_deref())?;
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let req = ImportRequest {
        account_id: conn.account_id,
        user_id: None,
        actor: "cli".into(),
        connection_id: Some(conn.id),
        target: match target {
            CsvTargetArg::ItemCosts => Target::ItemCosts,
            CsvTargetArg::VendorPrices => Target::VendorPrices,
        },
        mapping,
        dry_run,
        trigger: RunTrigger::Cli,
        push_status: RunStatus::Running,
        file_name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
    };
    let report = match import::import(&db, bytes, req).await {
        Ok(r) => r,
        Err(e @ (AppError::BadUserInput(_) | AppError::SyncInProgress { .. })) => {
            let message = match &e {
                AppError::SyncInProgress { run_id } => format!(
                    "a sync (run {run_id}) is running on connection '{connection}'; try again when it ends"
                ),
                other => other.public_message(),
            };
            let out = json!({
                "updated": 0,
                "skus_not_found": [],
                "errors": [{ "line": null, "column": null, "message": message }],
            });
            super::print_stdout(&serde_json::to_string_pretty(&out)?)?;
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let mut run = report.run.clone();
    if let Some(r) = run.as_ref().filter(|r| r.status == RunStatus::Running) {
        let registry = crate::connectors::registry::Registry::new(
            crate::auth::secrets::SecretBox::new(&keys.encryption_key),
            settings.public_url(settings.bind),
        );
        let bar = indicatif::ProgressBar::new(100);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos:>3}% {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let reporter = super::Bar(bar);
        let cancel = tokio_util::sync::CancellationToken::new();
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            ctrl_c.cancel();
        });
        let done = crate::sync::runner::execute(&db, &registry, r, &reporter, &cancel).await?;
        reporter.0.finish_and_clear();
        run = Some(done);
    }
    let out = json!({
        "updated": report.updated,
        "skus_not_found": report.skus_not_found,
        "skus_not_found_count": report.skus_not_found_count,
        "errors": report.errors,
        "error_count": report.error_count,
        "unchanged": report.unchanged,
        "rows": report.rows,
        "warnings": report.warnings,
        "warning_count": report.warning_count,
        "preview_capped": report.preview_capped,
        "dry_run": dry_run,
        "preview": if dry_run { serde_json::to_value(&report.preview)? } else { json!([]) },
        "run_id": run.as_ref().map(|r| r.id),
        "run_status": run.as_ref().map(|r| r.status.as_str()),
        "pushed": run.as_ref().map(|r| r.pushed),
        "push_error": run.as_ref().and_then(|r| r.error.clone()),
        "push_waiting": report.push_waiting,
    });
    super::print_stdout(&serde_json::to_string_pretty(&out)?)?;
    let nothing_applied = report.updated == 0 && report.unchanged == 0;
    let push_failed = run
        .as_ref()
        .is_some_and(|r| r.status != RunStatus::Succeeded);
    Ok(if nothing_applied || push_failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
