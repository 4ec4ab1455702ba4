//! Deterministic seeded data: FBA inventory summaries and several months of financial
//! events (shipments with sales and fees, some refunds, monthly storage service fees).

use super::store::{Data, StoredEvent};
use crate::connectors::amazon::wire::{
    ChargeComponent, Currency, FeeComponent, InventoryDetails, InventorySummary, ReservedQuantity,
    ServiceFeeEvent, ShipmentEvent, ShipmentItem, UnfulfillableQuantity,
};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedSpec {
    /// Inventory summaries (SKUs `AMZ-000001`…).
    #[serde(default = "default_skus")]
    pub skus: usize,
    /// Months of financial events, ending a day ago.
    #[serde(default = "default_months")]
    pub months: u32,
    /// Shipments per SKU per month (every tenth is refunded later).
    #[serde(default = "default_orders")]
    pub orders_per_sku_per_month: u32,
    /// SKUs that get financial events (the first N; default all).
    #[serde(default)]
    pub sku_with_events: Option<usize>,
    /// Seed FBA recoveries data (reimbursements, ledger, inbound items; default true).
    #[serde(default = "yes")]
    pub recoveries: bool,
}

fn yes() -> bool {
    true
}

fn default_skus() -> usize {
    300
}
fn default_months() -> u32 {
    4
}
fn default_orders() -> u32 {
    2
}

impl Default for SeedSpec {
    fn default() -> Self {
        SeedSpec {
            skus: default_skus(),
            months: default_months(),
            orders_per_sku_per_month: default_orders(),
            sku_with_events: None,
            recoveries: true,
        }
    }
}

pub fn sku(i: usize) -> String {
    format!("AMZ-{:06}", i + 1)
}

fn usd(cents: i64) -> Option<Currency> {
    Some(Currency {
        currency_code: Some("USD".into()),
        currency_amount: Some(Decimal::new(cents, 2)),
    })
}

fn summary(i: usize, at: DateTime<Utc>) -> InventorySummary {
    let fulfillable = ((i * 37) % 120) as i64;
    let inbound = ((i * 11) % 7) as i64;
    let reserved = ((i * 5) % 4) as i64;
    let unfulfillable = if i.is_multiple_of(9) { 1 } else { 0 };
    InventorySummary {
        asin: Some(format!("B0{:08}", 10_000_000 + i * 7919 % 89_999_999)),
        fn_sku: Some(format!("X00{:07}", i + 1)),
        seller_sku: Some(sku(i)),
        condition: Some("NewItem".into()),
        inventory_details: Some(InventoryDetails {
            fulfillable_quantity: Some(fulfillable),
            inbound_working_quantity: Some(inbound),
            inbound_shipped_quantity: Some(0),
            inbound_receiving_quantity: Some(0),
            reserved_quantity: Some(ReservedQuantity {
                total_reserved_quantity: Some(reserved),
                pending_customer_order_quantity: Some(reserved),
                pending_transshipment_quantity: Some(0),
                fc_processing_quantity: Some(0),
            }),
            researching_quantity: None,
            unfulfillable_quantity: Some(UnfulfillableQuantity {
                total_unfulfillable_quantity: Some(unfulfillable),
                customer_damaged_quantity: Some(unfulfillable),
                ..Default::default()
            }),
        }),
        last_updated_time: Some(at),
        // Every 25th listing has no localized title yet: the item is named by its ASIN.
        product_name: (i % 25 != 24).then(|| format!("Sandbox product {}", i + 1)),
        total_quantity: Some(fulfillable + inbound + reserved + unfulfillable),
        stores: None,
    }
}

/// Unit price in cents: 5.00–99.99, fixed per SKU.
pub fn unit_price_cents(i: usize) -> i64 {
    500 + ((i as i64 * 3_779) % 9_500)
}

fn shipment(i: usize, order: usize, at: DateTime<Utc>, quantity: i32) -> ShipmentEvent {
    let principal = unit_price_cents(i) * quantity as i64;
    let tax = (principal * 8 + 50) / 100;
    let commission = -((principal * 15 + 50) / 100);
    ShipmentEvent {
        amazon_order_id: Some(format!("111-{:07}-{:07}", i + 1, order)),
        seller_order_id: None,
        marketplace_name: Some("Amazon.com".into()),
        posted_date: Some(at),
        shipment_item_list: Some(vec![ShipmentItem {
            seller_sku: Some(sku(i)),
            order_item_id: Some(format!("{:014}", i * 1000 + order)),
            quantity_shipped: Some(quantity),
            item_charge_list: Some(vec![
                ChargeComponent {
                    charge_type: Some("Principal".into()),
                    charge_amount: usd(principal),
                },
                ChargeComponent {
                    charge_type: Some("Tax".into()),
                    charge_amount: usd(tax),
                },
            ]),
            item_fee_list: Some(vec![
                FeeComponent {
                    fee_type: Some("FBAPerUnitFulfillmentFee".into()),
                    fee_amount: usd(-322 * quantity as i64),
                },
                FeeComponent {
                    fee_type: Some("Commission".into()),
                    fee_amount: usd(commission),
                },
            ]),
            ..Default::default()
        }]),
        shipment_item_adjustment_list: None,
    }
}

fn refund(original: &ShipmentEvent, at: DateTime<Utc>) -> ShipmentEvent {
    let item = original
        .shipment_item_list
        .as_ref()
        .and_then(|l| l.first())
        .cloned()
        .unwrap_or_default();
    let negate = |c: &Option<Currency>| {
        c.as_ref().map(|c| Currency {
            currency_code: c.currency_code.clone(),
            currency_amount: c.currency_amount.map(|a| -a),
        })
    };
    let charges = item.item_charge_list.clone().unwrap_or_default();
    ShipmentEvent {
        amazon_order_id: original.amazon_order_id.clone(),
        marketplace_name: original.marketplace_name.clone(),
        posted_date: Some(at),
        shipment_item_adjustment_list: Some(vec![ShipmentItem {
            seller_sku: item.seller_sku.clone(),
            order_adjustment_item_id: item.order_item_id.as_ref().map(|id| format!("R{id}")),
            quantity_shipped: item.quantity_shipped,
            item_charge_adjustment_list: Some(
                charges
                    .iter()
                    .map(|c| ChargeComponent {
                        charge_type: c.charge_type.clone(),
                        charge_amount: negate(&c.charge_amount),
                    })
                    .collect(),
            ),
            // Amazon keeps a refund administration fee and returns the rest of the commission.
            item_fee_adjustment_list: Some(vec![FeeComponent {
                fee_type: Some("RefundCommission".into()),
                fee_amount: usd(-500),
            }]),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

/// Replaces the emulator's data with `spec`'s, dated relative to now.
pub fn seed(data: &mut Data, spec: &SeedSpec) {
    let now = Utc::now();
    data.inventory.clear();
    data.events.clear();
    data.recoveries = Default::default();
    data.reports.clear();
    data.documents.clear();
    let updated = now - Duration::days(2);
    for i in 0..spec.skus {
        data.inventory.insert(sku(i), summary(i, updated));
    }
    let months = spec.months as i64;
    let start = now - Duration::days(30 * months);
    let span_minutes = (Duration::days(30 * months) - Duration::days(1))
        .num_minutes()
        .max(1);
    let per_sku = spec.orders_per_sku_per_month as usize * spec.months as usize;
    let with_events = spec.sku_with_events.unwrap_or(spec.skus).min(spec.skus);
    for i in 0..with_events {
        for k in 0..per_sku {
            // Spread orders evenly over the months, offset per SKU so days differ.
            let slot = (k as i64 * span_minutes) / per_sku.max(1) as i64;
            let jitter = ((i as i64 * 7_919 + k as i64 * 104_729) % 1_440).abs();
            let at = start + Duration::minutes((slot + jitter).min(span_minutes));
            let quantity = 1 + ((i + k) % 3) as i32;
            let ship = shipment(i, k, at, quantity);
            if (i + k) % 10 == 9 {
                let back = (at + Duration::days(3)).min(now - Duration::days(1));
                data.events.push(StoredEvent::Refund(refund(&ship, back)));
            }
            data.events.push(StoredEvent::Shipment(ship));
        }
        // Monthly storage fee for every fifth SKU.
        if i % 5 == 0 {
            for m in 0..months {
                let at = start + Duration::days(30 * m + 28);
                if at >= now - Duration::days(1) {
                    continue;
                }
                data.events.push(StoredEvent::ServiceFee {
                    at,
                    event: ServiceFeeEvent {
                        fee_reason: Some("FBAStorageFee".into()),
                        fee_list: Some(vec![FeeComponent {
                            fee_type: Some("FBAStorageFee".into()),
                            fee_amount: usd(-(25 + (i as i64 % 40))),
                        }]),
                        seller_sku: Some(sku(i)),
                        fn_sku: Some(format!("X00{:07}", i + 1)),
                        fee_description: Some(format!("Monthly storage fee, month {}", m + 1)),
                        ..Default::default()
                    },
                });
            }
        }
    }
    data.sort_events();
    if spec.recoveries {
        super::recoveries::seed(data, now);
    }
}
