//! Amazon FBA recoveries: reimbursement report lines, inventory-ledger rows, inbound
//! shipment items and the claims detected over them, each upserted by a deterministic
//! key; and the recoveries counters of a run on `sync_runs`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn col(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
}
fn id() -> ColumnDef {
    col("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}
fn big(name: &'static str) -> ColumnDef {
    col(name).big_integer().not_null().take()
}
fn int(name: &'static str) -> ColumnDef {
    col(name).integer().not_null().default(0).take()
}
fn int_null(name: &'static str) -> ColumnDef {
    col(name).integer().null().take()
}
fn text(name: &'static str, len: u32) -> ColumnDef {
    col(name).string_len(len).not_null().take()
}
fn text_null(name: &'static str, len: u32) -> ColumnDef {
    col(name).string_len(len).null().take()
}
/// Exact decimal text at 4 places, like every money column.
fn money(name: &'static str) -> ColumnDef {
    col(name).string_len(40).not_null().take()
}
fn ts(name: &'static str) -> ColumnDef {
    col(name).timestamp_with_time_zone().not_null().take()
}
fn date(name: &'static str) -> ColumnDef {
    col(name).date().not_null().take()
}

/// `account_id`, `connection_id` first; `run_id`, timestamps last.
fn table(name: &'static str, middle: Vec<ColumnDef>) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(name).if_not_exists().col(id());
    t.col(big("account_id")).col(big("connection_id"));
    for c in middle {
        t.col(c);
    }
    t.col(col("run_id").big_integer().null())
        .col(ts("created_at"))
        .col(ts("updated_at"));
    t.take()
}

const TABLES: [&str; 4] = [
    "amazon_reimbursements",
    "amazon_ledger_events",
    "amazon_inbound_items",
    "amazon_claims",
];
const COUNTERS: [&str; 3] = ["reimbursements", "ledger_events", "claims_detected"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            table(
                "amazon_reimbursements",
                vec![
                    text("row_key", 64),
                    text("reimbursement_id", 64),
                    text_null("case_id", 64),
                    text_null("order_id", 64),
                    ts("approved_at"),
                    date("period"),
                    text("reason", 64),
                    text_null("sku", 200),
                    text_null("fnsku", 32),
                    text_null("asin", 32),
                    col("product_name").text().null().take(),
                    text_null("condition", 32),
                    text("currency", 8),
                    money("amount_per_unit"),
                    money("amount_total"),
                    big("amount_units"),
                    int("quantity_cash"),
                    int("quantity_inventory"),
                    int("quantity_total"),
                    text_null("original_reimbursement_id", 64),
                    text_null("original_reimbursement_type", 64),
                ],
            ),
            table(
                "amazon_ledger_events",
                vec![
                    text("row_key", 64),
                    date("event_date"),
                    text_null("fnsku", 32),
                    text_null("asin", 32),
                    text_null("sku", 200),
                    col("title").text().null().take(),
                    text("event_type", 32),
                    text_null("reference_id", 64),
                    int("quantity"),
                    text_null("fulfillment_center", 16),
                    text_null("disposition", 32),
                    text_null("reason", 16),
                    text_null("country", 8),
                    int_null("reconciled_quantity"),
                    int_null("unreconciled_quantity"),
                ],
            ),
            table(
                "amazon_inbound_items",
                vec![
                    text("shipment_id", 64),
                    text("sku", 200),
                    text_null("fnsku", 32),
                    int("quantity_shipped"),
                    int("quantity_received"),
                    ts("first_seen_at"),
                ],
            ),
            table(
                "amazon_claims",
                vec![
                    text("claim_key", 64),
                    text("kind", 32),
                    text("status", 24),
                    text_null("sku", 200),
                    text_null("fnsku", 32),
                    text_null("asin", 32),
                    text_null("reference", 64),
                    int("quantity"),
                    int("settled_quantity"),
                    text_null("currency", 8),
                    text_null("estimated_value", 40),
                    big("value_units"),
                    text("value_source", 16),
                    col("evidence").json().not_null().take(),
                    date("event_date"),
                    date("eligible_from"),
                    date("deadline"),
                    text_null("case_id", 64),
                    col("note").text().null().take(),
                    col("reimbursement_ids").json().not_null().take(),
                    col("detected_run_id").big_integer().null().take(),
                    ts("status_changed_at"),
                    col("status_changed_by").big_integer().null().take(),
                ],
            ),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        for (table, name, cols, unique) in [
            (
                "amazon_reimbursements",
                "idx_amazon_reimbursements_key",
                &["connection_id", "row_key"][..],
                true,
            ),
            (
                "amazon_reimbursements",
                "idx_amazon_reimbursements_account_period",
                &["account_id", "period"][..],
                false,
            ),
            (
                "amazon_ledger_events",
                "idx_amazon_ledger_events_key",
                &["connection_id", "row_key"][..],
                true,
            ),
            (
                "amazon_ledger_events",
                "idx_amazon_ledger_events_type_date",
                &["connection_id", "event_type", "event_date"][..],
                false,
            ),
            (
                "amazon_inbound_items",
                "idx_amazon_inbound_items_key",
                &["connection_id", "shipment_id", "sku"][..],
                true,
            ),
            (
                "amazon_claims",
                "idx_amazon_claims_key",
                &["connection_id", "claim_key"][..],
                true,
            ),
            (
                "amazon_claims",
                "idx_amazon_claims_account_status",
                &["account_id", "status", "kind"][..],
                false,
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
            if unique {
                i.unique();
            }
            manager.create_index(i).await?;
        }
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for name in COUNTERS {
            manager
                .alter_table(
                    Table::alter()
                        .table("sync_runs")
                        .add_column(col(name).big_integer().not_null().default(0))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in COUNTERS {
            manager
                .alter_table(
                    Table::alter()
                        .table("sync_runs")
                        .drop_column(name)
                        .to_owned(),
                )
                .await?;
        }
        for t in TABLES {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
