//! Running unattended: per-entity status, filtered and exported history, retention,
//! scheduled vendor price feeds, backups and moving to PostgreSQL.

mod backup;
mod deploy;
mod export;
mod feeds;
mod retention;
mod schedules;
mod status;
