//! CSV exports of run history, run events, conflicts and the audit log:
//! `GET /api/export/{runs|run-events|conflicts|audit-log}.csv?filters` with
//! `Authorization: Bearer <token or API key>`, any role, scoped to the caller's account.
//!
//! The answer streams: rows are read one keyset batch at a time ([`page::batches`]) and
//! written out as they come, so memory stays flat however long the history is. A cell
//! that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) is prefixed with `'`. A failure mid-way aborts the transfer, so a
//! client never mistakes a truncated file for a whole one.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::audit::AuditFilter;
use crate::store::conflicts::ConflictFilter;
use crate::store::page::{self, Listing, ModelOf};
use crate::store::runs::{EventFilter, RunFilter};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entity::{audit_log, conflict, sync_event, sync_run};
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::str::FromStr;

/// Rows read per database round trip (the most one page may hold).
const BATCH: u64 = page::MAX_PAGE;

pub async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match respond(&state, &file, &headers, &uri).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn respond(
    state: &AppState,
    file: &str,
    headers: &HeaderMap,
    uri: &Uri,
) -> AppResult<Response> {
    let caller = crate::web::graphql_http::authenticate(state, headers)
        .await
        .caller()?
        .clone();
    let (db, account) = (state.db.clone(), caller.account_id);
    let body = match file {
        "runs.csv" => csv_body(
            db,
            account,
            runs_filter(query(uri)?)?,
            &RUN_COLUMNS,
            run_row,
        ),
        "run-events.csv" => csv_body(
            db,
            account,
            events_filter(query(uri)?)?,
            &EVENT_COLUMNS,
            event_row,
        ),
        "conflicts.csv" => csv_body(
            db,
            account,
            conflicts_filter(query(uri)?)?,
            &CONFLICT_COLUMNS,
            conflict_row,
        ),
        "audit-log.csv" => csv_body(
            db,
            account,
            audit_filter(query(uri)?)?,
            &AUDIT_COLUMNS,
            audit_row,
        ),
        _ => {
            return Err(AppError::NotFound(format!(
                "no export '{file}' (runs.csv, run-events.csv, conflicts.csv, audit-log.csv)"
            )));
        }
    }?;
    let name = format!(
        "attachment; filename=\"{}-{}.csv\"",
        file.trim_end_matches(".csv"),
        Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The query string as `T`; unknown parameters are refused (a typo must not export
/// everything).
fn query<T: DeserializeOwned>(uri: &Uri) -> AppResult<T> {
    Query::<T>::try_from_uri(uri)
        .map(|Query(q)| q)
        .map_err(|e| AppError::bad_input(format!("invalid export filter: {}", e.body_text())))
}

/// The header, then every row of the listing, as CSV bytes.
fn csv_body<L: Listing>(
    db: crate::store::Db,
    account_id: i64,
    filter: L,
    columns: &'static [&'static str],
    row: fn(&ModelOf<L>) -> Vec<String>,
) -> AppResult<Body>
where
    ModelOf<L>: Send,
{
    filter.validate()?;
    let header = encode(std::iter::once(
        columns.iter().map(|c| (*c).to_owned()).collect(),
    ));
    let rows = page::batches(db, account_id, filter, BATCH)
        .map_ok(move |batch| encode(batch.iter().map(row)))
        .map_err(|e| {
            tracing::warn!("CSV export stopped: {}", e.public_message());
            std::io::Error::other("export failed")
        });
    let stream = futures::stream::once(async move { Ok(header) }).chain(rows);
    Ok(Body::from_stream(ensure_send(stream)))
}

fn ensure_send<S: Stream<Item = std::io::Result<Bytes>> + Send + 'static>(s: S) -> S {
    s
}

/// Rows as CSV text, every cell neutralised.
fn encode(rows: impl Iterator<Item = Vec<String>>) -> Bytes {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
    for r in rows {
        // Writing into a Vec cannot fail.
        let _ = w.write_record(r.into_iter().map(neutralise));
    }
    Bytes::from(w.into_inner().unwrap_or_default())
}

/// A cell a spreadsheet would evaluate as a formula, made inert with a leading `'`.
pub fn neutralise(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn opt_time(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(time).unwrap_or_default()
}

/// An enum filter as the API spells it (`FAILED`, `csv_import`…).
fn parse_enum<T: FromStr>(field: &str, value: Option<String>) -> AppResult<Option<T>> {
    value
        .map(|v| {
            v.to_lowercase()
                .parse::<T>()
                .map_err(|_| AppError::bad_input(format!("{field}: unknown value '{v}'")))
        })
        .transpose()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RunsQuery {
    connection_id: Option<i64>,
    status: Option<String>,
    mode: Option<String>,
    trigger: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    entity_type: Option<String>,
    finished_with_record_errors: Option<bool>,
}

fn runs_filter(q: RunsQuery) -> AppResult<RunFilter> {
    Ok(RunFilter {
        connection_id: q.connection_id,
        status: parse_enum("status", q.status)?,
        mode: parse_enum("mode", q.mode)?,
        trigger: parse_enum("trigger", q.trigger)?,
        from: q.from,
        to: q.to,
        entity_type: q.entity_type,
        finished_with_record_errors: q.finished_with_record_errors,
    })
}

const RUN_COLUMNS: [&str; 24] = [
    "id",
    "connection_id",
    "mode",
    "status",
    "trigger",
    "dry_run",
    "entity_types",
    "progress",
    "stage",
    "fetched",
    "created",
    "updated",
    "deleted",
    "pushed",
    "conflicts",
    "skipped",
    "errors",
    "error_code",
    "error",
    "attempts",
    "requested_by",
    "queued_at",
    "started_at",
    "finished_at",
];

fn run_row(r: &sync_run::Model) -> Vec<String> {
    vec![
        r.id.to_string(),
        r.connection_id.to_string(),
        r.mode.as_str().into(),
        r.status.as_str().into(),
        r.trigger.as_str().into(),
        r.dry_run.to_string(),
        r.entity_types
            .as_deref()
            .unwrap_or_default()
            .trim_matches(',')
            .to_owned(),
        r.progress.to_string(),
        r.stage.clone(),
        r.fetched.to_string(),
        r.created.to_string(),
        r.updated.to_string(),
        r.deleted.to_string(),
        r.pushed.to_string(),
        r.conflicts.to_string(),
        r.skipped.to_string(),
        r.errors.to_string(),
        opt(&r.error_code),
        opt(&r.error),
        r.attempts.to_string(),
        opt(&r.requested_by),
        time(&r.queued_at),
        opt_time(&r.started_at),
        opt_time(&r.finished_at),
    ]
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventsQuery {
    run_id: Option<i64>,
    connection_id: Option<i64>,
    level: Option<String>,
    entity_type: Option<String>,
}

fn events_filter(q: EventsQuery) -> AppResult<EventFilter> {
    Ok(EventFilter {
        run_id: q.run_id,
        connection_id: q.connection_id,
        level: parse_enum("level", q.level)?,
        entity_type: q.entity_type,
    })
}

const EVENT_COLUMNS: [&str; 11] = [
    "id",
    "run_id",
    "connection_id",
    "created_at",
    "level",
    "kind",
    "item_id",
    "remote_id",
    "code",
    "message",
    "details",
];

fn event_row(e: &sync_event::Model) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.run_id.to_string(),
        e.connection_id.to_string(),
        time(&e.created_at),
        e.level.as_str().into(),
        e.kind.clone(),
        opt(&e.item_id),
        opt(&e.remote_id),
        opt(&e.code),
        e.message.clone(),
        json_cell(&e.details),
    ]
}

fn json_cell(v: &serde_json::Value) -> String {
    if v.is_null() {
        String::new()
    } else {
        v.to_string()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConflictsQuery {
    connection_id: Option<i64>,
    status: Option<String>,
    kind: Option<String>,
    search: Option<String>,
}

fn conflicts_filter(q: ConflictsQuery) -> AppResult<ConflictFilter> {
    Ok(ConflictFilter {
        connection_id: q.connection_id,
        status: parse_enum("status", q.status)?,
        kind: parse_enum("kind", q.kind)?,
        search: q.search,
    })
}

const CONFLICT_COLUMNS: [&str; 14] = [
    "id",
    "connection_id",
    "item_id",
    "item_code",
    "run_id",
    "kind",
    "status",
    "fields",
    "resolution",
    "resolved_by",
    "resolved_at",
    "comment",
    "created_at",
    "updated_at",
];

fn conflict_row(c: &conflict::Model) -> Vec<String> {
    let code = c
        .local
        .get("code")
        .or_else(|| c.base.get("code"))
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    vec![
        c.id.to_string(),
        c.connection_id.to_string(),
        c.item_id.to_string(),
        code.to_owned(),
        opt(&c.run_id),
        c.kind.as_str().into(),
        c.status.as_str().into(),
        json_cell(&c.fields),
        c.resolution.map(|r| r.as_str()).unwrap_or_default().into(),
        opt(&c.resolved_by),
        opt_time(&c.resolved_at),
        opt(&c.comment),
        time(&c.created_at),
        time(&c.updated_at),
    ]
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuditQuery {
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<String>,
}

fn audit_filter(q: AuditQuery) -> AppResult<AuditFilter> {
    Ok(AuditFilter {
        action: q.action,
        entity_type: q.entity_type,
        entity_id: q.entity_id,
    })
}

const AUDIT_COLUMNS: [&str; 8] = [
    "id",
    "created_at",
    "actor",
    "user_id",
    "action",
    "entity_type",
    "entity_id",
    "details",
];

fn audit_row(a: &audit_log::Model) -> Vec<String> {
    vec![
        a.id.to_string(),
        time(&a.created_at),
        a.actor.clone(),
        opt(&a.user_id),
        a.action.clone(),
        opt(&a.entity_type),
        opt(&a.entity_id),
        json_cell(&a.details),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for (cell, shown) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
            ("42", "42"),
        ] {
            assert_eq!(neutralise(cell.to_owned()), shown, "{cell:?}");
        }
    }

    #[test]
    fn rows_are_quoted_csv() {
        let bytes = encode(std::iter::once(vec![
            "a,b".to_owned(),
            "say \"hi\"".into(),
            "=1".into(),
        ]));
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",'=1\n"
        );
    }

    #[test]
    fn enum_filters_take_the_api_spelling() {
        let s: Option<entity::enums::RunStatus> =
            parse_enum("status", Some("FAILED".into())).unwrap();
        assert_eq!(s, Some(entity::enums::RunStatus::Failed));
        let m: Option<entity::enums::RunMode> =
            parse_enum("mode", Some("CSV_IMPORT".into())).unwrap();
        assert_eq!(m, Some(entity::enums::RunMode::CsvImport));
        assert!(parse_enum::<entity::enums::RunStatus>("status", Some("done".into())).is_err());
    }
}
