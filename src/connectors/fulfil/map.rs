//! Fulfil products → canonical fields. Measures become SI (`weight_kg`, `*_cm`), exact;
//! a measure that cannot be converted (unknown unit) is left out and the reason kept in
//! `measure_error`, so the run records it against the SKU instead of guessing.

use super::wire::Product;
use crate::connectors::units;
use crate::record::{self, Fields};
use rust_decimal::Decimal;
use serde_json::Value;

/// Canonical attribute naming a product whose measures could not be converted.
pub const MEASURE_ERROR: &str = "measure_error";

pub fn to_fields(p: &Product) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            f.insert(k.to_owned(), v);
        }
    };
    let dec = |d: Option<Decimal>| d.map(|d| Value::String(d.normalize().to_string()));
    put("code", p.code.clone().map(Value::String));
    put("name", p.name.clone().map(Value::String));
    put("price", dec(p.list_price));
    put("cost", dec(p.cost_price));
    put("active", Some(Value::Bool(p.active)));
    let mut problems = Vec::new();
    if let Some(w) = p.weight {
        match units::to_kg(w, p.weight_uom.as_deref().unwrap_or("kg")) {
            Ok(kg) => put("weight_kg", dec(Some(kg))),
            Err(e) => problems.push(e),
        }
    }
    for (name, value) in [
        ("length_cm", p.length),
        ("width_cm", p.width),
        ("height_cm", p.height),
    ] {
        if let Some(v) = value {
            match units::to_cm(v, p.dimensions_uom.as_deref().unwrap_or("cm")) {
                Ok(cm) => put(name, dec(Some(cm))),
                Err(e) => {
                    if !problems.contains(&e) {
                        problems.push(e);
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        put(MEASURE_ERROR, Some(Value::String(problems.join("; "))));
    }
    record::canonicalise(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::str::FromStr;

    fn product(weight: &str, wu: &str, dims: [&str; 3], du: &str) -> Product {
        let d = |s: &str| Some(Decimal::from_str(s).unwrap());
        Product {
            id: 1,
            code: Some("SKU-1".into()),
            name: Some("Widget".into()),
            weight: d(weight),
            weight_uom: Some(wu.into()),
            length: d(dims[0]),
            width: d(dims[1]),
            height: d(dims[2]),
            dimensions_uom: Some(du.into()),
            list_price: d("12.50"),
            cost_price: d("7"),
            active: true,
            write_date: None,
        }
    }

    #[test]
    fn measures_become_si_exactly() {
        let f = to_fields(&product("250", "g", ["120", "80", "5"], "mm"));
        assert_eq!(f["weight_kg"], json!("0.25"));
        assert_eq!(f["length_cm"], json!("12"));
        assert_eq!(f["width_cm"], json!("8"));
        assert_eq!(f["height_cm"], json!("0.5"));
        assert_eq!(f["price"], json!("12.5000"));
        assert_eq!(f["cost"], json!("7.0000"));
        assert!(!f.contains_key(MEASURE_ERROR));
    }

    #[test]
    fn unknown_units_are_kept_as_a_problem() {
        let f = to_fields(&product("1", "stone", ["1", "1", "1"], "cubit"));
        assert!(!f.contains_key("weight_kg"));
        assert!(!f.contains_key("length_cm"));
        assert_eq!(
            f[MEASURE_ERROR],
            json!("unknown weight unit 'stone'; unknown length unit 'cubit'")
        );
    }
}
