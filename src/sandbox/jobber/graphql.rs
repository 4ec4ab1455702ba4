//! `POST /api/graphql`: recognises the operation by its root field, charges its query cost
//! against the bucket (refusing with `THROTTLED` when it does not fit), runs it, and
//! reports the bucket in `extensions.cost` on every answer.

use super::routes::{S, guard};
use super::{State, decode_id, encode_id};
use crate::connectors::jobber::wire::{
    Cost, EditPayload, ErrorExtensions, GraphQlError, GraphQlRequest, GraphQlResponse, PageInfo,
    ProductCategory, ProductConnection, ProductInput, ProductOrService, ResponseExtensions,
    THROTTLED, UserError,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    List,
    Get,
    Edit,
    Create,
}

impl Op {
    /// The root field the query asks for (mutations first: their selections mention
    /// `productOrService` too).
    fn of(query: &str) -> Option<Op> {
        if query.contains("productsAndServicesEdit") {
            Some(Op::Edit)
        } else if query.contains("productsAndServicesCreate") {
            Some(Op::Create)
        } else if query.contains("product(") {
            Some(Op::Get)
        } else if query.contains("products(") {
            Some(Op::List)
        } else {
            None
        }
    }
}

const MUTATION_COST: f64 = 10.0;

fn first_of(vars: &Value) -> u64 {
    vars.get("first").and_then(Value::as_u64).unwrap_or(20)
}

/// What the bucket must hold before the query runs: one point per requested node plus
/// the objects around them, or a flat price for a single record or a mutation.
fn requested_cost(op: Op, vars: &Value) -> f64 {
    match op {
        Op::List => first_of(vars) as f64 + 2.0,
        Op::Get => 1.0,
        Op::Edit | Op::Create => MUTATION_COST,
    }
}

fn error(message: &str, code: Option<&str>) -> GraphQlError {
    GraphQlError {
        message: message.to_owned(),
        extensions: code.map(|c| ErrorExtensions {
            code: Some(c.to_owned()),
        }),
    }
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(id.to_string())
}

fn decode_cursor(text: &str) -> Option<i64> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?)
        .ok()?
        .parse()
        .ok()
}

pub async fn handle(AxumState(inner): S, headers: HeaderMap, body: Bytes) -> Response {
    inner.stats.graphql.fetch_add(1, Ordering::Relaxed);
    if let Err(refused) = guard(&inner, &headers).await {
        return refused;
    }
    let Ok(req) = serde_json::from_slice::<GraphQlRequest>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "errors": [{ "message": "the body must be a GraphQL request" }] })),
        )
            .into_response();
    };
    let Some(op) = Op::of(&req.query) else {
        let answer: GraphQlResponse<Value> = GraphQlResponse {
            data: None,
            errors: vec![error("unsupported operation in the sandbox", None)],
            extensions: None,
        };
        return Json(answer).into_response();
    };
    let Ok(mut s) = inner.state.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let requested = requested_cost(op, &req.variables);
    let before = s.throttle_status();
    if requested > before.currently_available {
        inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
        let answer: GraphQlResponse<Value> = GraphQlResponse {
            data: None,
            errors: vec![error("Throttled", Some(THROTTLED))],
            extensions: Some(ResponseExtensions {
                cost: Some(Cost {
                    requested_query_cost: requested,
                    actual_query_cost: None,
                    throttle_status: before,
                }),
            }),
        };
        return Json(answer).into_response();
    }
    let (data, errors, actual) = execute(op, &mut s, &req.variables, &inner.stats);
    s.bucket.available -= actual;
    let after = s.throttle_status();
    Json(GraphQlResponse {
        data: Some(data),
        errors,
        extensions: Some(ResponseExtensions {
            cost: Some(Cost {
                requested_query_cost: requested,
                actual_query_cost: Some(actual),
                throttle_status: after,
            }),
        }),
    })
    .into_response()
}

type Outcome = (Value, Vec<GraphQlError>, f64);

fn execute(op: Op, s: &mut State, vars: &Value, stats: &super::Stats) -> Outcome {
    match op {
        Op::List => {
            stats.list.fetch_add(1, Ordering::Relaxed);
            list(s, vars)
        }
        Op::Get => {
            stats.get.fetch_add(1, Ordering::Relaxed);
            let id = vars.get("id").and_then(Value::as_str).and_then(decode_id);
            match id.and_then(|id| s.products.get(&id)) {
                Some(p) => (json!({ "product": p }), Vec::new(), 1.0),
                None => (
                    json!({ "product": null }),
                    vec![error("Record not found", Some("NOT_FOUND"))],
                    1.0,
                ),
            }
        }
        Op::Edit => {
            stats.edit.fetch_add(1, Ordering::Relaxed);
            let payload = edit(s, vars);
            if !payload.user_errors.is_empty() {
                stats.user_errors.fetch_add(1, Ordering::Relaxed);
            }
            (
                json!({ "productsAndServicesEdit": payload }),
                Vec::new(),
                MUTATION_COST,
            )
        }
        Op::Create => {
            stats.create.fetch_add(1, Ordering::Relaxed);
            let payload = create(s, vars);
            if !payload.user_errors.is_empty() {
                stats.user_errors.fetch_add(1, Ordering::Relaxed);
            }
            (
                json!({ "productsAndServicesCreate": payload }),
                Vec::new(),
                MUTATION_COST,
            )
        }
    }
}

fn list(s: &State, vars: &Value) -> Outcome {
    let first = first_of(vars);
    let max = u64::from(s.config.max_page_size);
    if first == 0 || first > max {
        let message = format!("first must be between 1 and {max}");
        return (
            json!({ "products": null }),
            vec![error(&message, None)],
            1.0,
        );
    }
    let after = match vars.get("after").and_then(Value::as_str) {
        None => 0,
        Some(c) => match decode_cursor(c) {
            Some(id) => id,
            None => {
                return (
                    json!({ "products": null }),
                    vec![error("after: invalid cursor", None)],
                    1.0,
                );
            }
        },
    };
    // `searchTerm`: a case-insensitive match anywhere in the name.
    let term = vars
        .get("searchTerm")
        .and_then(Value::as_str)
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let mut rest = s.products.range(after + 1..).filter(|(_, p)| {
        term.as_ref()
            .is_none_or(|t| p.name.to_lowercase().contains(t))
    });
    let page: Vec<(i64, ProductOrService)> = rest
        .by_ref()
        .take(first as usize)
        .map(|(id, p)| (*id, p.clone()))
        .collect();
    let has_next_page = rest.next().is_some();
    let end_cursor = page.last().map(|(id, _)| encode_cursor(*id));
    let nodes: Vec<ProductOrService> = page.into_iter().map(|(_, p)| p).collect();
    let actual = nodes.len() as f64 + 2.0;
    let page = ProductConnection {
        nodes,
        page_info: PageInfo {
            has_next_page,
            end_cursor,
        },
        total_count: Some(s.products.len() as u64),
    };
    (json!({ "products": page }), Vec::new(), actual)
}

fn input_of(vars: &Value) -> Result<ProductInput, Vec<UserError>> {
    serde_json::from_value(vars.get("input").cloned().unwrap_or(Value::Null)).map_err(|e| {
        vec![UserError {
            message: format!("input is not valid: {e}"),
            path: vec!["input".into()],
        }]
    })
}

const MAX_NAME: usize = 255;

/// Jobber's rules that the tests exercise: no negative money, no blank or overlong name.
fn validate(input: &ProductInput) -> Vec<UserError> {
    let mut errors = Vec::new();
    for (field, value) in [
        ("internalUnitCost", input.internal_unit_cost),
        ("defaultUnitCost", input.default_unit_cost),
    ] {
        if value.is_some_and(|v| v < 0.0 || !v.is_finite()) {
            errors.push(UserError {
                message: "must be greater than or equal to 0".into(),
                path: vec!["input".into(), field.into()],
            });
        }
    }
    if let Some(name) = input.name.as_deref() {
        let problem = if name.trim().is_empty() {
            Some("can't be blank")
        } else if name.chars().count() > MAX_NAME {
            Some("is too long (maximum is 255 characters)")
        } else {
            None
        };
        if let Some(message) = problem {
            errors.push(UserError {
                message: message.into(),
                path: vec!["input".into(), "name".into()],
            });
        }
    }
    errors
}

fn apply(p: &mut ProductOrService, input: ProductInput) {
    if let Some(v) = input.name {
        p.name = v;
    }
    if let Some(v) = input.description {
        p.description = Some(v).filter(|d| !d.is_empty());
    }
    if let Some(v) = input.category {
        p.category = v;
    }
    if input.default_unit_cost.is_some() {
        p.default_unit_cost = input.default_unit_cost;
    }
    if input.internal_unit_cost.is_some() {
        p.internal_unit_cost = input.internal_unit_cost;
    }
    if input.taxable.is_some() {
        p.taxable = input.taxable;
    }
    if input.visible.is_some() {
        p.visible = input.visible;
    }
}

fn refused(user_errors: Vec<UserError>) -> EditPayload {
    EditPayload {
        product_or_service: None,
        user_errors,
    }
}

fn edit(s: &mut State, vars: &Value) -> EditPayload {
    let id = vars.get("id").and_then(Value::as_str).and_then(decode_id);
    let Some(p) = id.and_then(|id| s.products.get_mut(&id)) else {
        return refused(vec![UserError {
            message: "Product or service not found".into(),
            path: vec!["productOrServiceId".into()],
        }]);
    };
    let input = match input_of(vars) {
        Ok(i) => i,
        Err(e) => return refused(e),
    };
    let problems = validate(&input);
    if !problems.is_empty() {
        return refused(problems);
    }
    apply(p, input);
    EditPayload {
        product_or_service: Some(p.clone()),
        user_errors: Vec::new(),
    }
}

fn create(s: &mut State, vars: &Value) -> EditPayload {
    let input = match input_of(vars) {
        Ok(i) => i,
        Err(e) => return refused(e),
    };
    let mut problems = validate(&input);
    // `ProductsAndServicesInput` requires both.
    for (field, missing) in [
        ("name", input.name.is_none()),
        ("defaultUnitCost", input.default_unit_cost.is_none()),
    ] {
        if missing {
            problems.push(UserError {
                message: "can't be blank".into(),
                path: vec!["input".into(), field.into()],
            });
        }
    }
    if !problems.is_empty() {
        return refused(problems);
    }
    let id = s.next_id();
    let mut p = ProductOrService {
        id: encode_id(id),
        category: ProductCategory::Product,
        visible: Some(true),
        ..Default::default()
    };
    apply(&mut p, input);
    s.products.insert(id, p.clone());
    EditPayload {
        product_or_service: Some(p),
        user_errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::jobber::wire;

    #[test]
    fn recognises_every_operation_the_connector_sends() {
        assert_eq!(Op::of(&wire::products_query()), Some(Op::List));
        assert_eq!(Op::of(&wire::product_query()), Some(Op::Get));
        assert_eq!(Op::of(&wire::edit_mutation()), Some(Op::Edit));
        assert_eq!(Op::of(&wire::create_mutation()), Some(Op::Create));
        assert_eq!(Op::of("{ clients { nodes { id } } }"), None);
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("!!"), None);
    }
}
