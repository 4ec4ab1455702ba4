use sea_orm::entity::prelude::*;

/// Credentials and tokens of a connection, AES-256-GCM encrypted as one JSON blob.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connection_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    #[sea_orm(unique)]
    pub connection_id: i64,
    /// base64(nonce || ciphertext) of the secret JSON.
    pub ciphertext: String,
    pub access_expires_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
