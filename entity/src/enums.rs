//! Kinds and statuses, stored as lowercase strings.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $value)] #[serde(rename = $value)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $value),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($value => Ok(Self::$variant),)+ _ => Err(format!("unknown {}: {s}", stringify!($name))) }
            }
        }
    };
}

string_enum!(
    /// What a user may do: admins everything, editors change data, viewers read.
    Role { Admin = "admin", Editor = "editor", Viewer = "viewer" }
);

string_enum!(Provider {
    ServiceTitan = "servicetitan",
    Jobber = "jobber",
    ShipHero = "shiphero",
    Fulfil = "fulfil",
    Amazon = "amazon",
});

string_enum!(ConnectionStatus { Active = "active", Paused = "paused", Error = "error" });

string_enum!(
    /// Whether a connection can sync now, as the engine last found it.
    ConnectionHealth {
        Active = "active",
        /// An OAuth provider without consent yet: nothing to sync with.
        NotConnected = "not_connected",
        /// The provider refused the stored credentials (refresh token or client secret).
        NeedsReauth = "needs_reauth",
        /// The last runs failed.
        Failing = "failing",
        /// The schedule paused itself after repeated failures.
        Paused = "paused",
    }
);

impl ConnectionHealth {
    /// Runs cannot work until someone reconnects (they are refused or wait).
    pub fn needs_connecting(self) -> bool {
        matches!(self, Self::NotConnected | Self::NeedsReauth)
    }
}

string_enum!(
    /// What a first link does when the local item and the remote record differ.
    AdoptionPolicy {
        /// Store a FIRST_LINK conflict; touch neither side (the default).
        Conflict = "conflict",
        PreferRemote = "prefer_remote",
        PreferLocal = "prefer_local",
    }
);

string_enum!(ItemKind {
    Service = "service",
    Material = "material",
    Equipment = "equipment",
    Product = "product",
});

string_enum!(
    /// Per-record state of an item on one connection.
    LinkStatus {
        Synced = "synced",
        PendingPush = "pending_push",
        PendingPull = "pending_pull",
        Conflict = "conflict",
        Error = "error",
    }
);

string_enum!(RunMode {
    Full = "full",
    Incremental = "incremental",
    Entity = "entity",
    CsvImport = "csv_import",
    Push = "push",
    Resolve = "resolve",
    VendorFeed = "vendor_feed",
});

string_enum!(RunStatus {
    Queued = "queued",
    Running = "running",
    Succeeded = "succeeded",
    Failed = "failed",
    Cancelled = "cancelled",
    Interrupted = "interrupted",
});

impl RunStatus {
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

string_enum!(RunTrigger {
    User = "user",
    Schedule = "schedule",
    Connect = "connect",
    Webhook = "webhook",
    Cli = "cli",
    /// A local edit on a connection with `push_on_save` (a coalesced push run).
    Save = "save",
});

string_enum!(EventLevel { Info = "info", Warn = "warn", Error = "error" });

string_enum!(
    /// `FirstLink`: a connection met an existing local item (matched by code, no base
    /// yet) whose values differ from the remote record; never resolved automatically.
    ConflictKind { Fields = "fields", Delete = "delete", FirstLink = "first_link" }
);

string_enum!(ConflictStatus { Open = "open", Resolved = "resolved" });

string_enum!(Resolution { UseRemote = "use_remote", UseLocal = "use_local", Merged = "merged" });
