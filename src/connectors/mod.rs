//! Upstream systems behind one `Connector` trait. Connectors speak each provider's real
//! wire format, know nothing of the database, and are tested against the emulators in
//! `sandbox`.

pub mod amazon;
pub mod finances;
pub mod fulfil;
pub mod http;
pub mod jobber;
pub mod oauth;
pub mod recoveries;
pub mod registry;
pub mod servicetitan;
pub mod settings;
pub mod shiphero;
pub mod stored_secrets;
pub mod token;
pub mod units;

use crate::record::Fields;
use async_trait::async_trait;
use entity::enums::{ItemKind, Provider};
use http::UpstreamError;

/// One upstream entity type, e.g. ServiceTitan `materials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityType {
    pub name: &'static str,
    /// The item kind its records become; `None` for the category tree.
    pub kind: Option<ItemKind>,
}

/// The entity types a provider's connections sync, in the order they sync them.
pub fn entity_types_of(provider: Provider) -> &'static [EntityType] {
    match provider {
        Provider::ServiceTitan => servicetitan::ENTITIES,
        Provider::Jobber => jobber::ENTITIES,
        Provider::ShipHero => shiphero::ENTITIES,
        Provider::Fulfil => fulfil::ENTITIES,
        Provider::Amazon => amazon::ENTITIES,
    }
}

/// The providers whose connections sync entity type `name` (empty for an unknown name).
pub fn providers_syncing(name: &str) -> Vec<Provider> {
    use sea_orm::Iterable;
    Provider::iter()
        .filter(|p| entity_types_of(*p).iter().any(|e| e.name == name))
        .collect()
}

/// A record as the upstream holds it, already in canonical fields.
#[derive(Debug, Clone)]
pub struct RemoteRecord {
    pub remote_id: String,
    pub kind: ItemKind,
    pub fields: Fields,
    pub modified_on: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone)]
pub struct RemoteCategory {
    pub remote_id: String,
    pub parent_remote_id: Option<String>,
    pub name: String,
    pub active: bool,
}

/// One page of a listing. `cursor` continues the listing; once `has_more` is false it is
/// the provider's "changes since now" token (stored for the next incremental run).
#[derive(Debug, Clone, Default)]
pub struct RemotePage {
    pub records: Vec<RemoteRecord>,
    pub categories: Vec<RemoteCategory>,
    pub cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Capabilities {
    pub update: bool,
    pub create: bool,
}

#[async_trait]
pub trait Connector: Send + Sync {
    fn capabilities(&self) -> Capabilities;
    /// Entity types in dependency order (categories before the items filed under them).
    fn entity_types(&self) -> &'static [EntityType];
    /// How many records a full listing will return, when cheaply known (for progress).
    async fn estimate(&self, entity: &EntityType) -> Result<Option<u64>, UpstreamError>;
    /// Lists from `cursor` (None: from the beginning, inactive records included).
    async fn list_page(
        &self,
        entity: &EntityType,
        cursor: Option<&str>,
    ) -> Result<RemotePage, UpstreamError>;
    async fn fetch(
        &self,
        entity: &EntityType,
        remote_id: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError>;
    /// The records of these remote ids that still exist upstream (absent: deleted). One
    /// `fetch` each unless the provider can read several per request.
    async fn fetch_many(
        &self,
        entity: &EntityType,
        remote_ids: &[String],
    ) -> Result<Vec<RemoteRecord>, UpstreamError> {
        let mut found = Vec::with_capacity(remote_ids.len());
        for id in remote_ids {
            found.extend(self.fetch(entity, id).await?);
        }
        Ok(found)
    }
    /// Whether a listing started at `cursor` returns every record of the entity type, so
    /// that a linked record it does not return was deleted upstream. By default only a
    /// listing from the beginning does; a provider without a change feed lists
    /// completely every time (Jobber).
    fn lists_everything_from(&self, _entity: &EntityType, cursor: Option<&str>) -> bool {
        cursor.is_none()
    }
    /// A listing cursor that starts at the records modified at or after `since`
    /// (`startSync(since:)`); `None` when the provider cannot filter by modification time.
    fn cursor_since(
        &self,
        _entity: &EntityType,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Option<String> {
        None
    }
    async fn find_by_code(
        &self,
        entity: &EntityType,
        code: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError>;
    /// The canonical fields the upstream requires when a record is created (beyond what
    /// the connector fills in itself). A create whose sync policy `IGNORE`s one of them
    /// is refused rather than sent with a made-up value ([`crate::sync::policy::Policy::created`]).
    fn required_on_create(&self, _entity: &EntityType) -> &'static [&'static str] {
        &["code"]
    }
    /// Creates a record upstream; the answer becomes the new base.
    async fn create(
        &self,
        entity: &EntityType,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError>;
    /// Writes the given canonical fields to an existing record.
    async fn update(
        &self,
        entity: &EntityType,
        remote_id: &str,
        fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError>;
    /// Financial events besides the price book (Amazon), pulled as an extra stage of a
    /// full or incremental run; `None` for providers without them.
    fn finances(&self) -> Option<&dyn finances::FinanceSource> {
        None
    }
    /// FBA recoveries data (Amazon's reimbursement and inventory-ledger reports, inbound
    /// items), pulled as a stage after the finances; `None` for other providers.
    fn recoveries(&self) -> Option<&dyn recoveries::RecoverySource> {
        None
    }
}

/// Providers whose connector writes records upstream (`Capabilities::update`): Fulfil
/// and Amazon are read here, never written.
pub fn writes_upstream(provider: entity::enums::Provider) -> bool {
    use entity::enums::Provider;
    matches!(
        provider,
        Provider::ServiceTitan | Provider::Jobber | Provider::ShipHero
    )
}

/// Providers whose connector honours `startSync(since:)` ([`Connector::cursor_since`]).
pub fn filters_by_modified_time(provider: entity::enums::Provider) -> bool {
    use entity::enums::Provider;
    matches!(provider, Provider::ServiceTitan | Provider::Fulfil)
}

/// Removes anything that looks like a credential from text that may reach logs or users:
/// every secret value this process knows ([`crate::redact::scrub`]), credential shapes, and
/// long words next to a secret-sounding name.
pub fn redact(text: &str) -> String {
    crate::redact::scrub(&redact_words(text)).into_owned()
}

fn redact_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == ',') {
        let lower = word.to_lowercase();
        let looks_secret = ["token", "secret", "password", "bearer", "apikey", "api_key"]
            .iter()
            .any(|k| lower.contains(k))
            && word.len() > 12;
        if looks_secret {
            out.push_str("[redacted]");
            if let Some(last) = word
                .chars()
                .last()
                .filter(|c| c.is_whitespace() || *c == '"' || *c == ',')
            {
                out.push(last);
            }
        } else {
            out.push_str(word);
        }
    }
    out
}
