//! Amazon payloads → canonical shapes: inventory summaries become `product` items with
//! their quantities; financial events become one line per money component.

use super::wire::{
    AdjustmentEvent, ChargeComponent, Currency, FeeComponent, FinancialEvents, InventorySummary,
    Promotion, ShipmentEvent,
};
use crate::connectors::RemoteRecord;
use crate::connectors::finances::{FinanceLine, FinancePage, FinanceProblem};
use crate::record::{self, Fields};
use chrono::{DateTime, Utc};
use entity::enums::ItemKind;
use entity::financial_event::FinanceKind;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `sellerSku` → code; the product name when Amazon has one, else the ASIN, else the SKU;
/// `totalQuantity` → quantity; the detailed quantities and identifiers → attributes.
pub fn to_record(s: &InventorySummary) -> RemoteRecord {
    let sku = s.seller_sku.clone().unwrap_or_default();
    let mut f = Fields::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            f.insert(k.to_owned(), v);
        }
    };
    put("code", Some(Value::String(sku.clone())));
    let name = s
        .product_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| s.asin.clone().filter(|a| !a.trim().is_empty()))
        .unwrap_or_else(|| sku.clone());
    put("name", Some(Value::String(name)));
    put("active", Some(Value::Bool(true)));
    put("quantity", s.total_quantity.map(Value::from));
    put("asin", s.asin.clone().map(Value::String));
    put("fn_sku", s.fn_sku.clone().map(Value::String));
    put("condition", s.condition.clone().map(Value::String));
    if let Some(d) = &s.inventory_details {
        put(
            "fulfillable_quantity",
            d.fulfillable_quantity.map(Value::from),
        );
        put(
            "inbound_working_quantity",
            d.inbound_working_quantity.map(Value::from),
        );
        put(
            "inbound_shipped_quantity",
            d.inbound_shipped_quantity.map(Value::from),
        );
        put(
            "inbound_receiving_quantity",
            d.inbound_receiving_quantity.map(Value::from),
        );
        put(
            "reserved_quantity",
            d.reserved_quantity
                .as_ref()
                .and_then(|r| r.total_reserved_quantity)
                .map(Value::from),
        );
        put(
            "researching_quantity",
            d.researching_quantity
                .as_ref()
                .and_then(|r| r.total_researching_quantity)
                .map(Value::from),
        );
        put(
            "unfulfillable_quantity",
            d.unfulfillable_quantity
                .as_ref()
                .and_then(|r| r.total_unfulfillable_quantity)
                .map(Value::from),
        );
    }
    RemoteRecord {
        remote_id: sku,
        kind: ItemKind::Product,
        fields: record::canonicalise(f),
        modified_on: s.last_updated_time,
    }
}

/// Stable identity of one component: everything that locates it, never its amount (a
/// corrected amount updates the same row).
fn line_key(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    hex::encode(&digest[..16])
}

/// Collects lines and problems of one page.
struct Lines {
    page: FinancePage,
}

struct Component<'a> {
    event_type: &'a str,
    list: &'a str,
    index: usize,
    kind: FinanceKind,
    component: Option<&'a str>,
    money: Option<&'a Currency>,
}

struct Context<'a> {
    posted_at: DateTime<Utc>,
    /// The part of the date that identifies the component (see `to_finance_page`).
    key_time: String,
    dated_by_page: bool,
    sku: Option<&'a str>,
    order_id: Option<&'a str>,
    item_id: &'a str,
    quantity: Option<i32>,
}

impl Lines {
    fn push(&mut self, ctx: &Context<'_>, c: Component<'_>) {
        let problem = |message: String| FinanceProblem {
            sku: ctx.sku.map(str::to_owned),
            order_id: ctx.order_id.map(str::to_owned),
            message,
        };
        let Some(money) = c.money else {
            self.page.problems.push(problem(format!(
                "{} {} without an amount; skipped",
                c.event_type, c.list
            )));
            return;
        };
        let (Some(currency), Some(amount)) = (
            money.currency_code.as_deref().filter(|c| c.len() == 3),
            money.currency_amount,
        ) else {
            self.page.problems.push(problem(format!(
                "{} {} has no valid currency code or amount; skipped",
                c.event_type, c.list
            )));
            return;
        };
        let component = c.component.unwrap_or("Unknown");
        let index = c.index.to_string();
        self.page.lines.push(FinanceLine {
            key: line_key(&[
                c.event_type,
                ctx.order_id.unwrap_or(""),
                ctx.item_id,
                ctx.sku.unwrap_or(""),
                &ctx.key_time,
                c.list,
                &index,
                component,
            ]),
            posted_at: ctx.posted_at,
            sku: ctx.sku.map(str::to_owned),
            order_id: ctx.order_id.map(str::to_owned),
            event_type: c.event_type.to_owned(),
            kind: c.kind,
            component: component.to_owned(),
            currency: currency.to_owned(),
            amount,
            quantity: ctx.quantity,
            dated_by_page: ctx.dated_by_page,
        });
    }

    fn charges(
        &mut self,
        ctx: &Context<'_>,
        event_type: &str,
        list: &str,
        kind: FinanceKind,
        items: &[ChargeComponent],
    ) {
        for (index, c) in items.iter().enumerate() {
            self.push(
                ctx,
                Component {
                    event_type,
                    list,
                    index,
                    kind,
                    component: c.charge_type.as_deref(),
                    money: c.charge_amount.as_ref(),
                },
            );
        }
    }

    fn fees(&mut self, ctx: &Context<'_>, event_type: &str, list: &str, items: &[FeeComponent]) {
        for (index, c) in items.iter().enumerate() {
            self.push(
                ctx,
                Component {
                    event_type,
                    list,
                    index,
                    kind: FinanceKind::Fee,
                    component: c.fee_type.as_deref(),
                    money: c.fee_amount.as_ref(),
                },
            );
        }
    }

    fn promotions(&mut self, ctx: &Context<'_>, event_type: &str, list: &str, items: &[Promotion]) {
        for (index, c) in items.iter().enumerate() {
            self.push(
                ctx,
                Component {
                    event_type,
                    list,
                    index,
                    kind: FinanceKind::Promotion,
                    component: c.promotion_type.as_deref(),
                    money: c.promotion_amount.as_ref(),
                },
            );
        }
    }

    /// Account adjustments: one line per adjusted item (its `TotalAmount`, `Quantity`), or
    /// the event's `AdjustmentAmount` when it lists no items; the adjustment type (e.g.
    /// `FBAInventoryReimbursement`) is the component.
    fn adjustment(&mut self, e: &AdjustmentEvent) {
        let adjustment_type = e.adjustment_type.as_deref().unwrap_or("Unknown");
        let Some(posted_at) = e.posted_date else {
            self.page.problems.push(FinanceProblem {
                sku: None,
                order_id: None,
                message: format!("Adjustment {adjustment_type} without PostedDate; skipped"),
            });
            return;
        };
        let items = e.adjustment_item_list.as_deref().unwrap_or_default();
        fn context<'c>(
            posted_at: DateTime<Utc>,
            sku: Option<&'c str>,
            item_id: &'c str,
            quantity: Option<i32>,
        ) -> Context<'c> {
            Context {
                posted_at,
                key_time: posted_at.to_rfc3339(),
                dated_by_page: false,
                sku,
                order_id: None,
                item_id,
                quantity,
            }
        }
        if items.is_empty() {
            self.push(
                &context(posted_at, None, "account", None),
                Component {
                    event_type: "Adjustment",
                    list: "AdjustmentAmount",
                    index: 0,
                    kind: FinanceKind::Adjustment,
                    component: Some(adjustment_type),
                    money: e.adjustment_amount.as_ref(),
                },
            );
            return;
        }
        for (index, item) in items.iter().enumerate() {
            let quantity = match item.quantity.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(q) => match q.parse::<i32>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        self.page.problems.push(FinanceProblem {
                            sku: item.seller_sku.clone(),
                            order_id: None,
                            message: format!(
                                "Adjustment {adjustment_type} quantity '{q}' is not a whole number; skipped"
                            ),
                        });
                        continue;
                    }
                },
            };
            let item_id = format!(
                "{}|{}",
                item.transaction_number.as_deref().unwrap_or(""),
                item.fn_sku.as_deref().unwrap_or("")
            );
            self.push(
                &context(posted_at, item.seller_sku.as_deref(), &item_id, quantity),
                Component {
                    event_type: "Adjustment",
                    list: "AdjustmentItemList",
                    index,
                    kind: FinanceKind::Adjustment,
                    component: Some(adjustment_type),
                    money: item.total_amount.as_ref(),
                },
            );
        }
    }

    /// Shipments: charges are sales, fees are fees. Refunds: charge adjustments are
    /// refunds, fee adjustments are (returned) fees.
    fn shipment(&mut self, e: &ShipmentEvent, event_type: &str, refund: bool) {
        let Some(posted_at) = e.posted_date else {
            self.page.problems.push(FinanceProblem {
                sku: None,
                order_id: e.amazon_order_id.clone(),
                message: format!("{event_type} event without PostedDate; skipped"),
            });
            return;
        };
        let items = if refund {
            e.shipment_item_adjustment_list
                .as_ref()
                .or(e.shipment_item_list.as_ref())
        } else {
            e.shipment_item_list.as_ref()
        };
        for (i, item) in items.into_iter().flatten().enumerate() {
            let fallback_id = i.to_string();
            let ctx = Context {
                posted_at,
                key_time: posted_at.to_rfc3339(),
                dated_by_page: false,
                sku: item.seller_sku.as_deref(),
                order_id: e.amazon_order_id.as_deref(),
                item_id: item
                    .order_adjustment_item_id
                    .as_deref()
                    .or(item.order_item_id.as_deref())
                    .unwrap_or(&fallback_id),
                quantity: item.quantity_shipped,
            };
            let charge_kind = if refund {
                FinanceKind::Refund
            } else {
                FinanceKind::Sale
            };
            self.charges(
                &ctx,
                event_type,
                "ItemChargeList",
                charge_kind,
                item.item_charge_list.as_deref().unwrap_or_default(),
            );
            self.charges(
                &ctx,
                event_type,
                "ItemChargeAdjustmentList",
                charge_kind,
                item.item_charge_adjustment_list
                    .as_deref()
                    .unwrap_or_default(),
            );
            self.fees(
                &ctx,
                event_type,
                "ItemFeeList",
                item.item_fee_list.as_deref().unwrap_or_default(),
            );
            self.fees(
                &ctx,
                event_type,
                "ItemFeeAdjustmentList",
                item.item_fee_adjustment_list.as_deref().unwrap_or_default(),
            );
            self.promotions(
                &ctx,
                event_type,
                "PromotionList",
                item.promotion_list.as_deref().unwrap_or_default(),
            );
            self.promotions(
                &ctx,
                event_type,
                "PromotionAdjustmentList",
                item.promotion_adjustment_list
                    .as_deref()
                    .unwrap_or_default(),
            );
        }
    }
}

/// One page of financial events as lines.
///
/// `ServiceFeeEvent` has no `PostedDate` in the v0 model: it is dated by the shipment or
/// refund of the same order on the page, else the newest posting on the page, else
/// `fallback` (the window's end). An order-less fee is identified by its content (reason,
/// description, SKU/FnSKU/ASIN, amounts, repeat count on the page), not by that inferred
/// date, and the stage keeps the date of its first sighting — so re-listing a window
/// neither moves nor duplicates it. The price of the v0 model: two order-less fees with
/// identical content in different pages are stored once.
pub fn to_finance_page(
    events: &FinancialEvents,
    next_token: Option<String>,
    fallback: DateTime<Utc>,
) -> FinancePage {
    let mut lines = Lines {
        page: FinancePage {
            next_token,
            ..Default::default()
        },
    };
    let shipments = events.shipment_event_list.as_deref().unwrap_or_default();
    let refunds = events.refund_event_list.as_deref().unwrap_or_default();
    let fees = events.service_fee_event_list.as_deref().unwrap_or_default();
    let adjustments = events.adjustment_event_list.as_deref().unwrap_or_default();
    lines.page.events = shipments.len() + refunds.len() + fees.len() + adjustments.len();
    let dated = shipments
        .iter()
        .chain(refunds)
        .filter_map(|e| e.posted_date);
    lines.page.latest_posted = dated
        .clone()
        .chain(adjustments.iter().filter_map(|a| a.posted_date))
        .max();
    for e in shipments {
        lines.shipment(e, "Shipment", false);
    }
    for e in refunds {
        lines.shipment(e, "Refund", true);
    }
    for e in adjustments {
        lines.adjustment(e);
    }
    for (i, e) in fees.iter().enumerate() {
        let order_date = e.amazon_order_id.as_ref().and_then(|id| {
            shipments
                .iter()
                .chain(refunds)
                .find(|s| s.amazon_order_id.as_ref() == Some(id))
                .and_then(|s| s.posted_date)
        });
        let by_order = order_date.is_some();
        let posted_at = order_date.or(lines.page.latest_posted).unwrap_or(fallback);
        // No id upstream: the fee is identified by what it says (and, for identical
        // fees on one page, by their order of appearance).
        let described = format!(
            "{}|{}|{}|{}|{}",
            e.fee_reason.as_deref().unwrap_or(""),
            e.fee_description.as_deref().unwrap_or(""),
            e.fn_sku.as_deref().unwrap_or(""),
            e.asin.as_deref().unwrap_or(""),
            e.fee_list
                .iter()
                .flatten()
                .map(|f| format!(
                    "{:?}",
                    f.fee_amount.as_ref().and_then(|a| a.currency_amount)
                ))
                .collect::<Vec<_>>()
                .join(",")
        );
        let n = fees[..i].iter().filter(|other| *other == e).count();
        let item_id = format!("{described}|{n}");
        let ctx = Context {
            posted_at,
            // Dated by the order when there is one; otherwise the inferred date is no
            // part of the identity (it depends on how the listing was paged).
            key_time: if by_order {
                posted_at.to_rfc3339()
            } else {
                String::new()
            },
            dated_by_page: !by_order,
            sku: e.seller_sku.as_deref(),
            order_id: e.amazon_order_id.as_deref(),
            item_id: &item_id,
            quantity: None,
        };
        lines.fees(
            &ctx,
            "ServiceFee",
            "FeeList",
            e.fee_list.as_deref().unwrap_or_default(),
        );
    }
    lines.page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::amazon::wire::{InventoryDetails, ServiceFeeEvent, ShipmentItem};
    use rust_decimal::Decimal;
    use serde_json::json;

    fn usd(amount: i64) -> Option<Currency> {
        Some(Currency {
            currency_code: Some("USD".into()),
            currency_amount: Some(Decimal::new(amount, 2)),
        })
    }

    #[test]
    fn inventory_summary_becomes_a_product_with_quantities() {
        let s = InventorySummary {
            asin: Some("B0TEST".into()),
            seller_sku: Some(" SKU-1 ".into()),
            total_quantity: Some(12),
            inventory_details: Some(InventoryDetails {
                fulfillable_quantity: Some(10),
                ..Default::default()
            }),
            ..Default::default()
        };
        let r = to_record(&s);
        assert_eq!(r.kind, ItemKind::Product);
        assert_eq!(r.fields["code"], json!("SKU-1"));
        assert_eq!(
            r.fields["name"],
            json!("B0TEST"),
            "no product name: the ASIN"
        );
        assert_eq!(r.fields["quantity"], json!(12));
        assert_eq!(r.fields["fulfillable_quantity"], json!(10));
        let named = to_record(&InventorySummary {
            product_name: Some("Mug".into()),
            ..s
        });
        assert_eq!(named.fields["name"], json!("Mug"));
    }

    #[test]
    fn adjustments_become_one_line_per_item_or_the_event_amount() {
        use crate::connectors::amazon::wire::{AdjustmentEvent, AdjustmentItem};
        let posted = DateTime::parse_from_rfc3339("2026-10-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let reimbursement = AdjustmentEvent {
            adjustment_type: Some("FBAInventoryReimbursement".into()),
            posted_date: Some(posted),
            adjustment_amount: usd(2500),
            adjustment_item_list: Some(vec![
                AdjustmentItem {
                    quantity: Some("2".into()),
                    total_amount: usd(2500),
                    seller_sku: Some("SKU-1".into()),
                    fn_sku: Some("X1".into()),
                    transaction_number: Some("T1".into()),
                    ..Default::default()
                },
                AdjustmentItem {
                    quantity: Some("two".into()),
                    total_amount: usd(100),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        let postage = AdjustmentEvent {
            adjustment_type: Some("PostageBilling".into()),
            posted_date: Some(posted),
            adjustment_amount: usd(-399),
            ..Default::default()
        };
        let page = to_finance_page(
            &FinancialEvents {
                adjustment_event_list: Some(vec![reimbursement, postage]),
                ..Default::default()
            },
            None,
            posted,
        );
        type Line<'a> = (FinanceKind, &'a str, String, Option<i32>, Option<&'a str>);
        let lines: Vec<Line> = page
            .lines
            .iter()
            .map(|l| {
                (
                    l.kind,
                    l.component.as_str(),
                    l.amount.to_string(),
                    l.quantity,
                    l.sku.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![
                (
                    FinanceKind::Adjustment,
                    "FBAInventoryReimbursement",
                    "25.00".into(),
                    Some(2),
                    Some("SKU-1")
                ),
                (
                    FinanceKind::Adjustment,
                    "PostageBilling",
                    "-3.99".into(),
                    None,
                    None
                ),
            ]
        );
        assert_eq!(page.problems.len(), 1, "the item with a bad quantity");
        assert_eq!(page.events, 2);
        assert_eq!(page.latest_posted, Some(posted));
    }

    #[test]
    fn events_split_into_keyed_lines_and_problems() {
        let posted = DateTime::parse_from_rfc3339("2026-10-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let item = ShipmentItem {
            seller_sku: Some("SKU-1".into()),
            order_item_id: Some("OI-1".into()),
            quantity_shipped: Some(2),
            item_charge_list: Some(vec![ChargeComponent {
                charge_type: Some("Principal".into()),
                charge_amount: usd(2000),
            }]),
            item_fee_list: Some(vec![
                FeeComponent {
                    fee_type: Some("Commission".into()),
                    fee_amount: usd(-300),
                },
                FeeComponent {
                    fee_type: Some("Bad".into()),
                    fee_amount: Some(Currency {
                        currency_code: None,
                        currency_amount: None,
                    }),
                },
            ]),
            ..Default::default()
        };
        let events = FinancialEvents {
            shipment_event_list: Some(vec![ShipmentEvent {
                amazon_order_id: Some("O-1".into()),
                posted_date: Some(posted),
                shipment_item_list: Some(vec![item.clone()]),
                ..Default::default()
            }]),
            refund_event_list: Some(vec![ShipmentEvent {
                amazon_order_id: Some("O-1".into()),
                posted_date: Some(posted),
                shipment_item_adjustment_list: Some(vec![ShipmentItem {
                    item_fee_list: None,
                    item_charge_adjustment_list: Some(vec![ChargeComponent {
                        charge_type: Some("Principal".into()),
                        charge_amount: usd(-2000),
                    }]),
                    item_charge_list: None,
                    ..item
                }]),
                ..Default::default()
            }]),
            service_fee_event_list: Some(vec![ServiceFeeEvent {
                amazon_order_id: Some("O-1".into()),
                fee_list: Some(vec![FeeComponent {
                    fee_type: Some("FBACustomerReturnFee".into()),
                    fee_amount: usd(-150),
                }]),
                ..Default::default()
            }]),
            adjustment_event_list: None,
        };
        let page = to_finance_page(&events, None, posted);
        let kinds: Vec<(FinanceKind, String, String)> = page
            .lines
            .iter()
            .map(|l| (l.kind, l.component.clone(), l.amount.to_string()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (FinanceKind::Sale, "Principal".into(), "20.00".into()),
                (FinanceKind::Fee, "Commission".into(), "-3.00".into()),
                (FinanceKind::Refund, "Principal".into(), "-20.00".into()),
                (
                    FinanceKind::Fee,
                    "FBACustomerReturnFee".into(),
                    "-1.50".into()
                ),
            ]
        );
        assert_eq!(
            page.problems.len(),
            1,
            "the fee without currency is a per-record problem"
        );
        assert_eq!(page.events, 3);
        assert!(page.lines.iter().all(|l| l.posted_at == posted));
        let keys: std::collections::HashSet<&str> =
            page.lines.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys.len(), 4, "keys are distinct");
        let again = to_finance_page(&events, None, posted);
        assert_eq!(again.lines, page.lines, "keys are deterministic");
    }
}
