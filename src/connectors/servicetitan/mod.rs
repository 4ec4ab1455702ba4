//! ServiceTitan Pricebook v2: export feeds for full and incremental pulls (`continueFrom`
//! is the cursor), `GET /{entity}/{id}` for single records, `PATCH` to push.
//!
//! Deletion signals: the export feed returns records changed since `continueFrom`,
//! deactivated ones included (`active: false`, applied like any field change), but never
//! hard-deleted ones (`DELETE /{entity}/{id}`). Those show as absence from a full listing,
//! and between full runs as `404` to a push (the engine treats both as remote deletes).

mod map;
pub mod wire;

use super::http::{AuthFailure, HttpClient, RetryPolicy, UpstreamError};
use super::token::ClientCredentials;
use super::{Capabilities, Connector, EntityType, RemotePage, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record::Fields;
use async_trait::async_trait;
use entity::enums::ItemKind;
use wire::{Category, Export, Paged, Sku};

pub const PRODUCTION_BASE: &str = "https://api.servicetitan.io/pricebook/v2";
pub const PRODUCTION_AUTH: &str = "https://auth.servicetitan.io/connect/token";
/// Documented limit per app and tenant.
pub const REQUESTS_PER_SECOND: u32 = 60;
/// Credentials the sandbox emulator accepts.
pub const SANDBOX_CLIENT_ID: &str = "sandbox-client";
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-secret";
pub const SANDBOX_APP_KEY: &str = "sandbox-app-key";
pub const SANDBOX_TENANT: i64 = 1001;

pub const ENTITIES: &[EntityType] = &[
    EntityType {
        name: "categories",
        kind: None,
    },
    EntityType {
        name: "materials",
        kind: Some(ItemKind::Material),
    },
    EntityType {
        name: "equipment",
        kind: Some(ItemKind::Equipment),
    },
    EntityType {
        name: "services",
        kind: Some(ItemKind::Service),
    },
];

#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub auth_url: String,
    pub tenant: i64,
    pub client_id: String,
    pub client_secret: String,
    pub app_key: String,
    pub requests_per_second: Option<u32>,
    /// Retries of a failing call (config `maxRetries`; default 6).
    pub max_retries: usize,
}

impl Settings {
    /// From a connection's config and decrypted secrets; sandbox connections point at the
    /// emulator mounted on this server.
    pub fn from_connection(
        config: &serde_json::Value,
        secrets: &serde_json::Value,
        sandbox_base: &str,
    ) -> AppResult<Settings> {
        let s = |k: &str| secrets.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let c = |k: &str| config.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let sandbox = config
            .get("sandbox")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let tenant = config.get("tenant").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        let rate = config
            .get("requestsPerSecond")
            .and_then(|v| v.as_u64())
            .map(|n| n as u32);
        let max_retries = config
            .get("maxRetries")
            .and_then(|v| v.as_u64())
            .map(|n| n.min(10) as usize)
            .unwrap_or(6);
        if sandbox {
            let base =
                c("baseUrl").unwrap_or_else(|| format!("{sandbox_base}/sandbox/servicetitan"));
            return Ok(Settings {
                auth_url: c("authUrl").unwrap_or_else(|| format!("{base}/connect/token")),
                base_url: base,
                tenant: tenant.unwrap_or(SANDBOX_TENANT),
                client_id: s("clientId").unwrap_or_else(|| SANDBOX_CLIENT_ID.into()),
                client_secret: s("clientSecret").unwrap_or_else(|| SANDBOX_CLIENT_SECRET.into()),
                app_key: s("appKey").unwrap_or_else(|| SANDBOX_APP_KEY.into()),
                requests_per_second: rate.or(Some(REQUESTS_PER_SECOND)),
                max_retries,
            });
        }
        let missing =
            |what: &str| AppError::bad_input(format!("ServiceTitan connection is missing {what}"));
        Ok(Settings {
            base_url: c("baseUrl").unwrap_or_else(|| PRODUCTION_BASE.into()),
            auth_url: c("authUrl").unwrap_or_else(|| PRODUCTION_AUTH.into()),
            tenant: tenant.ok_or_else(|| missing("config.tenant"))?,
            client_id: s("clientId").ok_or_else(|| missing("secrets.clientId"))?,
            client_secret: s("clientSecret").ok_or_else(|| missing("secrets.clientSecret"))?,
            app_key: s("appKey").ok_or_else(|| missing("secrets.appKey"))?,
            requests_per_second: rate.or(Some(REQUESTS_PER_SECOND)),
            max_retries,
        })
    }
}

pub struct ServiceTitan {
    settings: Settings,
    http: HttpClient,
    token: ClientCredentials,
}

const UNAUTHORIZED: AuthFailure = AuthFailure(&[401]);

impl ServiceTitan {
    pub fn new(settings: Settings) -> Self {
        let policy = RetryPolicy {
            max_retries: settings.max_retries,
            ..RetryPolicy::default()
        };
        Self::with_policy(settings, policy)
    }

    pub fn with_policy(settings: Settings, policy: RetryPolicy) -> Self {
        let http = HttpClient::new(settings.requests_per_second, policy);
        let token = ClientCredentials::new(
            http.inner().clone(),
            settings.auth_url.clone(),
            settings.client_id.clone(),
            settings.client_secret.clone(),
        );
        ServiceTitan {
            settings,
            http,
            token,
        }
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/tenant/{}/{path}",
            self.settings.base_url.trim_end_matches('/'),
            self.settings.tenant
        )
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, UpstreamError> {
        let url = self.url(path);
        self.http
            .json(Some(&self.token), UNAUTHORIZED, |c, token| {
                c.get(&url)
                    .query(query)
                    .bearer_auth(token.unwrap_or_default())
                    .header("ST-App-Key", &self.settings.app_key)
            })
            .await
    }

    async fn send<T: serde::de::DeserializeOwned, B: serde::Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<T, UpstreamError> {
        let url = self.url(path);
        self.http
            .json(Some(&self.token), UNAUTHORIZED, |c, token| {
                c.request(method.clone(), &url)
                    .json(body)
                    .bearer_auth(token.unwrap_or_default())
                    .header("ST-App-Key", &self.settings.app_key)
            })
            .await
    }

    fn record(entity: &EntityType, sku: &Sku) -> Option<RemoteRecord> {
        Some(RemoteRecord {
            remote_id: sku.id.to_string(),
            kind: entity.kind?,
            fields: map::to_fields(sku),
            modified_on: sku.modified_on,
        })
    }
}

#[async_trait]
impl Connector for ServiceTitan {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update: true,
            create: true,
        }
    }

    fn entity_types(&self) -> &'static [EntityType] {
        ENTITIES
    }

    async fn estimate(&self, entity: &EntityType) -> Result<Option<u64>, UpstreamError> {
        let page: Paged<serde_json::Value> = self
            .get(
                entity.name,
                &[
                    ("page", "1".into()),
                    ("pageSize", "1".into()),
                    ("includeTotal", "true".into()),
                    ("active", "Any".into()),
                ],
            )
            .await?;
        Ok(page.total_count.map(|n| n.max(0) as u64))
    }

    async fn list_page(
        &self,
        entity: &EntityType,
        cursor: Option<&str>,
    ) -> Result<RemotePage, UpstreamError> {
        let mut query = vec![("includeRecentChanges", "true".to_owned())];
        if let Some(c) = cursor {
            query.push(("from", c.to_owned()));
        }
        let path = format!("export/{}", entity.name);
        if entity.kind.is_none() {
            let page: Export<Category> = self.get(&path, &query).await?;
            return Ok(RemotePage {
                categories: page.data.iter().map(map::to_category).collect(),
                records: Vec::new(),
                cursor: page.continue_from,
                has_more: page.has_more,
            });
        }
        let page: Export<Sku> = self.get(&path, &query).await?;
        Ok(RemotePage {
            records: page
                .data
                .iter()
                .filter_map(|s| Self::record(entity, s))
                .collect(),
            categories: Vec::new(),
            cursor: page.continue_from,
            has_more: page.has_more,
        })
    }

    /// The export feed's `from` takes a date as well as a continuation token.
    fn cursor_since(
        &self,
        _entity: &EntityType,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Option<String> {
        Some(since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }

    async fn fetch(
        &self,
        entity: &EntityType,
        remote_id: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        let path = format!("{}/{}", entity.name, remote_id);
        match self.get::<Sku>(&path, &[]).await {
            Ok(sku) => Ok(Self::record(entity, &sku)),
            Err(UpstreamError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /{entity}?ids=…` (at most 50 ids a request, inactive records included).
    async fn fetch_many(
        &self,
        entity: &EntityType,
        remote_ids: &[String],
    ) -> Result<Vec<RemoteRecord>, UpstreamError> {
        let mut found = Vec::with_capacity(remote_ids.len());
        for chunk in remote_ids.chunks(50) {
            let page: Paged<Sku> = self
                .get(
                    entity.name,
                    &[
                        ("ids", chunk.join(",")),
                        ("active", "Any".into()),
                        ("pageSize", "50".into()),
                    ],
                )
                .await?;
            found.extend(page.data.iter().filter_map(|s| Self::record(entity, s)));
        }
        Ok(found)
    }

    async fn find_by_code(
        &self,
        entity: &EntityType,
        code: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        let page: Paged<Sku> = self
            .get(
                entity.name,
                &[
                    ("searchText", code.to_owned()),
                    ("active", "Any".into()),
                    ("pageSize", "50".into()),
                ],
            )
            .await?;
        Ok(page
            .data
            .iter()
            .find(|s| s.code.as_deref().map(str::trim) == Some(code.trim()))
            .and_then(|s| Self::record(entity, s)))
    }

    async fn create(
        &self,
        entity: &EntityType,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        let body = map::to_write(fields, entity.kind == Some(ItemKind::Service));
        let sku: Sku = self.send(reqwest::Method::POST, entity.name, &body).await?;
        Self::record(entity, &sku)
            .ok_or_else(|| UpstreamError::Malformed("created record has no kind".into()))
    }

    async fn update(
        &self,
        entity: &EntityType,
        remote_id: &str,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        let body = map::to_write(fields, entity.kind == Some(ItemKind::Service));
        let sku: Sku = self
            .send(
                reqwest::Method::PATCH,
                &format!("{}/{}", entity.name, remote_id),
                &body,
            )
            .await?;
        Self::record(entity, &sku)
            .ok_or_else(|| UpstreamError::Malformed("updated record has no kind".into()))
    }
}
