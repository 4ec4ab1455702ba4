//! Field resolution without a boxed future per field, for the objects a page repeats.
//!
//! async-graphql resolves each field of each object as its own boxed future inside a
//! `FuturesUnordered` (one allocation, one reference-counted task and a waker per field).
//! On `items(first: 100)` with links and category that is about 1,300 tasks per request,
//! nearly all of them plain struct reads that finish on their first poll.
//!
//! `Eager<T>` is `T` to the schema (same name, same type info). When a selection set is
//! plain fields, it polls every field's resolver side by side in one `join_all`, so the
//! fields still run concurrently (a DataLoader still batches across the page) without the
//! per-field tasks. Anything else (fragments, directives, a response key used twice)
//! goes through async-graphql's own `resolve_container` unchanged.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};
use futures::future::join_all;
use std::borrow::Cow;

/// `T`, resolved with [`resolve_plain_fields`] when the selection allows it.
pub struct Eager<T>(pub T);

impl<T: ContainerType> OutputType for Eager<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match plain_fields(ctx) {
            Some(fields) => Ok(resolve_plain_fields(ctx, &self.0, fields).await),
            None => resolve_container(ctx, &self.0).await,
        }
    }
}

/// The selected fields, if the selection set is only plain fields with distinct response
/// keys and no directives.
///
/// Schema extensions would not see these fields resolve; `build_schema` registers none
/// (async-graphql keeps its own emptiness check private, so it cannot be asked here).
fn plain_fields<'a>(ctx: &ContextSelectionSet<'a>) -> Option<Vec<&'a Positioned<Field>>> {
    let mut fields: Vec<&'a Positioned<Field>> = Vec::with_capacity(ctx.item.node.items.len());
    for selection in &ctx.item.node.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let key = field.node.response_key();
        if !field.node.directives.is_empty()
            || fields
                .iter()
                .any(|f| f.node.response_key().node == key.node)
        {
            return None;
        }
        fields.push(field);
    }
    Some(fields)
}

/// Same result and error handling as `resolve_container`, with fields in selection order.
async fn resolve_plain_fields<'a, T: ContainerType>(
    ctx: &ContextSelectionSet<'a>,
    root: &'a T,
    fields: Vec<&'a Positioned<Field>>,
) -> Value {
    let contexts: Vec<_> = fields
        .iter()
        .filter(|f| f.node.name.node != "__typename")
        .map(|f| ctx.with_field(f))
        .collect();
    let mut resolved = join_all(contexts.iter().map(|c| root.resolve_field(c)))
        .await
        .into_iter();
    let mut object = IndexMap::with_capacity(fields.len());
    for field in fields {
        let key: Name = field.node.response_key().node.clone();
        if field.node.name.node == "__typename" {
            let typename = root.introspection_type_name().into_owned();
            object.insert(key, Value::String(typename));
            continue;
        }
        match resolved.next().expect("one result per resolved field") {
            Ok(value) => {
                object.insert(key, value.unwrap_or_default());
            }
            Err(e) => ctx.add_error(e),
        }
    }
    if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    }
}
