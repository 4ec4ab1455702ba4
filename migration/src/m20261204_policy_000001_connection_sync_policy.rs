//! Sync policy per connection: `connections.sync_policy`, a JSON object keyed by entity
//! type (or `default`) holding field ownership (`BOTH` | `REMOTE_OWNS` | `LOCAL_OWNS` |
//! `IGNORE` per canonical field) and what a local edit of a remote-owned field does.
//! An empty object keeps the behaviour from before the column existed (every field `BOTH`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("connections")
                    .add_column(
                        ColumnDef::new("sync_policy")
                            .json()
                            .not_null()
                            .default(Expr::val("{}"))
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("connections")
                    .drop_column("sync_policy")
                    .to_owned(),
            )
            .await
    }
}
