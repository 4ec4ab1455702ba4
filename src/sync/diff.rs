//! Canonical comparison and three-way categorisation of price-book records.
//!
//! Pure functions, no I/O: adapters turn upstream and local rows into
//! [`Fields`], [`canonicalise`] removes differences that only come from
//! formatting, and [`categorise`] decides what a sync run does with a record
//! given the remote copy, the base stored on the link at the last sync, and
//! the local copy.

use std::collections::{BTreeMap, BTreeSet};
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

/// What a sync run does with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Category {
    /// Remote record with no link and no local match: create the item and the link.
    NewRemote,
    /// Remote record matched a local item by code. [`categorise`] reports this
    /// through [`Decision::adopted`]; the variant exists for callers' tallies.
    Adopt,
    /// All sides agree: refresh base and metadata only.
    Unchanged,
    /// Only the remote side changed: update local.
    RemoteOnly,
    /// Only the local side changed: push local upstream.
    LocalOnly,
    /// Both sides changed to the same record: refresh base.
    Converged,
    /// Both sides changed and disagree: store the conflict, touch neither side.
    Conflict,
    /// Remote record is gone and local has no edits: soft-delete local.
    RemoteDelete,
    /// Remote record is gone but local was edited since the last sync.
    DeleteConflict,
}

/// One field as it stands on each side; `None` means absent (same as null).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldDiff {
    pub field: String,
    pub base: Option<Value>,
    pub local: Option<Value>,
    pub remote: Option<Value>,
}

/// Outcome of [`categorise`] for one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub category: Category,
    /// Fields where the outcome differs: for `Conflict` every field where local
    /// and remote disagree; for `RemoteOnly`, `Converged` and `NewRemote` the
    /// fields the remote side brings; for `LocalOnly` and `DeleteConflict` the
    /// fields edited locally. Sorted by field name.
    pub fields: Vec<FieldDiff>,
    /// True when Adopt was the entry path (the category was then computed with B = L).
    pub adopted: bool,
}

impl Decision {
    fn new(category: Category, fields: Vec<FieldDiff>) -> Self {
        Self {
            category,
            fields,
            adopted: false,
        }
    }
}

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

// ---------------------------------------------------------------------------
// Three-way categorisation
// ---------------------------------------------------------------------------

/// Decides what to do with one record.
///
/// remote: Some(R) = the record as the upstream has it now; None = gone (deleted/absent from a complete listing).
/// base: Some(B) = the link's base at last sync; None = no link yet.
/// local: Some(L) = local item (for "no link" this is the item matched by code, if any).
/// All three are already canonical.
///
/// A link whose local item has vanished (remote and base present, local
/// absent) is treated like `NewRemote`: the item is re-created from remote
/// rather than a deletion being pushed upstream.
pub fn categorise(
    remote: Option<&Fields>,
    base: Option<&Fields>,
    local: Option<&Fields>,
) -> Decision {
    match (remote, base, local) {
        (None, None, _) => Decision::new(Category::Unchanged, Vec::new()),
        (None, Some(_), None) => Decision::new(Category::RemoteDelete, Vec::new()),
        (None, Some(base), Some(local)) => remote_gone(base, local),
        (Some(remote), _, None) => new_remote(remote, base),
        (Some(remote), None, Some(local)) => adopt(remote, local),
        (Some(remote), Some(base), Some(local)) => three_way(remote, base, local),
    }
}

/// Remote deletion wins only if local has nothing of its own to lose.
fn remote_gone(base: &Fields, local: &Fields) -> Decision {
    let sides = Sides {
        remote: None,
        base: Some(base),
        local: Some(local),
    };
    let local_changes = differing_fields(base, local);
    if local_changes.is_empty() {
        Decision::new(Category::RemoteDelete, Vec::new())
    } else {
        Decision::new(Category::DeleteConflict, sides.diffs(local_changes))
    }
}

/// Every field of the remote record is new to local.
fn new_remote(remote: &Fields, base: Option<&Fields>) -> Decision {
    let sides = Sides {
        remote: Some(remote),
        base,
        local: None,
    };
    let empty = Fields::new();
    Decision::new(
        Category::NewRemote,
        sides.diffs(differing_fields(&empty, remote)),
    )
}

/// A local item matched by code has no base yet; taking local as the base
/// means only remote's differences are applied and nothing is pushed.
fn adopt(remote: &Fields, local: &Fields) -> Decision {
    Decision {
        adopted: true,
        ..three_way(remote, local, local)
    }
}

/// The table of DESIGN: which sides moved away from base, and whether they agree.
fn three_way(remote: &Fields, base: &Fields, local: &Fields) -> Decision {
    let sides = Sides {
        remote: Some(remote),
        base: Some(base),
        local: Some(local),
    };
    let remote_changes = differing_fields(base, remote);
    let local_changes = differing_fields(base, local);
    match (remote_changes.is_empty(), local_changes.is_empty()) {
        (true, true) => Decision::new(Category::Unchanged, Vec::new()),
        (false, true) => Decision::new(Category::RemoteOnly, sides.diffs(remote_changes)),
        (true, false) => Decision::new(Category::LocalOnly, sides.diffs(local_changes)),
        (false, false) => {
            let disagreements = differing_fields(local, remote);
            if disagreements.is_empty() {
                Decision::new(Category::Converged, sides.diffs(remote_changes))
            } else {
                Decision::new(Category::Conflict, sides.diffs(disagreements))
            }
        }
    }
}

/// The three versions of one record, so per-field diffs are built one way.
struct Sides<'a> {
    remote: Option<&'a Fields>,
    base: Option<&'a Fields>,
    local: Option<&'a Fields>,
}

impl Sides<'_> {
    fn diffs<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Vec<FieldDiff> {
        names
            .into_iter()
            .map(|name| FieldDiff {
                field: name.to_owned(),
                base: self
                    .base
                    .and_then(|fields| field_value(fields, name))
                    .cloned(),
                local: self
                    .local
                    .and_then(|fields| field_value(fields, name))
                    .cloned(),
                remote: self
                    .remote
                    .and_then(|fields| field_value(fields, name))
                    .cloned(),
            })
            .collect()
    }
}

/// A field's value, with null read as absent.
fn field_value<'a>(fields: &'a Fields, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|value| !value.is_null())
}

/// Names of all fields present in any of the maps.
fn union_keys<'a>(maps: &[&'a Fields]) -> BTreeSet<&'a str> {
    maps.iter()
        .flat_map(|fields| fields.keys().map(String::as_str))
        .collect()
}

/// Fields whose values differ between two versions (absent == null).
fn differing_fields<'a>(a: &'a Fields, b: &'a Fields) -> BTreeSet<&'a str> {
    union_keys(&[a, b])
        .into_iter()
        .filter(|name| field_value(a, name) != field_value(b, name))
        .collect()
}

/// Base plus local changes plus remote changes, when no field was changed on
/// both sides to different values; `None` otherwise. Lets an opt-in policy
/// resolve conflicts whose edits touch different fields.
pub fn merge_disjoint(base: &Fields, local: &Fields, remote: &Fields) -> Option<Fields> {
    let mut merged = Fields::new();
    for name in union_keys(&[base, local, remote]) {
        let base_value = field_value(base, name);
        let local_value = field_value(local, name);
        let remote_value = field_value(remote, name);
        let chosen = match (local_value != base_value, remote_value != base_value) {
            (true, true) if local_value != remote_value => return None,
            (true, _) => local_value,
            (false, true) => remote_value,
            (false, false) => base_value,
        };
        if let Some(value) = chosen {
            merged.insert(name.to_owned(), value.clone());
        }
    }
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Builds a raw (not yet canonical) record from a JSON object literal.
    fn raw(value: Value) -> Fields {
        match value {
            Value::Object(entries) => entries.into_iter().collect(),
            other => panic!("test record must be an object, got {other}"),
        }
    }

    fn record(value: Value) -> Fields {
        canonicalise(raw(value))
    }

    fn diff(
        field: &str,
        base: Option<Value>,
        local: Option<Value>,
        remote: Option<Value>,
    ) -> FieldDiff {
        FieldDiff {
            field: field.to_owned(),
            base,
            local,
            remote,
        }
    }

    fn decision(category: Category, fields: Vec<FieldDiff>, adopted: bool) -> Decision {
        Decision {
            category,
            fields,
            adopted,
        }
    }

    // --- categorisation: one test per table row -------------------------

    #[test]
    fn new_remote_creates_item() {
        let remote = record(json!({"code": "A1", "name": "Valve", "price": 10}));
        assert_eq!(
            categorise(Some(&remote), None, None),
            decision(
                Category::NewRemote,
                vec![
                    diff("code", None, None, Some(json!("A1"))),
                    diff("name", None, None, Some(json!("Valve"))),
                    diff("price", None, None, Some(json!("10.0000"))),
                ],
                false,
            )
        );
    }

    #[test]
    fn adopt_with_equal_record_is_unchanged() {
        let remote = record(json!({"code": "A1", "price": "10.00"}));
        let local = record(json!({"code": "A1", "price": 10}));
        assert_eq!(
            categorise(Some(&remote), None, Some(&local)),
            decision(Category::Unchanged, vec![], true)
        );
    }

    #[test]
    fn adopt_with_different_record_is_remote_only() {
        let remote = record(json!({"code": "A1", "name": "Valve", "price": 12}));
        let local = record(json!({"code": "A1", "name": "valve", "price": 12}));
        assert_eq!(
            categorise(Some(&remote), None, Some(&local)),
            decision(
                Category::RemoteOnly,
                vec![diff(
                    "name",
                    Some(json!("valve")),
                    Some(json!("valve")),
                    Some(json!("Valve"))
                )],
                true,
            )
        );
    }

    #[test]
    fn unchanged_when_all_equal() {
        let fields = record(json!({"code": "A1", "price": 1}));
        assert_eq!(
            categorise(Some(&fields), Some(&fields), Some(&fields)),
            decision(Category::Unchanged, vec![], false)
        );
    }

    #[test]
    fn remote_only_updates_local() {
        let base = record(json!({"name": "Valve", "price": 1}));
        let remote = record(json!({"name": "Valve", "price": 2}));
        assert_eq!(
            categorise(Some(&remote), Some(&base), Some(&base)),
            decision(
                Category::RemoteOnly,
                vec![diff(
                    "price",
                    Some(json!("1.0000")),
                    Some(json!("1.0000")),
                    Some(json!("2.0000"))
                )],
                false,
            )
        );
    }

    #[test]
    fn local_only_pushes_upstream() {
        let base = record(json!({"name": "Valve", "description": "old"}));
        let local = record(json!({"name": "Valve"}));
        assert_eq!(
            categorise(Some(&base), Some(&base), Some(&local)),
            decision(
                Category::LocalOnly,
                vec![diff(
                    "description",
                    Some(json!("old")),
                    None,
                    Some(json!("old"))
                )],
                false,
            )
        );
    }

    #[test]
    fn converged_when_both_made_same_change() {
        let base = record(json!({"name": "Valve", "price": 1}));
        let both = record(json!({"name": "Valve", "price": "2.00"}));
        assert_eq!(
            categorise(Some(&both), Some(&base), Some(&both)),
            decision(
                Category::Converged,
                vec![diff(
                    "price",
                    Some(json!("1.0000")),
                    Some(json!("2.0000")),
                    Some(json!("2.0000"))
                )],
                false,
            )
        );
    }

    #[test]
    fn conflict_lists_every_disagreeing_field() {
        let base = record(json!({"name": "Valve", "price": 1, "cost": 1}));
        let local = record(json!({"name": "Valve", "price": 2, "cost": 1}));
        let remote = record(json!({"name": "Valve X", "price": 3, "cost": 1}));
        assert_eq!(
            categorise(Some(&remote), Some(&base), Some(&local)),
            decision(
                Category::Conflict,
                vec![
                    diff(
                        "name",
                        Some(json!("Valve")),
                        Some(json!("Valve")),
                        Some(json!("Valve X"))
                    ),
                    diff(
                        "price",
                        Some(json!("1.0000")),
                        Some(json!("2.0000")),
                        Some(json!("3.0000"))
                    ),
                ],
                false,
            )
        );
    }

    #[test]
    fn disjoint_edits_are_a_conflict_at_record_level() {
        let base = record(json!({"name": "Valve", "price": 1}));
        let local = record(json!({"name": "Valve 2", "price": 1}));
        let remote = record(json!({"name": "Valve", "price": 5}));
        let decided = categorise(Some(&remote), Some(&base), Some(&local));
        assert_eq!(decided.category, Category::Conflict);
        let names: Vec<&str> = decided.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["name", "price"]);
    }

    #[test]
    fn remote_delete_soft_deletes_unedited_local() {
        let base = record(json!({"name": "Valve"}));
        let local = record(json!({"name": " Valve "}));
        assert_eq!(
            categorise(None, Some(&base), Some(&local)),
            decision(Category::RemoteDelete, vec![], false)
        );
    }

    #[test]
    fn remote_delete_of_edited_local_is_delete_conflict() {
        let base = record(json!({"name": "Valve", "price": 1}));
        let local = record(json!({"name": "Valve", "price": 4}));
        assert_eq!(
            categorise(None, Some(&base), Some(&local)),
            decision(
                Category::DeleteConflict,
                vec![diff(
                    "price",
                    Some(json!("1.0000")),
                    Some(json!("4.0000")),
                    None
                )],
                false,
            )
        );
    }

    // --- categorisation: edge rules --------------------------------------

    #[test]
    fn nothing_remote_and_no_link_is_unchanged() {
        let local = record(json!({"name": "Valve"}));
        let expected = decision(Category::Unchanged, vec![], false);
        assert_eq!(categorise(None, None, Some(&local)), expected);
        assert_eq!(categorise(None, None, None), expected);
    }

    #[test]
    fn remote_gone_and_local_gone_is_remote_delete() {
        let base = record(json!({"name": "Valve"}));
        assert_eq!(
            categorise(None, Some(&base), None),
            decision(Category::RemoteDelete, vec![], false)
        );
    }

    #[test]
    fn linked_but_local_vanished_recreates_from_remote() {
        let base = record(json!({"name": "Valve"}));
        let remote = record(json!({"name": "Valve 2"}));
        assert_eq!(
            categorise(Some(&remote), Some(&base), None),
            decision(
                Category::NewRemote,
                vec![diff(
                    "name",
                    Some(json!("Valve")),
                    None,
                    Some(json!("Valve 2"))
                )],
                false,
            )
        );
    }

    #[test]
    fn null_and_absent_are_equal_in_categorise() {
        let base = raw(json!({"name": "Valve", "description": null}));
        let local = raw(json!({"name": "Valve"}));
        assert_eq!(
            categorise(Some(&local), Some(&base), Some(&local)).category,
            Category::Unchanged
        );
    }

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

    // --- merge_disjoint --------------------------------------------------

    #[test]
    fn merge_of_disjoint_edits() {
        let base = record(json!({"name": "Valve", "price": 1, "description": "d"}));
        let local = record(json!({"name": "Valve 2", "price": 1, "description": "d"}));
        let remote = record(json!({"name": "Valve", "price": 5}));
        assert_eq!(
            merge_disjoint(&base, &local, &remote),
            Some(record(json!({"name": "Valve 2", "price": 5})))
        );
    }

    #[test]
    fn merge_of_overlapping_different_edits_fails() {
        let base = record(json!({"name": "Valve"}));
        let local = record(json!({"name": "Valve L"}));
        let remote = record(json!({"name": "Valve R"}));
        assert_eq!(merge_disjoint(&base, &local, &remote), None);
    }

    #[test]
    fn merge_of_overlapping_same_edits() {
        let base = record(json!({"name": "Valve", "price": 1}));
        let local = record(json!({"name": "Valve 2", "price": 1}));
        let remote = record(json!({"name": "Valve 2", "price": 3}));
        assert_eq!(
            merge_disjoint(&base, &local, &remote),
            Some(record(json!({"name": "Valve 2", "price": 3})))
        );
    }

    // --- properties ------------------------------------------------------

    /// An edit made on one side to one field.
    #[derive(Debug, Clone)]
    enum Edit {
        Keep,
        /// `None` removes the field.
        Set(Option<Value>),
    }

    impl Edit {
        fn apply(&self, fields: &mut Fields, name: &str) {
            match self {
                Edit::Keep => {}
                Edit::Set(Some(value)) => {
                    fields.insert(name.to_owned(), value.clone());
                }
                Edit::Set(None) => {
                    fields.remove(name);
                }
            }
        }
    }

    const PROP_FIELDS: [(&str, bool); 4] = [
        ("name", false),
        ("description", false),
        ("price", true),
        ("cost", true),
    ];

    /// Short strings, sometimes padded or empty, so trimming and absence get exercised.
    fn raw_text() -> BoxedStrategy<Value> {
        "[ ]?[a-c]{0,2}[ ]?".prop_map(Value::String).boxed()
    }

    /// A few cents written as a JSON number, a string, or a padded string.
    fn raw_money() -> BoxedStrategy<Value> {
        (0i64..400, 0u8..3)
            .prop_map(|(cents, style)| {
                let amount = Decimal::new(cents, 2);
                match style {
                    0 => json!(cents as f64 / 100.0),
                    1 => json!(amount.to_string()),
                    _ => json!(format!(" {amount}00 ")),
                }
            })
            .boxed()
    }

    fn edit(value: BoxedStrategy<Value>) -> BoxedStrategy<Edit> {
        prop_oneof![
            2 => Just(Edit::Keep),
            2 => value.prop_map(|v| Edit::Set(Some(v))),
            1 => Just(Edit::Set(None)),
        ]
        .boxed()
    }

    /// (base value, local edit, remote edit) for one field; sometimes both
    /// sides make the same edit.
    fn field_case(money: bool) -> BoxedStrategy<(Option<Value>, Edit, Edit)> {
        let value = if money { raw_money() } else { raw_text() };
        let same = value
            .clone()
            .prop_map(|v| (Edit::Set(Some(v.clone())), Edit::Set(Some(v))));
        let edits = prop_oneof![3 => (edit(value.clone()), edit(value.clone())), 1 => same];
        (proptest::option::weighted(0.8, value), edits)
            .prop_map(|(base, (l, r))| (base, l, r))
            .boxed()
    }

    /// Canonical (remote, base, local) records built from per-field edits.
    fn record_case() -> impl Strategy<Value = (Fields, Fields, Fields)> {
        let cases: Vec<_> = PROP_FIELDS
            .iter()
            .map(|(_, money)| field_case(*money))
            .collect();
        cases.prop_map(|cases| {
            let mut base = Fields::new();
            for ((name, _), (base_value, _, _)) in PROP_FIELDS.iter().zip(&cases) {
                if let Some(value) = base_value {
                    base.insert((*name).to_owned(), value.clone());
                }
            }
            let (mut local, mut remote) = (base.clone(), base.clone());
            for ((name, _), (_, local_edit, remote_edit)) in PROP_FIELDS.iter().zip(&cases) {
                local_edit.apply(&mut local, name);
                remote_edit.apply(&mut remote, name);
            }
            (
                canonicalise(remote),
                canonicalise(base),
                canonicalise(local),
            )
        })
    }

    /// Field names where `pick` holds, over the union of the three records.
    fn names_where(
        (remote, base, local): (&Fields, &Fields, &Fields),
        pick: impl Fn(Option<&Value>, Option<&Value>, Option<&Value>) -> bool,
    ) -> BTreeSet<String> {
        union_keys(&[remote, base, local])
            .into_iter()
            .filter(|name| {
                pick(
                    field_value(remote, name),
                    field_value(base, name),
                    field_value(local, name),
                )
            })
            .map(str::to_owned)
            .collect()
    }

    proptest! {
        #[test]
        fn categorise_matches_field_level_edits((remote, base, local) in record_case()) {
            let sides = (&remote, &base, &local);
            let clashing = names_where(sides, |r, b, l| r != b && l != b && r != l);
            let remote_changed = names_where(sides, |r, b, _| r != b);
            let local_changed = names_where(sides, |_, b, l| l != b);
            let disagreeing = names_where(sides, |r, _, l| r != l);

            let decided = categorise(Some(&remote), Some(&base), Some(&local));
            let listed: BTreeSet<String> = decided.fields.iter().map(|f| f.field.clone()).collect();
            let both_changed = !remote_changed.is_empty() && !local_changed.is_empty();

            prop_assert!(!decided.adopted);
            // Record-level rule of the table.
            prop_assert_eq!(decided.category == Category::Conflict, both_changed && !disagreeing.is_empty());
            // A field changed on both sides to different values always means Conflict.
            if !clashing.is_empty() {
                prop_assert_eq!(decided.category, Category::Conflict);
            }
            // Auto-merge is possible exactly when no field clashes.
            let merged = merge_disjoint(&base, &local, &remote);
            prop_assert_eq!(merged.is_some(), clashing.is_empty());

            // Apply the action, then both sides must agree.
            let (mut new_local, mut new_remote) = (local.clone(), remote.clone());
            match decided.category {
                Category::Unchanged => prop_assert!(listed.is_empty()),
                Category::RemoteOnly => {
                    prop_assert_eq!(&listed, &remote_changed);
                    new_local = remote.clone();
                }
                Category::LocalOnly => {
                    prop_assert_eq!(&listed, &local_changed);
                    new_remote = local.clone();
                }
                Category::Converged => prop_assert_eq!(&listed, &remote_changed),
                Category::Conflict => {
                    prop_assert_eq!(&listed, &disagreeing);
                    for field in &decided.fields {
                        prop_assert_eq!(field.base.as_ref(), field_value(&base, &field.field));
                        prop_assert_eq!(field.local.as_ref(), field_value(&local, &field.field));
                        prop_assert_eq!(field.remote.as_ref(), field_value(&remote, &field.field));
                    }
                    if let Some(merged) = merged {
                        new_local = merged.clone();
                        new_remote = merged;
                    }
                }
                other => prop_assert!(false, "unexpected category {:?}", other),
            }
            if decided.category != Category::Conflict || clashing.is_empty() {
                prop_assert!(differing_fields(&new_local, &new_remote).is_empty());
                prop_assert_eq!(fields_hash(&new_local), fields_hash(&new_remote));
            }
        }

        #[test]
        fn canonicalise_is_idempotent((remote, base, local) in record_case()) {
            for fields in [remote, base, local] {
                prop_assert_eq!(canonicalise(fields.clone()), fields);
            }
        }

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
