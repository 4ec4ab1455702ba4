//! Cross-origin access for browser apps on other sites (Retool, a team's own frontend):
//! only the origins listed in `--cors-origins`, none by default. Credentials are bearer
//! tokens in headers, never cookies, so no `Access-Control-Allow-Credentials`.

use axum::http::{HeaderName, HeaderValue, Method};
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// The layer for the configured origins, or `None` when no origin is allowed (then a
/// preflight is answered like any other unknown method, and no CORS header is sent).
pub fn layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            // Whatever the client asks for (Authorization, Content-Type, Last-Event-ID, a
            // client-name header…): the origin list is the gate, not the header names.
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers([HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(600)),
    )
}
