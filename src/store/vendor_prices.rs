use super::page::Listing;
use crate::error::AppResult;
use entity::vendor_price;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

#[derive(Debug, Clone, Default)]
pub struct VendorPriceFilter {
    pub item_id: Option<i64>,
    pub vendor: Option<String>,
}

/// Oldest first.
impl Listing for VendorPriceFilter {
    type Entity = vendor_price::Entity;
    const ID: vendor_price::Column = vendor_price::Column::Id;
    const NEWEST_FIRST: bool = false;

    fn select(&self, account_id: i64) -> Select<vendor_price::Entity> {
        let mut q =
            vendor_price::Entity::find().filter(vendor_price::Column::AccountId.eq(account_id));
        if let Some(i) = self.item_id {
            q = q.filter(vendor_price::Column::ItemId.eq(i));
        }
        if let Some(v) = &self.vendor {
            q = q.filter(vendor_price::Column::Vendor.eq(v.clone()));
        }
        q
    }
}

/// Vendor prices of many items (DataLoader batch), newest effective date first.
pub async fn for_items(
    db: &impl ConnectionTrait,
    account_id: i64,
    item_ids: &[i64],
) -> AppResult<Vec<vendor_price::Model>> {
    Ok(vendor_price::Entity::find()
        .filter(vendor_price::Column::AccountId.eq(account_id))
        .filter(vendor_price::Column::ItemId.is_in(item_ids.iter().copied()))
        .order_by_desc(vendor_price::Column::EffectiveDate)
        .all(db)
        .await?)
}
