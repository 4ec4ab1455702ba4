//! Deterministic seed: products named by part number (as a trade business keeps them in
//! Jobber, the CSV `Part_Num`), with trade costs and marked-up prices, plus a few services.

use super::encode_id;
use crate::connectors::jobber::wire::{ProductCategory, ProductOrService};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedSpec {
    #[serde(default)]
    pub products: usize,
    #[serde(default)]
    pub services: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_seed() -> u64 {
    7
}

impl Default for SeedSpec {
    /// A few hundred records, the sandbox's starting price book.
    fn default() -> Self {
        SeedSpec {
            products: 250,
            services: 50,
            seed: default_seed(),
        }
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const PARTS: &[(&str, &str)] = &[
    ("CU", "Copper elbow 90°"),
    ("PVC", "PVC coupling"),
    ("VLV", "Ball valve, brass"),
    ("BRK", "Circuit breaker 20A"),
    ("WH", "Water heater element"),
    ("FLT", "Furnace filter 16x25x1"),
    ("THS", "Thermostat, programmable"),
    ("GFC", "GFCI outlet 15A"),
    ("PEX", "PEX tubing, 100 ft"),
    ("CAP", "Run capacitor 45/5 µF"),
];

const SERVICES: &[&str] = &[
    "Service call",
    "Drain cleaning",
    "AC tune-up",
    "Furnace inspection",
    "Panel upgrade",
    "Water heater install",
    "Leak detection",
    "Duct cleaning",
];

/// Replaces the records with `spec`'s (ids from 1, products first).
pub fn seed(products: &mut BTreeMap<i64, ProductOrService>, spec: &SeedSpec) {
    products.clear();
    let mut rng = Lcg(spec.seed);
    let mut id = 0i64;
    for i in 0..spec.products {
        id += 1;
        let (prefix, what) = PARTS[i % PARTS.len()];
        let cents = 50 + rng.below(40_000) as i64;
        let cost = cents as f64 / 100.0;
        // Prices are cost marked up 30–80 %, rounded to cents.
        let markup = 130 + rng.below(51) as i64;
        let price = (cents * markup / 100) as f64 / 100.0;
        products.insert(
            id,
            ProductOrService {
                id: encode_id(id),
                name: format!("{prefix}-{:05}", 10_000 + i),
                description: Some(what.to_owned()),
                category: ProductCategory::Product,
                default_unit_cost: Some(price),
                internal_unit_cost: Some(cost),
                taxable: Some(true),
                visible: Some(rng.below(20) != 0),
            },
        );
    }
    for i in 0..spec.services {
        id += 1;
        let what = SERVICES[i % SERVICES.len()];
        let hours = 1 + rng.below(4) as i64;
        products.insert(
            id,
            ProductOrService {
                id: encode_id(id),
                name: format!("SVC-{:04} {what}", 100 + i),
                description: Some(format!("{what}, about {hours} h")),
                category: ProductCategory::Service,
                default_unit_cost: Some((hours * 95) as f64),
                internal_unit_cost: Some((hours * 40) as f64),
                taxable: Some(false),
                visible: Some(true),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeding_is_deterministic_and_names_are_unique() {
        let mut a = BTreeMap::new();
        let mut b = BTreeMap::new();
        seed(&mut a, &SeedSpec::default());
        seed(&mut b, &SeedSpec::default());
        assert_eq!(a, b);
        assert_eq!(a.len(), 300);
        let names: std::collections::HashSet<_> = a.values().map(|p| p.name.clone()).collect();
        assert_eq!(names.len(), 300);
    }
}
