//! Builds the record a resolution writes: pure, no I/O. A merge needs a pick for each
//! field both sides changed; a field only one side changed keeps that side's value unless
//! picked otherwise. Custom values are validated by the field's type before anything is
//! saved or pushed. [`dropped`] names the one-sided changes a resolution discards.

use crate::error::{AppError, AppResult};
use crate::record::{self, Fields, MONEY_FIELDS};
use crate::sync::diff::{FieldChange, FieldDiff};
use entity::enums::{ConflictKind, Resolution};
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

/// Who changed a conflict's field since the base, as the review screens show it: the
/// fields of a deletion conflict are the local edits (upstream deleted the record, it did
/// not edit them).
pub fn change_of(kind: ConflictKind, field: &FieldDiff) -> FieldChange {
    match kind {
        ConflictKind::Delete => FieldChange::Local,
        ConflictKind::Fields | ConflictKind::FirstLink => field.change(),
    }
}

/// The one-sided changes a resolution discards: USE_REMOTE drops local-only edits (all
/// local edits, when it accepts a deletion), USE_LOCAL drops remote-only ones. A merge
/// drops nothing silently: every discarded value was picked.
pub fn dropped(kind: ConflictKind, resolution: Resolution, fields: &[FieldDiff]) -> Vec<FieldDiff> {
    let lost = match resolution {
        Resolution::UseRemote => FieldChange::Local,
        Resolution::UseLocal if kind == ConflictKind::Fields => FieldChange::Remote,
        _ => return Vec::new(),
    };
    fields
        .iter()
        .filter(|f| change_of(kind, f) == lost)
        .cloned()
        .collect()
}

/// The merged record: local where both sides agree, the changed side where only one
/// side changed, the pick where both did. Picks are refused for fields that do not
/// differ, so a typo cannot silently do nothing. Without a base (a first link) every
/// differing field counts as changed on both sides and BASE is not a choice.
pub fn merge(
    base: Option<&Fields>,
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
    if base.is_none() && picks.values().any(|p| *p == Pick::Base) {
        return Err(AppError::bad_input(
            "a first link has no base version; pick LOCAL, REMOTE or CUSTOM",
        ));
    }
    let missing: Vec<&str> = differing
        .iter()
        .filter(|d| d.change() == FieldChange::Both && !picks.contains_key(&d.field))
        .map(|d| d.field.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(AppError::bad_input(format!(
            "pick a value for every field both sides changed; missing: {}",
            missing.join(", ")
        )));
    }
    let mut merged = local.clone();
    for d in differing {
        let value = match (picks.get(&d.field), d.change()) {
            (Some(Pick::Base), _) => base.and_then(|b| b.get(&d.field)).cloned(),
            (Some(Pick::Local), _) | (None, FieldChange::Local) => local.get(&d.field).cloned(),
            (Some(Pick::Remote), _) | (None, FieldChange::Remote) => remote.get(&d.field).cloned(),
            (Some(Pick::Custom(text)), _) => Some(custom_value(&d.field, text)?),
            (None, FieldChange::Both) => local.get(&d.field).cloned(),
        };
        match value {
            Some(v) => merged.insert(d.field.clone(), v),
            None => merged.remove(&d.field),
        };
    }
    let merged = record::canonicalise(merged);
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

    use crate::record::test_records::record as fields;

    /// The field diffs of `names` between three records.
    fn diffs_of(names: &[&str], b: Option<&Fields>, l: &Fields, r: &Fields) -> Vec<FieldDiff> {
        names
            .iter()
            .map(|n| FieldDiff {
                field: (*n).into(),
                base: b.and_then(|b| b.get(*n)).cloned(),
                local: l.get(*n).cloned(),
                remote: r.get(*n).cloned(),
            })
            .collect()
    }

    /// The differing fields of the three test records, as the conflict stores them.
    fn differing(names: &[&str]) -> Vec<FieldDiff> {
        let (b, l, r) = sides();
        diffs_of(names, Some(&b), &l, &r)
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
        let m = merge(Some(&b), &l, &r, &differing(&["name", "price"]), &picks).unwrap();
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
        let m = merge(Some(&b), &l, &r, &differing(&["name", "price"]), &picks).unwrap();
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
    fn every_field_both_sides_changed_needs_a_pick() {
        let (b, l, r) = sides();
        let picks = BTreeMap::from([("name".to_owned(), Pick::Local)]);
        let err = merge(Some(&b), &l, &r, &differing(&["name", "price"]), &picks).unwrap_err();
        assert!(err.public_message().contains("price"));
    }

    #[test]
    fn picks_for_agreeing_fields_are_refused() {
        let (b, l, r) = sides();
        let picks = BTreeMap::from([
            ("name".to_owned(), Pick::Local),
            ("cost".to_owned(), Pick::Remote),
        ]);
        let err = merge(Some(&b), &l, &r, &differing(&["name"]), &picks).unwrap_err();
        assert!(err.public_message().contains("cost"));
    }

    #[test]
    fn a_merge_cannot_drop_the_name() {
        let b = fields(json!({"code": "A1", "price": "1"}));
        let l = fields(json!({"code": "A1", "name": "L", "price": "1"}));
        let r = fields(json!({"code": "A1", "name": "R", "price": "1"}));
        let picks = BTreeMap::from([("name".to_owned(), Pick::Base)]);
        assert!(merge(Some(&b), &l, &r, &differing(&["name"]), &picks).is_err());
    }

    #[test]
    fn one_sided_fields_keep_the_side_that_changed() {
        let b = fields(json!({"code": "A1", "name": "Base", "price": "10", "cost": "5"}));
        let l = fields(json!({"code": "A1", "name": "Local", "price": "10", "cost": "6"}));
        let r = fields(json!({"code": "A1", "name": "Base", "price": "12", "cost": "7"}));
        let diffs = diffs_of(&["cost", "name", "price"], Some(&b), &l, &r);
        let missing = merge(Some(&b), &l, &r, &diffs, &BTreeMap::new()).unwrap_err();
        assert!(
            missing.public_message().contains("cost"),
            "{}",
            missing.public_message()
        );
        assert!(!missing.public_message().contains("name"));
        let picks = BTreeMap::from([("cost".to_owned(), Pick::Remote)]);
        let m = merge(Some(&b), &l, &r, &diffs, &picks).unwrap();
        assert_eq!(
            (m["name"].clone(), m["price"].clone(), m["cost"].clone()),
            (l["name"].clone(), r["price"].clone(), r["cost"].clone())
        );
        // A one-sided field may still be picked the other way.
        let picks = BTreeMap::from([
            ("cost".to_owned(), Pick::Local),
            ("price".to_owned(), Pick::Base),
        ]);
        let m = merge(Some(&b), &l, &r, &diffs, &picks).unwrap();
        assert_eq!(m["price"], b["price"]);

        assert_eq!(
            dropped(ConflictKind::Fields, Resolution::UseRemote, &diffs)
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>(),
            ["name"]
        );
        assert_eq!(
            dropped(ConflictKind::Fields, Resolution::UseLocal, &diffs)
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>(),
            ["price"]
        );
        assert!(dropped(ConflictKind::Fields, Resolution::Merged, &diffs).is_empty());
        assert_eq!(
            dropped(ConflictKind::Delete, Resolution::UseRemote, &diffs).len(),
            3
        );
        assert!(dropped(ConflictKind::Delete, Resolution::UseLocal, &diffs).is_empty());
    }

    #[test]
    fn a_first_link_has_no_base_to_pick() {
        let (_, l, r) = sides();
        let diffs = diffs_of(&["name", "price"], None, &l, &r);
        let picks = BTreeMap::from([("name".to_owned(), Pick::Remote)]);
        let err = merge(None, &l, &r, &diffs, &picks).unwrap_err();
        assert!(err.public_message().contains("price"));
        let picks = BTreeMap::from([
            ("name".to_owned(), Pick::Base),
            ("price".to_owned(), Pick::Local),
        ]);
        assert!(merge(None, &l, &r, &diffs, &picks).is_err());
    }
}
