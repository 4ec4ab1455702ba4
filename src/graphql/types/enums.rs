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
