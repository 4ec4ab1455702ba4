use crate::graphql::loaders::{CategoryId, ChildrenOf, load};
use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use entity::category;

/// A price-book category; categories form a tree.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Category {
    /// The category id.
    pub id: ID,
    /// Display name.
    pub name: String,
    /// Whether the category is in use upstream.
    pub active: bool,
    /// The parent category; null at the top of the tree.
    pub parent_id: Option<ID>,
    /// The connection it came from; null for a local category.
    pub connection_id: Option<ID>,
    /// Its id upstream.
    pub remote_id: Option<String>,
    #[graphql(skip)]
    pub raw_id: i64,
    #[graphql(skip)]
    pub raw_parent: Option<i64>,
}

#[ComplexObject]
impl Category {
    /// The parent category, if any.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Category>> {
        let Some(p) = self.raw_parent else {
            return Ok(None);
        };
        Ok(load(ctx, CategoryId(p)).await?.map(Into::into))
    }

    /// Direct subcategories (batched across the page).
    async fn children(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Category>> {
        let rows = load(ctx, ChildrenOf(self.raw_id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

impl From<category::Model> for Category {
    fn from(c: category::Model) -> Self {
        Category {
            id: c.id.into(),
            name: c.name,
            active: c.active,
            parent_id: c.parent_id.map(Into::into),
            connection_id: c.connection_id.map(Into::into),
            remote_id: c.remote_id,
            raw_id: c.id,
            raw_parent: c.parent_id,
        }
    }
}
