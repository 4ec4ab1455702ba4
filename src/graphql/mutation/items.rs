use crate::graphql::bounds::{self, MaxChars};
use crate::graphql::types::item::Item;
use crate::graphql::types::money::MoneyInput;
use crate::graphql::{editor, parse_id, state};
use crate::store::{self, items::ItemPatch};
use async_graphql::{Context, ID, InputObject, Object};
use entity::Money;

/// A local edit; omitted fields stay as they are.
#[derive(InputObject)]
pub struct ItemInput {
    /// New display name (at most 255 characters).
    #[graphql(validator(custom = "MaxChars(bounds::NAME)"))]
    pub name: Option<String>,
    /// New description (at most 10,000 characters).
    #[graphql(validator(custom = "MaxChars(bounds::DESCRIPTION)"))]
    pub description: Option<String>,
    /// New unit cost.
    pub cost: Option<MoneyInput>,
    /// New selling price.
    pub price: Option<MoneyInput>,
    /// New member price.
    pub member_price: Option<MoneyInput>,
    /// New add-on price.
    pub add_on_price: Option<MoneyInput>,
    /// Whether the item is sold.
    pub active: Option<bool>,
    /// New category.
    pub category_id: Option<ID>,
}

#[derive(Default)]
pub struct ItemMutation;

#[Object]
impl ItemMutation {
    /// Edits an item locally; its links become `PENDING_PUSH`. Each linked connection with
    /// `pushOnSave` (that may push now) gets a push run queued — or the edit joins the one
    /// already queued — and the answer comes at once: the runs are the item's
    /// `pendingPushRuns`. Without push on save the next sync (or `retryItem`) pushes it.
    async fn update_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item.")] id: ID,
        #[graphql(desc = "The fields to change.")] input: ItemInput,
    ) -> async_graphql::Result<Item> {
        let c = editor(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "item")?;
        let patch = ItemPatch {
            name: input.name,
            description: input.description,
            cost: input.cost.map(|m| Money::new(m.0)),
            price: input.price.map(|m| Money::new(m.0)),
            member_price: input.member_price.map(|m| Money::new(m.0)),
            add_on_price: input.add_on_price.map(|m| Money::new(m.0)),
            active: input.active,
            category_id: input
                .category_id
                .as_ref()
                .map(|i| parse_id(i, "category"))
                .transpose()?,
        };
        let txn = store::db::begin_write(&st.db).await?;
        let (before, after) = store::items::apply_local_edit(&txn, c.account_id, id, patch).await?;
        store::audit::record(
            &txn,
            c,
            "item.update",
            Some(("item", id.to_string())),
            item_changes(&before, &after),
        )
        .await?;
        txn.commit().await?;
        // After the commit: a queued run lists the pending links only once it starts.
        if let Err(e) = st.jobs.push_on_save(c.account_id, id).await {
            // The edit is saved and stays PENDING_PUSH for the next sync.
            tracing::warn!(
                item_id = id,
                "queueing the push-on-save run failed: {}",
                e.public_message()
            );
        }
        Ok(after.into())
    }
}

/// `{field: {from, to}}` for the fields an edit changed.
fn item_changes(before: &entity::item::Model, after: &entity::item::Model) -> serde_json::Value {
    let pairs = [
        (
            "name",
            serde_json::json!(before.name),
            serde_json::json!(after.name),
        ),
        (
            "description",
            serde_json::json!(before.description),
            serde_json::json!(after.description),
        ),
        (
            "cost",
            serde_json::json!(before.cost.map(|m| m.display_amount().to_string())),
            serde_json::json!(after.cost.map(|m| m.display_amount().to_string())),
        ),
        (
            "price",
            serde_json::json!(before.price.map(|m| m.display_amount().to_string())),
            serde_json::json!(after.price.map(|m| m.display_amount().to_string())),
        ),
        (
            "memberPrice",
            serde_json::json!(before.member_price.map(|m| m.display_amount().to_string())),
            serde_json::json!(after.member_price.map(|m| m.display_amount().to_string())),
        ),
        (
            "addOnPrice",
            serde_json::json!(before.add_on_price.map(|m| m.display_amount().to_string())),
            serde_json::json!(after.add_on_price.map(|m| m.display_amount().to_string())),
        ),
        (
            "active",
            serde_json::json!(before.active),
            serde_json::json!(after.active),
        ),
        (
            "categoryId",
            serde_json::json!(before.category_id),
            serde_json::json!(after.category_id),
        ),
    ];
    let changed: serde_json::Map<String, serde_json::Value> = pairs
        .into_iter()
        .filter(|(_, from, to)| from != to)
        .map(|(k, from, to)| (k.to_owned(), serde_json::json!({ "from": from, "to": to })))
        .collect();
    serde_json::Value::Object(changed)
}
