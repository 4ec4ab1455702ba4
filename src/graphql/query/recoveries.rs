use crate::graphql::types::recoveries::{
    AmazonClaim, AmazonRecoveries, AmazonReimbursement, ClaimKind, ClaimStatus, MoneyTotal,
    RecoveryKindTotals, RecoveryMonth, RecoveryStatusTotals,
};
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::types::run::SyncRun;
use crate::graphql::{caller, parse_id, state};
use crate::jobs::StartRequest;
use crate::store::recoveries::{ClaimFilter, ClaimGroup, ReimbursedDay, ReimbursementFilter};
use crate::store::{self, page::PageArgs};
use crate::sync::recoveries::rules;
use crate::sync::runner::RunParams;
use async_graphql::{Context, ID, Object};
use entity::amazon_claim::{ClaimKind as K, ClaimStatus as S};
use entity::enums::{Provider, RunMode, RunTrigger};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A connection's run that ended this recently counts as "recent": `amazonRecoveries` on a
/// connection without data does not queue another one (a run that found nothing, or failed,
/// is not retried on every page view).
pub const RECENT_RUN: chrono::Duration = chrono::Duration::minutes(15);

#[derive(Default)]
pub struct RecoveriesQuery;

/// An Amazon connection of the caller's account, or NOT_FOUND / BAD_USER_INPUT.
async fn amazon_connection(
    ctx: &Context<'_>,
    account_id: i64,
    id: &ID,
) -> async_graphql::Result<entity::connection::Model> {
    let id = parse_id(id, "connection")?;
    let conn = store::connections::get(&state(ctx).db, account_id, id).await?;
    if conn.provider != Provider::Amazon {
        return Err(crate::error::AppError::bad_input(format!(
            "connection {id} is not an Amazon connection"
        ))
        .into());
    }
    Ok(conn)
}

async fn optional_connection(
    ctx: &Context<'_>,
    account_id: i64,
    id: Option<ID>,
) -> async_graphql::Result<Option<i64>> {
    match id {
        Some(id) => Ok(Some(amazon_connection(ctx, account_id, &id).await?.id)),
        None => Ok(None),
    }
}

/// Ten-thousandths per currency → exact totals, currencies in order.
fn money(units: &BTreeMap<String, i64>) -> Vec<MoneyTotal> {
    units
        .iter()
        .map(|(currency, u)| MoneyTotal {
            currency: currency.clone(),
            amount: Decimal::new(*u, entity::money::MONEY_SCALE).normalize(),
        })
        .collect()
}

fn add(map: &mut BTreeMap<String, i64>, currency: &str, units: i64) {
    *map.entry(currency.to_owned()).or_default() += units;
}

const ALL_KINDS: [K; 5] = [
    K::LostInWarehouse,
    K::DamagedInWarehouse,
    K::RefundNotReturned,
    K::ReimbursementReversed,
    K::InboundShortage,
];
const ALL_STATUSES: [S; 5] = [
    S::Detected,
    S::Filed,
    S::Reimbursed,
    S::Expired,
    S::Dismissed,
];

fn is_open(s: S) -> bool {
    matches!(s, S::Detected | S::Filed)
}

/// The overview's figures: recovered money, claimable value, per kind, status and month.
pub struct Totals {
    pub recovered: Vec<MoneyTotal>,
    pub claimable: Vec<MoneyTotal>,
    pub by_kind: Vec<RecoveryKindTotals>,
    pub by_status: Vec<RecoveryStatusTotals>,
    pub by_month: Vec<RecoveryMonth>,
}

/// Pure and exact (integer ten-thousandths throughout).
pub fn totals(days: &[ReimbursedDay], groups: &[ClaimGroup]) -> Totals {
    let mut recovered = BTreeMap::new();
    let mut claimable = BTreeMap::new();
    #[derive(Default)]
    struct KindAcc {
        open: i64,
        quantity: i64,
        claimable: BTreeMap<String, i64>,
        recovered: BTreeMap<String, i64>,
    }
    #[derive(Default)]
    struct MonthAcc {
        recovered: BTreeMap<String, i64>,
        reimbursements: i64,
        claims: i64,
        claimable: BTreeMap<String, i64>,
    }
    let mut kinds: BTreeMap<K, KindAcc> =
        ALL_KINDS.iter().map(|k| (*k, KindAcc::default())).collect();
    let mut statuses: BTreeMap<&str, (S, i64, BTreeMap<String, i64>)> = ALL_STATUSES
        .iter()
        .map(|s| (s.as_str(), (*s, 0, BTreeMap::new())))
        .collect();
    let mut months: BTreeMap<String, MonthAcc> = BTreeMap::new();
    for d in days {
        add(&mut recovered, &d.currency, d.units);
        if let Some(kind) = rules::kind_of_reason(&d.reason)
            && let Some(k) = kinds.get_mut(&kind)
        {
            add(&mut k.recovered, &d.currency, d.units);
        }
        let m = months
            .entry(d.period.format("%Y-%m").to_string())
            .or_default();
        add(&mut m.recovered, &d.currency, d.units);
        m.reimbursements += d.lines;
    }
    for g in groups {
        let currency = g.currency.as_deref().unwrap_or("");
        let m = months
            .entry(g.event_date.format("%Y-%m").to_string())
            .or_default();
        m.claims += g.claims;
        if let Some(s) = statuses.get_mut(g.status.as_str()) {
            s.1 += g.claims;
            if g.currency.is_some() {
                add(&mut s.2, currency, g.units);
            }
        }
        if !is_open(g.status) {
            continue;
        }
        let k = kinds.entry(g.kind).or_default();
        k.open += g.claims;
        k.quantity += g.quantity;
        if g.currency.is_some() {
            add(&mut k.claimable, currency, g.units);
            add(&mut claimable, currency, g.units);
            add(&mut m.claimable, currency, g.units);
        }
    }
    Totals {
        recovered: money(&recovered),
        claimable: money(&claimable),
        by_kind: kinds
            .into_iter()
            .map(|(kind, k)| RecoveryKindTotals {
                kind: kind.into(),
                open_claims: k.open,
                open_quantity: k.quantity,
                claimable: money(&k.claimable),
                recovered: money(&k.recovered),
            })
            .collect(),
        by_status: ALL_STATUSES
            .iter()
            .filter_map(|s| statuses.remove(s.as_str()))
            .map(|(status, claims, value)| RecoveryStatusTotals {
                status: status.into(),
                claims,
                value: money(&value),
            })
            .collect(),
        by_month: months
            .into_iter()
            .map(|(month, m)| RecoveryMonth {
                month,
                recovered: money(&m.recovered),
                reimbursements: m.reimbursements,
                claims: m.claims,
                claimable: money(&m.claimable),
            })
            .collect(),
    }
}

#[Object]
impl RecoveriesQuery {
    /// Lines of Amazon's FBA reimbursements report, newest first. `from`/`to` are
    /// inclusive approval days (UTC).
    #[allow(clippy::too_many_arguments)]
    async fn amazon_reimbursements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this Amazon connection's lines.")] connection_id: Option<ID>,
        #[graphql(desc = "Amazon's reason, e.g. `Lost_Warehouse`.")] reason: Option<String>,
        #[graphql(desc = "Only this seller SKU.")] sku: Option<String>,
        #[graphql(desc = "First approval day (UTC), inclusive.")] from: Option<chrono::NaiveDate>,
        #[graphql(desc = "Last approval day (UTC), inclusive.")] to: Option<chrono::NaiveDate>,
        #[graphql(desc = "Page size (at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size, walking backwards.")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<AmazonReimbursement>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let f = ReimbursementFilter {
            connection_id: optional_connection(ctx, c.account_id, connection_id).await?,
            reason,
            sku,
            from,
            to,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(relay::list(&db, c.account_id, f, &args, AmazonReimbursement::from).await?)
    }

    /// Claims detected over the recoveries data, newest first. `from`/`to` are inclusive
    /// days of the loss (UTC).
    #[allow(clippy::too_many_arguments)]
    async fn amazon_claims(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this Amazon connection's claims.")] connection_id: Option<ID>,
        #[graphql(desc = "Only claims in this status.")] status: Option<ClaimStatus>,
        #[graphql(desc = "Only claims of this kind.")] kind: Option<ClaimKind>,
        #[graphql(desc = "Only this seller SKU.")] sku: Option<String>,
        #[graphql(desc = "First day of the loss (UTC), inclusive.")] from: Option<
            chrono::NaiveDate,
        >,
        #[graphql(desc = "Last day of the loss (UTC), inclusive.")] to: Option<chrono::NaiveDate>,
        #[graphql(desc = "Page size (at most 500).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size, walking backwards.")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<AmazonClaim>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let f = ClaimFilter {
            connection_id: optional_connection(ctx, c.account_id, connection_id).await?,
            status: status.map(Into::into),
            kind: kind.map(Into::into),
            sku,
            from,
            to,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        Ok(relay::list(&db, c.account_id, f, &args, AmazonClaim::from).await?)
    }

    /// One claim.
    async fn amazon_claim(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The claim's id.")] id: ID,
    ) -> async_graphql::Result<AmazonClaim> {
        let c = caller(ctx)?;
        let id = parse_id(&id, "claim")?;
        Ok(
            store::recoveries::get_claim(&state(ctx).db, c.account_id, id)
                .await?
                .into(),
        )
    }

    /// The recoveries of an Amazon connection: money recovered, what open claims are
    /// worth, by kind, status and month. When the connection has no recoveries data yet and
    /// no run is active or ended in the last 15 minutes, an editor's or admin's request
    /// queues one sync — exactly one, even under concurrent requests and across instances
    /// (the at-most-one-active-run guarantee of `startSync`) — and answers at once with
    /// `syncStarted: true` and that run.
    async fn amazon_recoveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An Amazon connection of the caller's account.")] connection_id: ID,
    ) -> async_graphql::Result<AmazonRecoveries> {
        let c = caller(ctx)?;
        let st = state(ctx);
        let conn = amazon_connection(ctx, c.account_id, &connection_id).await?;
        let has_data = store::recoveries::has_data(&st.db, conn.id).await?;
        let mut active = store::runs::active_for_connection(&st.db, conn.id).await?;
        let mut sync_started = false;
        if !has_data && active.is_none() && c.require_editor().is_ok() {
            let recent = store::runs::latest_finished(&st.db, conn.id)
                .await?
                .and_then(|r| r.finished_at)
                .is_some_and(|at| chrono::Utc::now() - at < RECENT_RUN);
            if !recent {
                let (run, already_running) = st
                    .jobs
                    .start_sync(
                        c.account_id,
                        conn.id,
                        StartRequest {
                            mode: RunMode::Full,
                            params: RunParams::default(),
                            dry_run: false,
                            trigger: RunTrigger::User,
                            requested_by: Some(c.user_id),
                            force: false,
                        },
                    )
                    .await?;
                sync_started = !already_running;
                active = Some(run);
            }
        }
        let days = store::recoveries::reimbursed_by_day(&st.db, c.account_id, conn.id).await?;
        let groups = store::recoveries::claim_groups(&st.db, c.account_id, conn.id).await?;
        let t = totals(&days, &groups);
        Ok(AmazonRecoveries {
            connection_id: conn.id.into(),
            sync_started,
            run: active.map(SyncRun),
            has_data,
            recovered: t.recovered,
            claimable: t.claimable,
            by_kind: t.by_kind,
            by_status: t.by_status,
            by_month: t.by_month,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn totals_are_exact_per_currency_kind_status_and_month() {
        let days = vec![
            ReimbursedDay {
                period: day(9, 3),
                reason: "Lost_Warehouse".into(),
                currency: "USD".into(),
                units: 125_000,
                quantity: 1,
                lines: 1,
            },
            ReimbursedDay {
                period: day(10, 1),
                reason: "Reimbursement_Reversal".into(),
                currency: "USD".into(),
                units: -25_000,
                quantity: -1,
                lines: 1,
            },
            ReimbursedDay {
                period: day(10, 2),
                reason: "FeeCorrection".into(),
                currency: "EUR".into(),
                units: 1,
                quantity: 0,
                lines: 1,
            },
        ];
        let group = |kind, status, units, currency: Option<&str>| ClaimGroup {
            kind,
            status,
            currency: currency.map(str::to_owned),
            event_date: day(10, 5),
            units,
            quantity: 2,
            claims: 1,
        };
        let groups = vec![
            group(K::LostInWarehouse, S::Detected, 40_000, Some("USD")),
            group(K::LostInWarehouse, S::Filed, 10_005, Some("USD")),
            group(K::LostInWarehouse, S::Reimbursed, 0, Some("USD")),
            group(K::InboundShortage, S::Detected, 0, None),
        ];
        let t = totals(&days, &groups);
        assert_eq!(
            t.recovered,
            vec![
                MoneyTotal {
                    currency: "EUR".into(),
                    amount: Decimal::new(1, 4)
                },
                MoneyTotal {
                    currency: "USD".into(),
                    amount: Decimal::new(10, 0)
                },
            ]
        );
        assert_eq!(t.claimable[0].amount.to_string(), "5.0005");
        let lost = &t.by_kind[0];
        assert_eq!(lost.kind, ClaimKind::LostInWarehouse);
        assert_eq!((lost.open_claims, lost.open_quantity), (2, 4));
        assert_eq!(lost.recovered[0].amount.to_string(), "12.5");
        let reversed = t
            .by_kind
            .iter()
            .find(|k| k.kind == ClaimKind::ReimbursementReversed)
            .unwrap();
        assert_eq!(reversed.recovered[0].amount.to_string(), "-2.5");
        let inbound = t
            .by_kind
            .iter()
            .find(|k| k.kind == ClaimKind::InboundShortage)
            .unwrap();
        assert_eq!(inbound.open_claims, 1);
        assert!(
            inbound.claimable.is_empty(),
            "no value without price evidence"
        );
        assert_eq!(t.by_status.len(), 5);
        assert_eq!(t.by_status[0].claims, 2, "two DETECTED");
        let months: Vec<&str> = t.by_month.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(months, vec!["2026-09", "2026-10"]);
        assert_eq!(t.by_month[1].claims, 4);
        assert_eq!(t.by_month[1].reimbursements, 2);
    }
}
