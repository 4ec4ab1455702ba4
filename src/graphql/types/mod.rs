//! GraphQL-facing types: built from store models, never the models themselves.

pub mod alert;
pub mod api_key;
pub mod audit;
pub mod category;
pub mod conflict;
pub mod connection;
pub mod csv;
pub mod enums;
pub mod finance;
pub mod item;
pub mod money;
pub mod policy;
pub mod recoveries;
pub mod relay;
pub mod run;
pub mod user;
pub mod vendor_feed;
pub mod vendor_price;
