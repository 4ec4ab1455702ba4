//! The admin UI, embedded into the binary from `admin-ui/` (no build step, no CDN).

use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "admin-ui/"]
struct Assets;

/// The admin UI's files; everything else is a 404 with a JSON body, so a misconfigured
/// client (a wrong path, a typo in an API route) sees an error instead of the app's HTML.
/// The UI routes by URL fragment (`/#/items/42`), so `/` is its only page.
pub async fn serve(method: Method, uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match Assets::get(path) {
        Some(file) if method == Method::GET || method == Method::HEAD => {
            asset(path, file.data.into_owned())
        }
        _ => not_found(&method, uri.path()),
    }
}

/// One embedded page by its path under `admin-ui/` (e.g. GraphiQL's).
pub fn page(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => asset(path, file.data.into_owned()),
        None => not_found(&Method::GET, path),
    }
}

fn not_found(method: &Method, path: &str) -> Response {
    let body = serde_json::json!({ "error": {
        "code": "NOT_FOUND",
        "message": format!("no route for {method} {path}"),
    } });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

fn asset(path: &str, body: Vec<u8>) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let cache = if path == "index.html" {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    (
        [
            (header::CONTENT_TYPE, mime.as_ref().to_owned()),
            (header::CACHE_CONTROL, cache.to_owned()),
        ],
        body,
    )
        .into_response()
}
