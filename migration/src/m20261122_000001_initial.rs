//! Every table of the data model, with the indexes of the hot paths.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}
fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}
fn big_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().take()
}
fn int(name: &'static str, default: i32) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .default(default)
        .take()
}
fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}
fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().take()
}
fn short(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(24).not_null().take()
}
fn flag(name: &'static str, default: bool) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(default)
        .take()
}
fn json(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).json().not_null().take()
}
fn json_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).json().null().take()
}
fn ts(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}
fn ts_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}
/// Money and measures: exact decimal text (SQLite has no exact decimal type).
fn decimal_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(40).null().take()
}

fn table(name: &'static str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut t = Table::create().table(name).if_not_exists().take();
    for mut c in columns {
        t.col(&mut c);
    }
    t
}

fn index(
    table: &'static str,
    name: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut i = Index::create()
        .name(name)
        .table(table)
        .if_not_exists()
        .take();
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    i
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table(
                "accounts",
                vec![
                    id(),
                    ColumnDef::new("name")
                        .string_len(200)
                        .not_null()
                        .unique_key()
                        .take(),
                    ts("created_at"),
                ],
            ),
            table(
                "users",
                vec![
                    id(),
                    big("account_id"),
                    ColumnDef::new("email")
                        .string_len(320)
                        .not_null()
                        .unique_key()
                        .take(),
                    text("password_hash"),
                    short("role"),
                    ts("created_at"),
                    ts_null("last_login_at"),
                ],
            ),
            table(
                "connections",
                vec![
                    id(),
                    big("account_id"),
                    short("provider"),
                    ColumnDef::new("name").string_len(200).not_null().take(),
                    json("config"),
                    json("directions"),
                    short("status"),
                    ColumnDef::new("time_zone")
                        .string_len(64)
                        .not_null()
                        .default("UTC")
                        .take(),
                    text_null("incremental_cron"),
                    text_null("full_cron"),
                    flag("schedule_enabled", false),
                    text_null("schedule_paused_reason"),
                    int("consecutive_failures", 0),
                    ts_null("last_incremental_tick_at"),
                    ts_null("last_full_tick_at"),
                    flag("auto_merge_disjoint", false),
                    ts("created_at"),
                    ts("updated_at"),
                ],
            ),
            table(
                "connection_tokens",
                vec![
                    id(),
                    big("account_id"),
                    ColumnDef::new("connection_id")
                        .big_integer()
                        .not_null()
                        .unique_key()
                        .take(),
                    text("ciphertext"),
                    ts_null("access_expires_at"),
                    ts("updated_at"),
                ],
            ),
            table(
                "categories",
                vec![
                    id(),
                    big("account_id"),
                    big_null("parent_id"),
                    text("name"),
                    flag("active", true),
                    big_null("connection_id"),
                    ColumnDef::new("remote_id").string_len(64).null().take(),
                    ColumnDef::new("remote_parent_id")
                        .string_len(64)
                        .null()
                        .take(),
                    ts("created_at"),
                    ts("updated_at"),
                ],
            ),
            table(
                "items",
                vec![
                    id(),
                    big("account_id"),
                    short("kind"),
                    ColumnDef::new("code").string_len(255).not_null().take(),
                    text("name"),
                    text_null("description"),
                    decimal_text("cost"),
                    decimal_text("price"),
                    decimal_text("member_price"),
                    decimal_text("add_on_price"),
                    flag("active", true),
                    big_null("category_id"),
                    decimal_text("weight_kg"),
                    decimal_text("length_cm"),
                    decimal_text("width_cm"),
                    decimal_text("height_cm"),
                    big_null("quantity"),
                    json("attributes"),
                    ts_null("local_modified_at"),
                    ts_null("deleted_at"),
                    ts("created_at"),
                    ts("updated_at"),
                ],
            ),
            table(
                "item_links",
                vec![
                    id(),
                    big("account_id"),
                    big("item_id"),
                    big("connection_id"),
                    ColumnDef::new("entity_type")
                        .string_len(32)
                        .not_null()
                        .take(),
                    ColumnDef::new("remote_id")
                        .string_len(128)
                        .not_null()
                        .take(),
                    ts_null("remote_modified_on"),
                    ts_null("last_synced_at"),
                    json("base"),
                    ColumnDef::new("base_hash").string_len(64).not_null().take(),
                    ColumnDef::new("last_pushed_hash")
                        .string_len(64)
                        .null()
                        .take(),
                    short("sync_status"),
                    flag("deleted_remotely", false),
                    flag("paused", false),
                    big_null("last_seen_run_id"),
                    text_null("last_error"),
                    int("attempts", 0),
                    ts("updated_at"),
                ],
            ),
            table(
                "vendor_prices",
                vec![
                    id(),
                    big("account_id"),
                    big("item_id"),
                    ColumnDef::new("vendor").string_len(200).not_null().take(),
                    ColumnDef::new("vendor_sku")
                        .string_len(200)
                        .not_null()
                        .take(),
                    ColumnDef::new("price").string_len(40).not_null().take(),
                    ColumnDef::new("effective_date").date().not_null().take(),
                    big_null("import_run_id"),
                    ts("created_at"),
                    ts("updated_at"),
                ],
            ),
            table(
                "sync_runs",
                vec![
                    id(),
                    big("account_id"),
                    big("connection_id"),
                    short("mode"),
                    short("status"),
                    short("trigger"),
                    flag("dry_run", false),
                    json("params"),
                    int("progress", 0),
                    ColumnDef::new("stage").text().not_null().default("").take(),
                    ColumnDef::new("fetched")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    ColumnDef::new("created")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    ColumnDef::new("updated")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    ColumnDef::new("deleted")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    ColumnDef::new("pushed")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    ColumnDef::new("conflicts")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    ColumnDef::new("skipped")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    ColumnDef::new("errors")
                        .big_integer()
                        .not_null()
                        .default(0)
                        .take(),
                    json("checkpoint"),
                    json("summary"),
                    flag("cancel_requested", false),
                    ColumnDef::new("lease_owner").string_len(128).null().take(),
                    ts_null("lease_expires_at"),
                    int("attempts", 0),
                    text_null("error"),
                    ColumnDef::new("error_code").string_len(64).null().take(),
                    big_null("requested_by"),
                    ts("queued_at"),
                    ts_null("started_at"),
                    ts_null("finished_at"),
                    ts("updated_at"),
                ],
            ),
            table(
                "sync_events",
                vec![
                    id(),
                    big("account_id"),
                    big("run_id"),
                    big("connection_id"),
                    short("level"),
                    ColumnDef::new("kind").string_len(64).not_null().take(),
                    big_null("item_id"),
                    ColumnDef::new("remote_id").string_len(128).null().take(),
                    ColumnDef::new("code").string_len(255).null().take(),
                    text("message"),
                    json("details"),
                    ts("created_at"),
                ],
            ),
            table(
                "sync_cursors",
                vec![
                    id(),
                    big("account_id"),
                    big("connection_id"),
                    ColumnDef::new("entity_type")
                        .string_len(32)
                        .not_null()
                        .take(),
                    text("cursor"),
                    ts("updated_at"),
                ],
            ),
            table(
                "conflicts",
                vec![
                    id(),
                    big("account_id"),
                    big("connection_id"),
                    big("item_id"),
                    big("link_id"),
                    big_null("run_id"),
                    short("kind"),
                    short("status"),
                    json("fields"),
                    json("base"),
                    json("local"),
                    json_null("remote"),
                    ColumnDef::new("local_hash")
                        .string_len(64)
                        .not_null()
                        .take(),
                    ColumnDef::new("remote_hash")
                        .string_len(64)
                        .not_null()
                        .take(),
                    ColumnDef::new("resolution").string_len(24).null().take(),
                    json_null("merged"),
                    big_null("resolved_by"),
                    ts_null("resolved_at"),
                    text_null("comment"),
                    ts("created_at"),
                    ts("updated_at"),
                ],
            ),
            table(
                "audit_log",
                vec![
                    id(),
                    big("account_id"),
                    big_null("user_id"),
                    ColumnDef::new("actor").string_len(320).not_null().take(),
                    ColumnDef::new("action").string_len(64).not_null().take(),
                    ColumnDef::new("entity_type").string_len(32).null().take(),
                    ColumnDef::new("entity_id").string_len(64).null().take(),
                    json("details"),
                    ts("created_at"),
                ],
            ),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }

        let indexes = vec![
            index("users", "idx_users_account", &["account_id"], false),
            index(
                "connections",
                "idx_connections_account_name",
                &["account_id", "name"],
                true,
            ),
            index(
                "categories",
                "idx_categories_account_parent",
                &["account_id", "parent_id"],
                false,
            ),
            index(
                "categories",
                "idx_categories_connection_remote",
                &["connection_id", "remote_id"],
                true,
            ),
            index(
                "items",
                "idx_items_account_code",
                &["account_id", "code"],
                false,
            ),
            index(
                "items",
                "idx_items_account_name",
                &["account_id", "name"],
                false,
            ),
            index(
                "items",
                "idx_items_account_updated",
                &["account_id", "updated_at"],
                false,
            ),
            index(
                "item_links",
                "idx_links_connection_remote",
                &["connection_id", "remote_id", "entity_type"],
                true,
            ),
            index(
                "item_links",
                "idx_links_item_connection",
                &["item_id", "connection_id"],
                true,
            ),
            index(
                "item_links",
                "idx_links_connection_status",
                &["connection_id", "sync_status"],
                false,
            ),
            index(
                "vendor_prices",
                "idx_vendor_prices_item",
                &["item_id", "vendor", "vendor_sku", "effective_date"],
                true,
            ),
            index(
                "vendor_prices",
                "idx_vendor_prices_account",
                &["account_id", "vendor"],
                false,
            ),
            index(
                "sync_runs",
                "idx_runs_connection_status",
                &["connection_id", "status"],
                false,
            ),
            index(
                "sync_runs",
                "idx_runs_status_lease",
                &["status", "lease_expires_at"],
                false,
            ),
            index(
                "sync_runs",
                "idx_runs_account_queued",
                &["account_id", "queued_at"],
                false,
            ),
            index("sync_events", "idx_events_run", &["run_id", "id"], false),
            index(
                "sync_cursors",
                "idx_cursors_connection_entity",
                &["connection_id", "entity_type"],
                true,
            ),
            index(
                "conflicts",
                "idx_conflicts_account_status",
                &["account_id", "status"],
                false,
            ),
            index(
                "conflicts",
                "idx_conflicts_link_status",
                &["link_id", "status"],
                false,
            ),
            index(
                "audit_log",
                "idx_audit_account_created",
                &["account_id", "created_at"],
                false,
            ),
        ];
        for i in indexes {
            manager.create_index(i).await?;
        }

        // At most one queued or running run per connection, enforced by the database so it
        // holds under concurrent requests and across instances. Partial unique indexes have
        // the same syntax on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS idx_runs_one_active_per_connection \
                 ON sync_runs (connection_id) WHERE status IN ('queued', 'running')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_log",
            "conflicts",
            "sync_cursors",
            "sync_events",
            "sync_runs",
            "vendor_prices",
            "item_links",
            "items",
            "categories",
            "connection_tokens",
            "connections",
            "users",
            "accounts",
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
