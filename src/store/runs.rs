//! Sync run rows (the job queue lives on top of these in `jobs`).
