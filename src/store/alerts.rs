//! Alert targets (encrypted URL and signing secret) and the delivery outbox: rows written
//! in the transaction that caused the alert, claimed by one instance at a time
//! (compare-and-set on `claimed_until`), finished as delivered, retried or failed.

use super::page::Listing;
use crate::auth::secrets::SecretBox;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::enums::ConflictStatus;
use entity::{alert_delivery, alert_target, conflict, connection};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use std::collections::HashMap;

/// Targets one account may have: each alert is one row per target.
pub const MAX_TARGETS_PER_ACCOUNT: u64 = 20;

/// Delivery states as stored.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// What is stored encrypted.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetSecret {
    pub url: String,
    pub signing_secret: String,
}

pub struct NewTarget {
    pub name: String,
    pub url_display: String,
    pub secret: TargetSecret,
    pub events: Vec<String>,
    pub conflict_age_minutes: i32,
    pub created_by: Option<i64>,
}

pub async fn create_target(
    db: &impl ConnectionTrait,
    secrets: &SecretBox,
    account_id: i64,
    new: NewTarget,
) -> AppResult<alert_target::Model> {
    let existing = alert_target::Entity::find()
        .filter(alert_target::Column::AccountId.eq(account_id))
        .count(db)
        .await?;
    if existing >= MAX_TARGETS_PER_ACCOUNT {
        return Err(AppError::bad_input(format!(
            "an account has at most {MAX_TARGETS_PER_ACCOUNT} alert targets; delete one first"
        )));
    }
    let sealed = secrets.seal(&serde_json::to_value(&new.secret).map_err(AppError::internal)?)?;
    Ok(alert_target::ActiveModel {
        account_id: Set(account_id),
        name: Set(new.name),
        url_display: Set(new.url_display),
        secret_ciphertext: Set(sealed),
        events: Set(serde_json::json!(new.events)),
        conflict_age_minutes: Set(new.conflict_age_minutes),
        conflicts_alerted_until: Set(None),
        created_by: Set(new.created_by),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The URL and signing secret of a target.
pub fn open_secret(secrets: &SecretBox, target: &alert_target::Model) -> AppResult<TargetSecret> {
    let value = secrets.open(&target.secret_ciphertext)?;
    serde_json::from_value(value)
        .map_err(|e| AppError::Internal(format!("alert target {} secret: {e}", target.id)))
}

pub async fn targets(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> AppResult<Vec<alert_target::Model>> {
    Ok(alert_target::Entity::find()
        .filter(alert_target::Column::AccountId.eq(account_id))
        .order_by_asc(alert_target::Column::Id)
        .all(db)
        .await?)
}

pub async fn get_target(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<alert_target::Model> {
    alert_target::Entity::find_by_id(id)
        .filter(alert_target::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("alert target", id))
}

/// Deletes a target and its delivery log.
pub async fn delete_target(db: &impl ConnectionTrait, account_id: i64, id: i64) -> AppResult<()> {
    get_target(db, account_id, id).await?;
    alert_delivery::Entity::delete_many()
        .filter(alert_delivery::Column::TargetId.eq(id))
        .exec(db)
        .await?;
    alert_target::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Whether `target` receives `event`.
pub fn wants(target: &alert_target::Model, event: &str) -> bool {
    target
        .events
        .as_array()
        .is_some_and(|events| events.iter().any(|e| e.as_str() == Some(event)))
}

/// Queues `body` for `target`; sent by the background sender, never by the caller.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    target: &alert_target::Model,
    event: &str,
    body: &serde_json::Value,
) -> AppResult<alert_delivery::Model> {
    let now = Utc::now();
    Ok(alert_delivery::ActiveModel {
        account_id: Set(target.account_id),
        target_id: Set(target.id),
        event: Set(event.to_owned()),
        body: Set(body.to_string()),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Pending deliveries due at `now` and not held by a live claim, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<alert_delivery::Model>> {
    use alert_delivery::Column as D;
    Ok(alert_delivery::Entity::find()
        .filter(D::Status.eq(PENDING))
        .filter(D::NextAttemptAt.lte(now))
        .filter(D::ClaimedUntil.is_null().or(D::ClaimedUntil.lt(now)))
        .order_by_asc(D::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Takes `delivery` until `until` unless another instance took it since it was read.
pub async fn claim(
    db: &impl ConnectionTrait,
    delivery: &alert_delivery::Model,
    until: DateTime<Utc>,
) -> AppResult<bool> {
    use alert_delivery::Column as D;
    let mut q = alert_delivery::Entity::update_many()
        .col_expr(D::ClaimedUntil, Expr::value(Some(until)))
        .filter(D::Id.eq(delivery.id))
        .filter(D::Status.eq(PENDING));
    q = match delivery.claimed_until {
        Some(at) => q.filter(D::ClaimedUntil.eq(at)),
        None => q.filter(D::ClaimedUntil.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// How one attempt ended.
pub enum Attempt {
    Delivered {
        status: u16,
    },
    Retry {
        status: Option<u16>,
        error: String,
        at: DateTime<Utc>,
    },
    Failed {
        status: Option<u16>,
        error: String,
    },
}

pub async fn finish(
    db: &impl ConnectionTrait,
    delivery: &alert_delivery::Model,
    attempt: Attempt,
) -> AppResult<()> {
    let now = Utc::now();
    let mut a: alert_delivery::ActiveModel = delivery.clone().into();
    a.attempts = Set(delivery.attempts + 1);
    a.claimed_until = Set(None);
    match attempt {
        Attempt::Delivered { status } => {
            a.status = Set(DELIVERED.to_owned());
            a.last_status_code = Set(Some(status.into()));
            a.last_error = Set(None);
            a.delivered_at = Set(Some(now));
        }
        Attempt::Retry { status, error, at } => {
            a.last_status_code = Set(status.map(Into::into));
            a.last_error = Set(Some(error));
            a.next_attempt_at = Set(at);
        }
        Attempt::Failed { status, error } => {
            a.status = Set(FAILED.to_owned());
            a.last_status_code = Set(status.map(Into::into));
            a.last_error = Set(Some(error));
        }
    }
    a.update(db).await?;
    Ok(())
}

/// The delivery log, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub target_id: Option<i64>,
}

impl Listing for DeliveryFilter {
    type Entity = alert_delivery::Entity;
    const ID: alert_delivery::Column = alert_delivery::Column::Id;
    const NEWEST_FIRST: bool = true;

    fn select(&self, account_id: i64) -> Select<alert_delivery::Entity> {
        let mut q =
            alert_delivery::Entity::find().filter(alert_delivery::Column::AccountId.eq(account_id));
        if let Some(t) = self.target_id {
            q = q.filter(alert_delivery::Column::TargetId.eq(t));
        }
        q
    }
}

/// Every account's targets that receive `event` (the conflict check's look-up).
pub async fn all_targets_for(
    db: &impl ConnectionTrait,
    event: &str,
) -> AppResult<Vec<alert_target::Model>> {
    let all = alert_target::Entity::find()
        .order_by_asc(alert_target::Column::Id)
        .all(db)
        .await?;
    Ok(all.into_iter().filter(|t| wants(t, event)).collect())
}

/// Moves a target's conflict mark from `from` to `to`; false when another instance moved
/// it first (that instance sends the alert).
pub async fn move_conflict_mark(
    db: &impl ConnectionTrait,
    target_id: i64,
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
) -> AppResult<bool> {
    use alert_target::Column as T;
    let mut q = alert_target::Entity::update_many()
        .col_expr(T::ConflictsAlertedUntil, Expr::value(Some(to)))
        .filter(T::Id.eq(target_id));
    q = match from {
        Some(at) => q.filter(T::ConflictsAlertedUntil.eq(at)),
        None => q.filter(T::ConflictsAlertedUntil.is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Open conflicts of an account created in `(after, upto]`, counted per connection.
pub async fn open_conflicts_between(
    db: &impl ConnectionTrait,
    account_id: i64,
    after: Option<DateTime<Utc>>,
    upto: DateTime<Utc>,
) -> AppResult<Vec<(i64, i64)>> {
    use conflict::Column as C;
    let mut q = conflict::Entity::find()
        .select_only()
        .column(C::ConnectionId)
        .column_as(C::Id.count(), "n")
        .filter(C::AccountId.eq(account_id))
        .filter(C::Status.eq(ConflictStatus::Open))
        .filter(C::CreatedAt.lte(upto));
    if let Some(after) = after {
        q = q.filter(C::CreatedAt.gt(after));
    }
    Ok(q.group_by(C::ConnectionId)
        .order_by_asc(C::ConnectionId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?)
}

/// Names of the account's connections among `ids`.
pub async fn connection_names(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[i64],
) -> AppResult<HashMap<i64, String>> {
    Ok(connection::Entity::find()
        .filter(connection::Column::AccountId.eq(account_id))
        .filter(connection::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// Deletes finished deliveries created before `cutoff` (retention); pending ones stay.
pub async fn prune_deliveries(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> AppResult<u64> {
    use alert_delivery::Column as D;
    Ok(alert_delivery::Entity::delete_many()
        .filter(D::Status.ne(PENDING))
        .filter(D::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
