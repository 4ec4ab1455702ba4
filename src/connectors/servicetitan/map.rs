//! ServiceTitan records ↔ canonical fields.
//!
//! Money arrives as JSON doubles: each is read through its shortest decimal text
//! (`12.35`, never `12.3499999…`) and rounded to 4 places; on the way back the exact
//! decimal is written as the nearest double.

use super::wire::{Category, Sku, SkuLink, SkuWrite};
use crate::connectors::RemoteCategory;
use crate::record::{self, Fields};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::{Value, json};
use std::str::FromStr;

fn money(v: Option<f64>) -> Option<Value> {
    let f = v?;
    let d = Decimal::from_str(&f.to_string())
        .ok()
        .or_else(|| Decimal::from_f64(f))?;
    Some(Value::String(d.to_string()))
}

pub fn to_fields(sku: &Sku) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            f.insert(k.to_owned(), v);
        }
    };
    put("code", sku.code.clone().map(Value::String));
    put("name", sku.display_name.clone().map(Value::String));
    put("description", sku.description.clone().map(Value::String));
    put("cost", money(sku.cost));
    put("price", money(sku.price));
    put("member_price", money(sku.member_price));
    put("add_on_price", money(sku.add_on_price));
    put("add_on_member_price", money(sku.add_on_member_price));
    put("active", Some(Value::Bool(sku.active)));
    if !sku.categories.is_empty() {
        put(
            "categories",
            Some(Value::Array(
                sku.categories.iter().map(|c| json!(c.id())).collect(),
            )),
        );
    }
    put(
        "unit_of_measure",
        sku.unit_of_measure.clone().map(Value::String),
    );
    put(
        "primary_vendor",
        sku.primary_vendor.as_ref().map(|v| json!({ "vendor_id": v.vendor_id, "vendor_name": v.vendor_name, "vendor_part": v.vendor_part, "cost": money(v.cost) })),
    );
    let links = |kind: &str, l: &Option<Vec<SkuLink>>| -> Vec<Value> {
        l.iter()
            .flatten()
            .map(|x| json!({ "kind": kind, "id": x.sku_id, "quantity": x.quantity }))
            .collect()
    };
    if sku.service_materials.is_some() || sku.service_equipment.is_some() {
        let mut all = links("material", &sku.service_materials);
        all.extend(links("equipment", &sku.service_equipment));
        put(record::MATERIALS_INCLUDED, Some(Value::Array(all)));
    }
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

/// The write body for canonical fields (PATCH semantics: only fields we hold are sent).
pub fn to_write(f: &Fields, is_service: bool) -> SkuWrite {
    let mut w = SkuWrite {
        code: text(f, "code"),
        display_name: text(f, "name"),
        description: Some(text(f, "description").unwrap_or_default()),
        cost: double(f, "cost"),
        price: double(f, "price"),
        member_price: double(f, "member_price"),
        add_on_price: double(f, "add_on_price"),
        add_on_member_price: double(f, "add_on_member_price"),
        active: f.get("active").and_then(Value::as_bool),
        categories: f
            .get("categories")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_i64).collect()),
        unit_of_measure: text(f, "unit_of_measure"),
        service_materials: None,
        service_equipment: None,
    };
    if is_service && let Some(list) = f.get(record::MATERIALS_INCLUDED).and_then(Value::as_array) {
        let pick = |kind: &str| -> Vec<SkuLink> {
            list.iter()
                .filter(|e| e.get("kind").and_then(Value::as_str) == Some(kind))
                .filter_map(|e| {
                    let quantity = e
                        .get("quantity")
                        .and_then(Value::as_str)
                        .and_then(|q| q.parse::<f64>().ok())
                        .unwrap_or(1.0);
                    Some(SkuLink {
                        sku_id: e.get("id")?.as_i64()?,
                        quantity,
                    })
                })
                .collect()
        };
        w.service_materials = Some(pick("material"));
        w.service_equipment = Some(pick("equipment"));
    }
    w
}

pub fn to_category(c: &Category) -> RemoteCategory {
    RemoteCategory {
        remote_id: c.id.to_string(),
        parent_remote_id: c.parent_id.map(|p| p.to_string()),
        name: c.name.clone(),
        active: c.active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::servicetitan::wire::CategoryRef;

    #[test]
    fn doubles_become_exact_decimals_and_back() {
        let sku = Sku {
            id: 1,
            code: Some(" M-1 ".into()),
            display_name: Some("Pipe".into()),
            cost: Some(12.35),
            price: Some(0.1 + 0.2),
            active: true,
            ..Default::default()
        };
        let f = to_fields(&sku);
        assert_eq!(f["cost"], json!("12.3500"));
        assert_eq!(f["price"], json!("0.3000"));
        assert_eq!(f["code"], json!("M-1"));
        let w = to_write(&f, false);
        assert_eq!(w.cost, Some(12.35));
        assert_eq!(w.display_name.as_deref(), Some("Pipe"));
    }

    #[test]
    fn service_materials_are_one_field() {
        let sku = Sku {
            id: 2,
            code: Some("S".into()),
            display_name: Some("S".into()),
            categories: vec![
                CategoryRef::Object {
                    id: 5,
                    name: None,
                    active: None,
                },
                CategoryRef::Id(3),
            ],
            service_materials: Some(vec![SkuLink {
                sku_id: 9,
                quantity: 2.0,
            }]),
            service_equipment: Some(vec![SkuLink {
                sku_id: 4,
                quantity: 1.0,
            }]),
            active: true,
            ..Default::default()
        };
        let f = to_fields(&sku);
        assert_eq!(f["categories"], json!([3, 5]));
        assert_eq!(
            f["materials_included"],
            json!([{ "kind": "equipment", "id": 4, "quantity": "1" }, { "kind": "material", "id": 9, "quantity": "2" }])
        );
        let w = to_write(&f, true);
        assert_eq!(
            w.service_materials,
            Some(vec![SkuLink {
                sku_id: 9,
                quantity: 2.0
            }])
        );
        assert_eq!(
            w.service_equipment,
            Some(vec![SkuLink {
                sku_id: 4,
                quantity: 1.0
            }])
        );
    }
}
