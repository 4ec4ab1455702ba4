//! Schema migrations, one per schema change; identical on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_initial;
mod m20261123_000040_amazon_finances;
mod m20261204_hardening_data_000001_webhook_deliveries;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial::Migration),
            Box::new(m20261123_000040_amazon_finances::Migration),
            Box::new(m20261204_hardening_data_000001_webhook_deliveries::Migration),
        ]
    }
}
