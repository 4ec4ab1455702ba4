//! ShipHero public GraphQL API payloads, shared with the emulator in `sandbox::shiphero`.
//!
//! Every root field answers an envelope `{request_id, complexity, data | product}`; errors
//! come back with HTTP 200 in `errors[]`, throttling as `code: 30` with a `time_remaining`
//! such as `"2 seconds"`.

use serde::{Deserialize, Serialize};

/// The product fields the connector reads (one selection set for every operation).
pub const PRODUCT_SELECTION: &str =
    "id legacy_id sku name barcode active dimensions { weight height width length }";

pub fn product_query() -> String {
    format!(
        "query Product($sku: String!) {{ product(sku: $sku) {{ request_id complexity data {{ {PRODUCT_SELECTION} }} }} }}"
    )
}

pub fn products_query() -> String {
    format!(
        "query Products($first: Int, $after: String) {{ products {{ request_id complexity data(first: $first, after: $after) {{ pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {PRODUCT_SELECTION} }} }} }} }} }}"
    )
}

pub fn create_mutation() -> String {
    format!(
        "mutation Create($data: CreateProductInput!) {{ product_create(data: $data) {{ request_id complexity product {{ {PRODUCT_SELECTION} }} }} }}"
    )
}

pub fn update_mutation() -> String {
    format!(
        "mutation Update($data: UpdateProductInput!) {{ product_update(data: $data) {{ request_id complexity product {{ {PRODUCT_SELECTION} }} }} }}"
    )
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphQlRequest {
    pub query: String,
    #[serde(default)]
    pub variables: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphQlResponse<T> {
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphQlError>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GraphQlError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_remaining: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_credits: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_credits: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
}

/// ShipHero's "not enough credits" code.
pub const THROTTLED: i64 = 30;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dimensions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    #[serde(default)]
    pub legacy_id: Option<i64>,
    pub sku: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub dimensions: Dimensions,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WarehouseProductInput {
    pub warehouse_id: String,
    #[serde(default)]
    pub on_hand: i64,
}

/// `CreateProductInput` / `UpdateProductInput` (update has no `warehouse_products`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductInput {
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Dimensions>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateProductInput {
    #[serde(flatten)]
    pub product: ProductInput,
    #[serde(default)]
    pub warehouse_products: Vec<WarehouseProductInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryEnvelope<T> {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub complexity: Option<i64>,
    pub data: Option<T>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MutationEnvelope {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub complexity: Option<i64>,
    pub product: Option<Product>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Edge {
    pub node: Product,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductConnection {
    pub page_info: PageInfo,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductData {
    pub product: Option<QueryEnvelope<Product>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductsData {
    pub products: Option<QueryEnvelope<ProductConnection>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateData {
    pub product_create: Option<MutationEnvelope>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateData {
    pub product_update: Option<MutationEnvelope>,
}

/// `POST /auth/token` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
}

/// `POST /auth/refresh` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: String,
}

/// Seconds to wait from a `time_remaining` hint ("2 seconds", "2", "1.5 seconds").
pub fn seconds_remaining(hint: &str) -> Option<f64> {
    hint.split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_remaining_hints_parse() {
        assert_eq!(seconds_remaining("2 seconds"), Some(2.0));
        assert_eq!(seconds_remaining("1.5 seconds"), Some(1.5));
        assert_eq!(seconds_remaining("3"), Some(3.0));
        assert_eq!(seconds_remaining("soon"), None);
    }

    #[test]
    fn create_input_is_flat() {
        let input = CreateProductInput {
            product: ProductInput {
                sku: "A".into(),
                name: Some("n".into()),
                ..Default::default()
            },
            warehouse_products: vec![],
        };
        let v = serde_json::to_value(&input).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"sku": "A", "name": "n", "warehouse_products": []})
        );
    }
}
