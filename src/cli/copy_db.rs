//! `pricebook-sync copy-db --to postgres://…`: moves the configured database (usually the
//! embedded SQLite) into an empty PostgreSQL database — one consistent read, ids and
//! sequences kept — and prints each table's row count and checksum on both sides.

use crate::config::Settings;
use crate::store;
use migration::MigratorTrait;
use std::process::ExitCode;

pub async fn run(settings: Settings, to: &str) -> anyhow::Result<ExitCode> {
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        anyhow::bail!("--to must be a postgres:// URL");
    }
    let source_url = settings.resolved_database_url();
    if source_url == to {
        anyhow::bail!("--to names the database being copied");
    }
    let source = store::db::connect(&source_url).await?;
    let pending = migration::Migrator::get_pending_migrations(&source).await?;
    if !pending.is_empty() {
        anyhow::bail!(
            "the source database has {} pending migrations: run `pricebook-sync migrate` first",
            pending.len()
        );
    }
    let target = store::db::connect(to).await?;
    store::db::migrate(&target).await?;
    eprintln!(
        "copying {} into {}",
        store::db::backend_name(&source),
        redact_password(to)
    );
    let tables = store::copy::copy_all(&source, &target, |table, rows| {
        eprintln!("  copied {table} ({rows} rows)");
    })
    .await?;
    println!(
        "{:<24} {:>10} {:>10}  {:<16} {:<16} ",
        "table", "source", "target", "checksum", "target checksum"
    );
    let mut ok = true;
    let mut rows = 0;
    for t in &tables {
        ok &= t.verified();
        rows += t.rows;
        println!(
            "{:<24} {:>10} {:>10}  {:<16} {:<16} {}",
            t.table,
            t.rows,
            t.target_rows,
            &t.checksum[..16],
            &t.target_checksum[..16.min(t.target_checksum.len())],
            if t.verified() { "ok" } else { "MISMATCH" }
        );
    }
    if ok {
        println!(
            "copied {} tables, {rows} rows: every count and checksum matches. Start the server with \
             DATABASE_URL set to the new database and the same encryption key and JWT secret.",
            tables.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("the copy does not match the source: do not switch to it");
        Ok(ExitCode::FAILURE)
    }
}

/// The URL without its password, for messages.
fn redact_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "the target database".into(),
    }
}
