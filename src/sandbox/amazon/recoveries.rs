//! The emulated seller's FBA recoveries data — reimbursement lines, inventory-ledger
//! events, inbound shipment items — seeded from the inventory, and the report documents
//! made from it (written with the connector's own column lists).
//!
//! The seed plants, per SKU index `i` (`i % 20`), the cases each claim rule must find and
//! decoys it must not: lost (`3`; decoys: found `4`, reimbursed `5`, too recent `6`,
//! disposed `7`), damaged (`8`; decoys: customer-damaged `9`, reimbursed `10`), refund never
//! returned (`11`; decoy: reimbursed `12`, and every ordinary refund is returned), reversed
//! reimbursement (`13`; decoy: unit found before the reversal `14`), inbound shortage
//! (`15`; decoys: the ledger shows everything received `16`, reimbursed `17`). [`Planted`]
//! lists the cases a correct detector reports.

use super::store::{Data, StoredEvent};
use crate::connectors::amazon::report_rows::{self, LEDGER_COLUMNS, REIMBURSEMENT_COLUMNS};
use crate::connectors::amazon::wire::{
    AdjustmentEvent, AdjustmentItem, ChargeComponent, Currency, InboundShipmentItem, ShipmentEvent,
    ShipmentItem,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::amazon_claim::ClaimKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One reimbursement line as the control API takes it (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredReimbursement {
    pub approved_at: DateTime<Utc>,
    pub reimbursement_id: String,
    #[serde(default)]
    pub case_id: Option<String>,
    #[serde(default)]
    pub order_id: Option<String>,
    pub reason: String,
    pub sku: String,
    #[serde(default)]
    pub fnsku: Option<String>,
    #[serde(default)]
    pub asin: Option<String>,
    #[serde(default)]
    pub product_name: Option<String>,
    #[serde(default = "new_item")]
    pub condition: String,
    #[serde(default = "usd")]
    pub currency: String,
    pub amount_per_unit: Decimal,
    pub amount_total: Decimal,
    #[serde(default)]
    pub quantity_cash: i32,
    #[serde(default)]
    pub quantity_inventory: i32,
    pub quantity_total: i32,
    #[serde(default)]
    pub original_reimbursement_id: Option<String>,
    #[serde(default)]
    pub original_reimbursement_type: Option<String>,
}

/// One inventory-ledger event as the control API takes it (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredLedgerEvent {
    pub date: NaiveDate,
    #[serde(default)]
    pub fnsku: Option<String>,
    #[serde(default)]
    pub asin: Option<String>,
    pub msku: String,
    #[serde(default)]
    pub title: Option<String>,
    pub event_type: String,
    #[serde(default)]
    pub reference_id: Option<String>,
    pub quantity: i32,
    #[serde(default = "fc")]
    pub fulfillment_center: String,
    #[serde(default = "sellable")]
    pub disposition: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default = "us")]
    pub country: String,
    #[serde(default)]
    pub reconciled_quantity: Option<i32>,
    #[serde(default)]
    pub unreconciled_quantity: Option<i32>,
}

/// An inbound shipment item and when Amazon last updated it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredInbound {
    pub item: InboundShipmentItem,
    pub last_updated: DateTime<Utc>,
}

fn new_item() -> String {
    "NewItem".into()
}
fn usd() -> String {
    "USD".into()
}
fn fc() -> String {
    "PHX7".into()
}
fn sellable() -> String {
    "SELLABLE".into()
}
fn us() -> String {
    "US".into()
}

/// A case the seed planted that a correct detector reports as a claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Planted {
    pub kind: ClaimKind,
    pub sku: String,
    /// The order, shipment or reversal the claim is about (`None` for warehouse losses).
    pub reference: Option<String>,
    pub quantity: i32,
}

#[derive(Default)]
pub struct RecoveryData {
    pub reimbursements: Vec<StoredReimbursement>,
    pub ledger: Vec<StoredLedgerEvent>,
    pub inbound: Vec<StoredInbound>,
    pub planted: Vec<Planted>,
}

/// What the seed knows about one SKU.
struct Sku<'a> {
    i: usize,
    sku: &'a str,
    fnsku: String,
    asin: Option<String>,
    title: Option<String>,
    unit_cents: i64,
}

impl Sku<'_> {
    fn ledger(
        &self,
        date: NaiveDate,
        event: &str,
        quantity: i32,
        reason: Option<&str>,
    ) -> StoredLedgerEvent {
        StoredLedgerEvent {
            date,
            fnsku: Some(self.fnsku.clone()),
            asin: self.asin.clone(),
            msku: self.sku.to_owned(),
            title: self.title.clone(),
            event_type: event.into(),
            reference_id: None,
            quantity,
            fulfillment_center: fc(),
            disposition: sellable(),
            reason: reason.map(str::to_owned),
            country: us(),
            reconciled_quantity: None,
            unreconciled_quantity: None,
        }
    }

    fn reimbursement(
        &self,
        id: &str,
        at: DateTime<Utc>,
        reason: &str,
        quantity: i32,
    ) -> StoredReimbursement {
        let per_unit = Decimal::new(self.unit_cents * 3 / 4, 2);
        StoredReimbursement {
            approved_at: at,
            reimbursement_id: id.into(),
            case_id: None,
            order_id: None,
            reason: reason.into(),
            sku: self.sku.to_owned(),
            fnsku: Some(self.fnsku.clone()),
            asin: self.asin.clone(),
            product_name: self.title.clone(),
            condition: new_item(),
            currency: usd(),
            amount_per_unit: per_unit,
            amount_total: per_unit * Decimal::from(quantity),
            quantity_cash: quantity,
            quantity_inventory: 0,
            quantity_total: quantity,
            original_reimbursement_id: None,
            original_reimbursement_type: None,
        }
    }
}

fn usd_amount(cents: i64) -> Option<Currency> {
    usd_amount_dec(Decimal::new(cents, 2))
}

fn usd_amount_dec(amount: Decimal) -> Option<Currency> {
    Some(Currency {
        currency_code: Some("USD".into()),
        currency_amount: Some(amount),
    })
}

/// A refund of one unit of `order` (the refund event of the finances API).
fn refund_event(s: &Sku<'_>, order: &str, at: DateTime<Utc>) -> ShipmentEvent {
    ShipmentEvent {
        amazon_order_id: Some(order.into()),
        marketplace_name: Some("Amazon.com".into()),
        posted_date: Some(at),
        shipment_item_adjustment_list: Some(vec![ShipmentItem {
            seller_sku: Some(s.sku.to_owned()),
            order_adjustment_item_id: Some(format!("RA-{order}")),
            quantity_shipped: Some(1),
            item_charge_adjustment_list: Some(vec![ChargeComponent {
                charge_type: Some("Principal".into()),
                charge_amount: usd_amount(-s.unit_cents),
            }]),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

/// Seeds recoveries data for the inventory already in `data` (see the module docs);
/// shipments become ledger `Shipments`, refunds of the finance seed are returned.
pub fn seed(data: &mut Data, now: DateTime<Utc>) {
    let today = now.date_naive();
    let days = |n: i64| today - Duration::days(n);
    let at = |n: i64| now - Duration::days(n);
    let mut r = RecoveryData::default();
    // Orders of the finance seed: shipped units leave the ledger; refunds come back.
    let mut extra_events = Vec::new();
    for e in &data.events {
        let (StoredEvent::Shipment(ev) | StoredEvent::Refund(ev)) = e else {
            continue;
        };
        let refund = matches!(e, StoredEvent::Refund(_));
        let items = if refund {
            ev.shipment_item_adjustment_list.as_ref()
        } else {
            ev.shipment_item_list.as_ref()
        };
        for item in items.into_iter().flatten() {
            let (Some(sku), Some(posted)) = (&item.seller_sku, ev.posted_date) else {
                continue;
            };
            let Some(summary) = data.inventory.get(sku) else {
                continue;
            };
            let qty = item.quantity_shipped.unwrap_or(1);
            let mut row = StoredLedgerEvent {
                date: posted.date_naive(),
                fnsku: summary.fn_sku.clone(),
                asin: summary.asin.clone(),
                msku: sku.clone(),
                title: summary.product_name.clone(),
                event_type: "Shipments".into(),
                reference_id: ev.amazon_order_id.clone(),
                quantity: -qty,
                fulfillment_center: fc(),
                disposition: sellable(),
                reason: None,
                country: us(),
                reconciled_quantity: None,
                unreconciled_quantity: None,
            };
            if refund {
                // Every ordinary refund's unit comes back five days later.
                row.event_type = "CustomerReturns".into();
                row.quantity = qty;
                row.date = (posted + Duration::days(5)).date_naive().min(today);
            }
            r.ledger.push(row);
        }
    }
    let skus: Vec<(String, crate::connectors::amazon::wire::InventorySummary)> = data
        .inventory
        .iter()
        .filter(|(k, _)| !k.starts_with('~'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (i, (sku, summary)) in skus.iter().enumerate() {
        let s = Sku {
            i,
            sku,
            fnsku: summary
                .fn_sku
                .clone()
                .unwrap_or_else(|| format!("X0{i:08}")),
            asin: summary.asin.clone(),
            title: summary.product_name.clone(),
            unit_cents: super::seed::unit_price_cents(i),
        };
        let shipment = format!("FBA{:08}", s.i + 1);
        // Every SKU arrived in one inbound shipment, received in full 45 days ago.
        let shipped = 20;
        let mut receipt = s.ledger(days(45), "Receipts", shipped, None);
        receipt.reference_id = Some(shipment.clone());
        let mut received = shipped;
        let plant = |r: &mut RecoveryData, kind, reference: Option<String>, quantity| {
            r.planted.push(Planted {
                kind,
                sku: sku.clone(),
                reference,
                quantity,
            })
        };
        match i % 20 {
            3 => {
                r.ledger
                    .push(s.ledger(days(45), "Adjustments", -2, Some("M")));
                plant(&mut r, ClaimKind::LostInWarehouse, None, 2);
            }
            4 => {
                r.ledger
                    .push(s.ledger(days(45), "Adjustments", -1, Some("M")));
                r.ledger
                    .push(s.ledger(days(40), "Adjustments", 1, Some("F")));
            }
            5 => {
                r.ledger
                    .push(s.ledger(days(45), "Adjustments", -1, Some("5")));
                r.reimbursements.push(s.reimbursement(
                    &format!("R5-{i}"),
                    at(38),
                    "Lost_Warehouse",
                    1,
                ));
            }
            6 => r
                .ledger
                .push(s.ledger(days(10), "Adjustments", -1, Some("M"))),
            7 => r
                .ledger
                .push(s.ledger(days(45), "Adjustments", -3, Some("D"))),
            8 => {
                r.ledger
                    .push(s.ledger(days(40), "Adjustments", -1, Some("E")));
                r.ledger
                    .push(s.ledger(days(40), "Adjustments", 1, Some("P")));
                plant(&mut r, ClaimKind::DamagedInWarehouse, None, 1);
            }
            9 => {
                r.ledger
                    .push(s.ledger(days(40), "Adjustments", -1, Some("H")));
                r.ledger
                    .push(s.ledger(days(40), "Adjustments", 1, Some("P")));
            }
            10 => {
                r.ledger
                    .push(s.ledger(days(40), "Adjustments", -1, Some("E")));
                r.reimbursements.push(s.reimbursement(
                    &format!("R10-{i}"),
                    at(35),
                    "Damaged_Warehouse",
                    1,
                ));
            }
            11 | 12 => {
                let order = format!("114-{:07}-RFND", i + 1);
                extra_events.push(StoredEvent::Refund(refund_event(&s, &order, at(75))));
                if i % 20 == 11 {
                    plant(&mut r, ClaimKind::RefundNotReturned, Some(order), 1);
                } else {
                    let mut paid =
                        s.reimbursement(&format!("R12-{i}"), at(20), "CustomerReturn", 1);
                    paid.order_id = Some(order);
                    r.reimbursements.push(paid);
                }
            }
            13 | 14 => {
                r.ledger
                    .push(s.ledger(days(80), "Adjustments", -1, Some("M")));
                let original = format!("R13-{i}");
                r.reimbursements
                    .push(s.reimbursement(&original, at(50), "Lost_Warehouse", 1));
                let mut reversal =
                    s.reimbursement(&format!("RV-{i}"), at(20), "Reimbursement_Reversal", -1);
                reversal.quantity_cash = -1;
                reversal.original_reimbursement_id = Some(original);
                reversal.original_reimbursement_type = Some("Lost_Warehouse".into());
                if i % 20 == 13 {
                    plant(
                        &mut r,
                        ClaimKind::ReimbursementReversed,
                        Some(reversal.reimbursement_id.clone()),
                        1,
                    );
                } else {
                    r.ledger
                        .push(s.ledger(days(25), "Adjustments", 1, Some("F")));
                }
                r.reimbursements.push(reversal);
            }
            15 => {
                received = shipped - 3;
                receipt.quantity = received;
                plant(
                    &mut r,
                    ClaimKind::InboundShortage,
                    Some(shipment.clone()),
                    3,
                );
            }
            16 => {
                // The API still says 17 received; the ledger shows all 20 arrived.
                received = shipped - 3;
            }
            17 => {
                received = shipped - 2;
                receipt.quantity = received;
                r.reimbursements.push(s.reimbursement(
                    &format!("R17-{i}"),
                    at(15),
                    "Lost_Inbound",
                    2,
                ));
            }
            _ => {}
        }
        r.ledger.push(receipt);
        r.inbound.push(StoredInbound {
            item: InboundShipmentItem {
                shipment_id: Some(shipment),
                seller_sku: sku.clone(),
                fulfillment_network_sku: Some(s.fnsku.clone()),
                quantity_shipped: shipped,
                quantity_received: Some(received),
                quantity_in_case: None,
            },
            last_updated: at(44),
        });
    }
    // Cash reimbursements also post to the finances as account adjustments.
    for x in r.reimbursements.iter().filter(|x| x.quantity_cash != 0) {
        extra_events.push(StoredEvent::Adjustment(AdjustmentEvent {
            adjustment_type: Some("FBAInventoryReimbursement".into()),
            posted_date: Some(x.approved_at),
            store_name: None,
            adjustment_amount: usd_amount_dec(x.amount_total),
            adjustment_item_list: Some(vec![AdjustmentItem {
                quantity: Some(x.quantity_cash.to_string()),
                per_unit_amount: usd_amount_dec(x.amount_per_unit),
                total_amount: usd_amount_dec(x.amount_total),
                seller_sku: Some(x.sku.clone()),
                fn_sku: x.fnsku.clone(),
                product_description: x.product_name.clone(),
                asin: x.asin.clone(),
                transaction_number: Some(x.reimbursement_id.clone()),
            }]),
        }));
    }
    data.events.extend(extra_events);
    data.sort_events();
    r.planted.sort();
    data.recoveries = r;
}

/// Rows of `kind` in `[start, end)` as a document (`None`: no data, the report is
/// CANCELLED).
pub fn document(
    r: &RecoveryData,
    report_type: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    if report_type == report_rows::REIMBURSEMENTS {
        let rows: Vec<Vec<String>> = r
            .reimbursements
            .iter()
            .filter(|x| x.approved_at >= start && x.approved_at < end)
            .map(|x| {
                vec![
                    x.approved_at.to_rfc3339(),
                    x.reimbursement_id.clone(),
                    opt(&x.case_id),
                    opt(&x.order_id),
                    x.reason.clone(),
                    x.sku.clone(),
                    opt(&x.fnsku),
                    opt(&x.asin),
                    opt(&x.product_name),
                    x.condition.clone(),
                    x.currency.clone(),
                    x.amount_per_unit.to_string(),
                    x.amount_total.to_string(),
                    x.quantity_cash.to_string(),
                    x.quantity_inventory.to_string(),
                    x.quantity_total.to_string(),
                    opt(&x.original_reimbursement_id),
                    opt(&x.original_reimbursement_type),
                ]
            })
            .collect();
        return (!rows.is_empty())
            .then(|| report_rows::write_tsv(&REIMBURSEMENT_COLUMNS, rows.into_iter()));
    }
    let (first, last) = (start.date_naive(), end.date_naive());
    let rows: Vec<Vec<String>> = r
        .ledger
        .iter()
        .filter(|x| x.date >= first && x.date <= last)
        .map(|x| {
            vec![
                // US files write month-first dates.
                x.date.format("%m/%d/%Y").to_string(),
                opt(&x.fnsku),
                opt(&x.asin),
                x.msku.clone(),
                opt(&x.title),
                x.event_type.clone(),
                opt(&x.reference_id),
                x.quantity.to_string(),
                x.fulfillment_center.clone(),
                x.disposition.clone(),
                opt(&x.reason),
                x.country.clone(),
                num(x.reconciled_quantity),
                num(x.unreconciled_quantity),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| report_rows::write_tsv(&LEDGER_COLUMNS, rows.into_iter()))
}

/// A large ledger for benchmarks: `n` rows over `skus` SKUs, mostly shipments and
/// receipts with a sprinkling of lost, found and damaged adjustments.
pub fn bench_ledger(n: usize, skus: usize, today: NaiveDate) -> String {
    let rows = (0..n).map(move |k| {
        let i = k % skus.max(1);
        let date = today - Duration::days((k % 170) as i64 + 1);
        let (event, qty, reason) = match k % 50 {
            0 => ("Adjustments", -1, "M"),
            1 => ("Adjustments", 1, "F"),
            2 => ("Adjustments", -1, "E"),
            3 => ("CustomerReturns", 1, ""),
            4..=9 => ("Receipts", 10, ""),
            _ => ("Shipments", -1, ""),
        };
        vec![
            date.format("%m/%d/%Y").to_string(),
            format!("X00{:07}", i + 1),
            format!("B0{:08}", 10_000_000 + i),
            super::seed::sku(i),
            format!("Sandbox product {}", i + 1),
            event.to_owned(),
            format!("{}", 9_000_000 + k),
            qty.to_string(),
            "PHX7".to_owned(),
            "SELLABLE".to_owned(),
            reason.to_owned(),
            "US".to_owned(),
            String::new(),
            String::new(),
        ]
    });
    report_rows::write_tsv(&LEDGER_COLUMNS, rows)
}
