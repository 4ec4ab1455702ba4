//! `pricebook-sync backup --out FILE`: a consistent online copy of the SQLite database,
//! safe while the server runs.

use crate::config::Settings;
use crate::store;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(settings: Settings, out: &Path) -> anyhow::Result<ExitCode> {
    let url = settings.resolved_database_url();
    let db = store::db::connect(&url).await?;
    let bytes = store::backup::sqlite_backup(&db, out).await?;
    println!(
        "backed up the database to {} ({:.1} MB)",
        out.display(),
        bytes as f64 / 1e6
    );
    if settings.jwt_secret.is_none() || settings.encryption_key.is_none() {
        println!(
            "keep {} and {} with it (or your PRICEBOOK_JWT_SECRET / PRICEBOOK_ENCRYPTION_KEY): \
             without the encryption key the connection secrets in the copy cannot be read",
            settings.data_dir.join("jwt.secret").display(),
            settings.data_dir.join("encryption.key").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
