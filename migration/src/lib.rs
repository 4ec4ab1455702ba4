//! Schema migrations, one per schema change; identical on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261123_000040_amazon_finances;
mod m20261204_amazon_recoveries_000001_tables;
pub mod m20261204_fkeys_000001_foreign_keys;
mod m20261204_hardening_data_000001_webhook_deliveries;
mod m20261204_limits_auth_000001_sessions_and_api_keys;
mod m20261204_operations_000001_run_entity_types;
mod m20261204_operations_000002_vendor_feeds;
mod m20261204_perf_000001_count_indexes;
mod m20261204_policy_000001_connection_sync_policy;
mod m20261204_price_safety_000001_health_adoption_push_intent;
mod m20261204_pushsave_000001_push_on_save;
mod m20261204_webhooks_000001_alerts;
pub mod m20261205_counts_000001_item_counts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261123_000040_amazon_finances::Migration),
            Box::new(m20261204_limits_auth_000001_sessions_and_api_keys::Migration),
            Box::new(m20261204_amazon_recoveries_000001_tables::Migration),
            Box::new(m20261204_operations_000001_run_entity_types::Migration),
            Box::new(m20261204_operations_000002_vendor_feeds::Migration),
            Box::new(m20261204_price_safety_000001_health_adoption_push_intent::Migration),
            Box::new(m20261204_hardening_data_000001_webhook_deliveries::Migration),
            Box::new(m20261204_policy_000001_connection_sync_policy::Migration),
            Box::new(m20261204_perf_000001_count_indexes::Migration),
            Box::new(m20261204_pushsave_000001_push_on_save::Migration),
            Box::new(m20261204_fkeys_000001_foreign_keys::Migration),
            Box::new(m20261204_webhooks_000001_alerts::Migration),
            Box::new(m20261205_counts_000001_item_counts::Migration),
        ]
    }
}
