//! Relay connections from store pages, with `totalCount` computed only when asked for.

use crate::error::AppResult;
use crate::store::page::Page;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Object, OutputType};
use futures::future::BoxFuture;
use std::sync::Arc;

type CountFn = Arc<dyn Fn() -> BoxFuture<'static, AppResult<u64>> + Send + Sync>;

/// Extra connection fields; the count query runs only if the client selects `totalCount`.
pub struct Totals {
    count: CountFn,
}

#[Object]
impl Totals {
    /// Number of rows matching the filters, across all pages.
    async fn total_count(&self) -> async_graphql::Result<u64> {
        Ok((self.count)().await?)
    }
}

pub type RelayConnection<T> = Connection<String, T, Totals, EmptyFields>;

pub fn connection<M, T: OutputType>(
    page: Page<M>,
    to_node: impl Fn(M) -> T,
    count: impl Fn() -> BoxFuture<'static, AppResult<u64>> + Send + Sync + 'static,
) -> RelayConnection<T> {
    let mut conn = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        Totals {
            count: Arc::new(count),
        },
    );
    conn.edges.extend(
        page.rows
            .into_iter()
            .map(|(cursor, m)| Edge::new(cursor.encode(), to_node(m))),
    );
    conn
}
