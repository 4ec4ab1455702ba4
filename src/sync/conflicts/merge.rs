//! Builds the record a resolution writes: pure, no I/O. A merge takes one pick per
//! differing field; custom values are validated by the field's type before anything is
//! saved or pushed.

use crate::error::{AppError, AppResult};
use crate::sync::diff::{self, FieldDiff, Fields, MONEY_FIELDS};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Where a merged field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    Base,
    Local,
    Remote,
    /// A value typed by the admin, as text (validated against the field's type).
    Custom(String),
}

/// Decimal measures (SI units) stored as text.
const DECIMAL_FIELDS: &[&str] = &["weight_kg", "length_cm", "width_cm", "height_cm"];
/// Fields no merge may leave empty.
const REQUIRED_FIELDS: &[&str] = &["code", "name"];

/// The merged record: local where both sides agree, the pick where they differ.
/// Every differing field needs exactly one pick; picks for other fields are refused so a
/// typo cannot silently do nothing.
pub fn merge(
    base: &Fields,
    local: &Fields,
    remote: &Fields,
    differing: &[FieldDiff],
    picks: &BTreeMap<String, Pick>,
) -> AppResult<Fields> {
    let differing_names: Vec<&str> = differing.iter().map(|d| d.field.as_str()).collect();
    if let Some(unknown) = picks
        .keys()
        .find(|f| !differing_names.contains(&f.as_str()))
    {
        return Err(AppError::bad_input(format!(
            "field '{unknown}' does not differ between local and remote; pick only among: {}",
            differing_names.join(", ")
        )));
    }
    let missing: Vec<&str> = differing_names
        .iter()
        .copied()
        .filter(|f| !picks.contains_key(*f))
        .collect();
    if !missing.is_empty() {
        return Err(AppError::bad_input(format!(
            "pick a value for every differing field; missing: {}",
            missing.join(", ")
        )));
    }
    let mut merged = local.clone();
    for (field, pick) in picks {
        let value = match pick {
            Pick::Base => base.get(field).cloned(),
            Pick::Local => local.get(field).cloned(),
            Pick::Remote => remote.get(field).cloned(),
            Pick::Custom(text) => Some(custom_value(field, text)?),
        };
        match value {
            Some(v) => merged.insert(field.clone(), v),
            None => merged.remove(field),
        };
    }
    let merged = diff::canonicalise(merged);
    if let Some(field) = REQUIRED_FIELDS.iter().find(|f| !merged.contains_key(**f)) {
        return Err(AppError::bad_input(format!(
            "the merged record has no {field}; pick a side that has one"
        )));
    }
    Ok(merged)
}

/// Parses an admin-typed value by the field's type.
pub fn custom_value(field: &str, text: &str) -> AppResult<Value> {
    let trimmed = text.trim();
    let bad = |what: &str| AppError::bad_input(format!("'{text}' is not {what} for {field}"));
    if MONEY_FIELDS.contains(&field) {
        // The one money rule: a plain decimal within the stored scale, never rounded.
        let amount = crate::money::parse_plain(trimmed)
            .map_err(|why| AppError::bad_input(format!("{field}: {why}")))?;
        return Ok(Value::String(amount.to_string()));
    }
    if DECIMAL_FIELDS.contains(&field) {
        let n = Decimal::from_str(trimmed).map_err(|_| bad("a decimal number"))?;
        if n.is_sign_negative() {
            return Err(bad("a non-negative number"));
        }
        return Ok(Value::String(n.to_string()));
    }
    match field {
        "active" => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(bad("true or false")),
        },
        "quantity" => trimmed
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| bad("a whole number")),
        "code" | "name" if trimmed.is_empty() => Err(bad("a non-empty text")),
        "code" | "name" if trimmed.chars().count() > entity::item::NAME_MAX_CHARS => Err(bad(
            &format!("at most {} characters", entity::item::NAME_MAX_CHARS),
        )),
        "code" | "name" | "description" => Ok(Value::String(trimmed.to_owned())),
        // Provider-specific fields keep JSON when the admin typed JSON (numbers, lists).
        _ => Ok(serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(trimmed.into()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        diff::canonicalise(v.as_object().unwrap().clone().into_iter().collect())
    }

    fn differing(names: &[&str]) -> Vec<FieldDiff> {
        names
            .iter()
            .map(|n| FieldDiff {
                field: (*n).into(),
                base: None,
                local: None,
                remote: None,
            })
            .collect()
    }

    fn sides() -> (Fields, Fields, Fields) {
        (
            fields(json!({"code": "A1", "name": "Base", "price": "10", "cost": "5"})),
            fields(json!({"code": "A1", "name": "Local", "price": "11", "cost": "5"})),
            fields(json!({"code": "A1", "name": "Remote", "price": "12", "cost": "5"})),
        )
    }

    #[test]
    fn each_pick_takes_its_side() {
        let (b, l, r) = sides();
        let picks = BTreeMap::from([
            ("name".to_owned(), Pick::Remote),
            ("price".to_owned(), Pick::Base),
        ]);
        let m = merge(&b, &l, &r, &differing(&["name", "price"]), &picks).unwrap();
        assert_eq!(m["name"], json!("Remote"));
        assert_eq!(m["price"], fields(json!({"price": "10"}))["price"]);
        assert_eq!(m["cost"], l["cost"]);
    }

    #[test]
    fn custom_money_is_exact_and_canonical() {
        let (b, l, r) = sides();
        let picks = BTreeMap::from([
            ("name".to_owned(), Pick::Local),
            ("price".to_owned(), Pick::Custom(" 77.77 ".into())),
        ]);
        let m = merge(&b, &l, &r, &differing(&["name", "price"]), &picks).unwrap();
        assert_eq!(m["price"], json!("77.7700"));
    }

    #[test]
    fn bad_custom_values_are_refused() {
        for (field, text) in [
            ("price", "abc"),
            ("price", "-1"),
            ("cost", "1,5"),
            ("cost", "1.23456"),
            ("price", "9999999999999999999999999999.9999"),
            ("active", "maybe"),
            ("quantity", "2.5"),
            ("name", "  "),
            ("name", &"n".repeat(256)),
            ("weight_kg", "heavy"),
        ] {
            let err = custom_value(field, text).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT", "{field}={text}");
        }
        assert_eq!(custom_value("active", "No").unwrap(), json!(false));
        assert_eq!(custom_value("hours", "1.5").unwrap(), json!(1.5));
        assert_eq!(
            custom_value("notes", "free text").unwrap(),
            json!("free text")
        );
    }

    #[test]
    fn every_differing_field_needs_a_pick() {
        let (b, l, r) = sides();
        let picks = BTreeMap::from([("name".to_owned(), Pick::Local)]);
        let err = merge(&b, &l, &r, &differing(&["name", "price"]), &picks).unwrap_err();
        assert!(err.public_message().contains("price"));
    }

    #[test]
    fn picks_for_agreeing_fields_are_refused() {
        let (b, l, r) = sides();
        let picks = BTreeMap::from([
            ("name".to_owned(), Pick::Local),
            ("cost".to_owned(), Pick::Remote),
        ]);
        let err = merge(&b, &l, &r, &differing(&["name"]), &picks).unwrap_err();
        assert!(err.public_message().contains("cost"));
    }

    #[test]
    fn a_merge_cannot_drop_the_name() {
        let b = fields(json!({"code": "A1", "price": "1"}));
        let l = fields(json!({"code": "A1", "name": "L", "price": "1"}));
        let r = fields(json!({"code": "A1", "name": "R", "price": "1"}));
        let picks = BTreeMap::from([("name".to_owned(), Pick::Base)]);
        assert!(merge(&b, &l, &r, &differing(&["name"]), &picks).is_err());
    }
}
