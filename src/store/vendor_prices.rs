use super::page::{Page, PageArgs};
use crate::error::AppResult;
use entity::vendor_price;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Select,
};

#[derive(Debug, Clone, Default)]
pub struct VendorPriceFilter {
    pub item_id: Option<i64>,
    pub vendor: Option<String>,
}

fn filtered(account_id: i64, f: &VendorPriceFilter) -> Select<vendor_price::Entity> {
    let mut q = vendor_price::Entity::find().filter(vendor_price::Column::AccountId.eq(account_id));
    if let Some(i) = f.item_id {
        q = q.filter(vendor_price::Column::ItemId.eq(i));
    }
    if let Some(v) = &f.vendor {
        q = q.filter(vendor_price::Column::Vendor.eq(v.clone()));
    }
    q
}

pub async fn list(
    db: &impl ConnectionTrait,
    account_id: i64,
    f: &VendorPriceFilter,
    args: &PageArgs,
) -> AppResult<Page<vendor_price::Model>> {
    super::page::by_id(
        db,
        filtered(account_id, f),
        vendor_price::Column::Id,
        false,
        &args.window()?,
        |m| m.id,
    )
    .await
}

pub async fn count(
    db: &impl ConnectionTrait,
    account_id: i64,
    f: &VendorPriceFilter,
) -> AppResult<u64> {
    Ok(filtered(account_id, f).count(db).await?)
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
