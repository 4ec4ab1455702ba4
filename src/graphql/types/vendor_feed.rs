use super::run::SyncRun;
use crate::graphql::state;
use crate::store;
use async_graphql::{ComplexObject, Context, Enum, ID, Json, SimpleObject};
use entity::vendor_feed;

/// How a feed's last check ended.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum FeedCheck {
    /// A new file was downloaded and applied.
    Applied,
    /// The file had not changed since the last applied download; nothing was written.
    NotModified,
    /// The download or the import failed (see `lastError`).
    Failed,
}

/// A vendor price list downloaded on a schedule and applied as a vendor-price import.
/// The full URL and request headers are stored encrypted and never returned.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct VendorFeed {
    /// The feed's id.
    pub id: ID,
    /// Runs are recorded on this connection; rows match the items linked to it.
    pub connection_id: ID,
    /// The vendor every row of the file is priced for.
    pub vendor: String,
    /// The URL without user info, query values masked.
    pub url: String,
    /// Header mapping as `uploadCsv` takes it, e.g. `{"sku": "Part", "price": "Net"}`.
    pub mapping: Json<serde_json::Value>,
    /// Cron expression in the connection's time zone.
    pub schedule: String,
    /// Whether the schedule runs (`startVendorFeed` works either way).
    pub enabled: bool,
    /// When the feed was last checked (downloaded or found unchanged).
    pub last_checked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What the last check did.
    pub last_check: Option<FeedCheck>,
    /// Why the last check failed, when it did.
    pub last_error: Option<String>,
    /// When the feed was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the feed was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    pub model: vendor_feed::Model,
}

impl From<vendor_feed::Model> for VendorFeed {
    fn from(m: vendor_feed::Model) -> Self {
        VendorFeed {
            id: m.id.into(),
            connection_id: m.connection_id.into(),
            vendor: m.vendor.clone(),
            url: m.url_display.clone(),
            mapping: Json(m.mapping.clone()),
            schedule: m.schedule.clone(),
            enabled: m.enabled,
            last_checked_at: m.last_checked_at,
            last_check: match m.last_status.as_deref() {
                Some("applied") => Some(FeedCheck::Applied),
                Some("not_modified") => Some(FeedCheck::NotModified),
                Some("failed") => Some(FeedCheck::Failed),
                _ => None,
            },
            last_error: m.last_error.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl VendorFeed {
    /// The run of the last check (its summary links the import run with the per-line
    /// errors when a file was applied).
    async fn last_run(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SyncRun>> {
        let Some(id) = self.model.last_run_id else {
            return Ok(None);
        };
        match store::runs::get(&state(ctx).db, self.model.account_id, id).await {
            Ok(run) => Ok(Some(SyncRun(run))),
            Err(crate::error::AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// When the schedule next fires (None when disabled).
    async fn next_run_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<chrono::DateTime<chrono::Utc>>> {
        if !self.model.enabled {
            return Ok(None);
        }
        let conn =
            store::connections::get_unscoped(&state(ctx).db, self.model.connection_id).await?;
        let since = self.model.last_tick_at.unwrap_or(self.model.created_at);
        Ok(
            crate::jobs::schedule::next_tick(&self.model.schedule, &conn.time_zone, since)
                .map(|t| t.max(chrono::Utc::now())),
        )
    }

    /// Names of the request headers sent (their values are secret).
    async fn header_names(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let secret = store::vendor_feeds::open_secret(&state(ctx).secrets, &self.model)?;
        Ok(secret.headers.into_keys().collect())
    }
}
