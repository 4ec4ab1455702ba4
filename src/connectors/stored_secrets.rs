//! The [`SecretSink`] the registry hands connectors: writes into the connection's
//! encrypted secrets, in its own write transaction, so a rotated refresh token is durable
//! before the connector uses the access token that came with it.

use super::http::UpstreamError;
use super::token::SecretSink;
use crate::auth::secrets::SecretBox;
use crate::store::{self, Db};
use async_trait::async_trait;

pub struct ConnectionSecrets {
    pub db: Db,
    pub secrets: SecretBox,
    pub connection_id: i64,
}

#[async_trait]
impl SecretSink for ConnectionSecrets {
    async fn save(&self, patch: serde_json::Value) -> Result<(), UpstreamError> {
        let stored = async {
            let txn = store::db::begin_write(&self.db).await?;
            store::connections::merge_secrets(&txn, &self.secrets, self.connection_id, &patch)
                .await?;
            txn.commit().await?;
            Ok::<_, crate::error::AppError>(())
        };
        stored.await.map_err(|e| {
            tracing::error!(connection_id = self.connection_id, error = %e.public_message(), "could not store rotated credentials");
            UpstreamError::Unauthorized("could not store the refreshed credentials".into())
        })
    }
}
