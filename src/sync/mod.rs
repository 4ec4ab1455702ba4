//! The sync engine: pure three-way categorisation (`diff`), local items as canonical
//! fields (`canonical`), page application (`apply`), pushing local changes (`push`), and
//! the run driver (`engine`), connection health after each run (`health`), the Amazon
//! stages after a listing: financial events (`finances`) and FBA recoveries with claim
//! detection (`recoveries`), and scheduled vendor price downloads (`feeds`). It reports
//! through a `progress::Reporter` and knows nothing of HTTP handlers or GraphQL.

pub mod apply;
pub mod canonical;
pub mod conflicts;
pub mod csv;
pub mod diff;
pub mod engine;
pub mod feeds;
pub mod finances;
pub mod health;
pub mod policy;
pub mod progress;
pub mod push;
pub mod push_on_save;
pub mod recoveries;
pub mod route;
pub mod runner;
