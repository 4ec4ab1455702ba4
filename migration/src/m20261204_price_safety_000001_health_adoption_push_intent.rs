//! Connection health and adoption policy; the push intent of an item link.
//!
//! - `connections.health` (`active` | `not_connected` | `needs_reauth` | `failing` |
//!   `paused`), why and since when; changed only through `sync::health`.
//! - `connections.adoption_policy` (`conflict` | `prefer_remote` | `prefer_local`): what a
//!   first link does when the local item and the remote record differ.
//! - `item_links.push_started_hash`: the payload hash of a push whose upstream write was
//!   sent but not yet recorded, so a run resumed after a crash checks the upstream record
//!   instead of writing it a second time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite adds one column per ALTER TABLE, so every column is its own statement.
fn add(table: &'static str, column: ColumnDef) -> TableAlterStatement {
    Table::alter()
        .table(table)
        .add_column(column.to_owned())
        .to_owned()
}

fn drop(table: &'static str, column: &'static str) -> TableAlterStatement {
    Table::alter().table(table).drop_column(column).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let col = |name: &'static str| ColumnDef::new(name);
        for statement in [
            add(
                "connections",
                col("health")
                    .string_len(24)
                    .not_null()
                    .default("active")
                    .to_owned(),
            ),
            add("connections", col("health_reason").text().null().to_owned()),
            add(
                "connections",
                col("health_changed_at")
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
            add(
                "connections",
                col("adoption_policy")
                    .string_len(24)
                    .not_null()
                    .default("conflict")
                    .to_owned(),
            ),
            add(
                "item_links",
                col("push_started_hash").string_len(64).null().to_owned(),
            ),
        ] {
            manager.alter_table(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in [
            drop("item_links", "push_started_hash"),
            drop("connections", "adoption_policy"),
            drop("connections", "health_changed_at"),
            drop("connections", "health_reason"),
            drop("connections", "health"),
        ] {
            manager.alter_table(statement).await?;
        }
        Ok(())
    }
}
