//! `alert_targets` and `alert_deliveries`: where alerts go (a webhook URL, stored encrypted
//! with its signing secret) and every alert sent or waiting to be sent. The delivery rows
//! are an outbox: written in the transaction that caused the alert, claimed by one
//! instance at a time, retried with backoff, kept as the delivery log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let col = |name: &'static str| ColumnDef::new(name);
        let id = || {
            col("id")
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key()
                .to_owned()
        };
        let targets = Table::create()
            .table("alert_targets")
            .if_not_exists()
            .col(id())
            .col(col("account_id").big_integer().not_null())
            .col(col("name").string_len(200).not_null())
            // The URL as shown: scheme and host only (the path of a Slack URL is its secret).
            .col(col("url_display").text().not_null())
            // base64(nonce || ciphertext) of {"url", "signingSecret"}.
            .col(col("secret_ciphertext").text().not_null())
            // Which events it receives: JSON array of event names.
            .col(col("events").json().not_null())
            .col(col("conflict_age_minutes").integer().not_null())
            // Open conflicts created up to here have been alerted (compare-and-set).
            .col(
                col("conflicts_alerted_until")
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(col("created_by").big_integer().null())
            .col(col("created_at").timestamp_with_time_zone().not_null())
            .to_owned();
        create_with_keys(
            manager,
            "alert_targets",
            targets,
            &[("account_id", "accounts")],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_targets_account")
                    .table("alert_targets")
                    .col("account_id")
                    .col("id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        let deliveries = Table::create()
            .table("alert_deliveries")
            .if_not_exists()
            .col(id())
            .col(col("account_id").big_integer().not_null())
            .col(col("target_id").big_integer().not_null())
            .col(col("event").string_len(40).not_null())
            // The JSON body exactly as sent (and signed).
            .col(col("body").text().not_null())
            // pending | delivered | failed
            .col(col("status").string_len(16).not_null())
            .col(col("attempts").integer().not_null().default(0))
            .col(col("next_attempt_at").timestamp_with_time_zone().not_null())
            // An instance sending it holds it until then.
            .col(col("claimed_until").timestamp_with_time_zone().null())
            .col(col("last_status_code").integer().null())
            .col(col("last_error").text().null())
            .col(col("created_at").timestamp_with_time_zone().not_null())
            .col(col("delivered_at").timestamp_with_time_zone().null())
            .to_owned();
        create_with_keys(
            manager,
            "alert_deliveries",
            deliveries,
            &[("target_id", "alert_targets"), ("account_id", "accounts")],
        )
        .await?;
        // The sender's look-up: due pending rows.
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_deliveries_due")
                    .table("alert_deliveries")
                    .col("status")
                    .col("next_attempt_at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_deliveries_target")
                    .table("alert_deliveries")
                    .col("target_id")
                    .col("id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_deliveries_account")
                    .table("alert_deliveries")
                    .col("account_id")
                    .col("id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["alert_deliveries", "alert_targets"] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Creates `table` with foreign keys (ON DELETE CASCADE) on `keys` as the foreign-keys
/// migration declares them: in the table on SQLite, and `DEFERRABLE INITIALLY IMMEDIATE`
/// constraints on PostgreSQL (so `copy-db` can defer them).
async fn create_with_keys(
    manager: &SchemaManager<'_>,
    name: &str,
    mut table: TableCreateStatement,
    keys: &[(&str, &str)],
) -> Result<(), DbErr> {
    let sqlite = manager.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    if sqlite {
        for (column, parent) in keys {
            table.foreign_key(
                ForeignKey::create()
                    .name(format!("fk_{name}_{column}"))
                    .from(Alias::new(name), Alias::new(*column))
                    .to(Alias::new(*parent), Alias::new("id"))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        }
    }
    manager.create_table(table).await?;
    if !sqlite {
        for (column, parent) in keys {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE \"{name}\" ADD CONSTRAINT \"fk_{name}_{column}\" \
                     FOREIGN KEY (\"{column}\") REFERENCES \"{parent}\" (\"id\") \
                     ON DELETE CASCADE DEFERRABLE INITIALLY IMMEDIATE"
                ))
                .await?;
        }
    }
    Ok(())
}
