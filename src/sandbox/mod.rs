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
        Sandboxes {
            servicetitan: servicetitan::Emulator::new(servicetitan::EmulatorConfig::default()),
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
