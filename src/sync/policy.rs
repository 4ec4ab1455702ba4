//! Sync policy of a connection: which side owns each canonical field, per entity type.
//!
//! Pure, no I/O. The policy is an input of the categorisation: [`categorise`] runs the
//! three-way diff of [`diff::categorise`] over the `BOTH` fields only (so only they can
//! conflict), then adds the owned fields deterministically:
//! - `REMOTE_OWNS`: pulled whenever the remote value differs (from the base when local
//!   edits are kept, from local otherwise); a local value is never pushed;
//! - `LOCAL_OWNS`: pushed whenever the local value differs from the remote one; a remote
//!   change is overwritten by that push and reported;
//! - `IGNORE`: never compared, never written (local keeps its value, upstream keeps its).
//!
//! What is written follows the same rule: [`Policy::written`] is what a local item takes
//! from a remote record, [`Policy::outgoing`] what a push sends, [`Policy::created`] what
//! a create sends (a record re-created upstream).
//!
//! The record filter judges each side by the data that would be written: a pull judges
//! the remote record ([`RecordFilter::admits`] over its fields), a push judges the local
//! item ([`Policy::pushes`]), so a local item outside the filter is never written upstream
//! even while its upstream record is still inside (deactivated or moved here).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::diff::{self, Category, Decision, FieldDiff};
use crate::record::Fields;

/// Which side is the source of truth for one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ownership {
    /// Three-way, as without a policy: either side may change it; both changing it differently is a conflict.
    #[default]
    Both,
    RemoteOwns,
    LocalOwns,
    Ignore,
}

/// What a local edit of a `REMOTE_OWNS` field does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LocalEdits {
    /// `updateItem` and CSV imports refuse it, naming the owner.
    #[default]
    Refuse,
    /// Accepted and kept locally, never pushed; the next remote change of the field lands over it.
    KeepLocal,
}

/// The policy of one entity type of a connection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Canonical field → ownership; absent fields are `BOTH`.
    #[serde(default)]
    pub fields: BTreeMap<String, Ownership>,
    #[serde(default)]
    pub local_edits: LocalEdits,
    /// Which records sync at all.
    #[serde(default)]
    pub filter: RecordFilter,
}

/// Records of an entity type that sync; the rest are neither pulled nor pushed, and a
/// linked record leaving the filter is unlinked (its item stays).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordFilter {
    /// Only active records.
    #[serde(default)]
    pub active_only: bool,
    /// Only records filed under this local category or one below it.
    #[serde(default)]
    pub category_id: Option<i64>,
    /// Only these item kinds (`service`, `material`, `equipment`, `product`); empty: all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Only codes matching this glob (`*` any run, `?` one character; at most
    /// [`MAX_PATTERN`] characters, matched in linear time).
    #[serde(default)]
    pub code_pattern: Option<String>,
    /// Only records the upstream changed at or after this instant.
    #[serde(default)]
    pub changed_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Longest code pattern a filter may hold.
pub const MAX_PATTERN: usize = 64;

/// One record as a filter sees it.
pub struct Candidate<'a> {
    pub fields: &'a Fields,
    pub kind: &'a str,
    /// Its local category, if any.
    pub category_id: Option<i64>,
    pub modified_on: Option<chrono::DateTime<chrono::Utc>>,
}

impl RecordFilter {
    pub fn is_empty(&self) -> bool {
        *self == RecordFilter::default()
    }

    /// Whether the record syncs; `subtree` is the category and its descendants (read
    /// once per page by the caller when `category_id` is set).
    pub fn admits(&self, r: &Candidate<'_>, subtree: &std::collections::HashSet<i64>) -> bool {
        let active = r
            .fields
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let code = r.fields.get("code").and_then(Value::as_str).unwrap_or("");
        (!self.active_only || active)
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == r.kind))
            && self
                .category_id
                .is_none_or(|_| r.category_id.is_some_and(|c| subtree.contains(&c)))
            && self
                .code_pattern
                .as_deref()
                .is_none_or(|p| wildmatch::WildMatch::new(p).matches(code))
            && self
                .changed_since
                .is_none_or(|floor| r.modified_on.is_none_or(|m| m >= floor))
    }
}

/// Most fields a policy may name (a bounded input).
pub const MAX_FIELDS: usize = 64;
/// Longest canonical field name a policy may name.
pub const MAX_FIELD_NAME: usize = 64;

impl Policy {
    /// The policy of `entity` in a connection's stored `sync_policy` (falling back to its
    /// `default` entry; an unreadable entry is the default policy).
    pub fn of(stored: &Value, entity: &str) -> Policy {
        stored
            .get(entity)
            .or_else(|| stored.get("default"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    pub fn ownership(&self, field: &str) -> Ownership {
        self.fields.get(field).copied().unwrap_or_default()
    }

    /// True when every field is `BOTH`: the categorisation is exactly today's.
    /// (The record filter is applied before categorisation.)
    pub fn is_default(&self) -> bool {
        self.fields.values().all(|o| *o == Ownership::Both)
    }

    /// The fields of `fields` that `keep` accepts.
    fn only(&self, fields: &Fields, keep: impl Fn(Ownership) -> bool) -> Fields {
        fields
            .iter()
            .filter(|(name, _)| keep(self.ownership(name)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The `REMOTE_OWNS` fields a local edit may not change (refusing mode), sorted.
    pub fn refused_edits<'a>(&self, changed: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        if self.local_edits != LocalEdits::Refuse {
            return Vec::new();
        }
        let mut refused: Vec<String> = changed
            .into_iter()
            .filter(|f| self.ownership(f) == Ownership::RemoteOwns)
            .map(str::to_owned)
            .collect();
        refused.sort();
        refused.dedup();
        refused
    }

    /// What the local item becomes when it takes a remote record: remote values for the
    /// fields remote may write, local values for `LOCAL_OWNS` and `IGNORE` fields and for
    /// kept local edits of `REMOTE_OWNS` fields the remote side did not change.
    pub fn written(
        &self,
        remote: &Fields,
        base: Option<&Fields>,
        local: Option<&Fields>,
    ) -> Fields {
        let Some(local) = local else {
            // A new item: nothing local to keep; ignored fields are not written.
            return self.only(remote, |o| o != Ownership::Ignore);
        };
        let mut out = Fields::new();
        for name in names(&[remote, local]) {
            let r = value(Some(remote), &name);
            let l = value(Some(local), &name);
            let pick = match self.ownership(&name) {
                Ownership::Both => r,
                Ownership::LocalOwns | Ownership::Ignore => l,
                Ownership::RemoteOwns => {
                    let remote_moved = base.is_none_or(|b| value(Some(b), &name) != r);
                    if remote_moved || self.local_edits == LocalEdits::Refuse {
                        r
                    } else {
                        l
                    }
                }
            };
            if let Some(v) = pick {
                out.insert(name, v.clone());
            }
        }
        out
    }

    /// Whether a push may write this local record upstream: it is inside the record
    /// filter (judged on the local item; `subtree` as for [`RecordFilter::admits`]).
    /// Outside, nothing of it is sent, whatever it owes.
    pub fn pushes(&self, local: &Candidate<'_>, subtree: &std::collections::HashSet<i64>) -> bool {
        self.filter.is_empty() || self.filter.admits(local, subtree)
    }

    /// What a create sends (a record re-created upstream), given the canonical fields the
    /// upstream requires on create. There is no base yet, so:
    /// - `BOTH` and `LOCAL_OWNS` fields send their local values;
    /// - `REMOTE_OWNS` fields send their local value once: the upstream has no value of
    ///   its own yet, and the local one is the last it had (from then on the upstream owns
    ///   it, and nothing local is pushed again);
    /// - `IGNORE` fields are left out (the connector sends its empty default, if any).
    ///
    /// Refused (the required fields that are `IGNORE`, sorted) when the upstream requires
    /// a field the policy ignores: sending a made-up value would be a guess.
    pub fn created(&self, local: &Fields, required: &[&str]) -> Result<Fields, Vec<String>> {
        let mut ignored: Vec<String> = required
            .iter()
            .filter(|f| self.ownership(f) == Ownership::Ignore)
            .map(|f| (*f).to_owned())
            .collect();
        if !ignored.is_empty() {
            ignored.sort();
            return Err(ignored);
        }
        Ok(self.only(local, |o| o != Ownership::Ignore))
    }

    /// What a push sends: local values for the fields local may write, the upstream's
    /// last known values (the base) for `REMOTE_OWNS` and `IGNORE` fields.
    pub fn outgoing(&self, local: &Fields, base: Option<&Fields>) -> Fields {
        if self.is_default() {
            return local.clone();
        }
        let empty = Fields::new();
        let base = base.unwrap_or(&empty);
        let mut out = Fields::new();
        for name in names(&[local, base]) {
            let pick = match self.ownership(&name) {
                Ownership::Both | Ownership::LocalOwns => value(Some(local), &name),
                Ownership::RemoteOwns | Ownership::Ignore => value(Some(base), &name),
            };
            if let Some(v) = pick {
                out.insert(name, v.clone());
            }
        }
        out
    }
}

/// Whether any entity type of a stored `sync_policy` refuses local edits of `field`
/// (imports that do not know an item's entity type refuse when any does).
pub fn refuses_edits_anywhere(stored: &Value, field: &str) -> bool {
    stored.as_object().is_some_and(|entries| {
        entries
            .values()
            .filter_map(|v| serde_json::from_value::<Policy>(v.clone()).ok())
            .any(|p| !p.refused_edits([field]).is_empty())
    })
}

fn value<'a>(fields: Option<&'a Fields>, name: &str) -> Option<&'a Value> {
    fields.and_then(|f| f.get(name)).filter(|v| !v.is_null())
}

fn names(maps: &[&Fields]) -> std::collections::BTreeSet<String> {
    maps.iter().flat_map(|m| m.keys().cloned()).collect()
}

/// The categorisation under a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub decision: Decision,
    /// `RemoteOnly` whose local `LOCAL_OWNS` values must also be pushed afterwards.
    pub also_push: bool,
    /// `LOCAL_OWNS` fields the remote side changed, which the push overwrites.
    pub overwritten: Vec<String>,
}

/// [`diff::categorise`] under a policy (see the module documentation).
pub fn categorise(
    policy: &Policy,
    remote: Option<&Fields>,
    base: Option<&Fields>,
    local: Option<&Fields>,
) -> Verdict {
    if policy.is_default() {
        return Verdict {
            decision: diff::categorise(remote, base, local),
            also_push: false,
            overwritten: Vec::new(),
        };
    }
    let both = |f: &Fields| policy.only(f, |o| o == Ownership::Both);
    let (r, b, l) = (remote.map(both), base.map(both), local.map(both));
    let (Some(remote), Some(local)) = (remote, local) else {
        // New records and deletions: local edits of fields local does not own are not its
        // own data to lose, so a deletion compares BOTH and LOCAL_OWNS fields.
        let mine =
            |f: &Fields| policy.only(f, |o| matches!(o, Ownership::Both | Ownership::LocalOwns));
        let decision = match (remote, local) {
            (None, _) => diff::categorise(None, base.map(mine).as_ref(), local.map(mine).as_ref()),
            _ => diff::categorise(
                remote
                    .map(|f| policy.only(f, |o| o != Ownership::Ignore))
                    .as_ref(),
                base,
                None,
            ),
        };
        return Verdict {
            decision,
            also_push: false,
            overwritten: Vec::new(),
        };
    };
    let mut decision = diff::categorise(r.as_ref(), b.as_ref(), l.as_ref());
    let mut pulled = Vec::new();
    let mut pushed = Vec::new();
    let mut overwritten = Vec::new();
    for name in names(&[remote, local]) {
        let (rv, lv, bv) = (
            value(Some(remote), &name),
            value(Some(local), &name),
            value(base, &name),
        );
        let diff = || FieldDiff {
            field: name.clone(),
            base: bv.cloned(),
            local: lv.cloned(),
            remote: rv.cloned(),
        };
        match policy.ownership(&name) {
            Ownership::RemoteOwns => {
                let moved = match (base, policy.local_edits) {
                    (Some(_), LocalEdits::KeepLocal) => rv != bv,
                    _ => rv != lv,
                };
                if moved && rv != lv {
                    pulled.push(diff());
                }
            }
            Ownership::LocalOwns if rv != lv => {
                if base.is_some() && rv != bv {
                    overwritten.push(name.clone());
                }
                pushed.push(diff());
            }
            _ => {}
        }
    }
    let (pull, push) = (!pulled.is_empty(), !pushed.is_empty());
    let category = match decision.category {
        Category::Unchanged | Category::Converged if pull => Category::RemoteOnly,
        Category::Unchanged | Category::Converged if push => Category::LocalOnly,
        Category::LocalOnly if pull => Category::RemoteOnly,
        other => other,
    };
    let also_push =
        category == Category::RemoteOnly && (push || decision.category == Category::LocalOnly);
    if !matches!(decision.category, Category::Conflict | Category::FirstLink) {
        decision.fields.extend(pulled);
        decision.fields.extend(pushed);
        decision.fields.sort_by(|a, b| a.field.cmp(&b.field));
    }
    decision.category = category;
    Verdict {
        decision,
        also_push,
        overwritten,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_records::record;
    use serde_json::json;

    fn policy(fields: &[(&str, Ownership)], local_edits: LocalEdits) -> Policy {
        Policy {
            fields: fields.iter().map(|(k, o)| ((*k).to_owned(), *o)).collect(),
            local_edits,
            filter: RecordFilter::default(),
        }
    }

    fn verdict(p: &Policy, r: Value, b: Value, l: Value) -> Verdict {
        categorise(p, Some(&record(r)), Some(&record(b)), Some(&record(l)))
    }

    const REFUSE: LocalEdits = LocalEdits::Refuse;
    const KEEP: LocalEdits = LocalEdits::KeepLocal;

    #[test]
    fn stored_policy_falls_back_to_default_entry() {
        let stored =
            json!({"default": {"fields": {"price": "REMOTE_OWNS"}}, "equipment": {"fields": {}}});
        assert_eq!(
            Policy::of(&stored, "materials").ownership("price"),
            Ownership::RemoteOwns
        );
        assert_eq!(
            Policy::of(&stored, "equipment").ownership("price"),
            Ownership::Both
        );
        assert!(Policy::of(&json!({}), "materials").is_default());
    }

    #[test]
    fn remote_owned_field_changed_remotely_is_pulled() {
        let p = policy(&[("price", Ownership::RemoteOwns)], REFUSE);
        let v = verdict(
            &p,
            json!({"code": "A", "price": 12}),
            json!({"code": "A", "price": 10}),
            json!({"code": "A", "price": 10}),
        );
        assert_eq!(v.decision.category, Category::RemoteOnly);
        assert!(!v.also_push);
    }

    #[test]
    fn remote_owned_field_edited_locally_is_never_pushed() {
        for mode in [REFUSE, KEEP] {
            let p = policy(&[("price", Ownership::RemoteOwns)], mode);
            let v = verdict(
                &p,
                json!({"code": "A", "price": 10}),
                json!({"code": "A", "price": 10}),
                json!({"code": "A", "price": 11}),
            );
            let expected = if mode == KEEP {
                Category::Unchanged
            } else {
                Category::RemoteOnly
            };
            assert_eq!(v.decision.category, expected, "{mode:?}");
            let out = p.outgoing(
                &record(json!({"code": "A", "price": 11})),
                Some(&record(json!({"code": "A", "price": 10}))),
            );
            assert_eq!(out, record(json!({"code": "A", "price": 10})));
        }
    }

    #[test]
    fn remote_owned_change_lands_over_both_local_edit_and_conflict_free() {
        let p = policy(&[("price", Ownership::RemoteOwns)], KEEP);
        let v = verdict(
            &p,
            json!({"code": "A", "price": 12}),
            json!({"code": "A", "price": 10}),
            json!({"code": "A", "price": 11}),
        );
        assert_eq!(v.decision.category, Category::RemoteOnly);
        let w = p.written(
            &record(json!({"code": "A", "price": 12})),
            Some(&record(json!({"code": "A", "price": 10}))),
            Some(&record(json!({"code": "A", "price": 11}))),
        );
        assert_eq!(w, record(json!({"code": "A", "price": 12})));
    }

    #[test]
    fn kept_local_edit_survives_a_pull_of_other_fields() {
        let p = policy(&[("price", Ownership::RemoteOwns)], KEEP);
        let (r, b, l) = (
            json!({"code": "A", "name": "N2", "price": 10}),
            json!({"code": "A", "name": "N", "price": 10}),
            json!({"code": "A", "name": "N", "price": 11}),
        );
        assert_eq!(
            verdict(&p, r.clone(), b.clone(), l.clone())
                .decision
                .category,
            Category::RemoteOnly
        );
        let w = p.written(&record(r), Some(&record(b)), Some(&record(l)));
        assert_eq!(w, record(json!({"code": "A", "name": "N2", "price": 11})));
    }

    #[test]
    fn local_owned_remote_change_is_overwritten_and_reported() {
        let p = policy(&[("cost", Ownership::LocalOwns)], REFUSE);
        let v = verdict(
            &p,
            json!({"code": "A", "cost": 7}),
            json!({"code": "A", "cost": 5}),
            json!({"code": "A", "cost": 5}),
        );
        assert_eq!(v.decision.category, Category::LocalOnly);
        assert_eq!(v.overwritten, vec!["cost".to_owned()]);
    }

    #[test]
    fn local_owned_with_remote_both_change_pulls_and_pushes() {
        let p = policy(&[("cost", Ownership::LocalOwns)], REFUSE);
        let (r, b, l) = (
            json!({"code": "A", "name": "N2", "cost": 5}),
            json!({"code": "A", "name": "N", "cost": 5}),
            json!({"code": "A", "name": "N", "cost": 6}),
        );
        let v = verdict(&p, r.clone(), b.clone(), l.clone());
        assert_eq!(v.decision.category, Category::RemoteOnly);
        assert!(v.also_push);
        let w = p.written(&record(r), Some(&record(b)), Some(&record(l)));
        assert_eq!(w, record(json!({"code": "A", "name": "N2", "cost": 6})));
    }

    #[test]
    fn ignored_field_never_conflicts_nor_is_written() {
        let p = policy(&[("description", Ownership::Ignore)], REFUSE);
        let (r, b, l) = (
            json!({"code": "A", "description": "r"}),
            json!({"code": "A", "description": "b"}),
            json!({"code": "A", "description": "l"}),
        );
        let v = verdict(&p, r.clone(), b.clone(), l.clone());
        assert_eq!(v.decision.category, Category::Unchanged);
        assert_eq!(
            p.written(
                &record(r),
                Some(&record(b.clone())),
                Some(&record(l.clone()))
            ),
            record(l.clone())
        );
        assert_eq!(p.outgoing(&record(l), Some(&record(b.clone()))), record(b));
    }

    #[test]
    fn conflicts_only_on_both_fields() {
        let p = policy(
            &[
                ("price", Ownership::RemoteOwns),
                ("cost", Ownership::LocalOwns),
            ],
            REFUSE,
        );
        let v = verdict(
            &p,
            json!({"code": "A", "price": 2, "cost": 2}),
            json!({"code": "A", "price": 1, "cost": 1}),
            json!({"code": "A", "price": 3, "cost": 3}),
        );
        assert_ne!(v.decision.category, Category::Conflict);
        let v = verdict(
            &p,
            json!({"code": "A", "name": "R"}),
            json!({"code": "A", "name": "B"}),
            json!({"code": "A", "name": "L"}),
        );
        assert_eq!(v.decision.category, Category::Conflict);
    }

    #[test]
    fn deletion_ignores_edits_of_fields_local_does_not_own() {
        let p = policy(&[("price", Ownership::RemoteOwns)], KEEP);
        let v = categorise(
            &p,
            None,
            Some(&record(json!({"code": "A", "price": 1}))),
            Some(&record(json!({"code": "A", "price": 2}))),
        );
        assert_eq!(v.decision.category, Category::RemoteDelete);
    }

    #[test]
    fn record_filter_admits_by_each_criterion() {
        let fields = record(json!({"code": "PIPE-10", "active": false}));
        let subtree: std::collections::HashSet<i64> = [3, 4].into();
        let r = |category_id| Candidate {
            fields: &fields,
            kind: "material",
            category_id,
            modified_on: Some(chrono::DateTime::UNIX_EPOCH),
        };
        let f = |f: RecordFilter| f.admits(&r(Some(4)), &subtree);
        assert!(f(RecordFilter::default()));
        assert!(!f(RecordFilter {
            active_only: true,
            ..Default::default()
        }));
        assert!(f(RecordFilter {
            category_id: Some(3),
            ..Default::default()
        }));
        assert!(
            !RecordFilter {
                category_id: Some(3),
                ..Default::default()
            }
            .admits(&r(Some(9)), &subtree)
        );
        assert!(
            !RecordFilter {
                category_id: Some(3),
                ..Default::default()
            }
            .admits(&r(None), &subtree)
        );
        assert!(f(RecordFilter {
            kinds: vec!["material".into()],
            ..Default::default()
        }));
        assert!(!f(RecordFilter {
            kinds: vec!["service".into()],
            ..Default::default()
        }));
        assert!(f(RecordFilter {
            code_pattern: Some("PIPE-*".into()),
            ..Default::default()
        }));
        assert!(!f(RecordFilter {
            code_pattern: Some("VALVE-?".into()),
            ..Default::default()
        }));
        assert!(!f(RecordFilter {
            changed_since: Some(chrono::Utc::now()),
            ..Default::default()
        }));
    }

    #[test]
    fn a_create_leaves_ignored_fields_out_and_sends_remote_owned_ones_once() {
        let p = policy(
            &[
                ("description", Ownership::Ignore),
                ("price", Ownership::RemoteOwns),
                ("cost", Ownership::LocalOwns),
            ],
            REFUSE,
        );
        let local =
            record(json!({"code": "A", "name": "N", "description": "d", "price": 2, "cost": 1}));
        assert_eq!(
            p.created(&local, &["code"]),
            Ok(record(
                json!({"code": "A", "name": "N", "price": 2, "cost": 1})
            ))
        );
        assert_eq!(
            Policy::default().created(&local, &["code"]),
            Ok(local.clone())
        );
    }

    #[test]
    fn a_create_needing_an_ignored_field_is_refused() {
        let p = policy(
            &[("price", Ownership::Ignore), ("name", Ownership::Ignore)],
            REFUSE,
        );
        let local = record(json!({"code": "A", "name": "N", "price": 2}));
        assert_eq!(
            p.created(&local, &["price", "code", "name"]),
            Err(vec!["name".to_owned(), "price".to_owned()])
        );
        assert!(p.created(&local, &["code"]).is_ok());
    }

    #[test]
    fn a_local_record_outside_the_filter_is_not_pushed() {
        let active = record(json!({"code": "PIPE-1", "active": true}));
        let inactive = record(json!({"code": "PIPE-1", "active": false}));
        let local = |fields| Candidate {
            fields,
            kind: "material",
            category_id: Some(7),
            modified_on: None,
        };
        let none = std::collections::HashSet::new();
        let mut p = Policy::default();
        assert!(p.pushes(&local(&inactive), &none), "no filter: everything");
        p.filter.active_only = true;
        assert!(p.pushes(&local(&active), &none));
        assert!(!p.pushes(&local(&inactive), &none), "deactivated locally");
        p.filter = RecordFilter {
            category_id: Some(3),
            ..Default::default()
        };
        assert!(p.pushes(&local(&active), &[3, 7].into()));
        assert!(!p.pushes(&local(&active), &[3].into()), "moved out locally");
    }

    #[test]
    fn default_policy_is_todays_categorisation() {
        let p = Policy::default();
        let (r, b, l) = (
            record(json!({"code": "A", "name": "R"})),
            record(json!({"code": "A", "name": "B"})),
            record(json!({"code": "A", "name": "L"})),
        );
        assert_eq!(
            categorise(&p, Some(&r), Some(&b), Some(&l)).decision,
            diff::categorise(Some(&r), Some(&b), Some(&l))
        );
        assert_eq!(p.outgoing(&l, Some(&b)), l);
    }
}
