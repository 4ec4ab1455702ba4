//! Covering indexes for `items { totalCount }` under the common filters: live items of an
//! account by kind and active flag, and the item ids of links by sync status or by
//! connection. Counting then reads only index pages (SQLite) or plans an index-only scan
//! (PostgreSQL) instead of every item row. `idx_links_connection_status` is widened to carry
//! `account_id` and `item_id`, so the index count on `item_links` (and its write cost) stays
//! the same plus one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NEW: &[(&str, &str, &[&str])] = &[
    (
        "items",
        "idx_items_account_live",
        &["account_id", "deleted_at", "kind", "active"],
    ),
    (
        "item_links",
        "idx_links_account_status_item",
        &["account_id", "sync_status", "item_id"],
    ),
    (
        "item_links",
        "idx_links_connection_status_item",
        &["connection_id", "sync_status", "account_id", "item_id"],
    ),
];

fn create(table: &str, name: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create()
        .name(name)
        .table(Alias::new(table))
        .if_not_exists()
        .take();
    for c in cols {
        i.col(Alias::new(*c));
    }
    i
}

fn drop(table: &str, name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Alias::new(table)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name, cols) in NEW {
            manager.create_index(create(table, name, cols)).await?;
        }
        // Superseded by idx_links_connection_status_item, which starts with the same columns.
        manager
            .drop_index(drop("item_links", "idx_links_connection_status"))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(create(
                "item_links",
                "idx_links_connection_status",
                &["connection_id", "sync_status"],
            ))
            .await?;
        for (table, name, _) in NEW {
            manager.drop_index(drop(table, name)).await?;
        }
        Ok(())
    }
}
