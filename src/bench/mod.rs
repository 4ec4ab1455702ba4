//! `pricebook-sync bench`: each scenario of DESIGN §10 against the real server and the
//! in-process emulator on loopback, one JSON line of figures per scenario. With several
//! scenarios each runs in a child process, so peak RSS is that scenario's own.

pub mod compare;
pub mod fixtures;
mod fulfil_shiphero;
pub mod load;
mod memory;
mod recoveries;
mod scenarios;

use crate::config::Settings;
use std::process::ExitCode;

pub const ALL: &[&str] = &[
    "emulator_alone",
    "full_sync_50k",
    "full_sync_under_read_load",
    "incremental_1k_of_100k",
    "single_record",
    "graphql_items_first_100",
    "items_total_count",
    "read_load_memory",
    "progress_fanout_1000_ws",
    "csv_100k_vendor_prices",
    "fulfil_shiphero_10k",
    "amazon_recoveries_200k",
];

/// Figures of one scenario, printed as one JSON line.
#[derive(Debug, Default, serde::Serialize)]
pub struct Figures {
    pub scenario: String,
    pub items: u64,
    pub seconds: f64,
    pub per_second: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    pub peak_rss_mb: f64,
    pub db: String,
    pub target: serde_json::Value,
    /// The figures of a scenario under load (`full_sync_under_read_load`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<serde_json::Value>,
    pub met: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub async fn run(
    settings: Settings,
    scenarios: Vec<String>,
    quick: bool,
    compare: Option<compare::Compare>,
) -> anyhow::Result<ExitCode> {
    let chosen: Vec<String> = if scenarios.is_empty() {
        ALL.iter().map(|s| s.to_string()).collect()
    } else {
        scenarios
    };
    for s in &chosen {
        if !ALL.contains(&s.as_str()) {
            anyhow::bail!("unknown scenario '{s}' (known: {})", ALL.join(", "));
        }
    }
    if chosen.len() == 1 {
        let figures = scenarios::run(&chosen[0], &settings, quick, compare).await?;
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(ExitCode::SUCCESS);
    }
    let exe = std::env::current_exe()?;
    let mut ok = true;
    for s in &chosen {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("bench").arg("--scenario").arg(s);
        if quick {
            cmd.arg("--quick");
        }
        if compare == Some(compare::Compare::Postgraphile) {
            cmd.arg("--compare").arg("postgraphile");
        }
        if let Some(url) = &settings.database_url {
            cmd.arg("--database-url").arg(url);
        }
        let status = cmd
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .status()
            .await?;
        ok &= status.success();
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Starts a fresh peak for [`peak_rss_mb`] (Linux resets `VmHWM` when 5 is written to
/// `clear_refs`), so a scenario's figure covers what it measures and not the fixture
/// seeding before it. Where that is not allowed the peak simply stays whole-process.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory of this process since start or the last [`reset_peak_rss`], in MB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| memory::mb(&s, "VmHWM:").ok())
        .unwrap_or(0.0)
}
