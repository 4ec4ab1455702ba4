//! ShipHero's throttle: a bucket of credits per account, refilled continuously; an
//! operation costing more than what is left is refused with the whole seconds to wait.

use serde::Deserialize;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditConfig {
    /// Bucket size (ShipHero: 4,004).
    pub max: f64,
    /// Credits restored per second (ShipHero: 60).
    pub refill_per_second: f64,
    /// What one query / one mutation costs here.
    pub query_cost: f64,
    pub mutation_cost: f64,
}

impl Default for CreditConfig {
    fn default() -> Self {
        CreditConfig {
            max: 4004.0,
            refill_per_second: 60.0,
            query_cost: 1.0,
            mutation_cost: 10.0,
        }
    }
}

pub(crate) struct Bucket {
    state: Mutex<(CreditConfig, f64, Instant)>,
}

/// A refusal: credits left and seconds until `cost` is available.
pub(crate) struct Short {
    pub remaining: f64,
    pub wait_seconds: u64,
}

impl Bucket {
    pub fn new(config: CreditConfig) -> Self {
        let full = config.max;
        Bucket {
            state: Mutex::new((config, full, Instant::now())),
        }
    }

    pub fn reconfigure(&self, config: CreditConfig) {
        if let Ok(mut s) = self.state.lock() {
            let full = config.max;
            *s = (config, full, Instant::now());
        }
    }

    pub fn costs(&self) -> (f64, f64) {
        self.state
            .lock()
            .map(|s| (s.0.query_cost, s.0.mutation_cost))
            .unwrap_or((1.0, 10.0))
    }

    /// Takes `cost` credits, or says how long until they exist.
    pub fn take(&self, cost: f64) -> Result<f64, Short> {
        let Ok(mut s) = self.state.lock() else {
            return Ok(0.0);
        };
        let now = Instant::now();
        let (config, available, at) = &mut *s;
        let refilled = (*available
            + now.duration_since(*at).as_secs_f64() * config.refill_per_second)
            .min(config.max);
        *at = now;
        *available = refilled;
        if refilled >= cost {
            *available -= cost;
            return Ok(*available);
        }
        let wait = if config.refill_per_second > 0.0 {
            ((cost - refilled) / config.refill_per_second)
                .ceil()
                .max(1.0) as u64
        } else {
            3600
        };
        Err(Short {
            remaining: refilled,
            wait_seconds: wait,
        })
    }
}
