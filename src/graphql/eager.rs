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
//!
//! [`EagerConnection`] does the same one level up for a Relay connection: its plain fields
//! in one `join_all`, and a plain `edges { cursor node }` built in place (the cursor is
//! copied, every node resolves as an `Eager` node, all nodes side by side) instead of a
//! task per edge and two more per edge's fields.

use crate::graphql::types::relay::RelayConnection;
use async_graphql::connection::{Edge, EmptyFields};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    Context, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
};
use futures::future::join_all;
use std::borrow::Cow;

/// `T`, resolved with [`resolve_plain_fields`] when the selection allows it.
#[derive(Clone)]
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

/// A Relay connection of `Eager` nodes; to the schema it is the `RelayConnection` it holds.
pub struct EagerConnection<T: ContainerType>(pub RelayConnection<Eager<T>>);

type EagerEdge<T> = Edge<String, Eager<T>, EmptyFields>;

impl<T: ContainerType> OutputType for EagerConnection<T> {
    fn type_name() -> Cow<'static, str> {
        RelayConnection::<Eager<T>>::type_name()
    }

    fn qualified_type_name() -> String {
        RelayConnection::<Eager<T>>::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        RelayConnection::<Eager<T>>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // As `Eager`, with `edges` answered by `resolve_field` below.
        match plain_fields(ctx) {
            Some(fields) => Ok(resolve_plain_fields(ctx, self, fields).await),
            None => resolve_container(ctx, &self.0).await,
        }
    }
}

impl<T: ContainerType> ContainerType for EagerConnection<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        if ctx.item.node.name.node == "edges" {
            resolve_edges(ctx, &self.0.edges).await
        } else {
            self.0.resolve_field(ctx).await
        }
    }
}

/// `edges` of a connection: built in place when its selection is plain `cursor`, `node`
/// and `__typename` fields, otherwise async-graphql's list of edge objects.
async fn resolve_edges<T: ContainerType>(
    ctx: &Context<'_>,
    edges: &[EagerEdge<T>],
) -> ServerResult<Option<Value>> {
    let field = ctx.item;
    let list = ctx.with_selection_set(&field.node.selection_set);
    let known = |f: &&Positioned<Field>| {
        matches!(f.node.name.node.as_str(), "cursor" | "node" | "__typename")
    };
    let edge_fields = match plain_fields(&list) {
        Some(fields) if fields.iter().all(known) => fields,
        _ => return edges.resolve(&list, field).await.map(Some),
    };
    let node_fields: Vec<&Positioned<Field>> = edge_fields
        .iter()
        .copied()
        .filter(|f| f.node.name.node == "node")
        .collect();
    // Contexts (and so response paths) exactly as async-graphql builds them: edges[i].node.
    let at: Vec<_> = (0..edges.len()).map(|i| list.with_index(i)).collect();
    let node_ctx: Vec<_> = at
        .iter()
        .flat_map(|at| node_fields.iter().map(move |f| at.with_field(f)))
        .collect();
    let node_set: Vec<_> = node_ctx
        .iter()
        .map(|c| c.with_selection_set(&c.item.node.selection_set))
        .collect();
    let nodes = node_set.iter().enumerate().map(|(j, set)| {
        let edge = &edges[j / node_fields.len().max(1)];
        edge.node.resolve(set, node_ctx[j].item)
    });
    let mut nodes = join_all(nodes).await.into_iter();
    let mut values = Vec::with_capacity(edges.len());
    for (edge, at) in edges.iter().zip(&at) {
        let mut object = IndexMap::with_capacity(edge_fields.len());
        for f in &edge_fields {
            let key: Name = f.node.response_key().node.clone();
            match f.node.name.node.as_str() {
                "cursor" => {
                    object.insert(key, Value::String(edge.cursor.clone()));
                }
                "node" => match nodes.next().expect("one result per node field") {
                    Ok(value) => {
                        object.insert(key, value);
                    }
                    Err(e) => at.add_error(e),
                },
                _ => {
                    object.insert(key, Value::String(edge.introspection_type_name().into()));
                }
            }
        }
        values.push(if object.is_empty() {
            Value::Null
        } else {
            Value::Object(object)
        });
    }
    Ok(Some(Value::List(values)))
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
