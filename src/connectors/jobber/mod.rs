//! Jobber: one GraphQL endpoint (`POST {base}/api/graphql`, versioned by the
//! `X-JOBBER-GRAPHQL-VERSION` header), OAuth2 with rotating refresh tokens, and a
//! query-cost bucket that we respect before Jobber has to refuse us.
//!
//! Jobber's `products` connection holds products and services together (told apart by
//! `category`); each becomes its own entity type here so items get the right kind, each
//! listing keeping its own category. Jobber offers no modified-since filter on products,
//! so every run lists fully (cheap at price-book sizes); the last page hands the engine a
//! [`RELIST`] cursor, so incremental runs list everything again too — and, being complete
//! listings, apply deletions like full runs (Jobber's only deletion signal is absence;
//! a push to a deleted record is refused with a "not found" user error).

mod map;
pub mod throttle;
pub mod wire;

use super::http::{AuthFailure, HttpClient, RetryPolicy, UpstreamError};
use super::token::{RefreshingToken, SecretSink};
use super::{Capabilities, Connector, EntityType, RemotePage, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record::Fields;
use async_trait::async_trait;
use entity::enums::ItemKind;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use throttle::CostBucket;
use wire::{
    CreateData, DEFAULT_API_VERSION, EditData, EditPayload, GraphQlRequest, GraphQlResponse,
    ProductCategory, ProductData, ProductOrService, ProductsData, THROTTLED, UNSUPPORTED_VERSION,
    VERSION_HEADER,
};

pub const PRODUCTION_BASE: &str = "https://api.getjobber.com";
/// ~2,500 requests per 5 minutes per app and account.
pub const REQUESTS_PER_SECOND: u32 = 8;
/// Jobber's largest page.
pub const MAX_PAGE_SIZE: u32 = 100;
/// OAuth client the sandbox emulator accepts.
pub const SANDBOX_CLIENT_ID: &str = "jobber-sandbox-client";
pub const SANDBOX_CLIENT_SECRET: &str = "jobber-sandbox-secret";
/// The cursor of a finished listing: "start from the beginning next time".
pub const RELIST: &str = "relist";

pub const ENTITIES: &[EntityType] = &[
    EntityType {
        name: "products",
        kind: Some(ItemKind::Product),
    },
    EntityType {
        name: "services",
        kind: Some(ItemKind::Service),
    },
];

fn category_of(entity: &EntityType) -> ProductCategory {
    match entity.kind {
        Some(ItemKind::Service) => ProductCategory::Service,
        _ => ProductCategory::Product,
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub page_size: u32,
    pub requests_per_second: Option<u32>,
    pub max_retries: usize,
    /// Longest a call may wait for throttling (config `maxThrottleWaitSeconds`).
    pub max_throttle_wait: Duration,
    /// `X-JOBBER-GRAPHQL-VERSION` on every call (config `apiVersion`, default the current
    /// [`DEFAULT_API_VERSION`]).
    pub api_version: String,
}

impl Settings {
    /// From a connection's config and decrypted secrets; sandbox connections point at the
    /// emulator mounted on this server and use its generated OAuth client.
    pub fn from_connection(
        config: &serde_json::Value,
        secrets: &serde_json::Value,
        sandbox_base: &str,
    ) -> AppResult<Settings> {
        let s = |k: &str| secrets.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let c = |k: &str| config.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let n = |k: &str| config.get(k).and_then(|v| v.as_u64());
        let sandbox = config
            .get("sandbox")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let missing =
            |what: &str| AppError::bad_input(format!("Jobber connection is missing {what}"));
        let (base_url, client_id, client_secret) = if sandbox {
            (
                c("baseUrl").unwrap_or_else(|| format!("{sandbox_base}/sandbox/jobber")),
                s("clientId").unwrap_or_else(|| SANDBOX_CLIENT_ID.into()),
                s("clientSecret").unwrap_or_else(|| SANDBOX_CLIENT_SECRET.into()),
            )
        } else {
            (
                c("baseUrl").unwrap_or_else(|| PRODUCTION_BASE.into()),
                s("clientId").ok_or_else(|| missing("secrets.clientId"))?,
                s("clientSecret").ok_or_else(|| missing("secrets.clientSecret"))?,
            )
        };
        Ok(Settings {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client_id,
            client_secret,
            page_size: n("pageSize")
                .map(|p| p.clamp(1, MAX_PAGE_SIZE as u64) as u32)
                .unwrap_or(MAX_PAGE_SIZE),
            requests_per_second: Some(
                n("requestsPerSecond")
                    .map(|r| r.max(1) as u32)
                    .unwrap_or(REQUESTS_PER_SECOND),
            ),
            max_retries: n("maxRetries").map(|r| r.min(10) as usize).unwrap_or(6),
            max_throttle_wait: Duration::from_secs(n("maxThrottleWaitSeconds").unwrap_or(120)),
            api_version: api_version(config)?,
        })
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/api/graphql", self.base_url)
    }

    pub fn token_url(&self) -> String {
        format!("{}/api/oauth/token", self.base_url)
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/api/oauth/authorize", self.base_url)
    }
}

/// A connection's `config.apiVersion`: absent or null means the current version; anything
/// but a `YYYY-MM-DD` date is refused rather than sent.
pub fn api_version(config: &serde_json::Value) -> AppResult<String> {
    match config.get("apiVersion") {
        None | Some(serde_json::Value::Null) => Ok(DEFAULT_API_VERSION.to_owned()),
        Some(v) => v
            .as_str()
            .filter(|v| wire::is_version_shaped(v))
            .map(str::to_owned)
            .ok_or_else(|| {
                AppError::bad_input(format!(
                    "config.apiVersion must be a Jobber API version like {DEFAULT_API_VERSION}"
                ))
            }),
    }
}

/// Query cost we expect before sending (Jobber: about one point per node plus the
/// objects around them); the bucket check uses it, the answer reports the real one.
fn expected_cost(first: u32) -> f64 {
    f64::from(first) + 2.0
}
const MUTATION_COST: f64 = 10.0;

/// Jobber refusing the version header is about the connection, not the record at hand:
/// the run stops with `UPSTREAM_API_VERSION` instead of recording a record error per item.
fn version_refused(e: UpstreamError, version: &str) -> UpstreamError {
    match e {
        UpstreamError::Rejected { message, .. } if message.contains(UNSUPPORTED_VERSION) => {
            UpstreamError::UnsupportedVersion(format!(
                "Jobber does not serve API version {version}; set the connection's config.apiVersion to a supported version (the current one is {DEFAULT_API_VERSION})"
            ))
        }
        other => other,
    }
}

const UNAUTHORIZED: AuthFailure = AuthFailure(&[401]);

pub struct Jobber {
    settings: Settings,
    http: HttpClient,
    token: RefreshingToken,
    bucket: std::sync::Mutex<CostBucket>,
}

impl Jobber {
    pub fn new(settings: Settings, secrets: &serde_json::Value, sink: Arc<dyn SecretSink>) -> Self {
        let policy = RetryPolicy {
            max_retries: settings.max_retries,
            max_throttle_wait: settings.max_throttle_wait,
            ..RetryPolicy::default()
        };
        let http = HttpClient::new(settings.requests_per_second, policy);
        let token = RefreshingToken::new(
            http.inner().clone(),
            settings.token_url(),
            settings.client_id.clone(),
            settings.client_secret.clone(),
            secrets,
            sink,
        );
        Jobber {
            settings,
            http,
            token,
            bucket: std::sync::Mutex::new(CostBucket::default()),
        }
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn bucket_wait(&self, needed: f64) -> Duration {
        self.bucket
            .lock()
            .map(|b| b.wait_for(needed, Instant::now()))
            .unwrap_or_default()
    }

    /// One GraphQL operation: waits for the cost bucket, sends (the shared client handles
    /// 401 refresh, 429 and 5xx), records the bucket, and waits out a `THROTTLED` answer.
    async fn graphql<T: DeserializeOwned>(
        &self,
        query: String,
        variables: serde_json::Value,
        cost: f64,
    ) -> Result<T, UpstreamError> {
        let url = self.settings.graphql_url();
        let body = GraphQlRequest {
            query,
            variables,
            operation_name: None,
        };
        let mut waited = Duration::ZERO;
        loop {
            let wait = self.bucket_wait(cost);
            if !wait.is_zero() {
                waited += wait;
                if waited > self.settings.max_throttle_wait {
                    return Err(UpstreamError::RateLimitBudget { waited });
                }
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "waiting for Jobber query cost"
                );
                tokio::time::sleep(wait).await;
            }
            let version = self.settings.api_version.as_str();
            let answer: GraphQlResponse<T> = self
                .http
                .json(Some(&self.token), UNAUTHORIZED, |c, token| {
                    c.post(&url)
                        .bearer_auth(token.unwrap_or_default())
                        .header(VERSION_HEADER, version)
                        .json(&body)
                })
                .await
                .map_err(|e| version_refused(e, version))?;
            let reported = answer.extensions.as_ref().and_then(|e| e.cost.clone());
            if let Some(c) = &reported
                && let Ok(mut b) = self.bucket.lock()
            {
                b.observe(c.throttle_status, Instant::now());
            }
            if answer.errors.iter().any(|e| e.code() == Some(THROTTLED)) {
                self.http.stats.throttled.fetch_add(1, Ordering::Relaxed);
                let needed = reported
                    .as_ref()
                    .map(|c| c.requested_query_cost)
                    .unwrap_or(cost);
                // Known bucket: the next loop turn waits exactly; unknown: a short pause.
                let wait = if reported.is_some() {
                    self.bucket_wait(needed)
                } else {
                    Duration::from_secs(1)
                };
                if reported.is_none() || wait.is_zero() {
                    waited += Duration::from_secs(1);
                    if waited > self.settings.max_throttle_wait {
                        return Err(UpstreamError::RateLimitBudget { waited });
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
            if let Some(first) = answer.errors.first() {
                return Err(UpstreamError::Rejected {
                    status: 200,
                    message: super::redact(&first.message),
                });
            }
            return answer
                .data
                .ok_or_else(|| UpstreamError::Malformed("GraphQL answer without data".into()));
        }
    }

    fn record(entity: &EntityType, p: &ProductOrService) -> Option<RemoteRecord> {
        let kind = entity.kind?;
        (map::kind_of(p.category) == kind).then(|| RemoteRecord {
            remote_id: p.id.clone(),
            kind,
            fields: map::to_fields(p),
            modified_on: None,
        })
    }

    async fn page(
        &self,
        first: u32,
        after: Option<&str>,
        search: Option<&str>,
    ) -> Result<ProductsData, UpstreamError> {
        self.graphql(
            wire::products_query(),
            json!({ "first": first, "after": after, "searchTerm": search }),
            expected_cost(first),
        )
        .await
    }

    /// A write's answer: `userErrors` are about this record (recorded, the run goes on).
    fn written(entity: &EntityType, payload: EditPayload) -> Result<RemoteRecord, UpstreamError> {
        if !payload.user_errors.is_empty() {
            let message = payload
                .user_errors
                .iter()
                .map(|e| match e.path.last() {
                    Some(field) => format!("{field}: {}", e.message),
                    None => e.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Err(UpstreamError::Rejected {
                status: 422,
                message,
            });
        }
        let p = payload
            .product_or_service
            .ok_or_else(|| UpstreamError::Malformed("write answered no record".into()))?;
        Ok(RemoteRecord {
            remote_id: p.id.clone(),
            kind: entity.kind.unwrap_or(map::kind_of(p.category)),
            fields: map::to_fields(&p),
            modified_on: None,
        })
    }
}

#[async_trait]
impl Connector for Jobber {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update: true,
            create: true,
        }
    }

    fn entity_types(&self) -> &'static [EntityType] {
        ENTITIES
    }

    /// Every listing is complete: Jobber has no change feed (see the module docs).
    fn lists_everything_from(&self, _entity: &EntityType, cursor: Option<&str>) -> bool {
        cursor.is_none_or(|c| c == RELIST || c.is_empty())
    }

    /// The whole `products` connection (products and services) counts once, under products.
    async fn estimate(&self, entity: &EntityType) -> Result<Option<u64>, UpstreamError> {
        if entity.kind != Some(ItemKind::Product) {
            return Ok(None);
        }
        Ok(self.page(1, None, None).await?.products.total_count)
    }

    async fn list_page(
        &self,
        entity: &EntityType,
        cursor: Option<&str>,
    ) -> Result<RemotePage, UpstreamError> {
        let after = cursor.filter(|c| *c != RELIST && !c.is_empty());
        let page = self
            .page(self.settings.page_size, after, None)
            .await?
            .products;
        let has_more = page.page_info.has_next_page;
        Ok(RemotePage {
            records: page
                .nodes
                .iter()
                .filter_map(|p| Self::record(entity, p))
                .collect(),
            categories: Vec::new(),
            cursor: if has_more {
                page.page_info.end_cursor
            } else {
                Some(RELIST.into())
            },
            has_more,
        })
    }

    async fn fetch(
        &self,
        entity: &EntityType,
        remote_id: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        let data: ProductData = match self
            .graphql(wire::product_query(), json!({ "id": remote_id }), 1.0)
            .await
        {
            Ok(d) => d,
            // Jobber answers an unknown or malformed id with an error, not with null.
            Err(UpstreamError::Rejected { status: 200, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(data.product.and_then(|p| Self::record(entity, &p)))
    }

    /// Exact name first, then trimmed case-insensitive (Jobber has no SKU; the name is it),
    /// among the products `searchTerm` finds.
    async fn find_by_code(
        &self,
        entity: &EntityType,
        code: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        let wanted = code.trim().to_lowercase();
        let mut loose: Option<ProductOrService> = None;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .page(self.settings.page_size, after.as_deref(), Some(code.trim()))
                .await?
                .products;
            for p in page.nodes {
                if map::kind_of(p.category) != entity.kind.unwrap_or(ItemKind::Product) {
                    continue;
                }
                if p.name == code {
                    return Ok(Self::record(entity, &p));
                }
                if loose.is_none() && p.name.trim().to_lowercase() == wanted {
                    loose = Some(p);
                }
            }
            match (page.page_info.has_next_page, page.page_info.end_cursor) {
                (true, Some(next)) if Some(&next) != after.as_ref() => after = Some(next),
                _ => break,
            }
        }
        Ok(loose.and_then(|p| Self::record(entity, &p)))
    }

    /// `ProductsAndServicesInput` requires `name` and `defaultUnitCost`: the name is the
    /// code (always synced), the price is the canonical `price`.
    fn required_on_create(&self, _entity: &EntityType) -> &'static [&'static str] {
        &["code", "price"]
    }

    async fn create(
        &self,
        entity: &EntityType,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        let mut input = map::to_input(fields, Some(category_of(entity)));
        // Jobber requires a price on create; an item without one is offered at 0.
        input.default_unit_cost.get_or_insert(0.0);
        let data: CreateData = self
            .graphql(
                wire::create_mutation(),
                json!({ "input": input }),
                MUTATION_COST,
            )
            .await?;
        Self::written(entity, data.products_and_services_create)
    }

    async fn update(
        &self,
        entity: &EntityType,
        remote_id: &str,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        let input = map::to_input(fields, None);
        let data: EditData = self
            .graphql(
                wire::edit_mutation(),
                json!({ "id": remote_id, "input": input }),
                MUTATION_COST,
            )
            .await?;
        Self::written(entity, data.products_and_services_edit)
    }
}
