//! Kinds and statuses, stored as lowercase strings.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
        pub enum $name {
            $(#[sea_orm(string_value = $value)] #[serde(rename = $value)] $variant),+
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
});

string_enum!(EventLevel { Info = "info", Warn = "warn", Error = "error" });

string_enum!(ConflictKind { Fields = "fields", Delete = "delete" });

string_enum!(ConflictStatus { Open = "open", Resolved = "resolved" });

string_enum!(Resolution { UseRemote = "use_remote", UseLocal = "use_local", Merged = "merged" });
