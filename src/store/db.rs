//! Connecting, migrating and checking the database (SQLite or PostgreSQL).

use crate::error::{AppError, AppResult};
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub type Db = DatabaseConnection;

/// How long a request waits for a pooled connection before answering `UNAVAILABLE`:
/// long enough to ride out a busy moment, short enough that a database outage is an
/// error within seconds instead of a hung client.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// `/readyz` answers within this, database or not (load balancers time out at ~1 s).
pub const READY_TIMEOUT: Duration = Duration::from_millis(800);

/// Counts the statements one connection pool runs: `/metrics` shows the total and the
/// read-path test uses it to prove a page costs a fixed number of queries (no N+1).
#[derive(Clone, Default)]
pub struct QueryCounter(Arc<AtomicU64>);

impl QueryCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens a pool sized for the machine; SQLite gets WAL, `synchronous=NORMAL` and a busy
/// timeout so dashboard reads never block on a running sync's writes.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    Ok(connect_counted(url).await?.0)
}

/// A SQLite database file is created private (0600) before SQLite opens it; SQLite gives
/// its `-wal` and `-shm` files the database file's permissions. A file left readable by an
/// older version is made private too.
fn prepare_sqlite_file(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(());
    };
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || path.starts_with("file:") {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !path.exists() {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(anyhow::anyhow!("creating {}: {e}", path.display())),
            }
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                tracing::info!(file = %file.display(), "made the database file private (0600)");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// [`connect`], also answering the pool's statement counter.
pub async fn connect_counted(url: &str) -> anyhow::Result<(Db, QueryCounter)> {
    connect_sized(url, None).await
}

/// The sync workers' own pool (`jobs`): the API's readers can hold every connection of
/// the API pool and the syncs still get theirs. On SQLite it is the sync's writer
/// connection(s) beside WAL readers; on PostgreSQL a second, small pool.
pub async fn connect_sync_pool(url: &str, workers: usize) -> anyhow::Result<Db> {
    // Each worker's run and its heartbeat, plus the claim loop, the scheduler, retention
    // and (PostgreSQL) the progress bus's LISTEN connection.
    let size = (workers as u32) * 2 + 3;
    Ok(connect_sized(url, Some(size)).await?.0)
}

/// [`connect_counted`] with a chosen number of connections (default: 4 per core, ≥ 8).
pub async fn connect_sized(url: &str, size: Option<u32>) -> anyhow::Result<(Db, QueryCounter)> {
    prepare_sqlite_file(url)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(2);
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(size.unwrap_or((cores * 4).max(8)))
        .min_connections(1)
        .connect_timeout(ACQUIRE_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false)
        // Plan each look-up with its real parameters (long IN lists mislead generic plans).
        .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                // The database enforces its relations (see the foreign-keys migration).
                .foreign_keys(true)
                // 8 MB of page cache per connection: each of the pool's connections keeps
                // its own copy of hot pages, and the OS file cache already holds them.
                .pragma("cache_size", "-8000")
                .pragma("temp_store", "memory")
                // A whole page (up to 500 rows + 1) fits in the row channel, so SQLite's
                // worker thread never parks mid-query waiting for the reader (default 50).
                .row_buffer_size(1024)
        });
    let mut db = Database::connect(options).await?;
    let counter = QueryCounter::default();
    let count = counter.0.clone();
    db.set_metric_callback(move |info| {
        count.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("db_queries_total", "failed" => if info.failed { "true" } else { "false" })
            .increment(1);
    });
    Ok((db, counter))
}

/// Applies pending migrations. On SQLite they run on one connection of their own with
/// foreign keys off, as SQLite requires for rebuilding tables that others reference (the
/// migration checks `PRAGMA foreign_key_check` before it commits).
pub async fn migrate(db: &Db) -> anyhow::Result<()> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        Migrator::up(db, None).await?;
        return Ok(());
    }
    let pool = db.get_sqlite_connection_pool();
    let options = (*pool.connect_options()).clone().foreign_keys(false);
    let single = sea_orm::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let conn = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(single);
    let result = Migrator::up(&conn, None).await;
    conn.close().await?;
    Ok(result?)
}

/// Readiness: the database answers within [`READY_TIMEOUT`] and no migration is pending.
pub async fn check_ready(db: &Db) -> AppResult<()> {
    tokio::time::timeout(READY_TIMEOUT, check_ready_now(db))
        .await
        .unwrap_or_else(|_| {
            Err(AppError::Unavailable(format!(
                "database unavailable: no answer within {} ms",
                READY_TIMEOUT.as_millis()
            )))
        })
}

async fn check_ready_now(db: &Db) -> AppResult<()> {
    db.execute_unprepared("SELECT 1").await?;
    let pending = Migrator::get_pending_migrations(db).await?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(AppError::Internal(format!(
            "{} migrations pending",
            pending.len()
        )))
    }
}

pub fn backend_name(db: &Db) -> &'static str {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => "postgres",
        DatabaseBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so concurrent writers wait (busy timeout) instead of failing
/// with "database is locked" when a read-then-write transaction loses the race.
pub async fn begin_write(db: &Db) -> AppResult<sea_orm::DatabaseTransaction> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options = TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    };
    Ok(db.begin_with_options(options).await?)
}

/// Refreshes planner statistics of the sync tables on PostgreSQL. A bulk first sync grows
/// them faster than autovacuum analyses them; with stale statistics the planner keeps
/// choosing sequential scans for the per-page `IN (…)` look-ups. SQLite needs nothing.
pub async fn refresh_statistics(db: &Db) -> AppResult<()> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE items, item_links").await?;
    }
    Ok(())
}
