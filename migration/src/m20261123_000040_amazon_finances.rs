//! `financial_events`: money components of upstream financial events (Amazon Finances)
//! per SKU and day, upserted by `(connection_id, event_key)`.

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
                    .table("financial_events")
                    .if_not_exists()
                    .col(
                        col("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(col("account_id").big_integer().not_null())
                    .col(col("connection_id").big_integer().not_null())
                    .col(col("event_key").string_len(64).not_null())
                    .col(col("posted_at").timestamp_with_time_zone().not_null())
                    .col(col("period").date().not_null())
                    .col(col("sku").string_len(200).null())
                    .col(col("order_id").string_len(100).null())
                    .col(col("event_type").string_len(64).not_null())
                    .col(col("kind").string_len(24).not_null())
                    .col(col("component").string_len(100).not_null())
                    .col(col("currency").string_len(8).not_null())
                    // Exact decimal text at 4 places, like every money column.
                    .col(col("amount").string_len(40).not_null())
                    .col(col("amount_units").big_integer().not_null())
                    .col(col("quantity").integer().null())
                    .col(col("run_id").big_integer().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "idx_financial_events_key",
                &["connection_id", "event_key"][..],
                true,
            ),
            (
                "idx_financial_events_account_period",
                &["account_id", "period", "sku"][..],
                false,
            ),
            (
                "idx_financial_events_connection_period",
                &["connection_id", "period"][..],
                false,
            ),
        ] {
            let mut i = Index::create()
                .name(name)
                .table("financial_events")
                .if_not_exists()
                .take();
            for c in cols {
                i.col(*c);
            }
            if unique {
                i.unique();
            }
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table("financial_events")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
