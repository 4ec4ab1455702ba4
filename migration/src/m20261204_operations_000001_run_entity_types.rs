//! `sync_runs.entity_types`: the entity types a run was limited to, as `,materials,services,`
//! (NULL: every entity type of its connection), so run history filters by entity type in
//! SQL. Existing runs are filled from their `params.entityTypes`. Also the indexes of a
//! connection's newest error events and of history pruning by age.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, JsonValue, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `["materials", "services"]` as `,materials,services,` (None for no types).
fn delimited(params: &JsonValue) -> Option<String> {
    let names: Vec<&str> = params
        .get("entityTypes")?
        .as_array()?
        .iter()
        .filter_map(JsonValue::as_str)
        .collect();
    (!names.is_empty()).then(|| format!(",{},", names.join(",")))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("sync_runs")
                    .add_column(ColumnDef::new("entity_types").text().null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, params FROM sync_runs",
            ))
            .await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let params: JsonValue = row.try_get("", "params")?;
            if let Some(types) = delimited(&params) {
                let update = Query::update()
                    .table("sync_runs")
                    .value("entity_types", types)
                    .and_where(Expr::col("id").eq(id))
                    .to_owned();
                manager.exec_stmt(update).await?;
            }
        }
        for (table, name, cols) in [
            (
                "sync_events",
                "idx_events_connection_level",
                &["connection_id", "level", "id"][..],
            ),
            ("sync_runs", "idx_runs_finished", &["finished_at"][..]),
            (
                "sync_runs",
                "idx_runs_connection_mode",
                &["connection_id", "mode", "id"][..],
            ),
        ] {
            let mut i = Index::create()
                .name(name)
                .table(table)
                .if_not_exists()
                .take();
            for c in cols {
                i.col(*c);
            }
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("sync_events", "idx_events_connection_level"),
            ("sync_runs", "idx_runs_finished"),
            ("sync_runs", "idx_runs_connection_mode"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("sync_runs")
                    .drop_column("entity_types")
                    .to_owned(),
            )
            .await
    }
}
