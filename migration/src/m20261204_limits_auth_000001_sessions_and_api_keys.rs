//! Revocable sessions and API keys.
//!
//! `users.token_version` is written into every session token; bumping it (role or password
//! change, "sign out everywhere") makes every older token of that user invalid at once.
//! `api_keys` holds long-lived credentials for dashboards and integrations: only a SHA-256
//! of the key is stored (the key itself is shown once), with a role and an account like a
//! user, and a revocation time instead of a delete so the audit trail keeps its name.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(
                        ColumnDef::new("token_version")
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let col = |name: &'static str| ColumnDef::new(name);
        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .if_not_exists()
                    .col(
                        col("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(col("account_id").big_integer().not_null())
                    .col(col("name").string_len(100).not_null())
                    .col(col("role").string_len(24).not_null())
                    // The first characters of the key, so people can tell keys apart.
                    .col(col("key_prefix").string_len(16).not_null())
                    // Hex SHA-256 of the whole key.
                    .col(col("key_hash").string_len(64).not_null())
                    .col(col("created_by").big_integer().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("last_used_at").timestamp_with_time_zone().null())
                    .col(col("revoked_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            ("idx_api_keys_hash", &["key_hash"][..], true),
            ("idx_api_keys_account", &["account_id", "id"][..], false),
        ] {
            let mut i = Index::create()
                .name(name)
                .table("api_keys")
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
            .drop_table(Table::drop().table("api_keys").if_exists().to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column("token_version")
                    .to_owned(),
            )
            .await
    }
}
