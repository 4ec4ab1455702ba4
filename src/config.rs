//! Settings: flags > environment > defaults, resolved and validated in one place.

use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The server's options (`serve`, `demo`).
#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(long, env = "PRICEBOOK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Database URL (sqlite://… or postgres://…). Default: SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for the SQLite database and generated secrets.
    #[arg(long, env = "PRICEBOOK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// HS256 signing secret for session tokens (generated into the data dir when absent).
    #[arg(long, env = "PRICEBOOK_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// 32-byte key (base64 or hex) encrypting connection secrets (generated when absent).
    #[arg(long, env = "PRICEBOOK_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// Email of the first admin, created on an empty database.
    #[arg(long, env = "PRICEBOOK_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of the first admin (a random one is printed once when absent).
    #[arg(long, env = "PRICEBOOK_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Session token lifetime in minutes.
    #[arg(long, env = "PRICEBOOK_TOKEN_TTL_MINUTES", default_value_t = 720)]
    pub token_ttl_minutes: i64,
    /// Largest accepted request body (GraphQL JSON or upload), in bytes.
    #[arg(long, env = "PRICEBOOK_MAX_BODY_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Mount the upstream emulators under /sandbox/{provider}/ (always on in `demo`).
    #[arg(long, env = "PRICEBOOK_SANDBOX")]
    pub sandbox: bool,
    /// Seed for the mounted ServiceTitan emulator at start, as JSON, e.g.
    /// `{"materials": 5000, "equipment": 100, "services": 200, "seed": 42}`.
    #[arg(long, env = "PRICEBOOK_SANDBOX_SEED")]
    pub sandbox_seed: Option<String>,
    /// Base URL this server is reachable at (for sandbox connections and OAuth callbacks).
    /// Default: http://<bind>.
    #[arg(long, env = "PRICEBOOK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds a worker's claim on a run lasts without a heartbeat (crash take-over delay).
    #[arg(long, env = "PRICEBOOK_LEASE_SECONDS", default_value_t = 20)]
    pub lease_seconds: u64,
    /// Number of background sync workers in this process.
    #[arg(long, env = "PRICEBOOK_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Fire schedules and vendor feeds from this process (false: it serves and executes
    /// only; another instance on the same database schedules).
    #[arg(long, env = "PRICEBOOK_SCHEDULER", default_value_t = true, action = clap::ArgAction::Set)]
    pub scheduler: bool,
    /// Seconds a WebSocket client has to send `connection_init` before it is closed (4408).
    #[arg(long, env = "PRICEBOOK_WS_INIT_TIMEOUT_SECONDS", default_value_t = 10)]
    pub ws_init_timeout_seconds: u64,
    /// Seconds between the server's `ping` messages on a subscription WebSocket.
    #[arg(long, env = "PRICEBOOK_WS_KEEPALIVE_SECONDS", default_value_t = 15)]
    pub ws_keepalive_seconds: u64,
    /// Subscription WebSockets and run-event streams one credential (a user's sessions, or
    /// one API key) may hold open at once on an instance; more are refused (`RATE_LIMITED`).
    #[arg(
        long,
        env = "PRICEBOOK_MAX_STREAMS_PER_CREDENTIAL",
        default_value_t = 1000
    )]
    pub max_streams_per_credential: usize,
    /// Browser origins allowed to call the API from another site (CORS), comma-separated,
    /// e.g. `https://acme.retool.com,http://localhost:3000`; `*` allows any. Default: none.
    #[arg(
        long,
        env = "PRICEBOOK_CORS_ORIGINS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub cors_origins: Vec<String>,
    /// Longest a GraphQL query may run, in seconds (HTTP and WebSocket); then it
    /// is stopped and answered with QUERY_TIMEOUT. Mutations are not cut short.
    #[arg(long, env = "PRICEBOOK_QUERY_TIMEOUT_SECONDS", default_value_t = 30)]
    pub query_timeout_seconds: u64,
    /// Answer introspection (`__schema`, `__type`) without a token. Off by default:
    /// without a token only `login` runs.
    #[arg(long, env = "PRICEBOOK_PUBLIC_INTROSPECTION")]
    pub public_introspection: bool,
    /// Days of run history kept; older runs and their events are pruned hourly (each
    /// connection's last successful full run and runs that conflicts, audit entries,
    /// vendor prices or feeds point at stay). 0 keeps everything.
    #[arg(long, env = "PRICEBOOK_RETENTION_DAYS", default_value_t = 90)]
    pub retention_days: u32,
    /// Allow vendor feeds on plain http:// and file:// URLs (tests and local setups; HTTPS
    /// only otherwise).
    #[arg(long, env = "PRICEBOOK_INSECURE_FEED_URLS")]
    pub insecure_feed_urls: bool,
    /// Allow alert webhooks on plain http:// URLs (tests and local receivers; HTTPS only
    /// otherwise).
    #[arg(long, env = "PRICEBOOK_INSECURE_ALERT_URLS")]
    pub insecure_alert_urls: bool,
    /// GraphQL HTTP operations executing at once; 0 picks 2 × CPU cores (at least 4).
    /// More wait in the queue, so a burst of dashboards cannot starve the sync workers.
    #[arg(long, env = "PRICEBOOK_GRAPHQL_CONCURRENCY", default_value_t = 0)]
    pub graphql_concurrency: usize,
    /// GraphQL HTTP operations allowed to wait for an execution slot; one more is answered
    /// `503` (`RATE_LIMITED`, `Retry-After`) at once.
    #[arg(long, env = "PRICEBOOK_GRAPHQL_QUEUE", default_value_t = 64)]
    pub graphql_queue: usize,
    /// Longest an operation waits in the queue, in milliseconds; then it is answered `503`
    /// (`RATE_LIMITED`, `Retry-After`) instead of waiting on.
    #[arg(
        long,
        env = "PRICEBOOK_GRAPHQL_QUEUE_TIMEOUT_MS",
        default_value_t = 200
    )]
    pub graphql_queue_timeout_ms: u64,
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after. A path or a
/// trailing slash would never match a browser's `Origin` header, so it is refused here.
fn parse_origin(text: &str) -> Result<String, String> {
    let origin = text.trim();
    if origin == "*" {
        return Ok(origin.to_owned());
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| format!("'{origin}' is not an origin: expected http(s)://host[:port]"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(format!(
            "'{origin}' is not an origin: expected http(s)://host[:port] with no path"
        ));
    }
    Ok(origin.to_owned())
}

/// Where the data lives: the options of the commands that work on the database without
/// serving (`migrate`, `sync`, `import-csv`, `user add`, `bench`).
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Database URL (sqlite://… or postgres://…). Default: SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for the SQLite database and generated secrets.
    #[arg(long, env = "PRICEBOOK_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// 32-byte key (base64 or hex) encrypting connection secrets; the server's key.
    #[arg(long, env = "PRICEBOOK_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// The server's session signing secret, read so that no new one is generated.
    #[arg(long, env = "PRICEBOOK_JWT_SECRET", hide = true)]
    pub jwt_secret: Option<String>,
    /// The server's address, for the default of --public-url.
    #[arg(
        long,
        env = "PRICEBOOK_BIND",
        default_value = "127.0.0.1:8080",
        hide = true
    )]
    pub bind: SocketAddr,
    /// Base URL of the running server, where sandbox connections reach its emulators.
    /// Default: http://<PRICEBOOK_BIND>.
    #[arg(long, env = "PRICEBOOK_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl StoreArgs {
    /// Full settings with these values and the defaults for everything that serves.
    pub fn into_settings(self) -> Settings {
        Settings {
            bind: self.bind,
            database_url: self.database_url,
            jwt_secret: self.jwt_secret,
            encryption_key: self.encryption_key,
            public_url: self.public_url,
            sandbox: false,
            ..Settings::for_dir(&self.data_dir)
        }
    }
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

    /// How long run history is kept (None: forever).
    pub fn retention(&self) -> Option<chrono::Duration> {
        (self.retention_days > 0).then(|| chrono::Duration::days(self.retention_days.into()))
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
            scheduler: true,
            sandbox: true,
            sandbox_seed: None,
            lease_seconds: 20,
            public_url: None,
            cors_origins: Vec::new(),
            ws_init_timeout_seconds: 10,
            ws_keepalive_seconds: 15,
            max_streams_per_credential: 1000,
            query_timeout_seconds: 30,
            public_introspection: false,
            retention_days: 90,
            insecure_feed_urls: true,
            insecure_alert_urls: true,
            graphql_concurrency: 0,
            graphql_queue: 64,
            graphql_queue_timeout_ms: 200,
        }
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origin(" https://acme.retool.com ").unwrap(),
            "https://acme.retool.com"
        );
        assert!(parse_origin("http://localhost:3000").is_ok());
        assert!(parse_origin("*").is_ok());
        assert!(parse_origin("https://acme.retool.com/").is_err());
        assert!(parse_origin("acme.retool.com").is_err());
        assert!(parse_origin("https://").is_err());
    }
}
