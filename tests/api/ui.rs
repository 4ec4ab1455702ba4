//! The embedded admin UI over real HTTP: compressed, content-hashed and cached so that a
//! second visit costs one revalidation (issue 17, finding 12).

use crate::helpers::*;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH};
use serde_json::Value;
use std::io::Read;

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .expect("valid gzip");
    out
}

fn header(r: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The import map of the shell: module path ("./js/api.js") -> versioned URL.
fn import_map(html: &str) -> serde_json::Map<String, Value> {
    let start = html
        .find("<script type=\"importmap\">")
        .expect("an import map")
        + 25;
    let end = start + html[start..].find("</script>").unwrap();
    let map: Value = serde_json::from_str(&html[start..end]).expect("import map is JSON");
    map["imports"].as_object().unwrap().clone()
}

#[tokio::test]
async fn the_shell_is_compressed_revalidated_and_maps_every_module_to_a_hashed_url() {
    let app = TestApp::spawn().await;
    let get = |path: &str| {
        app.client
            .get(format!("{}{path}", app.address))
            .header(ACCEPT_ENCODING, "gzip, deflate, br")
    };
    let shell = get("/").send().await.unwrap();
    assert_eq!(shell.status(), 200);
    assert_eq!(header(&shell, CONTENT_ENCODING), "gzip");
    assert_eq!(header(&shell, CACHE_CONTROL), "no-cache");
    let etag = header(&shell, ETAG);
    assert!(etag.starts_with("W/\""), "{etag}");
    let html = gunzip(&shell.bytes().await.unwrap());
    assert!(
        html.contains("<meta name=\"pricebook-schema\" content=\""),
        "{html}"
    );
    assert!(html.contains("src=\"js/main.js?v="), "{html}");
    assert!(html.contains("href=\"app.css?v="), "{html}");
    assert!(html.contains("rel=\"modulepreload\""), "{html}");
    // Unchanged: 304, no body.
    let again = get("/").header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // Every module the app can load is in the map, screens loaded on demand included, and
    // each versioned URL is cached for a year and sent gzipped.
    let map = import_map(&html);
    for module in [
        "./js/main.js",
        "./vendor/preact.js",
        "./js/screens/review.js",
    ] {
        assert!(map.contains_key(module), "{module} missing from {map:?}");
    }
    for (module, url) in &map {
        let url = url.as_str().unwrap().trim_start_matches('.');
        let r = get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{module}");
        assert_eq!(
            header(&r, CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "{module}"
        );
        let len = r.content_length().unwrap_or(0);
        if header(&r, CONTENT_ENCODING) != "gzip" {
            assert!(len < 512, "{module} sent uncompressed ({len} bytes)");
        }
    }
    // Without the version (or with a stale one) the same file must be revalidated.
    let plain = get("/js/main.js").send().await.unwrap();
    assert_eq!(header(&plain, CACHE_CONTROL), "no-cache");
    let stale = get("/js/main.js?v=000000000000").send().await.unwrap();
    assert_eq!(header(&stale, CACHE_CONTROL), "no-cache");
    let tag = header(&stale, ETAG);
    let unchanged = get("/js/main.js")
        .header(IF_NONE_MATCH, tag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    // Without Accept-Encoding: identity.
    let identity = app
        .client
        .get(format!("{}/js/main.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&identity, CONTENT_ENCODING), "");
    assert!(
        identity
            .text()
            .await
            .unwrap()
            .contains("import { html, render")
    );
    assert_eq!(get("/nope.js").send().await.unwrap().status(), 404);
}
