//! GraphQL enums mirroring the stored kinds and statuses.

use async_graphql::Enum;
use entity::enums as e;

/// What a user may do in their account.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::Role")]
pub enum Role {
    /// Everything, including connections, schedules and users.
    Admin,
    /// Edit items, run syncs, resolve conflicts, import CSV files.
    Editor,
    /// Read only.
    Viewer,
}

/// The upstream system a connection talks to.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::Provider")]
pub enum Provider {
    /// ServiceTitan pricebook (materials, equipment, services, categories).
    #[graphql(name = "SERVICETITAN")]
    ServiceTitan,
    /// Jobber products and services (OAuth).
    Jobber,
    /// ShipHero products; a route target fed by a Fulfil connection.
    #[graphql(name = "SHIPHERO")]
    ShipHero,
    /// Fulfil products.
    Fulfil,
    /// Amazon Selling Partner API: FBA inventory (pull only) and financial events.
    Amazon,
}

/// Whether a connection syncs.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ConnectionStatus")]
pub enum ConnectionStatus {
    /// Connected and syncing.
    Active,
    /// Kept, but no syncs run.
    Paused,
    /// Not usable until fixed (e.g. credentials refused); see the last run.
    Error,
}

/// Whether a connection can sync now, as the engine last found it. Every change is
/// recorded in the audit log (`connection.health`) and, when a run caused it, in the
/// run's events.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ConnectionHealth")]
pub enum ConnectionHealth {
    /// Nothing known to be wrong.
    Active,
    /// An OAuth provider without consent yet (`startOAuth`): runs are refused with
    /// RECONNECT_REQUIRED and scheduled runs wait.
    NotConnected,
    /// The provider refused the stored credentials even after a refresh: reconnect
    /// (OAuth) or update the secrets. Runs are refused and scheduled runs wait.
    NeedsReauth,
    /// The last runs failed (3 or more in a row).
    Failing,
    /// The schedule paused itself after 10 failed runs in a row; `setSchedule` or a
    /// successful run resumes it.
    Paused,
}

/// What a connection's first sync of an existing local item (matched by code, no common
/// base) does when the two differ.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::AdoptionPolicy")]
pub enum AdoptionPolicy {
    /// Store a FIRST_LINK conflict and touch neither side (the default).
    Conflict,
    /// The local item takes the remote values.
    PreferRemote,
    /// The local values are pushed upstream.
    PreferLocal,
}

/// What a price-book item is.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ItemKind")]
pub enum ItemKind {
    /// Labour or a task sold by time or flat rate.
    Service,
    /// A consumable part used on jobs.
    Material,
    /// Installed equipment with a model and warranty.
    Equipment,
    /// A sellable product (Jobber, Fulfil, ShipHero, Amazon).
    Product,
}

/// Where an item stands with one connection.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::LinkStatus")]
pub enum LinkStatus {
    /// Both sides agree as of the last sync.
    Synced,
    /// Changed locally; the next sync (or push) sends it upstream.
    PendingPush,
    /// Changed upstream; the next sync brings it in.
    PendingPull,
    /// Changed on both sides; an open conflict waits for a decision.
    Conflict,
    /// The last sync of this item failed; see `lastError`.
    Error,
}

/// Sort key of the `items` list.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ItemSort {
    /// By code (SKU).
    #[default]
    Code,
    /// By name.
    Name,
    /// By last change, local or synced.
    UpdatedAt,
}

impl From<ItemSort> for crate::store::items::ItemSort {
    fn from(s: ItemSort) -> Self {
        match s {
            ItemSort::Code => Self::Code,
            ItemSort::Name => Self::Name,
            ItemSort::UpdatedAt => Self::UpdatedAt,
        }
    }
}
