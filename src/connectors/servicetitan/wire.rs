//! ServiceTitan Pricebook v2 payloads (camelCase, as in the published OpenAPI model).
//! Shared by the connector and the sandbox emulator so the two cannot drift apart.
//! Money is a JSON double upstream; the connector converts it to exact decimals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Materials and equipment list category ids; services list category objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CategoryRef {
    Id(i64),
    Object {
        id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        active: Option<bool>,
    },
}

impl CategoryRef {
    pub fn id(&self) -> i64 {
        match self {
            CategoryRef::Id(id) | CategoryRef::Object { id, .. } => *id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuLink {
    pub sku_id: i64,
    pub quantity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SkuVendor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_part: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalData {
    pub key: String,
    pub value: String,
}

/// A service, material or equipment record (`*Response` / `Export*Response`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Sku {
    pub id: i64,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_on_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_on_member_price: Option<f64>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub categories: Vec<CategoryRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_vendor: Option<SkuVendor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_vendors: Option<Vec<SkuVendor>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_materials: Option<Vec<SkuLink>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_equipment: Option<Vec<SkuLink>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_data: Option<Vec<ExternalData>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_on: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

/// Create (POST) and update (PATCH) bodies: every field optional, absent = unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SkuWrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_on_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_on_member_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_materials: Option<Vec<SkuLink>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_equipment: Option<Vec<SkuLink>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: i64,
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub parent_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategories: Option<Vec<Category>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_on: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paged<T> {
    pub page: i64,
    pub page_size: i64,
    pub has_more: bool,
    #[serde(default)]
    pub total_count: Option<i64>,
    pub data: Vec<T>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Export<T> {
    pub has_more: bool,
    #[serde(default)]
    pub continue_from: Option<String>,
    pub data: Vec<T>,
}

/// `PATCH /pricebook` body (bulk update), per entity type.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BulkUpdate {
    #[serde(default)]
    pub services: Vec<BulkItem>,
    #[serde(default)]
    pub equipment: Vec<BulkItem>,
    #[serde(default)]
    pub materials: Vec<BulkItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkItem {
    pub id: i64,
    #[serde(flatten)]
    pub fields: SkuWrite,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorResponse {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub errors: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
}
