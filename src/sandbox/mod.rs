//! In-process emulators of the upstream APIs, speaking the same wire format as the real
//! services (they reuse the connectors' `wire` types), with seeded data, remote edits and
//! fault injection. Used by the demo, the tests and the benchmarks.

pub mod amazon;
pub mod faults;
pub mod fulfil;
pub mod jobber;
pub mod servicetitan;
pub mod shiphero;

use axum::Router;
use axum::routing::get;

/// The emulators mounted on one server under `/sandbox/{provider}/`.
#[derive(Clone)]
pub struct Sandboxes {
    pub servicetitan: servicetitan::Emulator,
    pub jobber: jobber::Emulator,
    pub amazon: amazon::Emulator,
    pub fulfil: fulfil::Emulator,
    pub shiphero: shiphero::Emulator,
}

impl Sandboxes {
    pub fn new() -> Self {
        Self::with_servicetitan(servicetitan::EmulatorConfig::default())
    }

    pub fn with_servicetitan(config: servicetitan::EmulatorConfig) -> Self {
        Sandboxes {
            servicetitan: servicetitan::Emulator::new(config),
            jobber: jobber::Emulator::default(),
            amazon: amazon::Emulator::default(),
            fulfil: fulfil::Emulator::new(fulfil::EmulatorConfig::default()),
            shiphero: shiphero::Emulator::new(shiphero::EmulatorConfig::default()),
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .nest("/sandbox/servicetitan", self.servicetitan.router())
            .nest("/sandbox/jobber", self.jobber.router())
            .nest("/sandbox/amazon", self.amazon.router())
            .nest("/sandbox/fulfil", self.fulfil.router())
            .nest("/sandbox/shiphero", self.shiphero.router())
    }
}

impl Default for Sandboxes {
    fn default() -> Self {
        Self::new()
    }
}

/// `pricebook-sync sandbox`: every emulator on `bind` under `/sandbox/{provider}/`, with
/// `GET /healthz`, ServiceTitan seeded with `seed`, until the process is stopped.
pub async fn serve_alone(
    bind: std::net::SocketAddr,
    seed: servicetitan::SeedSpec,
    servicetitan_rate_limit: Option<u32>,
) -> anyhow::Result<()> {
    use crate::connectors::{amazon, fulfil, jobber, servicetitan as st, shiphero};
    let listener = crate::app::bind(bind).await?;
    let sandboxes = Sandboxes::with_servicetitan(servicetitan::EmulatorConfig {
        rate_limit_per_second: servicetitan_rate_limit,
        ..Default::default()
    });
    sandboxes.servicetitan.seed(&seed);
    let base = format!("http://{}", listener.local_addr()?);
    println!("Emulators at {base}/sandbox/{{provider}}/  (health: {base}/healthz)");
    println!(
        "  servicetitan  tenant {}, client {} / {}, app key {}",
        st::SANDBOX_TENANT,
        st::SANDBOX_CLIENT_ID,
        st::SANDBOX_CLIENT_SECRET,
        st::SANDBOX_APP_KEY
    );
    println!(
        "  jobber        client {} / {}",
        jobber::SANDBOX_CLIENT_ID,
        jobber::SANDBOX_CLIENT_SECRET
    );
    println!(
        "  amazon        client {} / {}, refresh token {}, marketplace {}",
        amazon::auth::SANDBOX_CLIENT_ID,
        amazon::auth::SANDBOX_CLIENT_SECRET,
        amazon::auth::SANDBOX_REFRESH_TOKEN,
        amazon::SANDBOX_MARKETPLACE
    );
    println!(
        "  fulfil        merchant {}, API key {}",
        fulfil::SANDBOX_MERCHANT,
        fulfil::SANDBOX_API_KEY
    );
    println!(
        "  shiphero      {} / {}, warehouse {}",
        shiphero::SANDBOX_USERNAME,
        shiphero::SANDBOX_PASSWORD,
        shiphero::SANDBOX_WAREHOUSE
    );
    let router = sandboxes
        .router()
        .route("/healthz", get(crate::web::health::healthz));
    axum::serve(listener, router).await?;
    Ok(())
}
