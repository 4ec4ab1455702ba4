//! Settings: flags > environment > defaults, resolved and validated in one place.

use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Options shared by every subcommand that touches the server or the database.
#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "PRICEBOOK_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,
    /// Database URL (sqlite://… or postgres://…). Default: SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Directory for the SQLite database and generated secrets.
    #[arg(
        long,
        env = "PRICEBOOK_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// HS256 signing secret for session tokens (generated into the data dir when absent).
    #[arg(
        long,
        env = "PRICEBOOK_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,
    /// 32-byte key (base64 or hex) encrypting connection secrets (generated when absent).
    #[arg(
        long,
        env = "PRICEBOOK_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub encryption_key: Option<String>,
    /// Email of the first admin, created on an empty database.
    #[arg(long, env = "PRICEBOOK_ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,
    /// Password of the first admin (a random one is printed once when absent).
    #[arg(
        long,
        env = "PRICEBOOK_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,
    /// Session token lifetime in minutes.
    #[arg(
        long,
        env = "PRICEBOOK_TOKEN_TTL_MINUTES",
        default_value_t = 720,
        global = true
    )]
    pub token_ttl_minutes: i64,
    /// Largest accepted request body (GraphQL JSON or upload), in bytes.
    #[arg(long, env = "PRICEBOOK_MAX_BODY_BYTES", default_value_t = 20 * 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Mount the upstream emulators under /sandbox/{provider}/ (always on in `demo`).
    #[arg(long, env = "PRICEBOOK_SANDBOX", global = true)]
    pub sandbox: bool,
    /// Seed for the mounted ServiceTitan emulator at start, as JSON, e.g.
    /// `{"materials": 5000, "equipment": 100, "services": 200, "seed": 42}`.
    #[arg(long, env = "PRICEBOOK_SANDBOX_SEED", global = true)]
    pub sandbox_seed: Option<String>,
    /// Base URL this server is reachable at (for sandbox connections and OAuth callbacks).
    /// Default: http://<bind>.
    #[arg(long, env = "PRICEBOOK_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Seconds a worker's claim on a run lasts without a heartbeat (crash take-over delay).
    #[arg(
        long,
        env = "PRICEBOOK_LEASE_SECONDS",
        default_value_t = 20,
        global = true
    )]
    pub lease_seconds: u64,
    /// Number of background sync workers in this process.
    #[arg(long, env = "PRICEBOOK_WORKERS", default_value_t = 2, global = true)]
    pub workers: usize,
}

impl Settings {
    /// The database URL to use: the explicit one or a SQLite file under the data dir.
    pub fn resolved_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&self.data_dir.join("pricebook.db")),
        }
    }

    /// The URL clients (and sandbox connections) reach this server at.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Creates the data dir private to this user (0700), and makes an existing one
    /// private: it holds the keys and, by default, the database.
    pub fn ensure_data_dir(&self) -> std::io::Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
            builder.mode(0o700);
            builder.create(&self.data_dir)?;
            let mode = std::fs::metadata(&self.data_dir)?.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700))?;
                tracing::info!(dir = %self.data_dir.display(), "made the data dir private (0700)");
            }
            Ok(())
        }
        #[cfg(not(unix))]
        builder.create(&self.data_dir)
    }

    /// Settings for tests and benchmarks: everything in `dir`, port chosen by the OS.
    pub fn for_dir(dir: &Path) -> Self {
        Settings {
            bind: "127.0.0.1:0".parse().expect("static address"),
            database_url: None,
            data_dir: dir.to_path_buf(),
            jwt_secret: None,
            encryption_key: None,
            admin_email: None,
            admin_password: None,
            token_ttl_minutes: 720,
            max_body_bytes: 20 * 1024 * 1024,
            workers: 2,
            sandbox: true,
            sandbox_seed: None,
            lease_seconds: 20,
            public_url: None,
        }
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}
