//! The canonical record: the one shape every connector maps its wire format into and the
//! engine compares, stores as a link's base and hashes for idempotent pushes.
//!
//! Pure, no I/O, and below both sides: connectors depend on this module only, the engine
//! on connectors and on this. [`canonicalise`] removes differences that only come from
//! formatting, so `12.5` and `"12.50"` (or `["3", "1"]` and `[1, 3]`) compare equal.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Canonical field map of one record: field name -> canonical JSON value.
pub type Fields = BTreeMap<String, Value>;

/// Decimal places every money amount is rounded to, so `12.5` and `"12.50"` compare equal.
pub const MONEY_SCALE: u32 = 4;
/// Services list the materials and equipment they include as ONE field.
pub const MATERIALS_INCLUDED: &str = "materials_included";

/// Fields holding money amounts; they are compared as decimals, never as text or floats.
pub const MONEY_FIELDS: &[&str] = &[
    "cost",
    "price",
    "member_price",
    "add_on_price",
    "add_on_member_price",
];

/// Boolean field that some systems send as text.
const ACTIVE_FIELD: &str = "active";

// Bill of materials: one field holding `{kind, id, quantity}` objects, compared as a set.

// ---------------------------------------------------------------------------
// Canonicalisation
// ---------------------------------------------------------------------------

/// Rewrites a record so that values differing only in formatting become equal:
/// trimmed strings, empty and null fields dropped, money as 4-decimal strings,
/// `active` as a bool, id lists sorted and numeric, materials sorted.
pub fn canonicalise(fields: Fields) -> Fields {
    fields
        .into_iter()
        .map(|(name, value)| {
            let value = canonical_field(&name, value);
            (name, value)
        })
        .filter(|(_, value)| !value.is_null())
        .collect()
}

/// Picks the rule for a top-level field by its name.
fn canonical_field(name: &str, value: Value) -> Value {
    if MONEY_FIELDS.contains(&name) {
        canonical_money(value)
    } else if name == ACTIVE_FIELD {
        canonical_active(value)
    } else if name == MATERIALS_INCLUDED {
        canonical_materials(value)
    } else {
        canonical_value(value)
    }
}

/// Generic rule for values with no field-specific meaning.
fn canonical_value(value: Value) -> Value {
    match value {
        Value::String(text) => canonical_string(&text),
        Value::Array(items) => canonical_array(items),
        Value::Object(entries) => sorted_object(
            entries
                .into_iter()
                .map(|(key, value)| (key, canonical_value(value))),
        ),
        other => other,
    }
}

/// Surrounding whitespace is never meaningful, and an empty string means "no value".
fn canonical_string(text: &str) -> Value {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Value::Null
    } else {
        Value::String(trimmed.to_owned())
    }
}

/// Builds an object without null entries, keys in sorted order even if
/// serde_json's `preserve_order` feature gets switched on by another crate.
fn sorted_object(entries: impl Iterator<Item = (String, Value)>) -> Value {
    let sorted: BTreeMap<String, Value> = entries.filter(|(_, value)| !value.is_null()).collect();
    Value::Object(sorted.into_iter().collect::<Map<String, Value>>())
}

/// Lists of ids or tags are sets in practice: their order carries no meaning.
fn canonical_array(items: Vec<Value>) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(canonical_value)
        .filter(|item| !item.is_null())
        .collect();
    let mut items = ids_as_numbers(items);
    if items.iter().all(Value::is_number) {
        items.sort_by_cached_key(number_sort_key);
    } else if items.iter().all(Value::is_string) {
        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    Value::Array(items)
}

/// Some systems send id lists as strings (`["12"]`), others as numbers (`[12]`).
/// Converted only when every element is an integer, so tag lists stay text.
fn ids_as_numbers(items: Vec<Value>) -> Vec<Value> {
    let numbers: Option<Vec<Value>> = items.iter().map(integer_of).collect();
    numbers.unwrap_or(items)
}

/// The value as a JSON integer, if it is one (number, or string in canonical integer form).
/// Strings like `"007"` are not converted: the leading zeros may matter.
fn integer_of(value: &Value) -> Option<Value> {
    match value {
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(value.clone()),
        Value::Number(number) => integral_decimal(&number.to_string()),
        Value::String(text) => integer_text(text.trim()),
        _ => None,
    }
}

/// `5.0` as a float is the integer 5.
fn integral_decimal(text: &str) -> Option<Value> {
    let amount = parse_decimal(text)?.normalize();
    if amount.scale() != 0 {
        return None;
    }
    i64::try_from(amount.mantissa()).ok().map(Value::from)
}

/// Parses integer text only when printing the integer gives back the same text.
fn integer_text(text: &str) -> Option<Value> {
    if let Ok(number) = text.parse::<i64>() {
        return (number.to_string() == text).then(|| Value::from(number));
    }
    let number = text.parse::<u64>().ok()?;
    (number.to_string() == text).then(|| Value::from(number))
}

/// Total order for JSON numbers: by decimal value, then by text so that
/// `1` and `1.0` always end up in the same order. Unparseable floats sort last.
fn number_sort_key(value: &Value) -> (bool, Decimal, String) {
    let text = value.to_string();
    match parse_decimal(&text) {
        Some(amount) => (false, amount, text),
        None => (true, Decimal::ZERO, text),
    }
}

/// Reads a decimal from plain (`12.50`) or scientific (`1.25e1`) text.
fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// Decimal value of a JSON number or numeric string, parsed from text so no
/// float arithmetic ever touches it.
fn decimal_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => parse_decimal(&number.to_string()),
        Value::String(text) => parse_decimal(text.trim()),
        _ => None,
    }
}

/// Money becomes a string with exactly [`MONEY_SCALE`] decimals. Text that is
/// not a number is kept (trimmed) so it compares as different, never as equal.
fn canonical_money(value: Value) -> Value {
    match decimal_of(&value) {
        Some(amount) => Value::String(money_text(amount)),
        None => canonical_value(value),
    }
}

/// Rounds half away from zero, the usual rule for prices, and prints `-0` as `0`.
fn money_text(amount: Decimal) -> String {
    let mut rounded =
        amount.round_dp_with_strategy(MONEY_SCALE, RoundingStrategy::MidpointAwayFromZero);
    if rounded.is_zero() {
        rounded.set_sign_positive(true);
    }
    rounded.rescale(MONEY_SCALE);
    rounded.to_string()
}

/// `active` arrives as a bool or as `"true"`/`"False"` text depending on the system.
fn canonical_active(value: Value) -> Value {
    let parsed = match &value {
        Value::String(text) => bool_text(text.trim()),
        _ => None,
    };
    match parsed {
        Some(flag) => Value::Bool(flag),
        None => canonical_value(value),
    }
}

fn bool_text(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The bill of materials is a set of entries: each entry is normalised and the
/// list sorted by (kind, id).
fn canonical_materials(value: Value) -> Value {
    let Value::Array(items) = value else {
        return canonical_value(value);
    };
    let mut items: Vec<Value> = items
        .into_iter()
        .map(canonical_material)
        .filter(|item| !item.is_null())
        .collect();
    items.sort_by_cached_key(material_sort_key);
    Value::Array(items)
}

/// One `{kind, id, quantity}` entry; other keys get the generic rule.
fn canonical_material(item: Value) -> Value {
    let Value::Object(entries) = item else {
        return canonical_value(item);
    };
    sorted_object(entries.into_iter().map(|(key, value)| {
        let value = match key.as_str() {
            "kind" => canonical_kind(value),
            "id" => canonical_id(value),
            "quantity" => canonical_quantity(value),
            _ => canonical_value(value),
        };
        (key, value)
    }))
}

fn canonical_kind(value: Value) -> Value {
    match canonical_value(value) {
        Value::String(kind) => Value::String(kind.to_lowercase()),
        other => other,
    }
}

fn canonical_id(value: Value) -> Value {
    let value = canonical_value(value);
    integer_of(&value).unwrap_or(value)
}

/// Quantities are decimals without trailing zeros, so `"2.0"` equals `2`.
fn canonical_quantity(value: Value) -> Value {
    let value = canonical_value(value);
    match decimal_of(&value) {
        Some(quantity) => Value::String(quantity.normalize().to_string()),
        None => value,
    }
}

/// Total order for material entries: kind, then id, then the whole entry so
/// duplicates with different quantities still sort the same way every time.
fn material_sort_key(item: &Value) -> (Option<String>, Option<(bool, Decimal, String)>, String) {
    let kind = item.get("kind").and_then(Value::as_str).map(str::to_owned);
    let id = item.get("id").map(|id| match id {
        Value::Number(_) => number_sort_key(id),
        _ => (true, Decimal::ZERO, id.to_string()),
    });
    (kind, id, item.to_string())
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/// Hex SHA-256 of the record's compact JSON with keys in sorted order, used to
/// skip unchanged rows and as an idempotency key for pushes. Null fields are
/// skipped so that absent and null hash the same. The JSON is streamed into
/// the hasher (same bytes as `serde_json::to_string`) to avoid a fallible step.
pub fn fields_hash(fields: &Fields) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"{");
    let present = fields.iter().filter(|(_, value)| !value.is_null());
    for (index, (name, value)) in present.enumerate() {
        if index > 0 {
            hasher.update(b",");
        }
        hasher.update(Value::from(name.as_str()).to_string());
        hasher.update(b":");
        hasher.update(value.to_string());
    }
    hasher.update(b"}");
    hex::encode(hasher.finalize())
}

/// Records from JSON literals, for the unit tests here and in the engine.
#[cfg(test)]
pub(crate) mod test_records {
    use super::*;

    /// Builds a raw (not yet canonical) record from a JSON object literal.
    pub fn raw(value: Value) -> Fields {
        match value {
            Value::Object(entries) => entries.into_iter().collect(),
            other => panic!("test record must be an object, got {other}"),
        }
    }

    pub fn record(value: Value) -> Fields {
        canonicalise(raw(value))
    }
}

#[cfg(test)]
mod tests {
    use super::test_records::record;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    // --- canonicalisation ------------------------------------------------

    #[test]
    fn strings_are_trimmed() {
        assert_eq!(
            record(json!({"name": "  Valve \n"})),
            record(json!({"name": "Valve"}))
        );
    }

    #[test]
    fn money_formats_are_equal() {
        let expected = record(json!({"price": "12.5000"}));
        for price in [
            json!("12.5"),
            json!(12.50),
            json!(" 12.500 "),
            json!(1.25e1),
        ] {
            assert_eq!(record(json!({ "price": price })), expected);
        }
        assert_eq!(expected["price"], json!("12.5000"));
    }

    #[test]
    fn money_rounds_half_away_from_zero_and_drops_negative_zero() {
        assert_eq!(record(json!({"cost": "0.00005"}))["cost"], json!("0.0001"));
        assert_eq!(record(json!({"cost": "-0.00004"}))["cost"], json!("0.0000"));
        assert_eq!(record(json!({"cost": 0.1}))["cost"], json!("0.1000"));
    }

    #[test]
    fn unparseable_money_differs() {
        let bad = record(json!({"price": " 12,50 "}));
        assert_eq!(bad["price"], json!("12,50"));
        assert_ne!(bad, record(json!({"price": "12.50"})));
    }

    #[test]
    fn active_text_becomes_bool() {
        for (text, flag) in [
            ("true", true),
            (" True", true),
            ("false", false),
            ("False ", false),
        ] {
            assert_eq!(
                record(json!({ "active": text })),
                record(json!({ "active": flag }))
            );
        }
        assert_eq!(record(json!({"active": "yes"}))["active"], json!("yes"));
    }

    #[test]
    fn number_arrays_are_sorted() {
        assert_eq!(
            record(json!({"categories": [3, 1, 2]})),
            record(json!({"categories": [1, 2, 3]}))
        );
    }

    #[test]
    fn string_ids_become_numbers() {
        let fields = record(json!({"categories": ["3", " 1"]}));
        assert_eq!(fields, record(json!({"categories": [1, 3]})));
        assert_eq!(fields["categories"], json!([1, 3]));
    }

    #[test]
    fn text_arrays_sorted_but_not_converted() {
        assert_eq!(
            record(json!({"tags": ["b", "007", "a"]}))["tags"],
            json!(["007", "a", "b"])
        );
        assert_eq!(
            record(json!({"tags": ["b", "12", "a"]}))["tags"],
            json!(["12", "a", "b"])
        );
    }

    #[test]
    fn materials_are_order_insensitive_and_quantity_normalised() {
        let one = record(json!({"materials_included": [
            {"kind": "Material ", "id": "5", "quantity": "2.0"},
            {"kind": "equipment", "id": 9, "quantity": 1},
        ]}));
        let other = record(json!({"materials_included": [
            {"kind": "equipment", "id": 9, "quantity": "1.000"},
            {"kind": "material", "id": 5, "quantity": 2},
        ]}));
        assert_eq!(one, other);
        assert_eq!(
            one["materials_included"],
            json!([
                {"id": 9, "kind": "equipment", "quantity": "1"},
                {"id": 5, "kind": "material", "quantity": "2"},
            ])
        );
    }

    #[test]
    fn materials_with_different_quantity_differ() {
        let one =
            record(json!({"materials_included": [{"kind": "material", "id": 5, "quantity": "2"}]}));
        let other = record(
            json!({"materials_included": [{"kind": "material", "id": 5, "quantity": "2.5"}]}),
        );
        assert_ne!(one, other);
    }

    #[test]
    fn null_and_absent_are_equal() {
        assert_eq!(
            record(json!({"name": "Valve", "description": null})),
            record(json!({"name": "Valve"}))
        );
    }

    #[test]
    fn empty_string_is_absent() {
        assert_eq!(
            record(json!({"name": "Valve", "description": "   ", "price": ""})),
            record(json!({"name": "Valve"}))
        );
    }

    #[test]
    fn nested_objects_are_trimmed_and_nulls_dropped() {
        assert_eq!(
            record(json!({"meta": {"b": " x ", "a": null, "c": ""}})),
            record(json!({"meta": {"b": "x"}}))
        );
    }

    // --- hashing ---------------------------------------------------------

    #[test]
    fn hash_ignores_insertion_order() {
        let mut forward = Fields::new();
        forward.insert("a".into(), json!(1));
        forward.insert("b".into(), json!({"y": 1, "x": [2, 1]}));
        let mut backward = Fields::new();
        backward.insert("b".into(), json!({"x": [2, 1], "y": 1}));
        backward.insert("a".into(), json!(1));
        assert_eq!(fields_hash(&forward), fields_hash(&backward));
    }

    #[test]
    fn hash_equal_after_canonicalisation() {
        let one = record(
            json!({"name": " Valve", "price": 12.5, "categories": [2, 1], "description": ""}),
        );
        let other = record(json!({"categories": ["1", "2"], "price": "12.50", "name": "Valve"}));
        assert_eq!(fields_hash(&one), fields_hash(&other));
        let changed = record(json!({"categories": [1, 2], "price": "12.51", "name": "Valve"}));
        assert_ne!(fields_hash(&one), fields_hash(&changed));
    }

    #[test]
    fn hash_is_sha256_of_serde_json_text() {
        let fields = record(
            json!({"name": "Va\"lve", "materials_included": [{"kind": "material", "id": 1, "quantity": 1}]}),
        );
        let text = serde_json::to_string(&fields).expect("serialisable");
        assert_eq!(
            fields_hash(&fields),
            hex::encode(Sha256::digest(text.as_bytes()))
        );
        assert_eq!(fields_hash(&fields).len(), 64);
    }

    proptest! {
        #[test]
        fn money_formats_agree(cents in -100_000i64..100_000) {
            let amount = Decimal::new(cents, 2);
            let as_number = record(json!({"price": cents as f64 / 100.0}));
            let as_text = record(json!({"price": format!(" {amount}0 ")}));
            prop_assert_eq!(&as_number, &as_text);
            let mut expected = amount;
            expected.rescale(MONEY_SCALE);
            prop_assert_eq!(&as_number["price"], &json!(expected.to_string()));
        }
    }
}
