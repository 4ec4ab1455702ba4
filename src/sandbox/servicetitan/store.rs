//! The emulator's in-memory price book: records by id plus a (modifiedOn, id) index for
//! the export feeds, and a clock that never repeats a timestamp for a write.

use crate::connectors::servicetitan::wire::{Category, Sku};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet};

pub trait Stamped: Clone {
    fn id(&self) -> i64;
    fn modified(&self) -> DateTime<Utc>;
    fn set_modified(&mut self, at: DateTime<Utc>);
}

impl Stamped for Sku {
    fn id(&self) -> i64 {
        self.id
    }
    fn modified(&self) -> DateTime<Utc> {
        self.modified_on.unwrap_or_default()
    }
    fn set_modified(&mut self, at: DateTime<Utc>) {
        self.modified_on = Some(at);
    }
}

impl Stamped for Category {
    fn id(&self) -> i64 {
        self.id
    }
    fn modified(&self) -> DateTime<Utc> {
        self.modified_on.unwrap_or_default()
    }
    fn set_modified(&mut self, at: DateTime<Utc>) {
        self.modified_on = Some(at);
    }
}

pub struct Table<T: Stamped> {
    pub rows: BTreeMap<i64, T>,
    order: BTreeSet<(i64, i64)>,
}

impl<T: Stamped> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            order: BTreeSet::new(),
        }
    }
}

impl<T: Stamped> Table<T> {
    pub fn put(&mut self, row: T) {
        if let Some(old) = self.rows.get(&row.id()) {
            self.order
                .remove(&(old.modified().timestamp_millis(), old.id()));
        }
        self.order
            .insert((row.modified().timestamp_millis(), row.id()));
        self.rows.insert(row.id(), row);
    }

    pub fn remove(&mut self, id: i64) -> Option<T> {
        let old = self.rows.remove(&id)?;
        self.order
            .remove(&(old.modified().timestamp_millis(), old.id()));
        Some(old)
    }

    /// Records strictly after `(millis, id)` in modification order, at most `limit`;
    /// and whether more remain.
    pub fn changed_after(&self, after: (i64, i64), limit: usize) -> (Vec<T>, bool) {
        let mut iter = self
            .order
            .range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded));
        let page: Vec<T> = iter
            .by_ref()
            .take(limit)
            .filter_map(|(_, id)| self.rows.get(id).cloned())
            .collect();
        (page, iter.next().is_some())
    }

    pub fn next_id(&self) -> i64 {
        self.rows.keys().next_back().copied().unwrap_or(0) + 1
    }
}

/// Every write gets a timestamp later than any before it (millisecond precision), so a
/// cursor never hides a later change; seeded data shares one timestamp, as bulk imports do.
pub struct Clock {
    last_ms: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            last_ms: Utc::now().timestamp_millis(),
        }
    }
}

impl Clock {
    pub fn tick(&mut self) -> DateTime<Utc> {
        self.last_ms = Utc::now().timestamp_millis().max(self.last_ms + 1);
        Utc.timestamp_millis_opt(self.last_ms)
            .single()
            .unwrap_or_default()
    }
}

#[derive(Default)]
pub struct Data {
    pub services: Table<Sku>,
    pub materials: Table<Sku>,
    pub equipment: Table<Sku>,
    pub categories: Table<Category>,
    pub clock: Clock,
}

impl Data {
    pub fn skus(&self, entity: &str) -> Option<&Table<Sku>> {
        match entity {
            "services" => Some(&self.services),
            "materials" => Some(&self.materials),
            "equipment" => Some(&self.equipment),
            _ => None,
        }
    }

    pub fn skus_mut(&mut self, entity: &str) -> Option<&mut Table<Sku>> {
        match entity {
            "services" => Some(&mut self.services),
            "materials" => Some(&mut self.materials),
            "equipment" => Some(&mut self.equipment),
            _ => None,
        }
    }

    /// SKU ids are unique across services, materials and equipment, as upstream.
    pub fn next_sku_id(&self) -> i64 {
        self.services
            .next_id()
            .max(self.materials.next_id())
            .max(self.equipment.next_id())
    }
}
