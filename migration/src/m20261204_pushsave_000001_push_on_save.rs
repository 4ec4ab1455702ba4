//! Push on save: `connections.push_on_save` (default on) — a local edit queues a push run
//! for each linked connection that has it.
//!
//! A push-on-save edit made while a run executes queues a follow-up run, so a connection
//! may now hold one *running* and one *queued* run at the same time. The single index
//! "one queued or running run per connection" becomes two: at most one running and at
//! most one queued run per connection (a queued run is only claimed once its connection
//! has no running one, see `store::runs::claim`).

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
                        ColumnDef::new("push_on_save")
                            .boolean()
                            .not_null()
                            .default(true)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_runs_one_active_per_connection")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_runs_one_running_per_connection \
             ON sync_runs (connection_id) WHERE status = 'running'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_runs_one_queued_per_connection \
             ON sync_runs (connection_id) WHERE status = 'queued'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_runs_one_running_per_connection")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_runs_one_queued_per_connection")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_runs_one_active_per_connection \
             ON sync_runs (connection_id) WHERE status IN ('queued', 'running')",
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("connections")
                    .drop_column("push_on_save")
                    .to_owned(),
            )
            .await
    }
}
