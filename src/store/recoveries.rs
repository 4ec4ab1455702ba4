//! Amazon FBA recoveries: reimbursement lines, inventory-ledger rows, inbound items and
//! claims. Idempotent upserts by deterministic keys for the engine; Relay lists, totals
//! and claim updates for GraphQL. Account-scoped wherever a caller reads.

use super::page::Listing;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use entity::amazon_claim::{self as claim, ClaimKind, ClaimStatus};
use entity::amazon_inbound_item as inbound;
use entity::amazon_ledger_event as ledger;
use entity::amazon_reimbursement as reimb;
use entity::financial_event::{self as fe, FinanceKind};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Select,
};
use std::collections::HashMap;

/// Bound parameters per statement stay well under SQLite's and PostgreSQL's limits.
const MAX_PARAMS: usize = 16_000;
/// Keys per `IN (…)` look-up.
const KEYS_PER_LOOKUP: usize = 500;
/// Groups one totals query may return.
pub const MAX_GROUPS: usize = 10_000;

/// Rows of `connection_id` whose `key` column is one of `keys`, by key.
async fn known<E: EntityTrait>(
    db: &impl ConnectionTrait,
    connection: E::Column,
    key: E::Column,
    connection_id: i64,
    keys: &[String],
    key_of: impl Fn(&E::Model) -> String,
) -> AppResult<HashMap<String, E::Model>> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        let rows = E::find()
            .filter(connection.eq(connection_id))
            .filter(key.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| (key_of(&r), r)));
    }
    Ok(out)
}

/// Inserts rows, rewriting `update` columns of those whose `conflict` columns exist.
async fn upsert<E>(
    db: &impl ConnectionTrait,
    rows: Vec<E::Model>,
    id: E::Column,
    conflict: &[E::Column],
    update: &[E::Column],
) -> AppResult<()>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
{
    use sea_orm::Iterable;
    let per_row = E::Column::iter().count().max(1);
    let chunk = (MAX_PARAMS / per_row).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<E::ActiveModel> = rows
            .by_ref()
            .take(chunk)
            .map(|m| {
                let mut a = m.into_active_model().reset_all();
                a.not_set(id);
                a
            })
            .collect();
        E::insert_many(batch)
            .on_conflict(
                OnConflict::columns(conflict.iter().copied())
                    .update_columns(update.iter().copied())
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn known_reimbursements(
    db: &impl ConnectionTrait,
    connection_id: i64,
    keys: Vec<String>,
) -> AppResult<HashMap<String, reimb::Model>> {
    use reimb::Column as C;
    known::<reimb::Entity>(db, C::ConnectionId, C::RowKey, connection_id, &keys, |m| {
        m.row_key.clone()
    })
    .await
}

pub async fn upsert_reimbursements(
    db: &impl ConnectionTrait,
    rows: Vec<reimb::Model>,
) -> AppResult<()> {
    use reimb::Column as C;
    upsert::<reimb::Entity>(
        db,
        rows,
        C::Id,
        &[C::ConnectionId, C::RowKey],
        &[
            C::ReimbursementId,
            C::CaseId,
            C::OrderId,
            C::ApprovedAt,
            C::Period,
            C::Reason,
            C::Sku,
            C::Fnsku,
            C::Asin,
            C::ProductName,
            C::Condition,
            C::Currency,
            C::AmountPerUnit,
            C::AmountTotal,
            C::AmountUnits,
            C::QuantityCash,
            C::QuantityInventory,
            C::QuantityTotal,
            C::OriginalReimbursementId,
            C::OriginalReimbursementType,
            C::RunId,
            C::UpdatedAt,
        ],
    )
    .await
}

pub async fn known_ledger(
    db: &impl ConnectionTrait,
    connection_id: i64,
    keys: Vec<String>,
) -> AppResult<HashMap<String, ledger::Model>> {
    use ledger::Column as C;
    known::<ledger::Entity>(db, C::ConnectionId, C::RowKey, connection_id, &keys, |m| {
        m.row_key.clone()
    })
    .await
}

pub async fn upsert_ledger(db: &impl ConnectionTrait, rows: Vec<ledger::Model>) -> AppResult<()> {
    use ledger::Column as C;
    upsert::<ledger::Entity>(
        db,
        rows,
        C::Id,
        &[C::ConnectionId, C::RowKey],
        &[
            C::Title,
            C::Asin,
            C::ReconciledQuantity,
            C::UnreconciledQuantity,
            C::RunId,
            C::UpdatedAt,
        ],
    )
    .await
}

pub async fn known_inbound(
    db: &impl ConnectionTrait,
    connection_id: i64,
    shipment_skus: &[String],
) -> AppResult<HashMap<String, inbound::Model>> {
    // Keyed `shipment|sku`; looked up by shipment, then filtered.
    use inbound::Column as C;
    let shipments: Vec<String> = {
        let mut s: Vec<String> = shipment_skus
            .iter()
            .filter_map(|k| k.split_once('|').map(|(s, _)| s.to_owned()))
            .collect();
        s.sort();
        s.dedup();
        s
    };
    let by_shipment = known::<inbound::Entity>(
        db,
        C::ConnectionId,
        C::ShipmentId,
        connection_id,
        &shipments,
        |m| m.id.to_string(),
    )
    .await?;
    Ok(by_shipment
        .into_values()
        .map(|m| (format!("{}|{}", m.shipment_id, m.sku), m))
        .filter(|(k, _)| shipment_skus.contains(k))
        .collect())
}

pub async fn upsert_inbound(db: &impl ConnectionTrait, rows: Vec<inbound::Model>) -> AppResult<()> {
    use inbound::Column as C;
    upsert::<inbound::Entity>(
        db,
        rows,
        C::Id,
        &[C::ConnectionId, C::ShipmentId, C::Sku],
        &[
            C::Fnsku,
            C::QuantityShipped,
            C::QuantityReceived,
            C::RunId,
            C::UpdatedAt,
        ],
    )
    .await
}

// --- facts for detection -------------------------------------------------------------

/// Ledger rows of the event types the claim rules read, from `since` on.
pub async fn ledger_since(
    db: &impl ConnectionTrait,
    connection_id: i64,
    event_types: &[&str],
    since: NaiveDate,
) -> AppResult<Vec<ledger::Model>> {
    use ledger::Column as C;
    Ok(ledger::Entity::find()
        .filter(C::ConnectionId.eq(connection_id))
        .filter(C::EventType.is_in(event_types.iter().map(|s| s.to_string())))
        .filter(C::EventDate.gte(since))
        .order_by_asc(C::Id)
        .all(db)
        .await?)
}

pub async fn reimbursements_since(
    db: &impl ConnectionTrait,
    connection_id: i64,
    since: NaiveDate,
) -> AppResult<Vec<reimb::Model>> {
    use reimb::Column as C;
    Ok(reimb::Entity::find()
        .filter(C::ConnectionId.eq(connection_id))
        .filter(C::Period.gte(since))
        .order_by_asc(C::Id)
        .all(db)
        .await?)
}

pub async fn inbound_of(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Vec<inbound::Model>> {
    Ok(inbound::Entity::find()
        .filter(inbound::Column::ConnectionId.eq(connection_id))
        .order_by_asc(inbound::Column::Id)
        .all(db)
        .await?)
}

/// The principal lines of refunds (kind `Refund`) or sales (kind `Sale`) from `since`.
pub async fn principal_lines(
    db: &impl ConnectionTrait,
    connection_id: i64,
    kind: FinanceKind,
    since: NaiveDate,
) -> AppResult<Vec<fe::Model>> {
    use fe::Column as C;
    Ok(fe::Entity::find()
        .filter(C::ConnectionId.eq(connection_id))
        .filter(C::Kind.eq(kind))
        .filter(C::Component.eq("Principal"))
        .filter(C::Period.gte(since))
        .filter(C::Sku.is_not_null())
        .order_by_asc(C::PostedAt)
        .order_by_asc(C::Id)
        .all(db)
        .await?)
}

// --- claims --------------------------------------------------------------------------

/// Every claim of a connection, by claim key (the engine's view).
pub async fn claims_of(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<HashMap<String, claim::Model>> {
    Ok(claim::Entity::find()
        .filter(claim::Column::ConnectionId.eq(connection_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.claim_key.clone(), c))
        .collect())
}

pub async fn insert_claims(db: &impl ConnectionTrait, rows: Vec<claim::Model>) -> AppResult<()> {
    use claim::Column as C;
    // Only new keys reach here; a concurrent insert of the same key keeps the first.
    upsert::<claim::Entity>(
        db,
        rows,
        C::Id,
        &[C::ConnectionId, C::ClaimKey],
        &[C::UpdatedAt],
    )
    .await
}

/// Rewrites every column of an existing claim.
pub async fn save_claim(db: &impl ConnectionTrait, row: claim::Model) -> AppResult<claim::Model> {
    Ok(row.into_active_model().reset_all().update(db).await?)
}

pub async fn get_claim(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<claim::Model> {
    claim::Entity::find_by_id(id)
        .filter(claim::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("claim", id))
}

#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    pub connection_id: Option<i64>,
    pub status: Option<ClaimStatus>,
    pub kind: Option<ClaimKind>,
    pub sku: Option<String>,
    /// Inclusive bounds on the event date.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

fn check_dates(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<()> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(AppError::bad_input(format!(
            "from ({f}) must not be after to ({t})"
        ))),
        _ => Ok(()),
    }
}

/// The filters both lists share: account, connection, SKU and an inclusive day range, on
/// the columns `[account, connection, sku, day]` of `E`.
fn scoped<E: EntityTrait>(
    [account, connection, sku, day]: [E::Column; 4],
    account_id: i64,
    connection_id: Option<i64>,
    sku_is: &Option<String>,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
) -> Select<E> {
    let mut q = E::find().filter(account.eq(account_id));
    if let Some(c) = connection_id {
        q = q.filter(connection.eq(c));
    }
    if let Some(s) = sku_is {
        q = q.filter(sku.eq(s.clone()));
    }
    if let Some(from) = from {
        q = q.filter(day.gte(from));
    }
    if let Some(to) = to {
        q = q.filter(day.lte(to));
    }
    q
}

/// Newest first.
impl Listing for ClaimFilter {
    type Entity = claim::Entity;
    const ID: claim::Column = claim::Column::Id;
    const NEWEST_FIRST: bool = true;

    fn select(&self, account_id: i64) -> Select<claim::Entity> {
        use claim::Column as C;
        let mut q = scoped::<claim::Entity>(
            [C::AccountId, C::ConnectionId, C::Sku, C::EventDate],
            account_id,
            self.connection_id,
            &self.sku,
            (self.from, self.to),
        );
        if let Some(s) = self.status {
            q = q.filter(C::Status.eq(s));
        }
        if let Some(k) = self.kind {
            q = q.filter(C::Kind.eq(k));
        }
        q
    }

    fn validate(&self) -> AppResult<()> {
        check_dates(self.from, self.to)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReimbursementFilter {
    pub connection_id: Option<i64>,
    pub reason: Option<String>,
    pub sku: Option<String>,
    /// Inclusive bounds on the approval day.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Newest first.
impl Listing for ReimbursementFilter {
    type Entity = reimb::Entity;
    const ID: reimb::Column = reimb::Column::Id;
    const NEWEST_FIRST: bool = true;

    fn select(&self, account_id: i64) -> Select<reimb::Entity> {
        use reimb::Column as C;
        let mut q = scoped::<reimb::Entity>(
            [C::AccountId, C::ConnectionId, C::Sku, C::Period],
            account_id,
            self.connection_id,
            &self.sku,
            (self.from, self.to),
        );
        if let Some(r) = &self.reason {
            q = q.filter(C::Reason.eq(r.clone()));
        }
        q
    }

    fn validate(&self) -> AppResult<()> {
        check_dates(self.from, self.to)
    }
}

/// Whether a connection has any recoveries data yet.
pub async fn has_data(db: &impl ConnectionTrait, connection_id: i64) -> AppResult<bool> {
    let any_reimbursement = reimb::Entity::find()
        .filter(reimb::Column::ConnectionId.eq(connection_id))
        .select_only()
        .column(reimb::Column::Id)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some();
    if any_reimbursement {
        return Ok(true);
    }
    Ok(ledger::Entity::find()
        .filter(ledger::Column::ConnectionId.eq(connection_id))
        .select_only()
        .column(ledger::Column::Id)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

/// `SUM` of an integer expression as BIGINT on both backends (PostgreSQL sums into NUMERIC).
fn sum_bigint(e: impl Into<SimpleExpr>) -> SimpleExpr {
    SimpleExpr::from(Func::cast_as(Func::sum(e.into()), "BIGINT"))
}

fn too_many<T>(rows: Vec<T>) -> AppResult<Vec<T>> {
    if rows.len() > MAX_GROUPS {
        return Err(AppError::bad_input(format!(
            "more than {MAX_GROUPS} groups: narrow the question"
        )));
    }
    Ok(rows)
}

/// Reimbursed money of one day, reason and currency (units: ten-thousandths).
#[derive(Debug, Clone, PartialEq)]
pub struct ReimbursedDay {
    pub period: NaiveDate,
    pub reason: String,
    pub currency: String,
    pub units: i64,
    pub quantity: i64,
    pub lines: i64,
}

pub async fn reimbursed_by_day(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: i64,
) -> AppResult<Vec<ReimbursedDay>> {
    use reimb::Column as C;
    let rows: Vec<(NaiveDate, String, String, i64, i64, i64)> = reimb::Entity::find()
        .filter(C::AccountId.eq(account_id))
        .filter(C::ConnectionId.eq(connection_id))
        .select_only()
        .column(C::Period)
        .column(C::Reason)
        .column(C::Currency)
        .column_as(sum_bigint(Expr::col(C::AmountUnits)), "units")
        .column_as(sum_bigint(Expr::col(C::QuantityTotal)), "quantity")
        .column_as(C::Id.count(), "lines")
        .group_by(C::Period)
        .group_by(C::Reason)
        .group_by(C::Currency)
        .order_by_asc(C::Period)
        .limit(MAX_GROUPS as u64 + 1)
        .into_tuple()
        .all(db)
        .await?;
    Ok(too_many(rows)?
        .into_iter()
        .map(
            |(period, reason, currency, units, quantity, lines)| ReimbursedDay {
                period,
                reason,
                currency,
                units,
                quantity,
                lines,
            },
        )
        .collect())
}

/// Claims of one kind, status, currency and event day.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimGroup {
    pub kind: ClaimKind,
    pub status: ClaimStatus,
    pub currency: Option<String>,
    pub event_date: NaiveDate,
    pub units: i64,
    pub quantity: i64,
    pub claims: i64,
}

pub async fn claim_groups(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: i64,
) -> AppResult<Vec<ClaimGroup>> {
    use claim::Column as C;
    type Row = (
        ClaimKind,
        ClaimStatus,
        Option<String>,
        NaiveDate,
        i64,
        i64,
        i64,
    );
    let rows: Vec<Row> = claim::Entity::find()
        .filter(C::AccountId.eq(account_id))
        .filter(C::ConnectionId.eq(connection_id))
        .select_only()
        .column(C::Kind)
        .column(C::Status)
        .column(C::Currency)
        .column(C::EventDate)
        .column_as(sum_bigint(Expr::col(C::ValueUnits)), "units")
        .column_as(
            sum_bigint(Expr::col(C::Quantity).sub(Expr::col(C::SettledQuantity))),
            "quantity",
        )
        .column_as(C::Id.count(), "claims")
        .group_by(C::Kind)
        .group_by(C::Status)
        .group_by(C::Currency)
        .group_by(C::EventDate)
        .limit(MAX_GROUPS as u64 + 1)
        .into_tuple()
        .all(db)
        .await?;
    Ok(too_many(rows)?
        .into_iter()
        .map(
            |(kind, status, currency, event_date, units, quantity, claims)| ClaimGroup {
                kind,
                status,
                currency,
                event_date,
                units,
                quantity,
                claims,
            },
        )
        .collect())
}
