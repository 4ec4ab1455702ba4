//! The sync policy of a connection as GraphQL sees it (DESIGN §6 names).

use crate::error::{AppError, AppResult};
use crate::sync::policy::{self, LocalEdits as L, Ownership, Policy};
use async_graphql::{Enum, ID, InputObject, SimpleObject};
use std::collections::BTreeMap;

/// Which side is the source of truth for one canonical field.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum FieldOwnership {
    /// Either side may change it (three-way, as without a policy); only these fields conflict.
    Both,
    /// The upstream owns it: pulled, never pushed.
    RemoteOwns,
    /// This server owns it: pushed; an upstream change is overwritten by the next push and reported.
    LocalOwns,
    /// Never compared, never written either way.
    Ignore,
}

/// What a local edit of a `REMOTE_OWNS` field does.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LocalEdits {
    /// `updateItem` and CSV imports refuse it with `FIELD_OWNED_REMOTELY`, naming the connection.
    Refuse,
    /// Kept locally and never pushed; the next upstream change of the field lands over it.
    KeepLocal,
}

macro_rules! same_enum {
    ($a:ty, $b:ty, $($v:ident),+) => {
        impl From<$a> for $b { fn from(v: $a) -> Self { match v { $(<$a>::$v => <$b>::$v),+ } } }
        impl From<$b> for $a { fn from(v: $b) -> Self { match v { $(<$b>::$v => <$a>::$v),+ } } }
    };
}
same_enum!(
    FieldOwnership,
    Ownership,
    Both,
    RemoteOwns,
    LocalOwns,
    Ignore
);
same_enum!(LocalEdits, L, Refuse, KeepLocal);

/// One field's ownership.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "FieldPolicyInput")]
pub struct FieldPolicy {
    /// Canonical field name, e.g. `price`, `cost`, `description`.
    pub field: String,
    /// Who owns it.
    pub ownership: FieldOwnership,
}

/// The policy of one entity type (or `default`, for entity types without their own).
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "EntityPolicyInput")]
pub struct EntityPolicy {
    /// A provider entity type such as `materials`, or `default`.
    pub entity_type: String,
    /// What a local edit of a `REMOTE_OWNS` field does.
    pub local_edits: LocalEdits,
    /// Fields not listed are `BOTH`.
    pub fields: Vec<FieldPolicy>,
    /// Which records sync at all (default: every record).
    #[graphql(default)]
    pub filter: RecordFilter,
}

/// Which records of an entity type sync. Records outside are neither pulled nor pushed;
/// a linked record leaving the filter is unlinked, never deleted.
#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "RecordFilterInput")]
pub struct RecordFilter {
    /// Only active records.
    #[graphql(default)]
    pub active_only: bool,
    /// Only records filed under this category or one below it.
    pub category_id: Option<ID>,
    /// Only these kinds: `service`, `material`, `equipment`, `product` (empty: all).
    #[graphql(default)]
    pub kinds: Vec<String>,
    /// Only codes matching this glob (`*`, `?`; at most 64 characters).
    pub code_pattern: Option<String>,
    /// Only records the upstream changed at or after this instant.
    pub changed_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl RecordFilter {
    fn to_stored(&self) -> AppResult<policy::RecordFilter> {
        if self.kinds.len() > 4
            || self
                .kinds
                .iter()
                .any(|k| !["service", "material", "equipment", "product"].contains(&k.as_str()))
        {
            return Err(AppError::bad_input(
                "filter.kinds: service, material, equipment or product",
            ));
        }
        if let Some(p) = &self.code_pattern
            && (p.is_empty() || p.chars().count() > policy::MAX_PATTERN)
        {
            return Err(AppError::bad_input(format!(
                "filter.codePattern: 1 to {} characters",
                policy::MAX_PATTERN
            )));
        }
        let category_id = self
            .category_id
            .as_ref()
            .map(|id| {
                id.parse::<i64>()
                    .map_err(|_| AppError::bad_input("filter.categoryId is not a category id"))
            })
            .transpose()?;
        Ok(policy::RecordFilter {
            active_only: self.active_only,
            category_id,
            kinds: self.kinds.clone(),
            code_pattern: self.code_pattern.clone(),
            changed_since: self.changed_since,
        })
    }

    fn from_stored(f: &policy::RecordFilter) -> Self {
        Self {
            active_only: f.active_only,
            category_id: f.category_id.map(|id| ID(id.to_string())),
            kinds: f.kinds.clone(),
            code_pattern: f.code_pattern.clone(),
            changed_since: f.changed_since,
        }
    }
}

/// A connection's sync policy: field ownership per entity type.
#[derive(SimpleObject, Clone)]
pub struct ConnectionPolicy {
    /// The connection.
    pub connection_id: ID,
    /// One entry per entity type with a policy; none means every field `BOTH`.
    pub entities: Vec<EntityPolicy>,
}

/// A new sync policy for a connection (replaces the whole policy).
#[derive(InputObject)]
pub struct ConnectionPolicyInput {
    /// One entry per entity type (or `default`); at most 16.
    pub entities: Vec<EntityPolicy>,
}

/// Most entity entries a policy holds.
const MAX_ENTITIES: usize = 16;

fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl ConnectionPolicyInput {
    /// The stored form, refusing what is ambiguous or unbounded.
    /// The categories the filters name (the caller checks they are the account's).
    pub fn category_ids(&self) -> Vec<i64> {
        self.entities
            .iter()
            .filter_map(|e| e.filter.category_id.as_ref()?.parse().ok())
            .collect()
    }

    pub fn to_stored(&self) -> AppResult<serde_json::Value> {
        if self.entities.len() > MAX_ENTITIES {
            return Err(AppError::bad_input(format!(
                "a policy holds at most {MAX_ENTITIES} entity types"
            )));
        }
        let mut stored = serde_json::Map::new();
        for e in &self.entities {
            if !valid_name(&e.entity_type, 64) {
                return Err(AppError::bad_input(format!(
                    "entityType {:?}: lowercase letters, digits and _ only",
                    e.entity_type
                )));
            }
            if e.fields.len() > policy::MAX_FIELDS {
                return Err(AppError::bad_input(format!(
                    "a policy names at most {} fields per entity type",
                    policy::MAX_FIELDS
                )));
            }
            let mut fields = BTreeMap::new();
            for f in &e.fields {
                if !valid_name(&f.field, policy::MAX_FIELD_NAME) {
                    return Err(AppError::bad_input(format!(
                        "field {:?}: a canonical field name (lowercase letters, digits and _)",
                        f.field
                    )));
                }
                if f.field == "code" && f.ownership != FieldOwnership::Both {
                    return Err(AppError::bad_input(
                        "code links records to items: it is always BOTH",
                    ));
                }
                if fields
                    .insert(f.field.clone(), Ownership::from(f.ownership))
                    .is_some()
                {
                    return Err(AppError::bad_input(format!(
                        "field {} is listed twice for {}",
                        f.field, e.entity_type
                    )));
                }
            }
            let p = Policy {
                fields,
                local_edits: e.local_edits.into(),
                filter: e.filter.to_stored()?,
            };
            let value = serde_json::to_value(&p).map_err(AppError::internal)?;
            if stored.insert(e.entity_type.clone(), value).is_some() {
                return Err(AppError::bad_input(format!(
                    "entityType {} is listed twice",
                    e.entity_type
                )));
            }
        }
        Ok(serde_json::Value::Object(stored))
    }
}

impl ConnectionPolicy {
    pub fn from_stored(connection_id: i64, stored: &serde_json::Value) -> Self {
        let entities = stored
            .as_object()
            .map(|m| {
                m.keys()
                    .map(|entity| {
                        let p = Policy::of(stored, entity);
                        EntityPolicy {
                            entity_type: entity.clone(),
                            local_edits: p.local_edits.into(),
                            fields: p
                                .fields
                                .iter()
                                .map(|(field, o)| FieldPolicy {
                                    field: field.clone(),
                                    ownership: (*o).into(),
                                })
                                .collect(),
                            filter: RecordFilter::from_stored(&p.filter),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            connection_id: ID(connection_id.to_string()),
            entities,
        }
    }
}
