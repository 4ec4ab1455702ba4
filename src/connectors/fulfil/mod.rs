//! Fulfil REST v2, products only, read-only (Fulfil is a source: the route to ShipHero
//! never writes back). `PUT /model/product.product/search_read` with `x-api-key`.
//!
//! Listing is keyset-paged on `(write_date, id)`: a page asks for rows after the last one
//! seen, so records edited mid-listing are neither skipped nor repeated by an offset shift.
//! The cursor is `c|<write_date>|<id>` while a listing continues and `w|<write_date>|<id>`
//! once it is done (the watermark stored for the next incremental run). An incremental run
//! starts `overlap` before the watermark: Fulfil stamps `write_date` when a transaction
//! starts, so a slow transaction can commit a row older than rows already seen. Rows seen
//! twice are harmless — the engine's diff finds them unchanged.
//!
//! Deletion signals: the `write_date` delta carries deactivations (`active`, applied like
//! any field); a deleted product simply stops appearing, which only a full (complete)
//! listing can tell.

pub mod map;
pub mod wire;

use super::http::{AuthFailure, HttpClient, RetryPolicy, UpstreamError};
use super::{Capabilities, Connector, EntityType, RemotePage, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record::Fields;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use entity::enums::ItemKind;
use serde_json::{Value, json};
use wire::{PRODUCT_FIELDS, PRODUCT_MODEL, Product, SearchRead};

/// The API key the sandbox emulator accepts.
pub const SANDBOX_API_KEY: &str = "sandbox-fulfil-key";
pub const SANDBOX_MERCHANT: &str = "sandbox";
/// Fulfil's documented page maximum.
pub const PAGE_SIZE: u64 = 500;
/// Our own pace (Fulfil does not document a number; it answers 429 when over).
pub const REQUESTS_PER_SECOND: u32 = 10;
pub const DEFAULT_OVERLAP_SECONDS: i64 = 60;

pub const PRODUCTS: EntityType = EntityType {
    name: "products",
    kind: Some(ItemKind::Product),
};
pub const ENTITIES: &[EntityType] = &[PRODUCTS];

#[derive(Debug, Clone)]
pub struct Settings {
    /// Up to and including `/api/v2`.
    pub base_url: String,
    pub api_key: String,
    pub requests_per_second: Option<u32>,
    pub max_retries: usize,
    pub overlap: Duration,
    pub page_size: u64,
}

impl Settings {
    pub fn from_connection(
        config: &Value,
        secrets: &Value,
        sandbox_base: &str,
    ) -> AppResult<Settings> {
        let c = |k: &str| config.get(k).and_then(Value::as_str).map(str::to_owned);
        let n = |k: &str| config.get(k).and_then(Value::as_u64);
        let sandbox = config
            .get("sandbox")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let api_key = secrets
            .get("apiKey")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let base_url = match (c("baseUrl"), sandbox, c("merchant")) {
            (Some(b), _, _) => b,
            (None, true, _) => format!("{sandbox_base}/sandbox/fulfil/api/v2"),
            (None, false, Some(m)) => format!("https://{m}.fulfil.io/api/v2"),
            (None, false, None) => {
                return Err(AppError::bad_input(
                    "Fulfil connection is missing config.merchant",
                ));
            }
        };
        let api_key = match (api_key, sandbox) {
            (Some(k), _) => k,
            (None, true) => SANDBOX_API_KEY.into(),
            (None, false) => {
                return Err(AppError::bad_input(
                    "Fulfil connection is missing secrets.apiKey",
                ));
            }
        };
        Ok(Settings {
            base_url,
            api_key,
            requests_per_second: n("requestsPerSecond")
                .map(|n| n as u32)
                .or(Some(REQUESTS_PER_SECOND)),
            max_retries: n("maxRetries").map(|n| n.min(10) as usize).unwrap_or(6),
            overlap: Duration::seconds(
                n("overlapSeconds")
                    .map(|s| s.min(86_400) as i64)
                    .unwrap_or(DEFAULT_OVERLAP_SECONDS),
            ),
            page_size: n("pageSize")
                .map(|p| p.clamp(1, PAGE_SIZE))
                .unwrap_or(PAGE_SIZE),
        })
    }
}

/// Where a listing stands: after `(write_date, id)`; `done` marks a watermark.
#[derive(Debug, Clone, PartialEq)]
struct Position {
    write_date: DateTime<Utc>,
    id: i64,
    done: bool,
}

impl Position {
    fn encode(&self) -> String {
        format!(
            "{}|{}|{}",
            if self.done { "w" } else { "c" },
            self.write_date
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.id
        )
    }

    fn decode(text: &str) -> Option<Position> {
        let mut parts = text.splitn(3, '|');
        let done = match parts.next()? {
            "w" => true,
            "c" => false,
            _ => return None,
        };
        let write_date = DateTime::parse_from_rfc3339(parts.next()?)
            .ok()?
            .with_timezone(&Utc);
        let id = parts.next()?.parse().ok()?;
        Some(Position {
            write_date,
            id,
            done,
        })
    }
}

pub struct Fulfil {
    settings: Settings,
    http: HttpClient,
}

const UNAUTHORIZED: AuthFailure = AuthFailure(&[401, 403]);

impl Fulfil {
    pub fn new(settings: Settings) -> Self {
        let policy = RetryPolicy {
            max_retries: settings.max_retries,
            ..RetryPolicy::default()
        };
        let http = HttpClient::new(settings.requests_per_second, policy);
        Fulfil { settings, http }
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        body: &SearchRead,
    ) -> Result<T, UpstreamError> {
        let url = format!(
            "{}/model/{PRODUCT_MODEL}/{method}",
            self.settings.base_url.trim_end_matches('/')
        );
        // No token source: an API key cannot be refreshed, so a 401 fails at once.
        self.http
            .json(None, UNAUTHORIZED, |c, _| {
                c.put(&url)
                    .header("x-api-key", &self.settings.api_key)
                    .json(body)
            })
            .await
    }

    async fn search(&self, filters: Vec<Value>, limit: u64) -> Result<Vec<Product>, UpstreamError> {
        let body = SearchRead {
            filters,
            fields: PRODUCT_FIELDS.iter().map(|s| s.to_string()).collect(),
            offset: Some(0),
            limit: Some(limit),
            order: vec![
                ("write_date".into(), "ASC".into()),
                ("id".into(), "ASC".into()),
            ],
        };
        let rows: Vec<Value> = self.call("search_read", &body).await?;
        Ok(rows
            .iter()
            .filter_map(|row| match Product::decode(row) {
                Ok(p) => Some(p),
                Err(e) => {
                    // Only a row without an id ends here; field errors are per value.
                    tracing::warn!("skipping an undecodable Fulfil product: {e}");
                    None
                }
            })
            .collect())
    }

    fn record(p: &Product) -> RemoteRecord {
        RemoteRecord {
            remote_id: p.id.to_string(),
            kind: ItemKind::Product,
            fields: map::to_fields(p),
            modified_on: p.write_date,
        }
    }

    /// Filters of one page: everything (inactive too) after the position.
    fn filters(&self, from: Option<&Position>) -> Vec<Value> {
        let mut filters = vec![json!(["active", "in", [true, false]])];
        match from {
            None => {}
            Some(p) if p.done => {
                let since = p.write_date - self.settings.overlap;
                filters.push(json!(["write_date", ">", wire::encode_datetime(since)]));
            }
            Some(p) => filters.push(json!([
                "OR",
                [["write_date", ">", wire::encode_datetime(p.write_date)]],
                [
                    ["write_date", "=", wire::encode_datetime(p.write_date)],
                    ["id", ">", p.id]
                ]
            ])),
        }
        filters
    }
}

#[async_trait]
impl Connector for Fulfil {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update: false,
            create: false,
        }
    }

    fn entity_types(&self) -> &'static [EntityType] {
        ENTITIES
    }

    async fn estimate(&self, _entity: &EntityType) -> Result<Option<u64>, UpstreamError> {
        let body = SearchRead {
            filters: self.filters(None),
            ..Default::default()
        };
        let n: u64 = self.call("search_count", &body).await?;
        Ok(Some(n))
    }

    /// A continuing position just before `since`: rows with `write_date >= since`.
    fn cursor_since(&self, _entity: &EntityType, since: DateTime<Utc>) -> Option<String> {
        Some(
            Position {
                write_date: since - chrono::Duration::microseconds(1),
                id: i64::MAX,
                done: false,
            }
            .encode(),
        )
    }

    async fn list_page(
        &self,
        _entity: &EntityType,
        cursor: Option<&str>,
    ) -> Result<RemotePage, UpstreamError> {
        let from = match cursor {
            Some(text) => Some(Position::decode(text).ok_or_else(|| {
                UpstreamError::Malformed(format!("unreadable Fulfil cursor '{text}'"))
            })?),
            None => None,
        };
        let limit = self.settings.page_size;
        let products = self.search(self.filters(from.as_ref()), limit).await?;
        let has_more = products.len() as u64 >= limit;
        let last = products
            .iter()
            .filter_map(|p| p.write_date.map(|w| (w, p.id)))
            .max();
        let next = match (last, &from) {
            (Some((write_date, id)), _) => Some(Position {
                write_date,
                id,
                done: !has_more,
            }),
            // Nothing new: the watermark stays where it was.
            (None, Some(p)) => Some(Position {
                done: true,
                ..p.clone()
            }),
            (None, None) => None,
        };
        // An incremental window may only reach back to before the watermark: never move
        // the watermark backwards because of rows re-read in the overlap.
        let next = match (next, &from) {
            (Some(n), Some(f)) if (n.write_date, n.id) < (f.write_date, f.id) => Some(Position {
                done: n.done,
                ..f.clone()
            }),
            (n, _) => n,
        };
        Ok(RemotePage {
            records: products.iter().map(Self::record).collect(),
            categories: Vec::new(),
            cursor: next.map(|p| p.encode()),
            has_more,
        })
    }

    async fn fetch(
        &self,
        _entity: &EntityType,
        remote_id: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        let Ok(id) = remote_id.parse::<i64>() else {
            return Ok(None);
        };
        let found = self
            .search(
                vec![
                    json!(["active", "in", [true, false]]),
                    json!(["id", "=", id]),
                ],
                1,
            )
            .await?;
        Ok(found.first().map(Self::record))
    }

    async fn find_by_code(
        &self,
        _entity: &EntityType,
        code: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        let found = self
            .search(
                vec![
                    json!(["active", "in", [true, false]]),
                    json!(["code", "=", code.trim()]),
                ],
                1,
            )
            .await?;
        Ok(found.first().map(Self::record))
    }

    async fn create(
        &self,
        _entity: &EntityType,
        _fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        Err(read_only())
    }

    async fn update(
        &self,
        _entity: &EntityType,
        _remote_id: &str,
        _fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        Err(read_only())
    }
}

fn read_only() -> UpstreamError {
    UpstreamError::Rejected {
        status: 405,
        message: "the Fulfil connector is a read-only source".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let p = Position {
            write_date: DateTime::parse_from_rfc3339("2026-11-23T10:00:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            id: 42,
            done: true,
        };
        assert_eq!(p.encode(), "w|2026-11-23T10:00:00.123456Z|42");
        assert_eq!(Position::decode(&p.encode()), Some(p));
        assert_eq!(Position::decode("x|2026|1"), None);
    }
}
