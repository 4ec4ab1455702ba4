//! Cross-site request forgery prevention, as Apollo Server does it.
//!
//! A browser sends a cross-origin POST without asking first (no CORS preflight) only when
//! its content type is one of the three "simple" ones and it carries no custom header. Such
//! a request could run a mutation with whatever credentials a proxy in front of the server
//! adds (a cookie turned into an `Authorization` header). So a POST is refused unless its
//! content type is something else (`application/json`) or it carries a non-empty
//! `x-pricebook-csrf` or `apollo-require-preflight` header (either forces a preflight,
//! which another origin only passes when CORS allows it). Multipart uploads, which are
//! always `multipart/form-data`, therefore need the header: the admin UI sends it.

use axum::http::{HeaderMap, header};

/// Headers any of which marks a request as preflighted (any non-empty value).
pub const PREFLIGHT_HEADERS: &[&str] = &["x-pricebook-csrf", "apollo-require-preflight"];

/// Content types a browser sends cross-origin without a preflight.
const SIMPLE_CONTENT_TYPES: &[&str] = &[
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
];

/// Whether a POST could not have been sent by a page of another origin without CORS.
pub fn is_preflighted(headers: &HeaderMap) -> bool {
    let has_header = PREFLIGHT_HEADERS.iter().any(|name| {
        headers
            .get(*name)
            .is_some_and(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
    });
    if has_header {
        return true;
    }
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match essence {
        Some(t) if !t.is_empty() => !SIMPLE_CONTENT_TYPES.contains(&t.as_str()),
        _ => false,
    }
}

pub const REFUSAL: &str = "this request has been blocked as a potential cross-site request \
    forgery: send it with 'content-type: application/json', or (for multipart uploads) \
    with a non-empty 'x-pricebook-csrf' header";

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn simple_requests_need_a_preflight_header() {
        assert!(is_preflighted(&headers(&[(
            "content-type",
            "application/json"
        )])));
        assert!(is_preflighted(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )])));
        assert!(!is_preflighted(&headers(&[])));
        assert!(!is_preflighted(&headers(&[("content-type", "text/plain")])));
        assert!(!is_preflighted(&headers(&[(
            "content-type",
            "Text/Plain; charset=utf-8"
        )])));
        assert!(!is_preflighted(&headers(&[(
            "content-type",
            "multipart/form-data; boundary=x"
        )])));
        assert!(!is_preflighted(&headers(&[(
            "content-type",
            "application/x-www-form-urlencoded"
        )])));
        assert!(is_preflighted(&headers(&[
            ("content-type", "multipart/form-data; boundary=x"),
            ("x-pricebook-csrf", "1"),
        ])));
        assert!(is_preflighted(&headers(&[
            ("content-type", "text/plain"),
            ("apollo-require-preflight", "true"),
        ])));
        assert!(!is_preflighted(&headers(&[
            ("content-type", "text/plain"),
            ("x-pricebook-csrf", " "),
        ])));
    }
}
