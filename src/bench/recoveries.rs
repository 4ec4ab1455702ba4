//! `amazon_recoveries_200k`: parse a 200,000-row inventory-ledger document and detect
//! claims over it (with a reimbursements document alongside) — the CPU and memory side of
//! the recoveries stage, without HTTP or the database. Target: ≤ 3 s, peak RSS ≤ 300 MB.

use super::{Figures, peak_rss_mb, reset_peak_rss};
use crate::connectors::amazon::report_rows::{self, DateOrder};
use crate::sync::recoveries::rules::{self, Facts, LedgerFact, ReimbursementFact};
use serde_json::json;
use std::time::Instant;

pub fn run(quick: bool) -> anyhow::Result<Figures> {
    let n = if quick { 20_000 } else { 200_000 };
    let skus = n / 40;
    let today = chrono::Utc::now().date_naive();
    let ledger = crate::sandbox::amazon::recoveries::bench_ledger(n, skus, today);
    let bytes = ledger.len();
    reset_peak_rss();
    let started = Instant::now();
    let parsed = report_rows::parse_ledger(&ledger, DateOrder::MonthFirst)
        .map_err(|e| anyhow::anyhow!(e))?;
    if parsed.rows.len() != n || !parsed.problems.is_empty() {
        anyhow::bail!(
            "parsed {} of {n} rows, {} problems",
            parsed.rows.len(),
            parsed.problems.len()
        );
    }
    let parse_seconds = started.elapsed().as_secs_f64();
    let facts = Facts {
        ledger: parsed
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| LedgerFact {
                id: i as i64,
                key: r.key,
                date: r.date,
                fnsku: r.fnsku,
                sku: r.msku,
                asin: r.asin,
                event_type: r.event_type,
                reference_id: r.reference_id,
                quantity: r.quantity,
                reason: r.reason,
            })
            .collect(),
        reimbursements: (0..skus / 4)
            .map(|i| ReimbursementFact {
                id: i as i64,
                key: format!("r{i}"),
                reimbursement_id: format!("R{i}"),
                date: today - chrono::Duration::days(20),
                reason: "Lost_Warehouse".into(),
                sku: Some(crate::sandbox::amazon::seed::sku(i * 4)),
                fnsku: Some(format!("X00{:07}", i * 4 + 1)),
                asin: None,
                order_id: None,
                currency: "USD".into(),
                amount_per_unit: rust_decimal::Decimal::new(1250, 2),
                amount_total: rust_decimal::Decimal::new(1250, 2),
                quantity: 1,
            })
            .collect(),
        ..Default::default()
    };
    let detections = rules::detect(&rules::RULES, &facts, today);
    let seconds = started.elapsed().as_secs_f64();
    let open = detections.iter().filter(|d| d.open() > 0).count();
    let rss = peak_rss_mb();
    Ok(Figures {
        items: n as u64,
        seconds,
        per_second: n as f64 / seconds,
        met: seconds <= 3.0 && rss <= 300.0,
        target: json!({ "seconds_max": 3.0, "peak_rss_mb_max": 300.0 }),
        note: Some(format!(
            "{:.1} MB ledger document; parse {parse_seconds:.2} s, detect {:.2} s; {} cases, {open} open",
            bytes as f64 / 1e6,
            seconds - parse_seconds,
            detections.len()
        )),
        ..Default::default()
    })
}
