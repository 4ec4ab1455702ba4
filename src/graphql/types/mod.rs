//! GraphQL-facing types: built from store models, never the models themselves.

pub mod audit;
pub mod category;
pub mod connection;
pub mod csv;
pub mod enums;
pub mod item;
pub mod relay;
pub mod run;
pub mod user;
pub mod vendor_price;
