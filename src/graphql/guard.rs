//! The gate every GraphQL operation passes, over HTTP and WebSocket alike, before
//! async-graphql parses, validates or runs it:
//!
//! 1. the text's size and bracket nesting ([`limits::check_text`]);
//! 2. without a valid token, only `login` (and `__typename`, and introspection when
//!    `--public-introspection` is on) may run — anything else is refused after one parse
//!    of at most 8 KiB, before validation;
//! 3. the cost analysis of [`limits::analyse`] (linear in the query, fragments memoised);
//! 4. queries run within the time budget (`--query-timeout-seconds`); past it the work is
//!    dropped at its next await point. Pure CPU work cannot outlast the budget by much,
//!    because step 3 bounds it. A subscription is checked when it starts, which bounds
//!    what each of its events resolves.
//!
//! Mutations are not cut short: stopping one between an upstream write and its record
//! would be worse than letting it finish (the HTTP layer's 120 s timeout still applies).

use super::AppSchema;
use super::limits::{self, Analysis, Limits, Refusal, SchemaShape};
use crate::auth::Authentication;
use crate::error::AppError;
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response, ServerError};
use std::time::Duration;

/// Root fields anyone may ask for without a token.
const ANONYMOUS_FIELDS: &[&str] = &["login", "__typename"];
const INTROSPECTION_FIELDS: &[&str] = &["__schema", "__type"];

pub struct QueryGuard {
    shape: SchemaShape,
    pub limits: Limits,
    public_introspection: bool,
    pub query_timeout: Duration,
}

impl QueryGuard {
    pub fn new(sdl: &str, public_introspection: bool, query_timeout: Duration) -> QueryGuard {
        QueryGuard {
            // The SDL is our own schema's, printed by async-graphql: it always parses.
            shape: SchemaShape::from_sdl(sdl).unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read the schema's shape; costs are estimated without it");
                SchemaShape::default()
            }),
            limits: Limits::default(),
            public_introspection,
            query_timeout,
        }
    }

    /// Checks a request; the answer to send instead when it may not run. The document is
    /// parsed once, here, and handed on to async-graphql with the request.
    pub fn admit(
        &self,
        request: &mut Request,
        auth: &Authentication,
    ) -> Result<Option<Analysis>, Box<Response>> {
        let signed_in = matches!(auth, Authentication::Caller(_));
        limits::check_text(&request.query, signed_in, &self.limits).map_err(refused)?;
        let doc = async_graphql::parser::parse_query(&request.query)
            .map_err(|e| Box::new(Response::from_errors(vec![syntax_error(&e)])))?;
        if !signed_in {
            let allowed = |f: &String| {
                ANONYMOUS_FIELDS.contains(&f.as_str())
                    || (self.public_introspection && INTROSPECTION_FIELDS.contains(&f.as_str()))
            };
            if !limits::root_fields(&doc).iter().all(allowed) {
                let err = auth
                    .caller()
                    .err()
                    .unwrap_or_else(|| AppError::Unauthenticated("missing bearer token".into()));
                return Err(Box::new(error_response(err)));
            }
        }
        let analysis = limits::analyse(
            &doc,
            request.operation_name.as_deref(),
            &request.variables,
            &self.shape,
            &self.limits,
        )
        .map_err(refused)?;
        // async-graphql runs the document parsed here instead of parsing it again.
        request.set_parsed_query(doc);
        Ok(Some(analysis))
    }

    /// Admits and runs one request (HTTP).
    pub async fn execute(
        &self,
        schema: &AppSchema,
        mut request: Request,
        auth: &Authentication,
    ) -> Response {
        let analysis = match self.admit(&mut request, auth) {
            Ok(a) => a,
            Err(refusal) => return *refusal,
        };
        let is_mutation = analysis.and_then(|a| a.operation) == Some(OperationType::Mutation);
        if is_mutation {
            return schema.execute(request).await;
        }
        self.within_budget(schema.execute(request)).await
    }

    /// Runs `work` within the query time budget.
    pub async fn within_budget(&self, work: impl Future<Output = Response>) -> Response {
        match tokio::time::timeout(self.query_timeout, work).await {
            Ok(response) => response,
            Err(_) => {
                metrics::counter!("graphql_queries_timed_out_total").increment(1);
                error_response(AppError::QueryTimeout(format!(
                    "the query ran longer than {} s and was stopped; ask for less",
                    self.query_timeout.as_secs_f64()
                )))
            }
        }
    }
}

fn refused(refusal: Refusal) -> Box<Response> {
    Box::new(match refusal {
        Refusal::TooComplex(message) => {
            metrics::counter!("graphql_queries_refused_total").increment(1);
            error_response(AppError::QueryTooComplex(message))
        }
        Refusal::Invalid(message) => {
            let mut err = ServerError::new(message, None);
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "GRAPHQL_VALIDATION_FAILED");
            err.extensions = Some(ext);
            Response::from_errors(vec![err])
        }
    })
}

/// A syntax error as one line a person can act on, e.g. `Syntax Error: expected
/// selection`, at its position (not the parser's ASCII-art excerpt), with the code clients
/// expect for it: `GRAPHQL_PARSE_FAILED`, apart from `GRAPHQL_VALIDATION_FAILED`.
pub fn syntax_error(e: &async_graphql::parser::Error) -> ServerError {
    let message = match e {
        async_graphql::parser::Error::Syntax { message, .. } => {
            let reason = message
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("= "))
                .unwrap_or("invalid syntax");
            format!("Syntax Error: {reason}")
        }
        other => format!("Syntax Error: {other}"),
    };
    let mut err = ServerError::new(message, e.positions().next());
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", "GRAPHQL_PARSE_FAILED");
    err.extensions = Some(ext);
    err
}

/// A response holding one domain error and no data.
pub fn error_response(err: AppError) -> Response {
    let gql = async_graphql::Error::from(err);
    let mut server = ServerError::new(gql.message, None);
    server.extensions = gql.extensions;
    Response::from_errors(vec![server])
}
