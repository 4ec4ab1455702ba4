//! The `pricebook-sync` command line.

mod backup;
mod copy_db;
mod import_csv;

use crate::app::Application;
use crate::auth::password;
use crate::config::{Settings, StoreArgs};
use crate::store;
use clap::{Parser, Subcommand, ValueEnum};
use entity::enums::{Role, RunMode, RunStatus, RunTrigger};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "pricebook-sync",
    version,
    about = "Two-way price-book sync between SaaS systems and your database, with a GraphQL API and admin UI."
)]
pub struct Cli {
    /// Log lines as text, or as one JSON object per line for a log collector.
    #[arg(
        long,
        env = "PRICEBOOK_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (applies pending migrations first).
    Serve(Box<Settings>),
    /// Run the server with a demo account and admin (credentials printed on start).
    Demo(Box<Settings>),
    /// Apply pending database migrations and exit.
    Migrate(StoreArgs),
    /// Write a consistent copy of the SQLite database to FILE while the server runs.
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The file to create (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Exit 0 when the server on --bind answers /healthz (for container health checks).
    Healthcheck {
        /// The server's address (as it was given to `serve`).
        #[arg(long, env = "PRICEBOOK_BIND", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
    },
    /// Copy the database (all tables, ids kept) into an empty PostgreSQL database and
    /// verify every table's row count and checksum.
    CopyDb {
        #[command(flatten)]
        store: StoreArgs,
        /// The target, e.g. postgres://user:pass@host:5432/pricebook (must be empty).
        #[arg(long, env = "PRICEBOOK_COPY_TO", hide_env_values = true)]
        to: String,
    },
    /// Print the GraphQL schema (SDL) to stdout, or write it to a file.
    ExportSchema {
        /// File to write instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Run the emulators of every provider alone, on --bind, for trying connectors
    /// (ServiceTitan seeded; `GET /healthz` answers when they are up).
    Sandbox {
        /// Address the emulators listen on.
        #[arg(long, env = "PRICEBOOK_BIND", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
        /// ServiceTitan materials to seed.
        #[arg(long, default_value_t = 1200)]
        materials: usize,
        /// ServiceTitan equipment to seed.
        #[arg(long, default_value_t = 300)]
        equipment: usize,
        /// ServiceTitan services to seed.
        #[arg(long, default_value_t = 500)]
        services: usize,
        /// ServiceTitan's own request limit per second (0: unlimited).
        #[arg(long, default_value_t = 60)]
        rate_limit: u32,
    },
    /// Run the benchmark scenarios and print one JSON line of figures per scenario.
    Bench {
        #[command(flatten)]
        store: StoreArgs,
        /// Scenarios to run (default: all).
        #[arg(long = "scenario")]
        scenarios: Vec<String>,
        /// A tenth of the sizes, for a quick smoke check.
        #[arg(long)]
        quick: bool,
        /// Also serve `graphql_items_first_100`'s page with this tool over the same
        /// PostgreSQL database and print both figures and their ratio.
        #[arg(long, value_enum)]
        compare: Option<crate::bench::compare::Compare>,
    },
    /// The read load of `bench --scenario full_sync_under_read_load`, in its own process.
    #[command(hide = true)]
    BenchLoad {
        /// The server's base URL (`http://127.0.0.1:PORT`).
        #[arg(long)]
        url: String,
        /// The GraphQL query each reader posts in a loop.
        #[arg(long)]
        query: String,
        /// Closed-loop GraphQL readers.
        #[arg(long)]
        clients: usize,
        /// WebSocket subscribers to `syncEvents`.
        #[arg(long)]
        subscribers: usize,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Run one sync in the foreground with a progress bar; prints the run summary as JSON.
    Sync {
        #[command(flatten)]
        store: StoreArgs,
        /// Connection id or name.
        #[arg(long)]
        connection: String,
        /// What to sync: everything, changes since the last run, or chosen records.
        #[arg(long, value_enum, default_value = "incremental")]
        mode: ModeArg,
        /// Entity type for --mode entity (e.g. materials); may repeat to limit other modes.
        #[arg(long)]
        entity: Vec<String>,
        /// Remote id of a record to sync (--mode entity); may repeat.
        #[arg(long = "remote-id")]
        remote_ids: Vec<String>,
        /// Item code of a record to sync (--mode entity); may repeat.
        #[arg(long = "code")]
        codes: Vec<String>,
        /// Compute and report everything, write nothing but the run record.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import a CSV file into a connection: item costs (changed locally, then pushed
    /// upstream) or vendor prices (local only). Prints
    /// `{"updated": N, "skus_not_found": [...], "errors": [...]}`; exits non-zero when
    /// nothing could be applied.
    ImportCsv {
        #[command(flatten)]
        store: StoreArgs,
        /// The CSV file.
        file: PathBuf,
        /// Connection id or name.
        #[arg(long)]
        connection: String,
        /// What the file holds.
        #[arg(long, value_enum, default_value = "item-costs")]
        target: CsvTargetArg,
        /// Header mapping as JSON, e.g. '{"sku": "Part_Num", "cost": "Trade_Cost"}'.
        #[arg(long)]
        mapping: Option<String>,
        /// How the file writes decimals: `.` (1,234.50) or `,` (1.234,50). Without it the
        /// cells that show it decide, and cells that could be read either way are errors.
        #[arg(long, value_parser = ["." , ",", "point", "comma"])]
        decimal_separator: Option<String>,
        /// Report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CsvTargetArg {
    /// Unit costs of items (`Part_Num`, `Trade_Cost`…), pushed upstream.
    ItemCosts,
    /// Vendors' prices, kept locally and never pushed.
    VendorPrices,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user in an existing account (or a new one with --create-account).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// The user's email address (unique across accounts).
        #[arg(long)]
        email: String,
        /// At least 12 characters and hard to guess (zxcvbn score 3 or more); or
        /// PRICEBOOK_NEW_USER_PASSWORD, kept out of shell history.
        #[arg(long, env = "PRICEBOOK_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// What the user may do.
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        /// Account (tenant) name; defaults to the `default` account.
        #[arg(long)]
        account: Option<String>,
        /// Create the account when no account has that name (without it a mistyped name
        /// is an error, not a new tenant).
        #[arg(long)]
        create_account: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ModeArg {
    /// Every record; applies remote deletions.
    Full,
    /// Records changed since the last run.
    Incremental,
    /// The records named by --remote-id or --code.
    Entity,
}

impl From<ModeArg> for RunMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Full => RunMode::Full,
            ModeArg::Incremental => RunMode::Incremental,
            ModeArg::Entity => RunMode::Entity,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    /// Everything, including connections and users.
    Admin,
    /// Edit items, run syncs, resolve conflicts, import.
    Editor,
    /// Read only.
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Editor => Role::Editor,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr as text (coloured only when stderr is a terminal) or as JSON lines, so
/// stdout carries only what a command prints for scripts (the JSON summaries).
pub fn init_tracing(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Every log line passes the secret scrubber on its way out.
        .with_writer(crate::redact::ScrubbingWriter(std::io::stderr));
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

/// Writes one document to stdout. A reader that went away (`… | head`) is not an error
/// worth a panic: the command simply ends.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// A bad flag combination: clap's usage error (exit code 2), before anything is recorded.
fn usage_error(message: impl std::fmt::Display) -> ! {
    use clap::CommandFactory;
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    // reqwest's rustls uses aws-lc-rs while sqlx uses ring: pick one provider for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match command {
        Command::Serve(settings) => serve(*settings).await,
        Command::Demo(settings) => demo(*settings).await,
        Command::Migrate(store) => {
            let settings = store.into_settings();
            settings.ensure_data_dir()?;
            let db = store::db::connect(&settings.resolved_database_url()).await?;
            store::db::migrate(&db).await?;
            print_stdout(&format!(
                "migrations applied ({})",
                store::db::backend_name(&db)
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { store, out } => backup::run(store.into_settings(), &out).await,
        Command::Healthcheck { bind } => healthcheck(bind).await,
        Command::CopyDb { store, to } => copy_db::run(store.into_settings(), &to).await,
        Command::ExportSchema { output } => {
            let sdl = crate::graphql::sdl();
            match output {
                Some(path) => std::fs::write(&path, sdl)?,
                None => print_stdout(sdl.trim_end())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sandbox {
            bind,
            materials,
            equipment,
            services,
            rate_limit,
        } => {
            let spec = crate::sandbox::servicetitan::SeedSpec {
                materials,
                equipment,
                services,
                seed: 42,
            };
            crate::sandbox::serve_alone(bind, spec, Some(rate_limit).filter(|r| *r > 0)).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            store,
            scenarios,
            quick,
            compare,
        } => crate::bench::run(store.into_settings(), scenarios, quick, compare).await,
        Command::BenchLoad {
            url,
            query,
            clients,
            subscribers,
        } => {
            crate::bench::load::child(url, query, clients, subscribers).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync {
            store,
            connection,
            mode,
            entity,
            remote_ids,
            codes,
            dry_run,
        } => {
            let params = crate::sync::runner::RunParams {
                entity_types: entity,
                remote_ids,
                codes,
                ..Default::default()
            };
            sync_foreground(
                store.into_settings(),
                &connection,
                mode.into(),
                params,
                dry_run,
            )
            .await
        }
        Command::ImportCsv {
            store,
            file,
            connection,
            target,
            mapping,
            decimal_separator,
            dry_run,
        } => {
            let options = import_csv::CsvOptions {
                target,
                mapping,
                decimal_separator,
                dry_run,
            };
            import_csv::run(store.into_settings(), &file, &connection, options).await
        }
        Command::User {
            command:
                UserCommand::Add {
                    store,
                    email,
                    password: pw,
                    role,
                    account,
                    create_account,
                },
        } => {
            let settings = store.into_settings();
            settings.ensure_data_dir()?;
            let db = store::db::connect(&settings.resolved_database_url()).await?;
            store::db::migrate(&db).await?;
            let name = account.as_deref().unwrap_or("default");
            let account = match store::accounts::find(&db, name).await? {
                Some(a) => a,
                None if create_account => store::accounts::find_or_create(&db, name).await?,
                None => {
                    let known = store::accounts::names(&db).await?;
                    anyhow::bail!(
                        "no account is named '{name}' (accounts: {}); pass --create-account to create it",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    );
                }
            };
            let email = store::users::normalise_email(&email)?;
            let hash = password::hash_new(pw, vec![email.clone(), "pricebook".into()]).await?;
            let user = store::users::create(&db, account.id, &email, hash, role.into()).await?;
            println!(
                "created {} ({}) in account '{}'",
                user.email,
                user.role.as_str(),
                account.name
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Asks this host's server for `/healthz` (an unspecified bind address means loopback).
async fn healthcheck(mut addr: std::net::SocketAddr) -> anyhow::Result<ExitCode> {
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let answer = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => Ok(ExitCode::SUCCESS),
        Ok(r) => {
            eprintln!("unhealthy: /healthz answered {}", r.status());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("unhealthy: {}", e.without_url());
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let app = Application::build(settings).await?;
    tracing::info!(address = %app.local_addr()?, "serving");
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn demo(mut settings: Settings) -> anyhow::Result<ExitCode> {
    let email = settings
        .admin_email
        .clone()
        .unwrap_or_else(|| "demo@example.com".into());
    let password = settings
        .admin_password
        .clone()
        .unwrap_or_else(|| "demo-password".into());
    settings.admin_email = Some(email.clone());
    settings.admin_password = Some(password.clone());
    settings.sandbox = true;
    let app = Application::build(settings).await?;
    let addr = app.local_addr()?;
    crate::demo::prepare(&app.state, &email).await?;
    println!("pricebook-sync demo at http://{addr}  (GraphQL: http://{addr}/graphql)");
    println!("sign in as {email} / {password}");
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// Draws the run's progress on the terminal.
struct Bar(indicatif::ProgressBar);

impl crate::sync::progress::Reporter for Bar {
    fn progress(&self, stage: &str, percent: i32, c: &crate::sync::progress::Counters) {
        self.0.set_position(percent.max(0) as u64);
        self.0.set_message(format!(
            "{stage} — fetched {} created {} updated {} conflicts {} errors {}",
            c.fetched, c.created, c.updated, c.conflicts, c.errors
        ));
    }
}

async fn sync_foreground(
    settings: Settings,
    connection: &str,
    mode: RunMode,
    params: crate::sync::runner::RunParams,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    settings.ensure_data_dir()?;
    let keys = crate::auth::keys::load_or_generate(&settings)?;
    let db = store::db::connect(&settings.resolved_database_url()).await?;
    store::db::migrate(&db).await?;
    let conn = store::connections::find_by_id_or_name(&db, None, connection).await?;
    let request = crate::jobs::StartRequest {
        mode,
        params: params.clone(),
        dry_run,
        trigger: RunTrigger::Cli,
        requested_by: None,
        force: false,
    };
    if let Err(e) = crate::jobs::validate(&request, conn.provider) {
        usage_error(format!(
            "{} (on the command line: --mode entity with --entity NAME and --remote-id ID or --code CODE)",
            e.public_message()
        ));
    }
    let registry = crate::connectors::registry::Registry::new(
        crate::auth::secrets::SecretBox::new(&keys.encryption_key),
        settings.public_url(settings.bind),
    );
    let run = store::runs::create(
        &db,
        store::runs::NewRun {
            account_id: conn.account_id,
            connection_id: conn.id,
            mode,
            trigger: RunTrigger::Cli,
            dry_run,
            params: serde_json::to_value(&params)?,
            requested_by: None,
            status: RunStatus::Running,
        },
    )
    .await
    .map_err(|e| match e {
        crate::error::AppError::Internal(_) => {
            anyhow::anyhow!("a sync is already running for connection '{connection}'")
        }
        other => other.into(),
    })?;
    let bar = indicatif::ProgressBar::new(100);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos:>3}% {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let reporter = Bar(bar);
    let cancel = tokio_util::sync::CancellationToken::new();
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        ctrl_c.cancel();
    });
    let finished = crate::sync::runner::execute(&db, &registry, &run, &reporter, &cancel).await?;
    reporter.0.finish_and_clear();
    let summary = serde_json::json!({
        "runId": finished.id,
        "status": finished.status,
        "mode": finished.mode,
        "dryRun": finished.dry_run,
        "counters": {
            "fetched": finished.fetched, "created": finished.created, "updated": finished.updated, "deleted": finished.deleted,
            "pushed": finished.pushed, "conflicts": finished.conflicts, "skipped": finished.skipped, "errors": finished.errors,
        },
        "error": finished.error,
        "errorCode": finished.error_code,
        "summary": finished.summary,
    });
    print_stdout(&serde_json::to_string_pretty(&summary)?)?;
    Ok(if finished.status == RunStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
