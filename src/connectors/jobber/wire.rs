//! Jobber GraphQL payloads: the request envelope, the response envelope with its
//! `extensions.cost` throttle report, products and the edit mutation, and the OAuth token
//! answer. Shared by the connector and the sandbox emulator so the two cannot drift apart.
//! Money is a GraphQL `Float` upstream; the connector converts it to exact decimals.

use serde::{Deserialize, Serialize};

/// The API version every request names in `X-JOBBER-GRAPHQL-VERSION` unless the
/// connection's `config.apiVersion` names another: the current one.
pub const DEFAULT_API_VERSION: &str = "2026-02-17";
pub const VERSION_HEADER: &str = "x-jobber-graphql-version";
/// `errors[].extensions.code` of a request naming an API version Jobber no longer serves
/// (or never did); the connector turns it into `UPSTREAM_API_VERSION`.
pub const UNSUPPORTED_VERSION: &str = "UNSUPPORTED_API_VERSION";

/// Whether `v` is shaped like a Jobber API version (a date, `YYYY-MM-DD`).
pub fn is_version_shaped(v: &str) -> bool {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() && v.len() == 10
}
/// `errors[].extensions.code` of a request refused by the query-cost bucket.
pub const THROTTLED: &str = "THROTTLED";

/// The fields of a product or service the connector reads (one selection, every query).
const PRODUCT_FIELDS: &str =
    "id name description category defaultUnitCost internalUnitCost taxable visible";

/// `products(first:, after:, searchTerm:)`; a null `searchTerm` lists everything.
pub fn products_query() -> String {
    format!(
        "query Products($first: Int!, $after: String, $searchTerm: String) {{ products(first: $first, after: $after, searchTerm: $searchTerm) {{ nodes {{ {PRODUCT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} totalCount }} }}"
    )
}

/// `product(id:)` (the older `productOrService(id:)` is deprecated).
pub fn product_query() -> String {
    format!("query Product($id: EncodedId!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}")
}

pub fn edit_mutation() -> String {
    format!(
        "mutation ProductsAndServicesEdit($id: EncodedId!, $input: ProductsAndServicesEditInput!) {{ productsAndServicesEdit(productOrServiceId: $id, input: $input) {{ productOrService {{ {PRODUCT_FIELDS} }} userErrors {{ message path }} }} }}"
    )
}

pub fn create_mutation() -> String {
    format!(
        "mutation ProductsAndServicesCreate($input: ProductsAndServicesInput!) {{ productsAndServicesCreate(input: $input) {{ productOrService {{ {PRODUCT_FIELDS} }} userErrors {{ message path }} }} }}"
    )
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQlRequest {
    pub query: String,
    #[serde(default)]
    pub variables: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphQlResponse<T> {
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<GraphQlError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ResponseExtensions>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphQlError {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ErrorExtensions>,
}

impl GraphQlError {
    pub fn code(&self) -> Option<&str> {
        self.extensions.as_ref()?.code.as_deref()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorExtensions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct ResponseExtensions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub requested_query_cost: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductCategory {
    #[default]
    Product,
    Service,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProductOrService {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: ProductCategory,
    /// The sell price.
    #[serde(default)]
    pub default_unit_cost: Option<f64>,
    /// The cost (the seed's `Trade_Cost`).
    #[serde(default)]
    pub internal_unit_cost: Option<f64>,
    #[serde(default)]
    pub taxable: Option<bool>,
    /// Suggested on quotes, jobs and invoices; the canonical `active` (null counts as yes).
    #[serde(default)]
    pub visible: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProductConnection {
    pub nodes: Vec<ProductOrService>,
    pub page_info: PageInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductsData {
    pub products: ProductConnection,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductData {
    pub product: Option<ProductOrService>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserError {
    pub message: String,
    #[serde(default)]
    pub path: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditPayload {
    pub product_or_service: Option<ProductOrService>,
    #[serde(default)]
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditData {
    pub products_and_services_edit: EditPayload,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateData {
    pub products_and_services_create: EditPayload,
}

/// `ProductsAndServicesEditInput` (and the create input): only fields we hold are sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProductInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<ProductCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_unit_cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_unit_cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
}

/// `POST /api/oauth/token` answer (both grants). Jobber rotates the refresh token when
/// rotation is on: the answer's `refresh_token` replaces the one just used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_products_page_with_its_cost_report() {
        let body = json!({
            "data": { "products": {
                "nodes": [{ "id": "Z2lk", "name": "PN-1", "description": null, "category": "SERVICE",
                            "defaultUnitCost": 12.5, "internalUnitCost": 0.1, "taxable": true, "visible": false }],
                "pageInfo": { "hasNextPage": true, "endCursor": "MQ" }, "totalCount": 7 } },
            "extensions": { "cost": { "requestedQueryCost": 102, "actualQueryCost": 48,
                "throttleStatus": { "maximumAvailable": 10000, "currentlyAvailable": 9952, "restoreRate": 500 } } }
        });
        let r: GraphQlResponse<ProductsData> = serde_json::from_value(body).unwrap();
        let page = r.data.unwrap().products;
        assert_eq!(page.nodes[0].category, ProductCategory::Service);
        assert_eq!(page.nodes[0].internal_unit_cost, Some(0.1));
        assert_eq!(page.nodes[0].visible, Some(false));
        assert_eq!(page.page_info.end_cursor.as_deref(), Some("MQ"));
        let t = r.extensions.unwrap().cost.unwrap().throttle_status;
        assert_eq!((t.currently_available, t.restore_rate), (9952.0, 500.0));
    }

    #[test]
    fn parses_a_throttled_answer_without_data() {
        let body = json!({
            "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }],
            "extensions": { "cost": { "requestedQueryCost": 500,
                "throttleStatus": { "maximumAvailable": 1000, "currentlyAvailable": 20, "restoreRate": 50 } } }
        });
        let r: GraphQlResponse<ProductsData> = serde_json::from_value(body).unwrap();
        assert!(r.data.is_none());
        assert_eq!(r.errors[0].code(), Some(THROTTLED));
    }

    #[test]
    fn edit_input_sends_only_what_it_holds() {
        let input = ProductInput {
            internal_unit_cost: Some(3.25),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&input).unwrap(),
            json!({ "internalUnitCost": 3.25 })
        );
    }
}
