//! Relay connections from store pages, with `totalCount` computed only when asked for.

use crate::error::AppResult;
use crate::store::Db;
use crate::store::page::{self, Listing, ModelOf, Page, PageArgs};
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
    mut to_node: impl FnMut(M) -> T,
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

/// The Relay connection of a listing: one page of it, counted only when asked.
pub async fn list<L: Listing, T: OutputType>(
    db: &Db,
    account_id: i64,
    filter: L,
    args: &PageArgs,
    to_node: impl Fn(ModelOf<L>) -> T,
) -> AppResult<RelayConnection<T>> {
    let page = page::list(db, account_id, &filter, args).await?;
    Ok(connection(
        page,
        to_node,
        counter(db.clone(), account_id, filter),
    ))
}

/// The `totalCount` of a listing, for pages built another way (e.g. items sorted by code).
pub fn counter<L: Listing>(
    db: Db,
    account_id: i64,
    filter: L,
) -> impl Fn() -> BoxFuture<'static, AppResult<u64>> + Send + Sync + 'static {
    move || {
        let (db, filter) = (db.clone(), filter.clone());
        Box::pin(async move { page::count(&db, account_id, &filter).await })
    }
}
