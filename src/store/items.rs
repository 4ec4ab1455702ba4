use super::page::{self, Ordering, Page, PageArgs};
use crate::error::{AppError, AppResult};
use entity::enums::{ItemKind, LinkStatus};
use entity::{Money, item, item_link};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select,
    Set, Value,
};

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub search: Option<String>,
    pub kind: Option<ItemKind>,
    pub category_id: Option<i64>,
    pub active: Option<bool>,
    /// None or false: live items only; true: soft-deleted items only.
    pub deleted: Option<bool>,
    pub sync_status: Option<LinkStatus>,
    pub connection_id: Option<i64>,
    pub codes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ItemSort {
    #[default]
    Code,
    Name,
    UpdatedAt,
}

/// An item as lists show it: every column but `attributes`, a JSON document per row that
/// would cost a parse each while most list queries never select it. The API loads it by
/// id, in one batch per page, when a query does ask for it.
#[derive(Debug, Clone, sea_orm::DerivePartialModel)]
#[sea_orm(entity = "item::Entity")]
pub struct ItemSummary {
    pub id: i64,
    pub kind: ItemKind,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub cost: Option<Money>,
    pub price: Option<Money>,
    pub member_price: Option<Money>,
    pub add_on_price: Option<Money>,
    pub active: bool,
    pub category_id: Option<i64>,
    pub weight_kg: Option<String>,
    pub length_cm: Option<String>,
    pub width_cm: Option<String>,
    pub height_cm: Option<String>,
    pub quantity: Option<i64>,
    pub local_modified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<item::Model> for ItemSummary {
    fn from(m: item::Model) -> Self {
        ItemSummary {
            id: m.id,
            kind: m.kind,
            code: m.code,
            name: m.name,
            description: m.description,
            cost: m.cost,
            price: m.price,
            member_price: m.member_price,
            add_on_price: m.add_on_price,
            active: m.active,
            category_id: m.category_id,
            weight_kg: m.weight_kg,
            length_cm: m.length_cm,
            width_cm: m.width_cm,
            height_cm: m.height_cm,
            quantity: m.quantity,
            local_modified_at: m.local_modified_at,
            deleted_at: m.deleted_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A local edit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ItemPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub cost: Option<Money>,
    pub price: Option<Money>,
    pub member_price: Option<Money>,
    pub add_on_price: Option<Money>,
    pub active: Option<bool>,
    pub category_id: Option<i64>,
}

fn filtered(account_id: i64, f: &ItemFilter) -> Select<item::Entity> {
    let mut q = item::Entity::find().filter(item::Column::AccountId.eq(account_id));
    q = match f.deleted {
        Some(true) => q.filter(item::Column::DeletedAt.is_not_null()),
        _ => q.filter(item::Column::DeletedAt.is_null()),
    };
    if let Some(kind) = f.kind {
        q = q.filter(item::Column::Kind.eq(kind));
    }
    if let Some(c) = f.category_id {
        q = q.filter(item::Column::CategoryId.eq(c));
    }
    if let Some(a) = f.active {
        q = q.filter(item::Column::Active.eq(a));
    }
    if let Some(codes) = &f.codes {
        q = q.filter(item::Column::Code.is_in(codes.clone()));
    }
    if let Some(text) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(matches_search(text));
    }
    if f.sync_status.is_some() || f.connection_id.is_some() {
        let mut sub = Query::select();
        sub.column(item_link::Column::ItemId)
            .from(item_link::Entity)
            .and_where(item_link::Column::AccountId.eq(account_id));
        if let Some(s) = f.sync_status {
            sub.and_where(item_link::Column::SyncStatus.eq(s.as_str()));
        }
        if let Some(c) = f.connection_id {
            sub.and_where(item_link::Column::ConnectionId.eq(c));
        }
        q = q.filter(item::Column::Id.in_subquery(sub.to_owned()));
    }
    q
}

/// Items whose code or name contains `text`, case-insensitively (wildcards escaped).
pub fn matches_search(text: &str) -> Condition {
    let pattern = format!(
        "%{}%",
        text.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Condition::any()
        .add(Expr::expr(Func::lower(Expr::col(item::Column::Code))).like(pattern.clone()))
        .add(Expr::expr(Func::lower(Expr::col(item::Column::Name))).like(pattern))
}

pub async fn list(
    db: &impl ConnectionTrait,
    account_id: i64,
    f: &ItemFilter,
    sort: ItemSort,
    descending: bool,
    args: &PageArgs,
) -> AppResult<Page<ItemSummary>> {
    let window = args.window()?;
    let q = filtered(account_id, f);
    match sort {
        ItemSort::Code => {
            let ordering = Ordering {
                key: Some(item::Column::Code),
                id: item::Column::Id,
                descending,
            };
            page::fetch_as(
                db,
                q,
                ordering,
                &window,
                string_key,
                |m: &ItemSummary| m.code.clone().into(),
                |m| m.id,
            )
            .await
        }
        ItemSort::Name => {
            let ordering = Ordering {
                key: Some(item::Column::Name),
                id: item::Column::Id,
                descending,
            };
            page::fetch_as(
                db,
                q,
                ordering,
                &window,
                string_key,
                |m: &ItemSummary| m.name.clone().into(),
                |m| m.id,
            )
            .await
        }
        ItemSort::UpdatedAt => {
            let ordering = Ordering {
                key: Some(item::Column::UpdatedAt),
                id: item::Column::Id,
                descending,
            };
            page::fetch_as(
                db,
                q,
                ordering,
                &window,
                time_key,
                |m: &ItemSummary| m.updated_at.to_rfc3339().into(),
                |m| m.id,
            )
            .await
        }
    }
}

fn string_key(v: &serde_json::Value) -> AppResult<Value> {
    v.as_str()
        .map(|s| Value::from(s.to_owned()))
        .ok_or_else(|| AppError::bad_input("invalid cursor"))
}

fn time_key(v: &serde_json::Value) -> AppResult<Value> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| Value::from(t.with_timezone(&chrono::Utc)))
        .ok_or_else(|| AppError::bad_input("invalid cursor"))
}

/// Live items by id; pages of the API sort by code, name or update time with [`list`].
impl page::Listing for ItemFilter {
    type Entity = item::Entity;
    const ID: item::Column = item::Column::Id;
    const NEWEST_FIRST: bool = false;

    fn select(&self, account_id: i64) -> Select<item::Entity> {
        filtered(account_id, self)
    }
}

/// `items { totalCount }`: from the maintained counts when they cover the filter
/// ([`super::item_counts`]), else counted from the rows.
pub async fn count(db: &impl ConnectionTrait, account_id: i64, f: &ItemFilter) -> AppResult<u64> {
    match super::item_counts::count(db, account_id, f).await? {
        Some(n) => Ok(n),
        None => page::count(db, account_id, f).await,
    }
}

pub async fn get(db: &impl ConnectionTrait, account_id: i64, id: i64) -> AppResult<item::Model> {
    item::Entity::find_by_id(id)
        .filter(item::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("item", id))
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[i64],
) -> AppResult<Vec<item::Model>> {
    Ok(item::Entity::find()
        .filter(item::Column::AccountId.eq(account_id))
        .filter(item::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The canonical fields a patch changes on an item.
fn patched_fields(before: &item::Model, patch: &ItemPatch) -> Vec<&'static str> {
    let money = |new: Option<Money>, old: Option<Money>| new.is_some_and(|n| Some(n) != old);
    [
        (
            "name",
            patch
                .name
                .as_deref()
                .is_some_and(|n| n.trim() != before.name),
        ),
        (
            "description",
            patch.description.is_some() && patch.description != before.description,
        ),
        ("cost", money(patch.cost, before.cost)),
        ("price", money(patch.price, before.price)),
        (
            "member_price",
            money(patch.member_price, before.member_price),
        ),
        (
            "add_on_price",
            money(patch.add_on_price, before.add_on_price),
        ),
        ("active", patch.active.is_some_and(|a| a != before.active)),
        (
            "categories",
            patch.category_id.is_some() && patch.category_id != before.category_id,
        ),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

/// Refuses a local edit of a field that a connection linked to the item owns upstream
/// (`REMOTE_OWNS` with local edits refused), naming the connection and the fields.
pub async fn refuse_remote_owned(
    db: &impl ConnectionTrait,
    item: &item::Model,
    patch: &ItemPatch,
) -> AppResult<()> {
    let changed = patched_fields(item, patch);
    if changed.is_empty() {
        return Ok(());
    }
    let links = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(item.id))
        .all(db)
        .await?;
    for link in links {
        let connection = super::connections::get(db, item.account_id, link.connection_id).await?;
        let policy = crate::sync::policy::Policy::of(&connection.sync_policy, &link.entity_type);
        let refused = policy.refused_edits(changed.iter().copied());
        if !refused.is_empty() {
            return Err(AppError::FieldOwnedRemotely(format!(
                "{} of item {} is owned by connection \"{}\" ({:?}): edit it there, or change the connection's sync policy",
                refused.join(", "),
                item.code,
                connection.name,
                connection.provider,
            )));
        }
    }
    Ok(())
}

/// Applies a local edit: the item remembers when it was edited locally and every link of
/// it owes a push. Returns the item before and after (for the audit trail).
pub async fn apply_local_edit(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
    patch: ItemPatch,
) -> AppResult<(item::Model, item::Model)> {
    let before = get(db, account_id, id).await?;
    if before.deleted_at.is_some() {
        return Err(AppError::bad_input(format!("item {id} is deleted")));
    }
    refuse_remote_owned(db, &before, &patch).await?;
    let mut active: item::ActiveModel = before.clone().into();
    if let Some(name) = patch.name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(AppError::bad_input("name cannot be empty"));
        }
        active.name = Set(name);
    }
    if let Some(d) = patch.description {
        active.description = Set(Some(d));
    }
    for (value, target) in [
        (patch.cost, &mut active.cost),
        (patch.price, &mut active.price),
        (patch.member_price, &mut active.member_price),
        (patch.add_on_price, &mut active.add_on_price),
    ] {
        if let Some(v) = value {
            if v.amount().is_sign_negative() {
                return Err(AppError::bad_input("money amounts cannot be negative"));
            }
            *target = Set(Some(v));
        }
    }
    if let Some(a) = patch.active {
        active.active = Set(a);
    }
    if let Some(c) = patch.category_id {
        super::categories::get(db, account_id, c).await?;
        active.category_id = Set(Some(c));
    }
    let now = chrono::Utc::now();
    active.local_modified_at = Set(Some(now));
    active.updated_at = Set(now);
    let after = active.update(db).await?;
    super::links::mark_pending_push(db, id).await?;
    Ok((before, after))
}
