use crate::graphql::bounds::{self, MaxJsonBytes};
use crate::graphql::types::csv::{CsvImportResult, CsvTarget, DecimalSeparator};
use crate::graphql::{editor, parse_id, state};
use crate::sync::csv::import::{self, ImportRequest, MAX_FILE_BYTES};
use async_graphql::{Context, ID, Json, Object, Upload};
use entity::enums::{RunStatus, RunTrigger};
use std::io::Read;

#[derive(Default)]
pub struct CsvMutation;

#[Object]
impl CsvMutation {
    /// Imports a CSV file (GraphQL multipart request). Item costs change locally at once
    /// and a `csv_import` run pushes them upstream in the background (`runId`); vendor
    /// prices are local only. With `dryRun` nothing is written and `preview` shows what
    /// would change. Bad rows are reported in `errors` and skipped; a file without a
    /// usable header or rows is `BAD_USER_INPUT`. Money cells are read with one decimal
    /// separator for the whole file: `decimalSeparator`, else the one the cells show.
    #[allow(clippy::too_many_arguments)]
    async fn upload_csv(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CSV file (multipart upload), at most 16 MB and 500,000 rows.")] file: Upload,
        #[graphql(
            desc = "What the file holds: item costs (pushed upstream) or vendor prices (local only)."
        )]
        target: CsvTarget,
        #[graphql(
            desc = "Match only items linked to this connection; item costs are pushed to it."
        )]
        connection_id: Option<ID>,
        #[graphql(
            desc = "Column names for the fields, e.g. {\"sku\": \"Part_Num\", \"cost\": \"Trade_Cost\"}; {\"vendorName\": \"Acme\"} for a file without a vendor column. Default: by header aliases.",
            validator(custom = "MaxJsonBytes(bounds::JSON_BYTES)")
        )]
        mapping: Option<Json<serde_json::Value>>,
        #[graphql(
            default,
            desc = "Report what would change in `preview`; write nothing."
        )]
        dry_run: bool,
        #[graphql(
            desc = "How the file writes decimals; without it, the cells that show it decide and ambiguous cells (`1.500`) are errors."
        )]
        decimal_separator: Option<DecimalSeparator>,
    ) -> async_graphql::Result<CsvImportResult> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let connection_id = connection_id
            .as_ref()
            .map(|id| parse_id(id, "connection"))
            .transpose()?;
        let upload = file.value(ctx).map_err(|e| {
            crate::error::AppError::bad_input(format!("cannot read the upload: {e}"))
        })?;
        let file_name = upload.filename.clone();
        if file_name.chars().nth(bounds::NAME).is_some() {
            return Err(crate::error::AppError::bad_input(format!(
                "the file name is longer than {} characters",
                bounds::NAME
            ))
            .into());
        }
        let bytes = tokio::task::spawn_blocking(move || {
            let mut buf = Vec::new();
            upload
                .into_read()
                .take(MAX_FILE_BYTES as u64 + 1)
                .read_to_end(&mut buf)
                .map(|_| buf)
        })
        .await
        .map_err(crate::error::AppError::internal)?
        .map_err(|e| crate::error::AppError::bad_input(format!("cannot read the upload: {e}")))?;
        let req = ImportRequest {
            account_id: c.account_id,
            user_id: Some(c.user_id),
            actor: c.email.clone(),
            connection_id,
            target: target.into(),
            mapping: with_decimal_separator(mapping.map(|m| m.0), decimal_separator)?,
            dry_run,
            trigger: RunTrigger::User,
            push_status: RunStatus::Queued,
            file_name: Some(file_name),
        };
        let report = import::import(&st.db, bytes, req).await?;
        if let Some(run) = &report.run {
            if run.status == RunStatus::Queued {
                st.jobs.announce_queued(run.clone());
            } else {
                st.jobs.bus().publish(run.clone(), true);
            }
        }
        Ok(report.into())
    }
}

/// The mapping JSON carrying the explicit decimal separator (the one place the import
/// reads it from, for the API and the CLI alike).
fn with_decimal_separator(
    mapping: Option<serde_json::Value>,
    separator: Option<DecimalSeparator>,
) -> Result<Option<serde_json::Value>, crate::error::AppError> {
    crate::sync::csv::import::mapping_with_decimal_separator(
        mapping,
        separator.map(DecimalSeparator::as_mapping_value),
    )
}
