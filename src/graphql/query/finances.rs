use crate::graphql::types::finance::{FinanceKind, FinancePeriod, FinanceSummary, FinancialEvent};
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::{caller, parse_id, state};
use crate::store::finances::{DayTotal, FinanceFilter};
use crate::store::{self, page::PageArgs};
use async_graphql::{Context, ID, Object};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct FinanceQuery;

async fn filter(
    ctx: &Context<'_>,
    account_id: i64,
    connection_id: Option<ID>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    sku: Option<String>,
    kind: Option<FinanceKind>,
) -> async_graphql::Result<FinanceFilter> {
    let connection_id = match connection_id {
        Some(id) => {
            let id = parse_id(&id, "connection")?;
            // NOT_FOUND for another account's connection, like every other lookup.
            store::connections::get(&state(ctx).db, account_id, id).await?;
            Some(id)
        }
        None => None,
    };
    let f = FinanceFilter {
        connection_id,
        from,
        to,
        sku,
        kind: kind.map(Into::into),
    };
    store::page::Listing::validate(&f)?;
    Ok(f)
}

/// (period label, SKU, kind, currency): the order summary rows come in.
type GroupKey = (String, Option<String>, &'static str, String);

/// Day totals regrouped by month (exact: integer ten-thousandths).
fn by_period(days: Vec<DayTotal>, period: FinancePeriod) -> Vec<FinanceSummary> {
    let mut groups: BTreeMap<GroupKey, (FinanceKind, i64, i64)> = BTreeMap::new();
    for d in days {
        let label = match period {
            FinancePeriod::Day => d.period.format("%Y-%m-%d").to_string(),
            FinancePeriod::Month => d.period.format("%Y-%m").to_string(),
        };
        let e = groups
            .entry((label, d.sku, d.kind.as_str(), d.currency))
            .or_insert((d.kind.into(), 0, 0));
        e.1 += d.units;
        e.2 += d.lines;
    }
    groups
        .into_iter()
        .map(
            |((period, sku, _, currency), (kind, units, lines))| FinanceSummary {
                sku,
                period,
                kind,
                currency,
                amount: Decimal::new(units, entity::money::MONEY_SCALE).normalize(),
                lines,
            },
        )
        .collect()
}

#[Object]
impl FinanceQuery {
    /// Amazon financial event lines (one per charge, fee or promotion), oldest first.
    /// `from`/`to` are inclusive UTC days.
    #[allow(clippy::too_many_arguments)]
    async fn amazon_finances(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this Amazon connection.")] connection_id: Option<ID>,
        #[graphql(desc = "First UTC day included (YYYY-MM-DD).")] from: Option<chrono::NaiveDate>,
        #[graphql(desc = "Last UTC day included (YYYY-MM-DD).")] to: Option<chrono::NaiveDate>,
        #[graphql(desc = "Only this seller SKU.")] sku: Option<String>,
        #[graphql(desc = "Only lines of this kind.")] kind: Option<FinanceKind>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<FinancialEvent>> {
        let c = caller(ctx)?;
        let f = filter(ctx, c.account_id, connection_id, from, to, sku, kind).await?;
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(&state(ctx).db, c.account_id, f, &args, FinancialEvent::from).await?)
    }

    /// Exact totals per SKU, period (day or month), kind and currency, for dashboards.
    #[allow(clippy::too_many_arguments)]
    async fn amazon_finance_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this Amazon connection.")] connection_id: Option<ID>,
        #[graphql(desc = "First UTC day included (YYYY-MM-DD).")] from: Option<chrono::NaiveDate>,
        #[graphql(desc = "Last UTC day included (YYYY-MM-DD).")] to: Option<chrono::NaiveDate>,
        #[graphql(desc = "Only this seller SKU.")] sku: Option<String>,
        #[graphql(desc = "Only lines of this kind.")] kind: Option<FinanceKind>,
        #[graphql(
            default,
            desc = "Total per UTC day or per calendar month (default DAY)."
        )]
        group_by: FinancePeriod,
    ) -> async_graphql::Result<Vec<FinanceSummary>> {
        let c = caller(ctx)?;
        let f = filter(ctx, c.account_id, connection_id, from, to, sku, kind).await?;
        let days = store::finances::day_totals(&state(ctx).db, c.account_id, &f).await?;
        Ok(by_period(days, group_by))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::financial_event::FinanceKind as K;

    #[test]
    fn months_sum_days_exactly() {
        let day = |d: u32, units: i64| DayTotal {
            sku: Some("A".into()),
            period: chrono::NaiveDate::from_ymd_opt(2026, 10, d).unwrap(),
            kind: K::Sale,
            currency: "USD".into(),
            units,
            lines: 1,
        };
        let rows = by_period(vec![day(1, 1_000), day(2, 2_005)], FinancePeriod::Month);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].period, "2026-10");
        assert_eq!(rows[0].amount.to_string(), "0.3005");
        assert_eq!(rows[0].lines, 2);
        assert_eq!(
            by_period(vec![day(1, 1), day(2, 1)], FinancePeriod::Day).len(),
            2
        );
    }
}
