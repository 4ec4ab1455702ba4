//! ShipHero products ↔ canonical fields. ShipHero holds weight in pounds and dimensions
//! in inches as strings (the account's unit setting; seed 003 uses lb/in): writing rounds
//! SI to 4 places of a pound and 2 of an inch (half-even, see `connectors::units`);
//! reading multiplies back exactly.

use super::wire::{Dimensions, Product, ProductInput};
use crate::connectors::fulfil::map::MEASURE_ERROR;
use crate::connectors::units;
use crate::record::{self, Fields};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn to_fields(p: &Product) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            f.insert(k.to_owned(), v);
        }
    };
    put("code", Some(Value::String(p.sku.clone())));
    put("name", p.name.clone().map(Value::String));
    put("barcode", p.barcode.clone().map(Value::String));
    put("active", Some(Value::Bool(p.active.unwrap_or(true))));
    let si = |text: &Option<String>, unit: &str, to: fn(_, &str) -> Result<_, String>| {
        text.as_deref()
            .and_then(units::parse)
            .and_then(|d| to(d, unit).ok())
            .map(|d: rust_decimal::Decimal| Value::String(d.normalize().to_string()))
    };
    put("weight_kg", si(&p.dimensions.weight, "lb", units::to_kg));
    put("length_cm", si(&p.dimensions.length, "in", units::to_cm));
    put("width_cm", si(&p.dimensions.width, "in", units::to_cm));
    put("height_cm", si(&p.dimensions.height, "in", units::to_cm));
    record::canonicalise(f)
}

fn text(f: &Fields, k: &str) -> Option<String> {
    f.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// The product write for an item's canonical fields; an error says why this one cannot
/// be sent (recorded against its SKU).
pub fn to_input(f: &Fields) -> Result<ProductInput, String> {
    if let Some(problem) = text(f, MEASURE_ERROR) {
        return Err(format!("measures not converted: {problem}"));
    }
    let sku = text(f, "code").ok_or("the product has no SKU (code)")?;
    let measure =
        |k: &str, out: fn(rust_decimal::Decimal) -> rust_decimal::Decimal| match text(f, k) {
            None => Ok(None),
            Some(t) => units::parse(&t)
                .map(|d| Some(out(d).to_string()))
                .ok_or_else(|| format!("{k} '{t}' is not a decimal")),
        };
    let dimensions = Dimensions {
        weight: measure("weight_kg", units::kg_to_lb)?,
        height: measure("height_cm", units::cm_to_in)?,
        width: measure("width_cm", units::cm_to_in)?,
        length: measure("length_cm", units::cm_to_in)?,
    };
    let any = dimensions != Dimensions::default();
    Ok(ProductInput {
        sku,
        name: text(f, "name"),
        barcode: text(f, "barcode"),
        dimensions: any.then_some(dimensions),
    })
}

/// What "already sent" means: the hash of the exact write body.
pub fn payload_hash(input: &ProductInput) -> String {
    let body = serde_json::to_string(input).unwrap_or_default();
    hex::encode(Sha256::digest(body.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        crate::sync::canonical::from_json(&v)
    }

    #[test]
    fn si_goes_out_as_rounded_pounds_and_inches() {
        let f = fields(json!({
            "code": "SKU-1", "name": "Widget", "weight_kg": "0.25",
            "length_cm": "12", "width_cm": "8", "height_cm": "0.5"
        }));
        let input = to_input(&f).unwrap();
        assert_eq!(input.sku, "SKU-1");
        assert_eq!(
            input.dimensions,
            Some(Dimensions {
                weight: Some("0.5512".into()),
                height: Some("0.20".into()),
                width: Some("3.15".into()),
                length: Some("4.72".into()),
            })
        );
    }

    #[test]
    fn products_without_measures_send_none_and_hash_stably() {
        let a = to_input(&fields(json!({ "code": "A", "name": "x" }))).unwrap();
        assert_eq!(a.dimensions, None);
        let b = to_input(&fields(json!({ "name": "x", "code": "A" }))).unwrap();
        assert_eq!(payload_hash(&a), payload_hash(&b));
        let c = to_input(&fields(json!({ "code": "A", "name": "y" }))).unwrap();
        assert_ne!(payload_hash(&a), payload_hash(&c));
    }

    #[test]
    fn unconvertible_products_are_refused() {
        let f = fields(json!({ "code": "A", "measure_error": "unknown weight unit 'stone'" }));
        assert!(to_input(&f).unwrap_err().contains("stone"));
        assert!(to_input(&fields(json!({ "name": "no sku" }))).is_err());
    }

    #[test]
    fn pounds_and_inches_read_back_exactly() {
        let p = Product {
            id: "UHJvZHVjdDox".into(),
            sku: "A".into(),
            dimensions: Dimensions {
                weight: Some("1".into()),
                length: Some("2".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let f = to_fields(&p);
        assert_eq!(f["weight_kg"], json!("0.45359237"));
        assert_eq!(f["length_cm"], json!("5.08"));
    }
}
