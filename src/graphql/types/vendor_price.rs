use async_graphql::{ID, SimpleObject};
use entity::vendor_price;
use rust_decimal::Decimal;

#[derive(SimpleObject, Clone)]
pub struct VendorPrice {
    pub id: ID,
    pub item_id: ID,
    pub vendor: String,
    pub vendor_sku: String,
    pub price: Decimal,
    pub effective_date: chrono::NaiveDate,
    pub import_run_id: Option<ID>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<vendor_price::Model> for VendorPrice {
    fn from(v: vendor_price::Model) -> Self {
        VendorPrice {
            id: v.id.into(),
            item_id: v.item_id.into(),
            vendor: v.vendor,
            vendor_sku: v.vendor_sku,
            price: v.price.display_amount(),
            effective_date: v.effective_date,
            import_run_id: v.import_run_id.map(Into::into),
            updated_at: v.updated_at,
        }
    }
}
