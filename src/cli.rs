//! The `pricebook-sync` command line.

mod import_csv;

use crate::app::Application;
use crate::auth::password;
use crate::config::Settings;
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
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (applies pending migrations first).
    Serve,
    /// Run the server with a demo account and admin (credentials printed on start).
    Demo,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to stdout, or write it to a file.
    ExportSchema {
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Run the ServiceTitan emulator alone (seeded) on --bind, for trying connectors.
    Sandbox {
        #[arg(long, default_value_t = 1200)]
        materials: usize,
        #[arg(long, default_value_t = 300)]
        equipment: usize,
        #[arg(long, default_value_t = 500)]
        services: usize,
        /// The emulator's own request limit per second (0: unlimited).
        #[arg(long, default_value_t = 60)]
        rate_limit: u32,
    },
    /// Run the benchmark scenarios and print one JSON line of figures per scenario.
    Bench {
        /// Scenarios to run (default: all).
        #[arg(long = "scenario")]
        scenarios: Vec<String>,
        /// A tenth of the sizes, for a quick smoke check.
        #[arg(long)]
        quick: bool,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Run one sync in the foreground with a progress bar; prints the run summary as JSON.
    Sync {
        /// Connection id or name.
        #[arg(long)]
        connection: String,
        #[arg(long, value_enum, default_value = "incremental")]
        mode: ModeArg,
        /// Entity type for --mode entity (e.g. materials); may repeat to limit other modes.
        #[arg(long)]
        entity: Vec<String>,
        #[arg(long = "remote-id")]
        remote_ids: Vec<String>,
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
        file: PathBuf,
        /// Connection id or name.
        #[arg(long)]
        connection: String,
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
    ItemCosts,
    VendorPrices,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user (and its account when new).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, env = "PRICEBOOK_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        /// Account name; defaults to the first account.
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ModeArg {
    Full,
    Incremental,
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
    Admin,
    Editor,
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
    init_tracing();
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
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Every log line passes the secret scrubber on its way out.
        .with_writer(crate::redact::ScrubbingWriter(std::io::stderr))
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // reqwest's rustls uses aws-lc-rs while sqlx uses ring: pick one provider for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = cli.settings;
    match cli.command {
        Command::Serve => serve(settings).await,
        Command::Demo => demo(settings).await,
        Command::Migrate => {
            settings.ensure_data_dir()?;
            let db = store::db::connect(&settings.resolved_database_url()).await?;
            store::db::migrate(&db).await?;
            println!("migrations applied ({})", store::db::backend_name(&db));
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportSchema { output } => {
            let sdl = crate::graphql::sdl();
            match output {
                Some(path) => std::fs::write(&path, sdl)?,
                None => print!("{sdl}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sandbox {
            materials,
            equipment,
            services,
            rate_limit,
        } => {
            use crate::sandbox::servicetitan::{Emulator, EmulatorConfig, SeedSpec};
            let config = EmulatorConfig {
                rate_limit_per_second: Some(rate_limit).filter(|r| *r > 0),
                ..EmulatorConfig::default()
            };
            let emulator = Emulator::new(config.clone());
            emulator.seed(&SeedSpec {
                materials,
                equipment,
                services,
                seed: 42,
            });
            let listener = tokio::net::TcpListener::bind(settings.bind).await?;
            println!(
                "ServiceTitan emulator at http://{}  (tenant {}, client {} / {}, app key {})",
                listener.local_addr()?,
                config.tenant,
                config.client_id,
                config.client_secret,
                config.app_key
            );
            axum::serve(listener, emulator.router()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { scenarios, quick } => crate::bench::run(settings, scenarios, quick).await,
        Command::Sync {
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
            sync_foreground(settings, &connection, mode.into(), params, dry_run).await
        }
        Command::ImportCsv {
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
            import_csv::run(settings, &file, &connection, options).await
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    password: pw,
                    role,
                    account,
                },
        } => {
            settings.ensure_data_dir()?;
            let db = store::db::connect(&settings.resolved_database_url()).await?;
            store::db::migrate(&db).await?;
            let account =
                store::accounts::find_or_create(&db, account.as_deref().unwrap_or("default"))
                    .await?;
            let hash = password::hash(pw).await?;
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
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(if finished.status == RunStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
