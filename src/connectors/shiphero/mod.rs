//! ShipHero public GraphQL API, products: `product(sku:)`, `products` (paged),
//! `product_create` falling back to `product_update` when the SKU exists.
//!
//! ShipHero addresses a product by SKU for reads and updates, so a link's remote id is
//! the SKU. Throttling is a credit bucket: an operation over budget answers HTTP 200 with
//! `errors[0].code = 30` and `time_remaining`; we wait that long (bounded) and ask again.
//! HTTP-level behaviour (401 → refresh once, 429/5xx backoff) is `connectors::http`'s.
//!
//! Deletion signals: none in a listing besides absence; ShipHero is a route's target,
//! where a SKU found gone on update is created again (`update_or_create`).

mod auth;
pub mod map;
pub mod wire;

use super::http::{AuthFailure, HttpClient, RetryPolicy, UpstreamError};
use super::{Capabilities, Connector, EntityType, RemotePage, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record::Fields;
use async_trait::async_trait;
use entity::enums::ItemKind;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;
use wire::{
    CreateData, CreateProductInput, GraphQlRequest, GraphQlResponse, Product, ProductData,
    ProductInput, ProductsData, UpdateData, WarehouseProductInput,
};

pub const PRODUCTION_BASE: &str = "https://public-api.shiphero.com";
pub const SANDBOX_USERNAME: &str = "sandbox@shiphero.example";
pub const SANDBOX_PASSWORD: &str = "sandbox-shiphero-password";
pub const SANDBOX_WAREHOUSE: &str = "V2FyZWhvdXNlOjE=";
/// Longest single wait on a `time_remaining` hint.
const MAX_CREDIT_WAIT: Duration = Duration::from_secs(60);
const LIST_PAGE: u64 = 100;

pub const PRODUCTS: EntityType = EntityType {
    name: "products",
    kind: Some(ItemKind::Product),
};
pub const ENTITIES: &[EntityType] = &[PRODUCTS];

#[derive(Debug, Clone)]
pub struct Settings {
    /// Holds `/graphql` and `/auth/*`.
    pub base_url: String,
    /// Username and password (`secrets.username`/`password`); optional when
    /// `secrets.refreshToken` is stored.
    pub login: Option<(String, String)>,
    /// Warehouse new products are stocked in (`product_create` needs one).
    pub warehouse_id: Option<String>,
    pub requests_per_second: Option<u32>,
    pub max_retries: usize,
    pub max_throttle_wait: Duration,
}

impl Settings {
    pub fn from_connection(
        config: &Value,
        secrets: &Value,
        sandbox_base: &str,
    ) -> AppResult<Settings> {
        let c = |k: &str| config.get(k).and_then(Value::as_str).map(str::to_owned);
        let s = |k: &str| secrets.get(k).and_then(Value::as_str).map(str::to_owned);
        let n = |k: &str| config.get(k).and_then(Value::as_u64);
        let sandbox = config
            .get("sandbox")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let missing =
            |what: &str| AppError::bad_input(format!("ShipHero connection is missing {what}"));
        let given = s("username").zip(s("password"));
        let has_refresh = s(crate::connectors::token::keys::REFRESH_TOKEN).is_some();
        let (base_url, login, warehouse_id) = if sandbox {
            (
                c("baseUrl").unwrap_or_else(|| format!("{sandbox_base}/sandbox/shiphero")),
                // A sandbox connection given only a refresh token uses only that.
                given.or_else(|| {
                    (!has_refresh).then(|| (SANDBOX_USERNAME.into(), SANDBOX_PASSWORD.into()))
                }),
                c("warehouseId").or_else(|| Some(SANDBOX_WAREHOUSE.into())),
            )
        } else {
            if given.is_none() && !has_refresh {
                return Err(missing(
                    "secrets.refreshToken (or secrets.username and secrets.password)",
                ));
            }
            (
                c("baseUrl").unwrap_or_else(|| PRODUCTION_BASE.into()),
                given,
                c("warehouseId"),
            )
        };
        Ok(Settings {
            base_url,
            login,
            warehouse_id,
            requests_per_second: n("requestsPerSecond").map(|n| n as u32),
            max_retries: n("maxRetries").map(|n| n.min(10) as usize).unwrap_or(6),
            max_throttle_wait: Duration::from_secs(n("maxThrottleWaitSeconds").unwrap_or(300)),
        })
    }
}

pub struct ShipHero {
    settings: Settings,
    http: HttpClient,
    token: auth::PasswordGrant,
}

const UNAUTHORIZED: AuthFailure = AuthFailure(&[401]);

/// How a write went: the product as ShipHero answered, and whether it was new.
pub struct Upserted {
    pub product: Product,
    pub created: bool,
}

impl ShipHero {
    pub fn new(
        settings: Settings,
        secrets: &Value,
        sink: std::sync::Arc<dyn crate::connectors::token::SecretSink>,
    ) -> Self {
        let policy = RetryPolicy {
            max_retries: settings.max_retries,
            max_throttle_wait: settings.max_throttle_wait,
            ..RetryPolicy::default()
        };
        let http = HttpClient::new(settings.requests_per_second, policy);
        let token = auth::PasswordGrant::new(
            http.inner().clone(),
            settings.base_url.clone(),
            settings.login.clone(),
            secrets,
            sink,
        );
        ShipHero {
            settings,
            http,
            token,
        }
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// One GraphQL operation; waits out credit throttling, turns other errors into
    /// `Rejected` (about this record).
    async fn graphql<T: DeserializeOwned>(
        &self,
        query: String,
        variables: Value,
    ) -> Result<T, UpstreamError> {
        let url = format!("{}/graphql", self.settings.base_url.trim_end_matches('/'));
        let request = GraphQlRequest { query, variables };
        let mut waited = Duration::ZERO;
        loop {
            let answer: GraphQlResponse<T> = self
                .http
                .json(Some(&self.token), UNAUTHORIZED, |c, token| {
                    c.post(&url)
                        .bearer_auth(token.unwrap_or_default())
                        .json(&request)
                })
                .await?;
            if let Some(throttled) = answer
                .errors
                .iter()
                .find(|e| e.code == Some(wire::THROTTLED))
            {
                self.http.stats.throttled.fetch_add(1, Ordering::Relaxed);
                let wait = throttled
                    .time_remaining
                    .as_deref()
                    .and_then(wire::seconds_remaining)
                    .map(Duration::from_secs_f64)
                    .unwrap_or(Duration::from_secs(1))
                    .clamp(Duration::from_millis(100), MAX_CREDIT_WAIT);
                waited += wait;
                if waited > self.settings.max_throttle_wait {
                    return Err(UpstreamError::RateLimitBudget { waited });
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            if let Some(first) = answer.errors.first() {
                return Err(UpstreamError::Rejected {
                    status: 200,
                    message: crate::connectors::redact(&first.message),
                });
            }
            return answer
                .data
                .ok_or_else(|| UpstreamError::Malformed("GraphQL answer without data".into()));
        }
    }

    pub async fn product(&self, sku: &str) -> Result<Option<Product>, UpstreamError> {
        let d: ProductData = self
            .graphql(wire::product_query(), json!({ "sku": sku }))
            .await
            .or_else(|e| match e {
                // ShipHero answers an unknown SKU with an error, not null.
                UpstreamError::Rejected { message, .. } if is_not_found(&message) => {
                    Ok(ProductData { product: None })
                }
                other => Err(other),
            })?;
        Ok(d.product.and_then(|p| p.data))
    }

    pub async fn create_product(&self, input: &ProductInput) -> Result<Product, UpstreamError> {
        let data = CreateProductInput {
            product: input.clone(),
            warehouse_products: self
                .settings
                .warehouse_id
                .iter()
                .map(|w| WarehouseProductInput {
                    warehouse_id: w.clone(),
                    on_hand: 0,
                })
                .collect(),
        };
        let d: CreateData = self
            .graphql(wire::create_mutation(), json!({ "data": data }))
            .await?;
        d.product_create
            .and_then(|m| m.product)
            .ok_or_else(|| UpstreamError::Malformed("product_create without product".into()))
    }

    pub async fn update_product(&self, input: &ProductInput) -> Result<Product, UpstreamError> {
        let d: UpdateData = self
            .graphql(wire::update_mutation(), json!({ "data": input }))
            .await?;
        d.product_update
            .and_then(|m| m.product)
            .ok_or_else(|| UpstreamError::Malformed("product_update without product".into()))
    }

    /// Create, or update when ShipHero says the SKU already exists (seed 003's upsert).
    pub async fn upsert_product(&self, input: &ProductInput) -> Result<Upserted, UpstreamError> {
        match self.create_product(input).await {
            Ok(product) => Ok(Upserted {
                product,
                created: true,
            }),
            Err(UpstreamError::Rejected { message, .. }) if is_duplicate(&message) => {
                Ok(Upserted {
                    product: self.update_product(input).await?,
                    created: false,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// For a product written before: update it, or create it again if it is gone.
    pub async fn update_or_create(&self, input: &ProductInput) -> Result<Upserted, UpstreamError> {
        match self.update_product(input).await {
            Ok(product) => Ok(Upserted {
                product,
                created: false,
            }),
            Err(UpstreamError::Rejected { message, .. }) if is_not_found(&message) => {
                Ok(Upserted {
                    product: self.create_product(input).await?,
                    created: true,
                })
            }
            Err(e) => Err(e),
        }
    }

    fn record(p: &Product) -> RemoteRecord {
        RemoteRecord {
            remote_id: p.sku.clone(),
            kind: ItemKind::Product,
            fields: map::to_fields(p),
            modified_on: None,
        }
    }
}

fn is_duplicate(message: &str) -> bool {
    message.to_ascii_lowercase().contains("already exists")
}

fn is_not_found(message: &str) -> bool {
    message.to_ascii_lowercase().contains("not found")
}

fn refused(e: String) -> UpstreamError {
    UpstreamError::Rejected {
        status: 422,
        message: e,
    }
}

#[async_trait]
impl Connector for ShipHero {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update: true,
            create: true,
        }
    }

    fn entity_types(&self) -> &'static [EntityType] {
        ENTITIES
    }

    async fn estimate(&self, _entity: &EntityType) -> Result<Option<u64>, UpstreamError> {
        Ok(None)
    }

    async fn list_page(
        &self,
        _entity: &EntityType,
        cursor: Option<&str>,
    ) -> Result<RemotePage, UpstreamError> {
        let d: ProductsData = self
            .graphql(
                wire::products_query(),
                json!({ "first": LIST_PAGE, "after": cursor }),
            )
            .await?;
        let Some(page) = d.products.and_then(|p| p.data) else {
            return Err(UpstreamError::Malformed("products without data".into()));
        };
        Ok(RemotePage {
            records: page.edges.iter().map(|e| Self::record(&e.node)).collect(),
            categories: Vec::new(),
            cursor: page.page_info.end_cursor,
            has_more: page.page_info.has_next_page,
        })
    }

    async fn fetch(
        &self,
        entity: &EntityType,
        remote_id: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        self.find_by_code(entity, remote_id).await
    }

    async fn find_by_code(
        &self,
        _entity: &EntityType,
        code: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        Ok(self.product(code.trim()).await?.as_ref().map(Self::record))
    }

    async fn create(
        &self,
        _entity: &EntityType,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        let input = map::to_input(fields).map_err(refused)?;
        Ok(Self::record(&self.upsert_product(&input).await?.product))
    }

    async fn update(
        &self,
        _entity: &EntityType,
        remote_id: &str,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        let mut input = map::to_input(fields).map_err(refused)?;
        input.sku = remote_id.to_owned();
        Ok(Self::record(&self.update_product(&input).await?))
    }
}
