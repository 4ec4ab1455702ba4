//! CSV imports: `parse` (pure: bytes → rows, row errors, warnings) and `import` (match
//! keys to items, preview or apply in one transaction, record the `csv_import` run whose
//! push the job system executes). SQL lives in `store::csv_import`.

pub mod import;
pub mod parse;
