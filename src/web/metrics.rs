//! Prometheus metrics: one process-wide recorder, request counts and latencies per route.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The recorder is global to the process, so tests that start several servers share it.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ])
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by an embedding program);
            // then our handle still renders what we record through it.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            process_collector().describe();
            handle
        })
        .clone()
}

/// The `# HELP` line of every metric this process records. A new metric is described
/// here too: the metrics test fails on any family without one.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, matched route and status."
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request (to the response head), by method, route and status."
    );
    describe_counter!(
        "graphql_refused_total",
        "GraphQL operations refused by admission control (503 RATE_LIMITED), by reason: queue_full or queue_timeout."
    );
    describe_counter!(
        "db_queries_total",
        "Database statements run, by whether they failed."
    );
    describe_gauge!(
        "sync_queue_depth",
        "Sync runs queued and not yet claimed by a worker."
    );
    describe_counter!(
        "sync_runs_started_total",
        "Sync runs queued, by mode and trigger."
    );
    describe_counter!(
        "sync_runs_finished_total",
        "Sync runs that ended, by final status."
    );
    describe_histogram!(
        "sync_run_duration_seconds",
        Unit::Seconds,
        "Wall time of finished sync runs, by mode."
    );
    describe_counter!(
        "sync_runs_with_record_errors_total",
        "Sync runs that succeeded but skipped records with errors, by mode."
    );
    describe_counter!(
        "alert_deliveries_total",
        "Attempts to deliver alerts to webhook targets, by outcome (delivered, retried, failed)."
    );
    describe_counter!(
        "connection_health_changes_total",
        "Changes of a connection's health, by the health it changed to."
    );
    describe_counter!(
        "graphql_queries_refused_total",
        "GraphQL operations refused before running for being over a size, depth or cost limit."
    );
    describe_counter!(
        "graphql_queries_timed_out_total",
        "GraphQL queries stopped for running past --query-timeout-seconds."
    );
}

/// `process_*` metrics (CPU seconds, resident memory, open file descriptors, threads,
/// start time), read from the OS at each scrape.
fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

pub async fn render(State(handle): State<PrometheusHandle>) -> impl IntoResponse {
    process_collector().collect();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle.render(),
    )
}
