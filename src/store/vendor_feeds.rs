//! Vendor price feeds: rows, their encrypted URL and headers, schedule ticks claimed once
//! across instances, and the outcome of each check.

use super::page::Listing;
use crate::auth::secrets::SecretBox;
use crate::error::{AppError, AppResult};
use entity::vendor_feed;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select, Set,
};
use std::collections::BTreeMap;

/// What is stored encrypted: the whole URL (it may carry user info or a token in its
/// query) and the request headers (e.g. `Authorization`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedSecret {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

pub struct NewFeed {
    pub connection_id: i64,
    pub vendor: String,
    pub secret: FeedSecret,
    pub url_display: String,
    pub mapping: serde_json::Value,
    pub schedule: String,
    pub enabled: bool,
}

/// A change; `None` keeps a field. A new URL or new headers forget the validators of the
/// last download, so the next check downloads the file again.
#[derive(Default)]
pub struct FeedPatch {
    pub vendor: Option<String>,
    pub secret: Option<FeedSecret>,
    pub url_display: Option<String>,
    pub mapping: Option<serde_json::Value>,
    pub schedule: Option<String>,
    pub enabled: Option<bool>,
}

/// Feeds of the account, oldest first.
#[derive(Debug, Clone, Default)]
pub struct FeedFilter {
    pub connection_id: Option<i64>,
}

impl Listing for FeedFilter {
    type Entity = vendor_feed::Entity;
    const ID: vendor_feed::Column = vendor_feed::Column::Id;
    const NEWEST_FIRST: bool = false;

    fn select(&self, account_id: i64) -> Select<vendor_feed::Entity> {
        let mut q =
            vendor_feed::Entity::find().filter(vendor_feed::Column::AccountId.eq(account_id));
        if let Some(c) = self.connection_id {
            q = q.filter(vendor_feed::Column::ConnectionId.eq(c));
        }
        q
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    account_id: i64,
    new: NewFeed,
) -> AppResult<vendor_feed::Model> {
    let now = chrono::Utc::now();
    Ok(vendor_feed::ActiveModel {
        account_id: Set(account_id),
        connection_id: Set(new.connection_id),
        vendor: Set(new.vendor),
        url_display: Set(new.url_display),
        secret_ciphertext: Set(seal(secrets, &new.secret)?),
        mapping: Set(new.mapping),
        schedule: Set(new.schedule),
        enabled: Set(new.enabled),
        etag: Set(None),
        last_modified: Set(None),
        // Ticks count from now: a feed created at noon first runs at its next tick.
        last_tick_at: Set(Some(now)),
        last_checked_at: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        last_run_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn update(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    account_id: i64,
    id: i64,
    patch: FeedPatch,
) -> AppResult<vendor_feed::Model> {
    let current = get(db, account_id, id).await?;
    let mut a: vendor_feed::ActiveModel = current.into();
    if let Some(v) = patch.vendor {
        a.vendor = Set(v);
    }
    if let Some(secret) = &patch.secret {
        a.secret_ciphertext = Set(seal(secrets, secret)?);
        a.etag = Set(None);
        a.last_modified = Set(None);
    }
    if let Some(d) = patch.url_display {
        a.url_display = Set(d);
    }
    if let Some(m) = patch.mapping {
        a.mapping = Set(m);
        // A different mapping reads the same file differently: apply it again.
        a.etag = Set(None);
        a.last_modified = Set(None);
    }
    if let Some(s) = patch.schedule {
        a.schedule = Set(s);
    }
    if let Some(e) = patch.enabled {
        a.enabled = Set(e);
    }
    a.updated_at = Set(chrono::Utc::now());
    Ok(a.update(db).await?)
}

pub async fn delete(db: &impl ConnectionTrait, account_id: i64, id: i64) -> AppResult<()> {
    get(db, account_id, id).await?;
    vendor_feed::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn get(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<vendor_feed::Model> {
    vendor_feed::Entity::find_by_id(id)
        .filter(vendor_feed::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("vendor feed", id))
}

/// Enabled feeds of every account (the scheduler's look-up).
pub async fn enabled(db: &impl ConnectionTrait) -> AppResult<Vec<vendor_feed::Model>> {
    Ok(vendor_feed::Entity::find()
        .filter(vendor_feed::Column::Enabled.eq(true))
        .all(db)
        .await?)
}

/// Moves the feed's last tick from `last` to `to`; false when another instance did first.
pub async fn move_tick(
    db: &impl ConnectionTrait,
    id: i64,
    last: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<bool> {
    use vendor_feed::Column as C;
    let mut q = vendor_feed::Entity::update_many()
        .col_expr(C::LastTickAt, Expr::value(to))
        .filter(C::Id.eq(id));
    q = match last {
        Some(t) => q.filter(Expr::col(C::LastTickAt).eq(t)),
        None => q.filter(C::LastTickAt.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// How one check of a feed ended.
pub struct Checked<'a> {
    pub run_id: i64,
    /// `applied`, `not_modified` or `failed`.
    pub status: &'a str,
    pub error: Option<String>,
    /// New validators after an applied download (None keeps the stored ones).
    pub validators: Option<(Option<String>, Option<String>)>,
}

pub async fn record_check(db: &impl ConnectionTrait, id: i64, c: Checked<'_>) -> AppResult<()> {
    use vendor_feed::Column as C;
    let now = chrono::Utc::now();
    let mut q = vendor_feed::Entity::update_many()
        .col_expr(C::LastCheckedAt, Expr::value(now))
        .col_expr(C::LastStatus, Expr::value(c.status))
        .col_expr(C::LastError, Expr::value(c.error))
        .col_expr(C::LastRunId, Expr::value(c.run_id))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id));
    if let Some((etag, last_modified)) = c.validators {
        q = q
            .col_expr(C::Etag, Expr::value(etag))
            .col_expr(C::LastModified, Expr::value(last_modified));
    }
    q.exec(db).await?;
    Ok(())
}

fn seal(secrets: &SecretBox, secret: &FeedSecret) -> AppResult<String> {
    remember(secret);
    secrets.seal_unremembered(&serde_json::to_value(secret).map_err(AppError::internal)?)
}

/// The feed's URL and headers, decrypted.
pub fn open_secret(secrets: &SecretBox, feed: &vendor_feed::Model) -> AppResult<FeedSecret> {
    let secret: FeedSecret =
        serde_json::from_value(secrets.open_unremembered(&feed.secret_ciphertext)?)
            .map_err(AppError::internal)?;
    remember(&secret);
    Ok(secret)
}

/// What of a feed is secret, for the redactor: header values, and the URL's password and
/// query values — not the URL as a whole, which errors name (masked) so they can be acted on.
fn remember(secret: &FeedSecret) {
    secret
        .headers
        .values()
        .for_each(|v| crate::redact::remember(v));
    if let Ok(url) = reqwest::Url::parse(&secret.url) {
        if let Some(password) = url.password() {
            crate::redact::remember(password);
        }
        url.query_pairs()
            .for_each(|(_, v)| crate::redact::remember(&v));
    }
}
