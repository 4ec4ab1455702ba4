//! Local items as canonical field maps, and back: the shape the three-way diff compares.
//!
//! Column-backed fields use fixed names; everything else a provider carries lives in
//! `items.attributes` under its canonical name, so a new provider field needs no migration.

use crate::record::{Fields, canonicalise};
use entity::{Money, item};
use serde_json::Value;

/// Canonical names stored in their own columns (the rest go to `attributes`).
pub const COLUMN_FIELDS: &[&str] = &[
    "code",
    "name",
    "description",
    "cost",
    "price",
    "member_price",
    "add_on_price",
    "active",
    "weight_kg",
    "length_cm",
    "width_cm",
    "height_cm",
    "quantity",
];

pub fn from_item(item: &item::Model) -> Fields {
    let mut f = Fields::new();
    f.insert("code".into(), Value::String(item.code.clone()));
    f.insert("name".into(), Value::String(item.name.clone()));
    if let Some(d) = &item.description {
        f.insert("description".into(), Value::String(d.clone()));
    }
    for (name, money) in [
        ("cost", item.cost),
        ("price", item.price),
        ("member_price", item.member_price),
        ("add_on_price", item.add_on_price),
    ] {
        if let Some(m) = money {
            f.insert(name.into(), Value::String(m.to_string()));
        }
    }
    f.insert("active".into(), Value::Bool(item.active));
    for (name, v) in [
        ("weight_kg", &item.weight_kg),
        ("length_cm", &item.length_cm),
        ("width_cm", &item.width_cm),
        ("height_cm", &item.height_cm),
    ] {
        if let Some(v) = v {
            f.insert(name.into(), Value::String(v.clone()));
        }
    }
    if let Some(q) = item.quantity {
        f.insert("quantity".into(), Value::from(q));
    }
    if let Some(attrs) = item.attributes.as_object() {
        for (k, v) in attrs {
            f.insert(k.clone(), v.clone());
        }
    }
    canonicalise(f)
}

fn money(fields: &Fields, name: &str) -> Option<Money> {
    fields
        .get(name)
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
}

fn text(fields: &Fields, name: &str) -> Option<String> {
    fields.get(name).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Writes canonical fields onto an item row (all columns, attributes replaced).
pub fn apply_to_item(model: &mut item::Model, fields: &Fields) {
    if let Some(code) = text(fields, "code") {
        model.code = code;
    }
    model.name = text(fields, "name").unwrap_or_else(|| model.code.clone());
    model.description = text(fields, "description");
    model.cost = money(fields, "cost");
    model.price = money(fields, "price");
    model.member_price = money(fields, "member_price");
    model.add_on_price = money(fields, "add_on_price");
    model.active = fields
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    model.weight_kg = text(fields, "weight_kg");
    model.length_cm = text(fields, "length_cm");
    model.width_cm = text(fields, "width_cm");
    model.height_cm = text(fields, "height_cm");
    model.quantity = fields.get("quantity").and_then(Value::as_i64);
    let attributes: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| !COLUMN_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    model.attributes = Value::Object(attributes);
}

/// The remote category ids an item is filed under (canonical `categories`), first first.
pub fn category_remote_ids(fields: &Fields) -> Vec<String> {
    fields
        .get("categories")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| {
                    if v.is_string() {
                        v.as_str().map(str::to_owned)
                    } else {
                        Some(v.to_string())
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn to_json(fields: &Fields) -> Value {
    Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// A link's base: the record at its last settled sync; `None` before the first one settled
/// (stored as an empty object — every real record has at least a code and a name).
pub fn base_of(link: &entity::item_link::Model) -> Option<Fields> {
    Some(from_json(&link.base)).filter(|base| !base.is_empty())
}

pub fn from_json(value: &Value) -> Fields {
    value
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}
