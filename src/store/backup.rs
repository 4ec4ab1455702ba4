//! Online backups of the embedded SQLite database: `VACUUM INTO` writes one consistent
//! snapshot into a new file while the server keeps reading and writing.

use crate::error::{AppError, AppResult};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use std::path::Path;

/// Writes a consistent copy of `db` to `out` (which must not exist), readable by its owner
/// only (it holds password hashes and encrypted secrets). Returns its size in bytes.
pub async fn sqlite_backup(db: &crate::store::Db, out: &Path) -> AppResult<u64> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Err(AppError::bad_input(
            "backup copies the embedded SQLite database; back PostgreSQL up with pg_dump",
        ));
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(out)
        .map_err(|e| AppError::bad_input(format!("cannot create {}: {e}", out.display())))?;
    let path = out
        .to_str()
        .ok_or_else(|| AppError::bad_input("the backup path is not valid UTF-8"))?;
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            "VACUUM INTO ?",
            [path.into()],
        ))
        .await;
    if let Err(e) = done {
        let _ = std::fs::remove_file(out);
        return Err(e.into());
    }
    Ok(std::fs::metadata(out).map(|m| m.len()).unwrap_or(0))
}
