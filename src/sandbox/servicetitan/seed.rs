//! Deterministic seeded data: a 3-level category tree, materials with vendors, equipment,
//! and services that include materials and equipment.

use super::store::Data;
use crate::connectors::servicetitan::wire::{Category, CategoryRef, Sku, SkuLink, SkuVendor};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedSpec {
    #[serde(default)]
    pub services: usize,
    #[serde(default)]
    pub materials: usize,
    #[serde(default)]
    pub equipment: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_seed() -> u64 {
    42
}

impl SeedSpec {
    /// About 2,000 items, the demo's price book.
    pub fn demo() -> Self {
        SeedSpec {
            services: 500,
            materials: 1200,
            equipment: 300,
            seed: 42,
        }
    }
}

/// A tiny deterministic generator (no need for cryptographic randomness here).
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
    fn cents(&mut self, max_dollars: u64) -> f64 {
        (self.below(max_dollars * 100) + 100) as f64 / 100.0
    }
}

const NOUNS: &[&str] = &[
    "Pipe",
    "Valve",
    "Fitting",
    "Filter",
    "Breaker",
    "Wire",
    "Coupling",
    "Thermostat",
    "Gasket",
    "Pump",
    "Fan",
    "Sensor",
];
const ADJECTIVES: &[&str] = &[
    "Copper",
    "PVC",
    "Brass",
    "Steel",
    "Universal",
    "Heavy-duty",
    "Compact",
    "Premium",
];
const UNITS: &[&str] = &["each", "ft", "box", "roll"];
const VENDORS: &[(i64, &str)] = &[
    (1, "Ferguson"),
    (2, "Johnstone Supply"),
    (3, "Winsupply"),
    (4, "Grainger"),
];

pub fn seed(data: &mut Data, spec: &SeedSpec) {
    *data = Data::default();
    let mut rng = Lcg(spec.seed);
    let at = data.clock.tick();
    let mut leaves = Vec::new();
    let mut id = 1;
    for r in 0..5 {
        let root = id;
        data.categories.put(Category {
            id,
            name: format!("Department {}", r + 1),
            active: true,
            parent_id: None,
            subcategories: None,
            created_on: Some(at),
            modified_on: Some(at),
        });
        id += 1;
        for c in 0..4 {
            let child = id;
            data.categories.put(Category {
                id,
                name: format!("Group {}.{}", r + 1, c + 1),
                active: true,
                parent_id: Some(root),
                subcategories: None,
                created_on: Some(at),
                modified_on: Some(at),
            });
            id += 1;
            for g in 0..3 {
                data.categories.put(Category {
                    id,
                    name: format!("Line {}.{}.{}", r + 1, c + 1, g + 1),
                    active: true,
                    parent_id: Some(child),
                    subcategories: None,
                    created_on: Some(at),
                    modified_on: Some(at),
                });
                leaves.push(id);
                id += 1;
            }
        }
    }
    let mut sku_id = 1000;
    let mut make = |rng: &mut Lcg, prefix: &str, n: usize, with_vendor: bool| -> Vec<Sku> {
        (1..=n)
            .map(|i| {
                sku_id += 1;
                let cost = rng.cents(200);
                let price = (cost * 1.6 * 100.0).round() / 100.0;
                let vendor = VENDORS[rng.below(VENDORS.len() as u64) as usize];
                Sku {
                    id: sku_id,
                    code: Some(format!("{prefix}-{i:06}")),
                    display_name: Some(format!(
                        "{} {} {i}",
                        ADJECTIVES[rng.below(ADJECTIVES.len() as u64) as usize],
                        NOUNS[rng.below(NOUNS.len() as u64) as usize]
                    )),
                    description: Some(format!("Seeded {prefix} record {i}")),
                    cost: Some(cost),
                    price: Some(price),
                    member_price: Some((price * 0.9 * 100.0).round() / 100.0),
                    add_on_price: Some((price * 0.8 * 100.0).round() / 100.0),
                    add_on_member_price: None,
                    active: true,
                    categories: vec![CategoryRef::Id(
                        leaves[rng.below(leaves.len() as u64) as usize],
                    )],
                    unit_of_measure: with_vendor
                        .then(|| UNITS[rng.below(UNITS.len() as u64) as usize].to_owned()),
                    primary_vendor: with_vendor.then(|| SkuVendor {
                        id: None,
                        vendor_name: Some(vendor.1.to_owned()),
                        vendor_id: Some(vendor.0),
                        vendor_part: Some(format!("{}-{i}", &vendor.1[..3].to_uppercase())),
                        cost: Some(cost),
                        active: Some(true),
                    }),
                    other_vendors: None,
                    service_materials: None,
                    service_equipment: None,
                    external_data: None,
                    created_on: Some(at),
                    modified_on: Some(at),
                }
            })
            .collect()
    };
    let materials = make(&mut rng, "MAT", spec.materials, true);
    let equipment = make(&mut rng, "EQP", spec.equipment, true);
    let mut services = make(&mut rng, "SVC", spec.services, false);
    for s in services.iter_mut() {
        if let CategoryRef::Id(c) = s.categories[0] {
            s.categories = vec![CategoryRef::Object {
                id: c,
                name: None,
                active: Some(true),
            }];
        }
        s.cost = None;
        let picks = 1 + rng.below(3) as usize;
        s.service_materials = Some(
            (0..picks.min(materials.len()))
                .map(|_| SkuLink {
                    sku_id: materials[rng.below(materials.len() as u64) as usize].id,
                    quantity: (1 + rng.below(4)) as f64,
                })
                .collect(),
        );
        s.service_equipment = Some(if !equipment.is_empty() && rng.below(3) == 0 {
            vec![SkuLink {
                sku_id: equipment[rng.below(equipment.len() as u64) as usize].id,
                quantity: 1.0,
            }]
        } else {
            Vec::new()
        });
    }
    for m in materials {
        data.materials.put(m);
    }
    for e in equipment {
        data.equipment.put(e);
    }
    for s in services {
        data.services.put(s);
    }
}
