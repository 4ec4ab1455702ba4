//! Builds (and caches) the connector of a connection from its config and secrets.
//! Cached per connection so access tokens and rate-limit state survive between runs;
//! rebuilt when the connection's settings change.

use super::Connector;
use super::amazon::{self, Amazon};
use super::fulfil::{self, Fulfil};
use super::jobber;
use super::servicetitan::{self, ServiceTitan};
use super::shiphero::{self, ShipHero};
use super::stored_secrets::ConnectionSecrets;
use crate::auth::secrets::SecretBox;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};
use dashmap::DashMap;
use entity::connection;
use entity::enums::Provider;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Connection id → (settings fingerprint, connector).
type Cache = DashMap<i64, (String, Arc<dyn Connector>)>;
/// The same for ShipHero, typed: routes need its upsert, not only the trait.
type ShipHeroCache = DashMap<i64, (String, Arc<ShipHero>)>;

#[derive(Clone)]
pub struct Registry {
    cache: Arc<Cache>,
    shiphero: Arc<ShipHeroCache>,
    secrets: SecretBox,
    /// Where sandbox connections find the emulators (this server's own URL).
    sandbox_base: Arc<std::sync::RwLock<String>>,
}

impl Registry {
    pub fn new(secrets: SecretBox, sandbox_base: String) -> Self {
        Registry {
            cache: Arc::new(DashMap::new()),
            shiphero: Arc::new(DashMap::new()),
            secrets,
            sandbox_base: Arc::new(std::sync::RwLock::new(sandbox_base)),
        }
    }

    /// The key that encrypts stored secrets (connections' and vendor feeds').
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    pub fn set_sandbox_base(&self, base: String) {
        if let Ok(mut b) = self.sandbox_base.write() {
            *b = base;
        }
    }

    pub fn sandbox_base(&self) -> String {
        self.sandbox_base
            .read()
            .map(|b| b.clone())
            .unwrap_or_default()
    }

    pub async fn connector_for(
        &self,
        db: &Db,
        conn: &connection::Model,
    ) -> AppResult<Arc<dyn Connector>> {
        let secrets = store::connections::read_secrets(db, &self.secrets, conn.id)
            .await?
            .unwrap_or_else(|| serde_json::json!({}));
        let fingerprint = hex::encode(Sha256::digest(
            format!("{}|{}|{}", conn.config, secrets, conn.updated_at).as_bytes(),
        ));
        if let Some(entry) = self.cache.get(&conn.id)
            && entry.0 == fingerprint
        {
            return Ok(entry.1.clone());
        }
        let built: Arc<dyn Connector> = match conn.provider {
            Provider::ServiceTitan => {
                Arc::new(ServiceTitan::new(servicetitan::Settings::from_connection(
                    &conn.config,
                    &secrets,
                    &self.sandbox_base(),
                )?))
            }
            Provider::Jobber => Arc::new(jobber::Jobber::new(
                jobber::Settings::from_connection(&conn.config, &secrets, &self.sandbox_base())?,
                &secrets,
                Arc::new(ConnectionSecrets {
                    db: db.clone(),
                    secrets: self.secrets.clone(),
                    connection_id: conn.id,
                }),
            )),
            Provider::Amazon => Arc::new(Amazon::new(amazon::Settings::from_connection(
                &conn.config,
                &secrets,
                &self.sandbox_base(),
            )?)),
            Provider::Fulfil => Arc::new(Fulfil::new(fulfil::Settings::from_connection(
                &conn.config,
                &secrets,
                &self.sandbox_base(),
            )?)),
            Provider::ShipHero => self.shiphero_for(db, conn).await?,
        };
        self.cache.insert(conn.id, (fingerprint, built.clone()));
        Ok(built)
    }

    pub fn forget(&self, connection_id: i64) {
        self.cache.remove(&connection_id);
        self.shiphero.remove(&connection_id);
    }

    /// The ShipHero connector of a connection (cached like `connector_for`, so its token
    /// survives between runs).
    pub async fn shiphero_for(
        &self,
        db: &Db,
        conn: &connection::Model,
    ) -> AppResult<Arc<ShipHero>> {
        if conn.provider != Provider::ShipHero {
            return Err(AppError::bad_input(format!(
                "connection {} is not a ShipHero connection",
                conn.id
            )));
        }
        let secrets = store::connections::read_secrets(db, &self.secrets, conn.id)
            .await?
            .unwrap_or_else(|| serde_json::json!({}));
        let fingerprint = hex::encode(Sha256::digest(
            format!("{}|{}|{}", conn.config, secrets, conn.updated_at).as_bytes(),
        ));
        if let Some(entry) = self.shiphero.get(&conn.id)
            && entry.0 == fingerprint
        {
            return Ok(entry.1.clone());
        }
        let built = Arc::new(ShipHero::new(
            shiphero::Settings::from_connection(&conn.config, &secrets, &self.sandbox_base())?,
            &secrets,
            Arc::new(ConnectionSecrets {
                db: db.clone(),
                secrets: self.secrets.clone(),
                connection_id: conn.id,
            }),
        ));
        self.shiphero.insert(conn.id, (fingerprint, built.clone()));
        Ok(built)
    }
}
