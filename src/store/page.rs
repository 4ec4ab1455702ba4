//! Relay-style keyset pagination: opaque cursors over (sort key, id), never OFFSET, and
//! [`Listing`], the one definition of a list per table that its page and its count share.

use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, EntityTrait, ModelTrait, Order, PaginatorTrait, PartialModelTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Value,
};

pub const DEFAULT_PAGE: u64 = 50;
pub const MAX_PAGE: u64 = 500;

/// `first/after/last/before` as given by the client.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Which way to walk and from where, after validation.
#[derive(Debug, Clone)]
pub struct Window {
    pub limit: u64,
    /// true when paging backwards (`last`/`before`).
    pub backwards: bool,
    pub from: Option<Cursor>,
}

/// Position of a row in an ordering: its sort key and id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub key: serde_json::Value,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> AppResult<Cursor> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|raw| serde_json::from_slice(&raw).ok())
            .ok_or_else(|| AppError::bad_input(format!("invalid cursor '{text}'")))
    }
}

impl PageArgs {
    /// The four Relay arguments as a list field takes them.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }

    pub fn window(&self) -> AppResult<Window> {
        let check = |n: i32, name: &str| -> AppResult<u64> {
            if n < 0 || n as u64 > MAX_PAGE {
                Err(AppError::bad_input(format!(
                    "{name} must be between 0 and {MAX_PAGE}"
                )))
            } else {
                Ok(n as u64)
            }
        };
        if self.first.is_some() && self.last.is_some() {
            return Err(AppError::bad_input("pass either first or last, not both"));
        }
        if self.last.is_some() || (self.before.is_some() && self.first.is_none()) {
            if self.after.is_some() {
                return Err(AppError::bad_input(
                    "last/before cannot be combined with after",
                ));
            }
            let limit = self
                .last
                .map(|n| check(n, "last"))
                .transpose()?
                .unwrap_or(DEFAULT_PAGE);
            let from = self.before.as_deref().map(Cursor::decode).transpose()?;
            return Ok(Window {
                limit,
                backwards: true,
                from,
            });
        }
        if self.before.is_some() {
            return Err(AppError::bad_input(
                "first/after cannot be combined with before",
            ));
        }
        let limit = self
            .first
            .map(|n| check(n, "first"))
            .transpose()?
            .unwrap_or(DEFAULT_PAGE);
        let from = self.after.as_deref().map(Cursor::decode).transpose()?;
        Ok(Window {
            limit,
            backwards: false,
            from,
        })
    }
}

/// One page of rows with its neighbours known.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<(Cursor, T)>,
    pub has_next: bool,
    pub has_previous: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl Fn(T) -> U) -> Page<U> {
        Page {
            rows: self.rows.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_next: self.has_next,
            has_previous: self.has_previous,
        }
    }
}

/// How one list is ordered: a key column (or just the id) and a direction.
pub struct Ordering<C: ColumnTrait> {
    pub key: Option<C>,
    pub id: C,
    pub descending: bool,
}

/// Applies the keyset condition, order and limit, runs the query and trims to a page.
/// `key_of` gives the cursor key of a row (must match the `key` column's value).
pub async fn fetch<E, C>(
    db: &impl sea_orm::ConnectionTrait,
    select: Select<E>,
    ordering: Ordering<C>,
    window: &Window,
    key_value: impl Fn(&serde_json::Value) -> AppResult<Value>,
    key_of: impl Fn(&E::Model) -> serde_json::Value,
    id_of: impl Fn(&E::Model) -> i64,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    fetch_as(db, select, ordering, window, key_value, key_of, id_of).await
}

/// [`fetch`] reading only the columns of a partial model `M` (lists that skip heavy columns).
pub async fn fetch_as<E, C, M>(
    db: &impl sea_orm::ConnectionTrait,
    mut select: Select<E>,
    ordering: Ordering<C>,
    window: &Window,
    key_value: impl Fn(&serde_json::Value) -> AppResult<Value>,
    key_of: impl Fn(&M) -> serde_json::Value,
    id_of: impl Fn(&M) -> i64,
) -> AppResult<Page<M>>
where
    E: EntityTrait,
    C: ColumnTrait,
    M: PartialModelTrait,
{
    // Walking backwards is walking the reversed order forwards, then flipping the page.
    let ascending = ordering.descending == window.backwards;
    if let Some(from) = &window.from {
        let id_cmp =
            |col: C, v: i64| -> SimpleExpr { if ascending { col.gt(v) } else { col.lt(v) } };
        let cond = match ordering.key {
            Some(key) => {
                let kv = key_value(&from.key)?;
                let strict: SimpleExpr = if ascending {
                    Expr::col(key).gt(kv.clone())
                } else {
                    Expr::col(key).lt(kv.clone())
                };
                strict.or(Expr::col(key).eq(kv).and(id_cmp(ordering.id, from.id)))
            }
            None => id_cmp(ordering.id, from.id),
        };
        select = select.filter(cond);
    }
    let order = if ascending { Order::Asc } else { Order::Desc };
    if let Some(key) = ordering.key {
        select = select.order_by(key, order.clone());
    }
    select = select.order_by(ordering.id, order).limit(window.limit + 1);
    let mut rows = select.into_partial_model::<M>().all(db).await?;
    let more = rows.len() as u64 > window.limit;
    rows.truncate(window.limit as usize);
    if window.backwards {
        rows.reverse();
    }
    let rows = rows
        .into_iter()
        .map(|m| {
            (
                Cursor {
                    key: key_of(&m),
                    id: id_of(&m),
                },
                m,
            )
        })
        .collect();
    let (has_next, has_previous) = if window.backwards {
        (window.from.is_some(), more)
    } else {
        (more, window.from.is_some())
    };
    Ok(Page {
        rows,
        has_next,
        has_previous,
    })
}

/// Cursor keys for lists ordered by id alone.
pub fn no_key(_: &serde_json::Value) -> AppResult<Value> {
    Ok(Value::Int(None))
}

/// A page of rows ordered by id alone: newest first when `descending`.
pub async fn by_id<E, C>(
    db: &impl sea_orm::ConnectionTrait,
    select: Select<E>,
    id: C,
    descending: bool,
    window: &Window,
    id_of: impl Fn(&E::Model) -> i64,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    let ordering = Ordering {
        key: None,
        id,
        descending,
    };
    fetch(
        db,
        select,
        ordering,
        window,
        no_key,
        |_| serde_json::Value::Null,
        id_of,
    )
    .await
}

/// The rows one filter selects from one table of an account. A filter says how it narrows
/// the query once; listing a page, counting and walking every row for an export follow
/// from it, so a new list is a filter struct and one `impl`, not another copy of the trio.
pub trait Listing: Clone + Send + Sync + 'static {
    type Entity: EntityTrait<Model: Send + Sync>;
    /// The id column: the keyset of pages ordered by id.
    const ID: <Self::Entity as EntityTrait>::Column;
    /// Pages run newest first (descending ids) when true, oldest first otherwise.
    const NEWEST_FIRST: bool;
    /// The account's rows this filter selects.
    fn select(&self, account_id: i64) -> Select<Self::Entity>;
    /// Refuses a filter that cannot select anything sensible (e.g. `from` after `to`).
    fn validate(&self) -> AppResult<()> {
        Ok(())
    }
}

/// The model a listing's rows come as.
pub type ModelOf<L> = <<L as Listing>::Entity as EntityTrait>::Model;

/// The id of a listed row (ids are non-null 64-bit integers on every table).
fn id_of<L: Listing>(m: &ModelOf<L>) -> i64 {
    <i64 as sea_orm::sea_query::ValueType>::try_from(m.get(L::ID)).unwrap_or_default()
}

/// One page of a listing, ordered by id.
pub async fn list<L: Listing>(
    db: &impl sea_orm::ConnectionTrait,
    account_id: i64,
    filter: &L,
    args: &PageArgs,
) -> AppResult<Page<ModelOf<L>>> {
    filter.validate()?;
    by_id(
        db,
        filter.select(account_id),
        L::ID,
        L::NEWEST_FIRST,
        &args.window()?,
        id_of::<L>,
    )
    .await
}

/// How many rows a listing selects, across all pages.
pub async fn count<L: Listing>(
    db: &impl sea_orm::ConnectionTrait,
    account_id: i64,
    filter: &L,
) -> AppResult<u64> {
    filter.validate()?;
    Ok(filter.select(account_id).count(db).await?)
}

/// Every row of a listing, in its page order, as a stream of batches of at most `size`:
/// one keyset query per batch, so an export of millions of rows holds one batch at a time.
pub fn batches<L: Listing>(
    db: super::Db,
    account_id: i64,
    filter: L,
    size: u64,
) -> impl futures::Stream<Item = AppResult<Vec<ModelOf<L>>>> + Send + 'static
where
    ModelOf<L>: Send,
{
    // (cursor after the last batch, whether the listing is exhausted)
    futures::stream::try_unfold((None::<String>, false), move |(after, done)| {
        let (db, filter) = (db.clone(), filter.clone());
        async move {
            if done {
                return Ok(None);
            }
            let args = PageArgs {
                first: Some(Ord::min(size, MAX_PAGE) as i32),
                after,
                ..Default::default()
            };
            let page = list(&db, account_id, &filter, &args).await?;
            let next = page.rows.last().map(|(c, _)| c.encode());
            let exhausted = !page.has_next || next.is_none();
            let rows: Vec<_> = page.rows.into_iter().map(|(_, m)| m).collect();
            if rows.is_empty() {
                return Ok(None);
            }
            Ok(Some((rows, (next, exhausted))))
        }
    })
}
