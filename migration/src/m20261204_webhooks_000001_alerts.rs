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
        manager
            .create_table(
                Table::create()
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
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_targets_account")
                            .from("alert_targets", "account_id")
                            .to("accounts", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
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
        manager
            .create_table(
                Table::create()
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
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_deliveries_target")
                            .from("alert_deliveries", "target_id")
                            .to("alert_targets", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_deliveries_account")
                            .from("alert_deliveries", "account_id")
                            .to("accounts", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
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
