//! Queries of CSV imports: the items a file's keys may match, and the batched writes of
//! an applied import (costs, push marks, vendor prices). Batched so 100,000 rows cost a
//! few hundred statements, not 100,000.

use crate::error::AppResult;
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::LinkStatus;
use entity::{Money, item, item_link, vendor_price};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

/// Ids per `IN (…)` list / rows per multi-row insert: under SQLite's and PostgreSQL's
/// bound-parameter limits.
const CHUNK: usize = 500;
const INSERT_CHUNK: usize = 2_000;

/// What matching needs of an item.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub cost: Option<Money>,
}

/// Live items a file may match: the account's, or only those linked to `connection_id`.
pub async fn candidates(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: Option<i64>,
) -> AppResult<Vec<Candidate>> {
    let mut q = item::Entity::find()
        .select_only()
        .columns([
            item::Column::Id,
            item::Column::Code,
            item::Column::Name,
            item::Column::Cost,
        ])
        .filter(item::Column::AccountId.eq(account_id))
        .filter(item::Column::DeletedAt.is_null());
    if let Some(c) = connection_id {
        let linked = Query::select()
            .column(item_link::Column::ItemId)
            .from(item_link::Entity)
            .and_where(item_link::Column::ConnectionId.eq(c))
            .and_where(item_link::Column::DeletedRemotely.eq(false))
            .to_owned();
        q = q.filter(item::Column::Id.in_subquery(linked));
    }
    let rows: Vec<(i64, String, String, Option<Money>)> = q.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name, cost)| Candidate {
            id,
            code,
            name,
            cost,
        })
        .collect())
}

/// Sets new costs as local edits (`local_modified_at`), a CASE per chunk of items.
pub async fn set_costs(
    db: &impl ConnectionTrait,
    account_id: i64,
    costs: &[(i64, Money)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    for chunk in costs.chunks(CHUNK) {
        let mut case = CaseStatement::new();
        for (id, cost) in chunk {
            case = case.case(item::Column::Id.eq(*id), Expr::val(*cost));
        }
        let case = case.finally(Expr::col(item::Column::Cost));
        item::Entity::update_many()
            .col_expr(item::Column::Cost, case.into())
            .col_expr(item::Column::LocalModifiedAt, Expr::value(now))
            .col_expr(item::Column::UpdatedAt, Expr::value(now))
            .filter(item::Column::AccountId.eq(account_id))
            .filter(item::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Marks the items' links on one connection as owing a push (as a local edit does);
/// links in conflict keep their state. Returns how many of the items' links now owe a
/// push (including ones that already did).
pub async fn mark_pending_push(
    db: &impl ConnectionTrait,
    connection_id: i64,
    item_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    let mut owing = 0;
    for chunk in item_ids.chunks(CHUNK) {
        item_link::Entity::update_many()
            .col_expr(
                item_link::Column::SyncStatus,
                Expr::value(LinkStatus::PendingPush.as_str()),
            )
            .col_expr(item_link::Column::UpdatedAt, Expr::value(now))
            .filter(item_link::Column::ConnectionId.eq(connection_id))
            .filter(item_link::Column::ItemId.is_in(chunk.iter().copied()))
            .filter(
                item_link::Column::SyncStatus
                    .is_in([LinkStatus::Synced.as_str(), LinkStatus::Error.as_str()]),
            )
            .exec(db)
            .await?;
        owing += item_link::Entity::find()
            .filter(item_link::Column::ConnectionId.eq(connection_id))
            .filter(item_link::Column::ItemId.is_in(chunk.iter().copied()))
            .filter(item_link::Column::SyncStatus.eq(LinkStatus::PendingPush.as_str()))
            .filter(item_link::Column::Paused.eq(false))
            .filter(item_link::Column::DeletedRemotely.eq(false))
            .count(db)
            .await?;
    }
    Ok(owing)
}

/// The identity of a vendor price: one price per item, vendor, vendor SKU and date.
pub type VendorPriceKey = (i64, String, String, NaiveDate);

/// The stored prices of these identities (those that exist), one batch of an import.
/// Driven by the unique index (item, vendor, …): the item ids are the account's own (an
/// import matched them among its items), and the account is checked as `account_id + 0`
/// so the planner does not walk the (account, vendor) index instead — every price of the
/// vendor, once per batch.
pub async fn vendor_prices_at(
    db: &impl ConnectionTrait,
    account_id: i64,
    keys: &[VendorPriceKey],
) -> AppResult<Vec<(VendorPriceKey, Money)>> {
    use std::collections::HashSet;
    use vendor_price::Column as C;
    let wanted: HashSet<&VendorPriceKey> = keys.iter().collect();
    let mut out = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let items: HashSet<i64> = chunk.iter().map(|k| k.0).collect();
        let vendors: HashSet<&str> = chunk.iter().map(|k| k.1.as_str()).collect();
        let rows: Vec<(i64, String, String, NaiveDate, Money)> = vendor_price::Entity::find()
            .select_only()
            .columns([
                C::ItemId,
                C::Vendor,
                C::VendorSku,
                C::EffectiveDate,
                C::Price,
            ])
            .filter(C::ItemId.is_in(items))
            .filter(C::Vendor.is_in(vendors))
            .filter(Expr::col(C::AccountId).add(0).eq(account_id))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(
            rows.into_iter()
                .map(|(i, v, s, d, p)| ((i, v, s, d), p))
                .filter(|(k, _)| wanted.contains(k)),
        );
    }
    Ok(out)
}

/// Inserts or re-prices vendor prices, multi-row statements keyed by the unique index.
pub async fn upsert_vendor_prices(
    db: &impl ConnectionTrait,
    account_id: i64,
    run_id: Option<i64>,
    rows: &[(VendorPriceKey, Money)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    use vendor_price::Column as C;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models =
            chunk.iter().map(
                |((item_id, vendor, sku, date), price)| vendor_price::ActiveModel {
                    account_id: Set(account_id),
                    item_id: Set(*item_id),
                    vendor: Set(vendor.clone()),
                    vendor_sku: Set(sku.clone()),
                    price: Set(*price),
                    effective_date: Set(*date),
                    import_run_id: Set(run_id),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                },
            );
        vendor_price::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([C::ItemId, C::Vendor, C::VendorSku, C::EffectiveDate])
                    .update_columns([C::Price, C::ImportRunId, C::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
