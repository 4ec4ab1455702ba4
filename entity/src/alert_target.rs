use sea_orm::entity::prelude::*;

/// Where alerts of an account go: a webhook URL (Slack-compatible), signed per target.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_targets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    /// Scheme and host only: the rest of a webhook URL is often its secret.
    pub url_display: String,
    /// base64(nonce || ciphertext) of `{"url", "signingSecret"}`.
    pub secret_ciphertext: String,
    /// Event names it receives (`connection.health`, `conflicts.waiting`).
    pub events: Json,
    /// Open conflicts older than this are alerted.
    pub conflict_age_minutes: i32,
    /// Open conflicts created up to here have been alerted.
    pub conflicts_alerted_until: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
