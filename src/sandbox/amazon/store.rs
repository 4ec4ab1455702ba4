//! The emulator's in-memory seller account: inventory summaries by seller SKU, financial
//! events in posting order, FBA recoveries data and the reports made from it.

use crate::connectors::amazon::wire::{
    AdjustmentEvent, InventorySummary, ServiceFeeEvent, ShipmentEvent,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub enum StoredEvent {
    Shipment(ShipmentEvent),
    Refund(ShipmentEvent),
    Adjustment(AdjustmentEvent),
    /// Service fees carry no `PostedDate` on the wire; the emulator still knows when.
    ServiceFee {
        at: DateTime<Utc>,
        event: ServiceFeeEvent,
    },
}

impl StoredEvent {
    pub fn posted(&self) -> DateTime<Utc> {
        match self {
            StoredEvent::Shipment(e) | StoredEvent::Refund(e) => e.posted_date.unwrap_or_default(),
            StoredEvent::ServiceFee { at, .. } => *at,
            StoredEvent::Adjustment(e) => e.posted_date.unwrap_or_default(),
        }
    }
}

#[derive(Default)]
pub struct Data {
    /// Seller SKU → summary (summaries without a SKU, added through the control API,
    /// are keyed `~<n>` so they sort last).
    pub inventory: BTreeMap<String, InventorySummary>,
    pub events: Vec<StoredEvent>,
    /// Reimbursements, inventory ledger and inbound items (FBA recoveries).
    pub recoveries: super::recoveries::RecoveryData,
    /// Reports by id, and their documents by document id.
    pub reports: std::collections::HashMap<String, super::reports::EmulatedReport>,
    pub documents: std::collections::HashMap<String, super::reports::EmulatedDocument>,
}

impl Data {
    pub fn sort_events(&mut self) {
        self.events.sort_by_key(|e| e.posted());
    }
}
