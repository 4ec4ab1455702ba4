use async_graphql::{ID, SimpleObject};
use entity::vendor_price;
use rust_decimal::Decimal;

/// A vendor's price for an item from an imported price list (local only, never pushed).
#[derive(SimpleObject, Clone)]
pub struct VendorPrice {
    /// The vendor price id.
    pub id: ID,
    /// The item priced.
    pub item_id: ID,
    /// The vendor (supplier) name.
    pub vendor: String,
    /// The vendor's own code for the item.
    pub vendor_sku: String,
    /// The vendor's price (exact decimal string).
    pub price: Decimal,
    /// From when the price applies.
    pub effective_date: chrono::NaiveDate,
    /// The CSV import run that last wrote it.
    pub import_run_id: Option<ID>,
    /// When it was last written.
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
