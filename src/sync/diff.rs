//! Three-way categorisation of price-book records.
//!
//! Pure functions, no I/O: adapters turn upstream and local rows into canonical
//! [`Fields`] (see [`crate::record`]), and [`categorise`] decides what a sync run does
//! with a record given the remote copy, the base stored on the link at the last sync,
//! and the local copy.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::record::Fields;

/// What a sync run does with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Category {
    /// Remote record with no link and no local match: create the item and the link.
    NewRemote,
    /// Remote record matched a local item by code. [`categorise`] reports this
    /// through [`Decision::adopted`]; the variant exists for callers' tallies.
    Adopt,
    /// No base between a local item and the remote record (a first link) and they
    /// differ: a FIRST_LINK conflict, unless the connection's adoption policy picks a side.
    FirstLink,
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

/// Which side changed a field since the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldChange {
    Local,
    Remote,
    /// Both sides (or there is no base to tell: a first link).
    Both,
}

impl FieldDiff {
    /// Who changed this field since the base, read from the three values. For the local
    /// edits of a record deleted upstream, callers say `Local` (the remote side deleted
    /// the record, it did not edit this field).
    pub fn change(&self) -> FieldChange {
        match (self.local != self.base, self.remote != self.base) {
            (true, false) => FieldChange::Local,
            (false, true) => FieldChange::Remote,
            _ => FieldChange::Both,
        }
    }
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

/// A first link: a local item (matched by code, or linked before its first sync settled)
/// meets the remote record with no base between them. Equal records link silently;
/// otherwise nobody can tell which side changed, so neither may overwrite the other.
fn adopt(remote: &Fields, local: &Fields) -> Decision {
    let sides = Sides {
        remote: Some(remote),
        base: None,
        local: Some(local),
    };
    let differing = differing_fields(local, remote);
    let category = if differing.is_empty() {
        Category::Unchanged
    } else {
        Category::FirstLink
    };
    Decision {
        category,
        fields: sides.diffs(differing),
        adopted: true,
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
    use crate::record::test_records::{raw, record};
    use crate::record::{canonicalise, fields_hash};
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use serde_json::json;

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
    fn adopt_with_different_record_is_a_first_link_conflict() {
        let remote = record(json!({"code": "A1", "name": "Valve", "price": 12}));
        let local = record(json!({"code": "A1", "name": "valve", "price": 12}));
        let decided = categorise(Some(&remote), None, Some(&local));
        assert_eq!(
            decided,
            decision(
                Category::FirstLink,
                vec![diff(
                    "name",
                    None,
                    Some(json!("valve")),
                    Some(json!("Valve"))
                )],
                true,
            )
        );
        assert_eq!(decided.fields[0].change(), FieldChange::Both);
    }

    #[test]
    fn field_change_names_the_side_that_moved_from_base() {
        let base = record(json!({"name": "Valve", "price": 1, "cost": 1}));
        let local = record(json!({"name": "Valve L", "price": 1, "cost": 2}));
        let remote = record(json!({"name": "Valve", "price": 5, "cost": 3}));
        let decided = categorise(Some(&remote), Some(&base), Some(&local));
        let changes: Vec<(&str, FieldChange)> = decided
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.change()))
            .collect();
        assert_eq!(
            changes,
            [
                ("cost", FieldChange::Both),
                ("name", FieldChange::Local),
                ("price", FieldChange::Remote),
            ]
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

    }
}
