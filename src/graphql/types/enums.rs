//! GraphQL enums mirroring the stored kinds and statuses.

use async_graphql::Enum;
use entity::enums as e;

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::Role")]
pub enum Role {
    Admin,
    Editor,
    Viewer,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::Provider")]
pub enum Provider {
    #[graphql(name = "SERVICETITAN")]
    ServiceTitan,
    Jobber,
    #[graphql(name = "SHIPHERO")]
    ShipHero,
    Fulfil,
    Amazon,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ConnectionStatus")]
pub enum ConnectionStatus {
    Active,
    Paused,
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

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::ItemKind")]
pub enum ItemKind {
    Service,
    Material,
    Equipment,
    Product,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::LinkStatus")]
pub enum LinkStatus {
    Synced,
    PendingPush,
    PendingPull,
    Conflict,
    Error,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ItemSort {
    #[default]
    Code,
    Name,
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
