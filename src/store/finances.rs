//! Financial event lines (Amazon Finances): idempotent upserts for the engine, a Relay
//! list and an exact per-SKU, per-day summary for dashboards. Account-scoped.

use super::page::Listing;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use entity::financial_event::{self as fe, FinanceKind};
use sea_orm::sea_query::{Expr, Func, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use std::collections::HashMap;

/// Rows per statement: well under SQLite's bound-parameter limit (19 columns each).
const CHUNK: usize = 500;
/// Summary groups one request may return; narrower filters are needed beyond it.
pub const MAX_SUMMARY_GROUPS: usize = 10_000;

/// The lines of a connection already stored under these keys.
pub async fn known(
    db: &impl ConnectionTrait,
    connection_id: i64,
    keys: &[String],
) -> AppResult<HashMap<String, fe::Model>> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let rows = fe::Entity::find()
            .filter(fe::Column::ConnectionId.eq(connection_id))
            .filter(fe::Column::EventKey.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        out.extend(rows.into_iter().map(|r| (r.event_key.clone(), r)));
    }
    Ok(out)
}

/// Inserts new lines and rewrites changed ones, keyed by `(connection_id, event_key)`.
pub async fn upsert(db: &impl ConnectionTrait, rows: Vec<fe::Model>) -> AppResult<()> {
    use fe::Column as C;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<fe::ActiveModel> = rows
            .by_ref()
            .take(CHUNK)
            .map(|m| {
                let mut a = m.into_active_model().reset_all();
                a.not_set(C::Id);
                a
            })
            .collect();
        fe::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([C::ConnectionId, C::EventKey])
                    .update_columns([
                        C::PostedAt,
                        C::Period,
                        C::Sku,
                        C::OrderId,
                        C::EventType,
                        C::Kind,
                        C::Component,
                        C::Currency,
                        C::Amount,
                        C::AmountUnits,
                        C::Quantity,
                        C::RunId,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct FinanceFilter {
    pub connection_id: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub sku: Option<String>,
    pub kind: Option<FinanceKind>,
}

/// Lines in the order they were first stored (oldest window first).
impl Listing for FinanceFilter {
    type Entity = fe::Entity;
    const ID: fe::Column = fe::Column::Id;
    const NEWEST_FIRST: bool = false;

    fn select(&self, account_id: i64) -> Select<fe::Entity> {
        let mut q = fe::Entity::find().filter(fe::Column::AccountId.eq(account_id));
        if let Some(c) = self.connection_id {
            q = q.filter(fe::Column::ConnectionId.eq(c));
        }
        if let Some(from) = self.from {
            q = q.filter(fe::Column::Period.gte(from));
        }
        if let Some(to) = self.to {
            q = q.filter(fe::Column::Period.lte(to));
        }
        if let Some(sku) = &self.sku {
            q = q.filter(fe::Column::Sku.eq(sku.clone()));
        }
        if let Some(kind) = self.kind {
            q = q.filter(fe::Column::Kind.eq(kind));
        }
        q
    }

    fn validate(&self) -> AppResult<()> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(AppError::bad_input(format!(
                "from ({from}) must not be after to ({to})"
            )));
        }
        Ok(())
    }
}

/// Totals of one SKU, day, kind and currency. `units` are ten-thousandths (exact).
#[derive(Debug, Clone, PartialEq)]
pub struct DayTotal {
    pub sku: Option<String>,
    pub period: NaiveDate,
    pub kind: FinanceKind,
    pub currency: String,
    pub units: i64,
    pub lines: i64,
}

/// Sums per SKU, day, kind and currency in SQL over the exact integer column.
pub async fn day_totals(
    db: &impl ConnectionTrait,
    account_id: i64,
    f: &FinanceFilter,
) -> AppResult<Vec<DayTotal>> {
    f.validate()?;
    use fe::Column as C;
    let rows: Vec<(Option<String>, NaiveDate, FinanceKind, String, i64, i64)> = f
        .select(account_id)
        .select_only()
        .column(C::Sku)
        .column(C::Period)
        .column(C::Kind)
        .column(C::Currency)
        // PostgreSQL sums BIGINT into NUMERIC: cast back so both backends agree.
        .column_as(
            SimpleExpr::from(Func::cast_as(
                Func::sum(Expr::col(C::AmountUnits)),
                "BIGINT",
            )),
            "units",
        )
        .column_as(C::Id.count(), "lines")
        .group_by(C::Sku)
        .group_by(C::Period)
        .group_by(C::Kind)
        .group_by(C::Currency)
        .order_by_asc(C::Period)
        .order_by_asc(C::Sku)
        .order_by_asc(C::Kind)
        .order_by_asc(C::Currency)
        .limit(MAX_SUMMARY_GROUPS as u64 + 1)
        .into_tuple()
        .all(db)
        .await?;
    if rows.len() > MAX_SUMMARY_GROUPS {
        return Err(AppError::bad_input(format!(
            "more than {MAX_SUMMARY_GROUPS} groups: narrow the dates or pick a SKU"
        )));
    }
    Ok(rows
        .into_iter()
        .map(|(sku, period, kind, currency, units, lines)| DayTotal {
            sku,
            period,
            kind,
            currency,
            units,
            lines,
        })
        .collect())
}
