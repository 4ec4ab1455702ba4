//! Fulfil REST v2 payloads, shared with the emulator in `sandbox::fulfil`.
//!
//! Fulfil (Tryton underneath) encodes values JSON cannot carry with a `__class__` marker:
//! `{"__class__": "Decimal", "decimal": "12.50"}`, `{"__class__": "datetime",
//! "iso_string": "2026-11-23T10:00:00.123456"}` (UTC, no offset). Float fields such as
//! `weight` arrive as plain JSON numbers.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::str::FromStr;

pub const PRODUCT_MODEL: &str = "product.product";

/// Fields the connector asks for (seed 003's list).
pub const PRODUCT_FIELDS: &[&str] = &[
    "code",
    "name",
    "weight",
    "weight_uom",
    "length",
    "width",
    "height",
    "dimensions_uom",
    "list_price",
    "cost_price",
    "active",
    "write_date",
];

/// Body of `PUT /model/{model}/search_read` (and `search_count`, which reads `filters`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchRead {
    #[serde(default)]
    pub filters: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// `[["write_date", "ASC"], ["id", "ASC"]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<(String, String)>,
}

/// Fulfil's error body (`{"error": ..., "message": ...}`; shapes vary, both optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Encodes a decimal the way Fulfil does.
pub fn encode_decimal(d: Decimal) -> Value {
    json!({ "__class__": "Decimal", "decimal": d.to_string() })
}

/// Encodes a UTC timestamp the way Fulfil does (naive ISO string, microseconds).
pub fn encode_datetime(at: DateTime<Utc>) -> Value {
    json!({ "__class__": "datetime", "iso_string": at.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string() })
}

/// A number from any of the encodings Fulfil uses for it: `Decimal` marker, JSON
/// number (read through its shortest text, so 0.1 stays 0.1), or numeric text.
pub fn decode_decimal(v: &Value) -> Result<Option<Decimal>, String> {
    match v {
        Value::Null | Value::Bool(false) => Ok(None),
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map(Some)
            .map_err(|e| format!("bad number {n}: {e}")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Decimal::from_str(s.trim())
            .map(Some)
            .map_err(|e| format!("bad decimal '{s}': {e}")),
        Value::Object(o) if o.get("__class__").and_then(Value::as_str) == Some("Decimal") => {
            let text = o
                .get("decimal")
                .and_then(Value::as_str)
                .ok_or("Decimal without 'decimal'")?;
            Decimal::from_str(text)
                .map(Some)
                .map_err(|e| format!("bad decimal '{text}': {e}"))
        }
        other => Err(format!("expected a decimal, got {other}")),
    }
}

/// A timestamp from Fulfil's `datetime` marker (or plain ISO text); naive means UTC.
pub fn decode_datetime(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    let text = match v {
        Value::Null => return Ok(None),
        Value::String(s) => s.as_str(),
        Value::Object(o) if o.get("__class__").and_then(Value::as_str) == Some("datetime") => o
            .get("iso_string")
            .and_then(Value::as_str)
            .ok_or("datetime without 'iso_string'")?,
        other => return Err(format!("expected a datetime, got {other}")),
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .map(|n| Some(n.and_utc()))
        .map_err(|e| format!("bad datetime '{text}': {e}"))
}

/// A unit of measure field: Fulfil may answer with the symbol, or an object carrying it.
pub fn decode_uom(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => ["symbol", "rec_name", "name"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_owned),
        _ => None,
    }
}

/// One `product.product` row as search_read returns it (only the fields asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: i64,
    pub code: Option<String>,
    pub name: Option<String>,
    pub weight: Option<Decimal>,
    pub weight_uom: Option<String>,
    pub length: Option<Decimal>,
    pub width: Option<Decimal>,
    pub height: Option<Decimal>,
    pub dimensions_uom: Option<String>,
    pub list_price: Option<Decimal>,
    pub cost_price: Option<Decimal>,
    pub active: bool,
    pub write_date: Option<DateTime<Utc>>,
}

impl Product {
    /// Decodes one row; an error names the field so the run can record it per product.
    pub fn decode(row: &Value) -> Result<Product, String> {
        let get = |k: &str| row.get(k).unwrap_or(&Value::Null);
        let text = |k: &str| get(k).as_str().map(str::to_owned);
        let num = |k: &str| decode_decimal(get(k)).map_err(|e| format!("{k}: {e}"));
        Ok(Product {
            id: get("id").as_i64().ok_or("row without an integer id")?,
            code: text("code"),
            name: text("name"),
            weight: num("weight")?,
            weight_uom: decode_uom(get("weight_uom")),
            length: num("length")?,
            width: num("width")?,
            height: num("height")?,
            dimensions_uom: decode_uom(get("dimensions_uom")),
            list_price: num("list_price")?,
            cost_price: num("cost_price")?,
            active: get("active").as_bool().unwrap_or(true),
            write_date: decode_datetime(get("write_date"))
                .map_err(|e| format!("write_date: {e}"))?,
        })
    }

    /// Encodes the row as Fulfil sends it (floats for measures, markers for the rest).
    pub fn encode(&self) -> Value {
        let float = |d: &Option<Decimal>| match d {
            Some(d) => {
                serde_json::from_str::<Value>(&d.normalize().to_string()).unwrap_or(Value::Null)
            }
            None => Value::Null,
        };
        json!({
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "weight": float(&self.weight),
            "weight_uom": self.weight_uom,
            "length": float(&self.length),
            "width": float(&self.width),
            "height": float(&self.height),
            "dimensions_uom": self.dimensions_uom,
            "list_price": self.list_price.map(encode_decimal),
            "cost_price": self.cost_price.map(encode_decimal),
            "active": self.active,
            "write_date": self.write_date.map(encode_datetime),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_markers_decode() {
        let row = json!({
            "id": 7, "code": "SKU-7", "name": "Box",
            "weight": 1.25, "weight_uom": {"id": 3, "symbol": "kg"},
            "length": 0.1, "width": "20", "height": null, "dimensions_uom": "cm",
            "list_price": {"__class__": "Decimal", "decimal": "12.50"},
            "cost_price": {"__class__": "Decimal", "decimal": "7.3333"},
            "active": true,
            "write_date": {"__class__": "datetime", "iso_string": "2026-11-23T10:00:00.123456"}
        });
        let p = Product::decode(&row).unwrap();
        assert_eq!(p.weight, Some(Decimal::from_str("1.25").unwrap()));
        assert_eq!(p.length, Some(Decimal::from_str("0.1").unwrap()));
        assert_eq!(p.width, Some(Decimal::from(20)));
        assert_eq!(p.height, None);
        assert_eq!(p.weight_uom.as_deref(), Some("kg"));
        assert_eq!(p.list_price.unwrap().to_string(), "12.50");
        assert_eq!(
            p.write_date.unwrap().to_rfc3339(),
            "2026-11-23T10:00:00.123456+00:00"
        );
        let back = Product::decode(&p.encode()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn bad_values_name_their_field() {
        let row = json!({"id": 1, "list_price": {"__class__": "Decimal", "decimal": "x"}});
        assert!(Product::decode(&row).unwrap_err().starts_with("list_price"));
        assert!(Product::decode(&json!({"code": "A"})).is_err());
    }
}
