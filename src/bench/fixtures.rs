//! Data for the CSV benchmark and the 100,000-row import test: local items inserted
//! straight into the store (no upstream needed) and a matching vendor price list.

use crate::error::AppResult;
use crate::store::{Db, sync_state};
use entity::enums::ItemKind;
use entity::{Money, item};
use rust_decimal::Decimal;
use std::fmt::Write;

/// Inserts `n` live materials with codes `VP-000000`…, as a sync would have.
pub async fn seed_local_items(db: &Db, account_id: i64, n: usize) -> AppResult<()> {
    let now = chrono::Utc::now();
    let rows: Vec<item::Model> = (0..n)
        .map(|i| item::Model {
            id: 0,
            account_id,
            kind: ItemKind::Material,
            code: code(i),
            name: format!("Bench part {i}"),
            description: None,
            cost: Some(Money::new(Decimal::new(100 + i as i64 % 5_000, 2))),
            price: None,
            member_price: None,
            add_on_price: None,
            active: true,
            category_id: None,
            weight_kg: None,
            length_cm: None,
            width_cm: None,
            height_cm: None,
            quantity: None,
            attributes: serde_json::json!({}),
            local_modified_at: None,
            deleted_at: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    let txn = crate::store::db::begin_write(db).await?;
    for chunk in rows.chunks(1_000) {
        sync_state::insert_items(&txn, chunk.to_vec()).await?;
    }
    txn.commit().await?;
    Ok(())
}

pub fn code(i: usize) -> String {
    format!("VP-{i:06}")
}

/// A vendor price list for the items of [`seed_local_items`]: one row each, with the
/// money formats people send (`$`, thousands separators, quoted fields).
pub fn vendor_price_file(n: usize) -> Vec<u8> {
    let mut out = String::with_capacity(n * 48 + 64);
    out.push_str("SKU,Vendor,Vendor SKU,Price,Effective Date\n");
    for i in 0..n {
        let code = code(i);
        let _ = match i % 4 {
            0 => writeln!(
                out,
                "{code},Acme Supply,AC-{i},{}.{:02},2026-12-01",
                1 + i % 900,
                i % 100
            ),
            1 => writeln!(
                out,
                "{code},Acme Supply,AC-{i},\"$1,{:03}.50\",2026-12-01",
                i % 1000
            ),
            2 => writeln!(out, "{code},Ferguson,FG-{i}, {}.5 ,2026-12-01", i % 300),
            _ => writeln!(
                out,
                "\"{code}\",\"Ferguson\",\"FG-{i}\",\"${}\",12/01/2026",
                2 + i % 70
            ),
        };
    }
    out.into_bytes()
}
