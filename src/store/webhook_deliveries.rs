//! Delivery ids of signed webhooks received within the signature window: a replay is
//! refused on every instance, and the table stays the size of one window.

use crate::error::AppResult;
use chrono::{DateTime, Utc};
use entity::webhook_delivery;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// Records a delivery; `false` when this connection already received that id. Ids older
/// than `forget_before` are dropped first (their timestamps are refused anyway).
pub async fn record(
    db: &impl ConnectionTrait,
    connection_id: i64,
    delivery_id: &str,
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> AppResult<bool> {
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::ReceivedAt.lt(forget_before))
        .exec(db)
        .await?;
    let inserted = webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
        connection_id: Set(connection_id),
        delivery_id: Set(delivery_id.to_owned()),
        received_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            webhook_delivery::Column::ConnectionId,
            webhook_delivery::Column::DeliveryId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted > 0)
}
