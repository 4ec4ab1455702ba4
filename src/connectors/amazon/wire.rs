//! Amazon SP-API payloads: FBA Inventory v1 (camelCase), Finances v0 (PascalCase), Reports
//! 2021-06-30 (camelCase) and Fulfillment Inbound v0 shipment items (PascalCase), with
//! the field names of the published OpenAPI models, plus Login with Amazon token answers
//! and the shared `{errors: [{code, message, details}]}` error body. Shared by the connector
//! and the sandbox emulator so the two cannot drift apart.
//!
//! Finances money (`BigDecimal`) is a JSON number upstream: it is read through its
//! shortest decimal text into an exact `Decimal` and written back as a JSON number.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

// --- errors -----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Error {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ErrorList {
    pub errors: Vec<Error>,
}

impl ErrorList {
    pub fn one(code: &str, message: &str) -> Self {
        ErrorList {
            errors: vec![Error {
                code: code.into(),
                message: Some(message.into()),
                details: None,
            }],
        }
    }
}

// --- FBA inventory ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReservedQuantity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_reserved_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_customer_order_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_transshipment_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fc_processing_quantity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResearchingQuantity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_researching_quantity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UnfulfillableQuantity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_unfulfillable_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_damaged_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_damaged_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defective_quantity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InventoryDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillable_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_working_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_shipped_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_receiving_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_quantity: Option<ReservedQuantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub researching_quantity: Option<ResearchingQuantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfulfillable_quantity: Option<UnfulfillableQuantity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InventorySummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fn_sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_details: Option<InventoryDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stores: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Granularity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetInventorySummariesResult {
    pub granularity: Granularity,
    pub inventory_summaries: Vec<InventorySummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetInventorySummariesResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<GetInventorySummariesResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Error>>,
}

// --- Finances ---------------------------------------------------------------------

/// `Currency`: a code and a signed exact amount (a JSON number on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Currency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(default, with = "amount", skip_serializing_if = "Option::is_none")]
    pub currency_amount: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ChargeComponent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_amount: Option<Currency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct FeeComponent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_amount: Option<Currency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Promotion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_amount: Option<Currency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ShipmentItem {
    #[serde(rename = "SellerSKU", default, skip_serializing_if = "Option::is_none")]
    pub seller_sku: Option<String>,
    #[serde(
        rename = "OrderItemId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_item_id: Option<String>,
    #[serde(
        rename = "OrderAdjustmentItemId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub order_adjustment_item_id: Option<String>,
    #[serde(
        rename = "QuantityShipped",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity_shipped: Option<i32>,
    #[serde(
        rename = "ItemChargeList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub item_charge_list: Option<Vec<ChargeComponent>>,
    #[serde(
        rename = "ItemChargeAdjustmentList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub item_charge_adjustment_list: Option<Vec<ChargeComponent>>,
    #[serde(
        rename = "ItemFeeList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub item_fee_list: Option<Vec<FeeComponent>>,
    #[serde(
        rename = "ItemFeeAdjustmentList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub item_fee_adjustment_list: Option<Vec<FeeComponent>>,
    #[serde(
        rename = "PromotionList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub promotion_list: Option<Vec<Promotion>>,
    #[serde(
        rename = "PromotionAdjustmentList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub promotion_adjustment_list: Option<Vec<Promotion>>,
}

/// A shipment, refund, guarantee claim or chargeback (`ShipmentEvent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ShipmentEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amazon_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_item_list: Option<Vec<ShipmentItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_item_adjustment_list: Option<Vec<ShipmentItem>>,
}

/// A service fee on the seller's account (`ServiceFeeEvent`); has no `PostedDate` upstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceFeeEvent {
    #[serde(
        rename = "AmazonOrderId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub amazon_order_id: Option<String>,
    #[serde(rename = "FeeReason", default, skip_serializing_if = "Option::is_none")]
    pub fee_reason: Option<String>,
    #[serde(rename = "FeeList", default, skip_serializing_if = "Option::is_none")]
    pub fee_list: Option<Vec<FeeComponent>>,
    #[serde(rename = "SellerSKU", default, skip_serializing_if = "Option::is_none")]
    pub seller_sku: Option<String>,
    #[serde(rename = "FnSKU", default, skip_serializing_if = "Option::is_none")]
    pub fn_sku: Option<String>,
    #[serde(
        rename = "FeeDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fee_description: Option<String>,
    #[serde(rename = "ASIN", default, skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
}

/// `AdjustmentItem`: `Quantity` is a string in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AdjustmentItem {
    #[serde(rename = "Quantity", default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<String>,
    #[serde(
        rename = "PerUnitAmount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub per_unit_amount: Option<Currency>,
    #[serde(
        rename = "TotalAmount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total_amount: Option<Currency>,
    #[serde(rename = "SellerSKU", default, skip_serializing_if = "Option::is_none")]
    pub seller_sku: Option<String>,
    #[serde(rename = "FnSKU", default, skip_serializing_if = "Option::is_none")]
    pub fn_sku: Option<String>,
    #[serde(
        rename = "ProductDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub product_description: Option<String>,
    #[serde(rename = "ASIN", default, skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    #[serde(
        rename = "TransactionNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_number: Option<String>,
}

/// `AdjustmentEvent`: an adjustment to the seller's account, e.g.
/// `FBAInventoryReimbursement`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AdjustmentEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_amount: Option<Currency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_item_list: Option<Vec<AdjustmentItem>>,
}

/// The event lists this project reads; the other lists of the model are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct FinancialEvents {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_event_list: Option<Vec<ShipmentEvent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_event_list: Option<Vec<ShipmentEvent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_fee_event_list: Option<Vec<ServiceFeeEvent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_event_list: Option<Vec<AdjustmentEvent>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListFinancialEventsPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub financial_events: Option<FinancialEvents>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ListFinancialEventsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<ListFinancialEventsPayload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Error>>,
}

// --- Reports 2021-06-30 -------------------------------------------------------------

/// `processingStatus` of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProcessingStatus {
    /// No data for the window (or cancelled by the seller).
    Cancelled,
    Done,
    Fatal,
    InProgress,
    InQueue,
}

/// `Report`: what `getReport` answers and `getReports` lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub report_id: String,
    pub report_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_start_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_end_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_schedule_id: Option<String>,
    pub created_time: DateTime<Utc>,
    pub processing_status: ProcessingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_start_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_end_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_document_id: Option<String>,
}

/// `CreateReportSpecification` (the `reportOptions` of the model are not used here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportSpecification {
    pub report_type: String,
    pub marketplace_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_start_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_end_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportResponse {
    pub report_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetReportsResponse {
    pub reports: Vec<Report>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ReportDocument`: a pre-signed URL (valid 5 minutes) and how the content is compressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDocument {
    pub report_document_id: String,
    pub url: String,
    /// `GZIP` or absent (plain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_algorithm: Option<String>,
}

// --- Fulfillment Inbound v0 ----------------------------------------------------------

/// `InboundShipmentItem` (the fields this project reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct InboundShipmentItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    #[serde(rename = "SellerSKU")]
    pub seller_sku: String,
    #[serde(
        rename = "FulfillmentNetworkSKU",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fulfillment_network_sku: Option<String>,
    pub quantity_shipped: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_received: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_in_case: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GetShipmentItemsResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_data: Option<Vec<InboundShipmentItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GetShipmentItemsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<GetShipmentItemsResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Error>>,
}

// --- Login with Amazon ------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: String,
    pub expires_in: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `BigDecimal` amounts: JSON numbers (strings tolerated) ↔ exact decimals.
pub mod amount {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::str::FromStr;

    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v.and_then(|d| d.to_f64()) {
            Some(f) => s.serialize_f64(f),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        let raw = Option::<serde_json::Value>::deserialize(d)?;
        let text = match raw {
            None | Some(serde_json::Value::Null) => return Ok(None),
            // serde_json prints a parsed double in its shortest form ("12.35").
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) => s,
            Some(other) => {
                return Err(serde::de::Error::custom(format!(
                    "CurrencyAmount must be a number, got {other}"
                )));
            }
        };
        Decimal::from_str(text.trim())
            .or_else(|_| Decimal::from_scientific(text.trim()))
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid CurrencyAmount '{text}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_both_ways() {
        let c: Currency =
            serde_json::from_str(r#"{"CurrencyCode":"USD","CurrencyAmount":-12.35}"#).unwrap();
        assert_eq!(c.currency_amount, Some(Decimal::new(-1235, 2)));
        let back = serde_json::to_string(&c).unwrap();
        assert_eq!(back, r#"{"CurrencyCode":"USD","CurrencyAmount":-12.35}"#);
        let tiny: Currency = serde_json::from_str(r#"{"CurrencyAmount":0.1}"#).unwrap();
        assert_eq!(tiny.currency_amount.unwrap().to_string(), "0.1");
        assert!(serde_json::from_str::<Currency>(r#"{"CurrencyAmount":true}"#).is_err());
    }
}
