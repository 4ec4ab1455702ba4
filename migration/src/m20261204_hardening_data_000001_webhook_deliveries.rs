//! `webhook_deliveries`: the delivery ids of signed webhooks received lately, so a replay
//! of one is refused (on every instance). Rows older than the signature window are pruned
//! as new deliveries arrive.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let col = |name: &'static str| ColumnDef::new(name);
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .if_not_exists()
                    .col(
                        col("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(col("connection_id").big_integer().not_null())
                    .col(col("delivery_id").string_len(100).not_null())
                    .col(col("received_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_delivery")
                    .table("webhook_deliveries")
                    .col("connection_id")
                    .col("delivery_id")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_received")
                    .table("webhook_deliveries")
                    .col("received_at")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("webhook_deliveries").to_owned())
            .await
    }
}
