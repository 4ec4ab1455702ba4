use sea_orm::entity::prelude::*;

/// A vendor price list fetched on a schedule and applied as a vendor-price import.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vendor_feeds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// Runs are recorded on this connection; imports match the items linked to it.
    pub connection_id: i64,
    pub vendor: String,
    /// The URL as shown to users: no user info, query values masked.
    pub url_display: String,
    /// base64(nonce || ciphertext) of `{"url", "headers"}`.
    pub secret_ciphertext: String,
    /// Header mapping, as `uploadCsv` takes it.
    pub mapping: Json,
    /// Cron expression in the connection's time zone.
    pub schedule: String,
    pub enabled: bool,
    /// Validators of the last applied download (conditional GET).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The last schedule tick acted on (missed ticks coalesce).
    pub last_tick_at: Option<DateTimeUtc>,
    pub last_checked_at: Option<DateTimeUtc>,
    /// `applied` | `not_modified` | `failed`.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub last_run_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
