//! `vendor_feeds`: vendor price lists downloaded on a schedule (URL, vendor, column mapping,
//! cron), with the validators of the last download for conditional GETs. The full URL and
//! any request headers are stored AES-256-GCM encrypted, like connection secrets.

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
                    .table("vendor_feeds")
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
                    .col(col("vendor").string_len(200).not_null())
                    // The URL as shown: no user info, query values masked.
                    .col(col("url_display").text().not_null())
                    // base64(nonce || ciphertext) of {"url", "headers"}.
                    .col(col("secret_ciphertext").text().not_null())
                    .col(col("mapping").json().not_null())
                    .col(col("schedule").string_len(100).not_null())
                    .col(col("enabled").boolean().not_null().default(true))
                    .col(col("etag").text().null())
                    .col(col("last_modified").text().null())
                    .col(col("last_tick_at").timestamp_with_time_zone().null())
                    .col(col("last_checked_at").timestamp_with_time_zone().null())
                    .col(col("last_status").string_len(24).null())
                    .col(col("last_error").text().null())
                    .col(col("last_run_id").big_integer().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_vendor_feeds_account")
                    .table("vendor_feeds")
                    .col("account_id")
                    .col("id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("vendor_feeds").if_exists().to_owned())
            .await
    }
}
