//! Jobber products and services ↔ canonical fields.
//!
//! Jobber has no SKU: the product **name** is the code (the CSV `Part_Num` matches on it).
//! `internalUnitCost` is the cost, `defaultUnitCost` the price, `visible` the active flag.
//! Money arrives as GraphQL floats: each is read through its shortest decimal text and
//! rounded to 4 places; on the way back the exact decimal is written as the nearest double.

use super::wire::{ProductCategory, ProductInput, ProductOrService};
use crate::record::{self, Fields};
use entity::enums::ItemKind;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::Value;
use std::str::FromStr;

fn money(v: Option<f64>) -> Option<Value> {
    let f = v?;
    let d = Decimal::from_str(&f.to_string())
        .ok()
        .or_else(|| Decimal::from_f64(f))?;
    Some(Value::String(d.to_string()))
}

pub fn kind_of(category: ProductCategory) -> ItemKind {
    match category {
        ProductCategory::Product => ItemKind::Product,
        ProductCategory::Service => ItemKind::Service,
    }
}

pub fn to_fields(p: &ProductOrService) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            f.insert(k.to_owned(), v);
        }
    };
    put("code", Some(Value::String(p.name.clone())));
    put("name", Some(Value::String(p.name.clone())));
    put("description", p.description.clone().map(Value::String));
    put("cost", money(p.internal_unit_cost));
    put("price", money(p.default_unit_cost));
    put("active", Some(Value::Bool(p.visible.unwrap_or(true))));
    put("taxable", p.taxable.map(Value::Bool));
    record::canonicalise(f)
}

fn text(f: &Fields, k: &str) -> Option<String> {
    f.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn double(f: &Fields, k: &str) -> Option<f64> {
    f.get(k)
        .and_then(Value::as_str)
        .and_then(|s| Decimal::from_str(s).ok())
        .and_then(|d| d.to_f64())
}

/// The edit/create input for canonical fields. The name comes from `name` (falling back
/// to `code`); a missing description is sent empty so a local clear reaches Jobber.
pub fn to_input(f: &Fields, category: Option<ProductCategory>) -> ProductInput {
    ProductInput {
        name: text(f, "name").or_else(|| text(f, "code")),
        description: Some(text(f, "description").unwrap_or_default()),
        category,
        default_unit_cost: double(f, "price"),
        internal_unit_cost: double(f, "cost"),
        taxable: f.get("taxable").and_then(Value::as_bool),
        visible: f.get("active").and_then(Value::as_bool),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_become_exact_decimals_and_back() {
        let p = ProductOrService {
            id: "Z2lk".into(),
            name: " PN-100 ".into(),
            description: Some("Copper elbow".into()),
            category: ProductCategory::Product,
            default_unit_cost: Some(0.1 + 0.2),
            internal_unit_cost: Some(12.35),
            taxable: Some(true),
            visible: Some(true),
        };
        let f = to_fields(&p);
        assert_eq!(f["code"], json!("PN-100"));
        assert_eq!(f["name"], json!("PN-100"));
        assert_eq!(f["cost"], json!("12.3500"));
        assert_eq!(f["price"], json!("0.3000"));
        assert_eq!(f["active"], json!(true));
        assert_eq!(f["taxable"], json!(true));
        let input = to_input(&f, None);
        assert_eq!(input.internal_unit_cost, Some(12.35));
        assert_eq!(input.default_unit_cost, Some(0.3));
        assert_eq!(input.name.as_deref(), Some("PN-100"));
        assert_eq!(input.visible, Some(true));
    }

    #[test]
    fn missing_money_stays_missing() {
        let p = ProductOrService {
            id: "x".into(),
            name: "Labour".into(),
            category: ProductCategory::Service,
            visible: Some(false),
            ..Default::default()
        };
        let f = to_fields(&p);
        assert!(!f.contains_key("cost") && !f.contains_key("price"));
        assert_eq!(f["active"], json!(false));
        assert_eq!(kind_of(p.category), ItemKind::Service);
        let input = to_input(&f, Some(ProductCategory::Service));
        assert_eq!(input.internal_unit_cost, None);
        assert_eq!(input.description.as_deref(), Some(""));
    }
}
