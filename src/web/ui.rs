//! The admin UI, embedded into the binary from `admin-ui/` (no build step, no CDN).
//!
//! The files stay plain ES modules; what a bundler would add is done here, on the way out:
//!
//! - every file carries a weak ETag (its content hash) and answers `If-None-Match` with 304;
//!   text files are gzipped once (cached by content hash) when the client accepts gzip;
//! - `index.html` is rewritten: its own `src`/`href` references and an import map point at
//!   `?v=<hash>` URLs for every module the app can load (found by following the `import`
//!   statements from `js/main.js`), and `<link rel="modulepreload">` lists the modules the
//!   shell needs at once, so the browser fetches them in parallel instead of a waterfall;
//! - a `?v=` URL whose hash matches is cached for a year (`immutable`); anything else,
//!   the shell included, is `no-cache`, so a second visit costs one revalidation;
//! - the shell carries the GraphQL schema's hash (`<meta name="pricebook-schema">`), by
//!   which the UI caches what it learned by introspection instead of asking at each sign-in.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};

#[derive(Embed)]
#[folder = "admin-ui/"]
struct Assets;

const SHELL: &str = "index.html";
/// The module the shell starts; the import graph is followed from here.
const ENTRY: &str = "js/main.js";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
/// Smaller bodies are sent as they are: gzip would not pay for its header.
const MIN_GZIP: usize = 512;

/// The admin UI's files; everything else is a 404 with a JSON body, so a misconfigured
/// client (a wrong path, a typo in an API route) sees an error instead of the app's HTML.
/// The UI routes by URL fragment (`/#/items/42`), so `/` is its only page.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return not_found(&method, uri.path());
    }
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { SHELL } else { path };
    let found = if path == SHELL {
        shell()
    } else {
        prepared(path)
    };
    let Some(file) = found else {
        return not_found(&method, uri.path());
    };
    let pinned = file.path != SHELL && version_param(&uri) == Some(file.version.as_str());
    respond(&file, &headers, pinned)
}

/// One embedded page by its path under `admin-ui/` (e.g. GraphiQL's).
pub fn page(path: &str, headers: &HeaderMap) -> Response {
    match prepared(path) {
        Some(file) => respond(&file, headers, false),
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

/// One file ready to send: its content hash, type, body (and gzipped body), and the
/// modules it imports (for JavaScript).
struct Prepared {
    path: String,
    version: String,
    mime: String,
    body: Bytes,
    gzip: Option<Bytes>,
    /// Embedded modules this one imports: (path, dynamically).
    imports: Vec<(String, bool)>,
}

/// Prepared files by path, each kept while its content hash is unchanged (in debug builds
/// rust-embed reads `admin-ui/` from disk, so edits show up without a rebuild).
static FILES: LazyLock<Mutex<HashMap<String, Arc<Prepared>>>> = LazyLock::new(Default::default);
/// The rewritten shell and the fingerprint of every version it names.
type ShellCache = Option<(String, Arc<Prepared>)>;
static SHELL_CACHE: LazyLock<Mutex<ShellCache>> = LazyLock::new(Default::default);

/// Hash of the GraphQL schema (its SDL), which changes whenever the API does.
static SCHEMA_VERSION: LazyLock<String> =
    LazyLock::new(|| short_hash(crate::graphql::sdl().as_bytes()));

fn prepared(path: &str) -> Option<Arc<Prepared>> {
    let file = Assets::get(path)?;
    let version = hex::encode(&file.metadata.sha256_hash()[..6]);
    if let Ok(cache) = FILES.lock()
        && let Some(hit) = cache.get(path)
        && hit.version == version
    {
        return Some(hit.clone());
    }
    let body = file.data.into_owned();
    let imports = if path.ends_with(".js") {
        let source = String::from_utf8_lossy(&body);
        module_specifiers(&source)
            .into_iter()
            .filter_map(|(spec, dynamic)| {
                let target = resolve(path, &spec)?;
                Assets::get(&target).is_some().then_some((target, dynamic))
            })
            .collect()
    } else {
        Vec::new()
    };
    let mime = mime_of(path);
    let prepared = Arc::new(Prepared {
        path: path.to_owned(),
        version,
        gzip: gzip_if_worth_it(&mime, &body),
        mime,
        body: Bytes::from(body),
        imports,
    });
    if let Ok(mut cache) = FILES.lock() {
        cache.insert(path.to_owned(), prepared.clone());
    }
    Some(prepared)
}

/// `index.html` with versioned references, the import map and the preload list.
fn shell() -> Option<Arc<Prepared>> {
    let index = prepared(SHELL)?;
    let graph = module_graph(ENTRY);
    let mut fingerprint = format!("{}|{}", index.version, *SCHEMA_VERSION);
    for (path, (version, _)) in &graph {
        fingerprint.push_str(&format!("|{path}={version}"));
    }
    if let Ok(cache) = SHELL_CACHE.lock()
        && let Some((key, hit)) = cache.as_ref()
        && *key == fingerprint
    {
        return Some(hit.clone());
    }
    let html = String::from_utf8_lossy(&index.body);
    let rewritten = rewrite_shell(&html, &graph, &SCHEMA_VERSION, |path| {
        prepared(path).map(|p| p.version.clone())
    });
    let body = rewritten.into_bytes();
    let file = Arc::new(Prepared {
        path: SHELL.to_owned(),
        version: short_hash(&body),
        gzip: gzip_if_worth_it(&index.mime, &body),
        mime: index.mime.clone(),
        body: Bytes::from(body),
        imports: Vec::new(),
    });
    if let Ok(mut cache) = SHELL_CACHE.lock() {
        *cache = Some((fingerprint, file.clone()));
    }
    Some(file)
}

/// Every module reachable from `entry`: path -> (version, reachable by static imports only).
fn module_graph(entry: &str) -> BTreeMap<String, (String, bool)> {
    let mut seen: BTreeMap<String, (String, bool)> = BTreeMap::new();
    // (path, reached through static imports only)
    let mut todo = vec![(entry.to_owned(), true)];
    while let Some((path, eager)) = todo.pop() {
        let Some(file) = prepared(&path) else {
            continue;
        };
        match seen.get_mut(&path) {
            Some((_, was_eager)) if *was_eager || !eager => continue,
            Some((_, was_eager)) => *was_eager = true,
            None => {
                seen.insert(path.clone(), (file.version.clone(), eager));
            }
        }
        for (target, dynamic) in &file.imports {
            todo.push((target.clone(), eager && !dynamic));
        }
    }
    seen
}

/// The shell's text with `src`/`href` references to embedded files versioned, and the
/// schema version, import map and module preloads placed before the first module script.
fn rewrite_shell(
    html: &str,
    graph: &BTreeMap<String, (String, bool)>,
    schema_version: &str,
    version_of: impl Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(html.len() + 64 * graph.len());
    let mut rest = html;
    // Attribute references: src="js/main.js", href="app.css".
    while let Some(at) = ["src=\"", "href=\""]
        .iter()
        .filter_map(|a| rest.find(a).map(|i| (i, a.len())))
        .min()
    {
        let (i, len) = at;
        out.push_str(&rest[..i + len]);
        rest = &rest[i + len..];
        let end = rest.find('"').unwrap_or(rest.len());
        let target = &rest[..end];
        let local = target.trim_start_matches("./");
        let versioned = (!target.contains(':') && !target.contains('?') && !target.is_empty())
            .then(|| version_of(local))
            .flatten();
        match versioned {
            Some(v) => out.push_str(&format!("{target}?v={v}")),
            None => out.push_str(target),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);

    let imports: serde_json::Map<String, serde_json::Value> = graph
        .iter()
        .map(|(path, (version, _))| (format!("./{path}"), format!("./{path}?v={version}").into()))
        .collect();
    let map = serde_json::json!({ "imports": imports }).to_string();
    let mut head = format!(
        "<meta name=\"pricebook-schema\" content=\"{schema_version}\">\n  \
         <script type=\"importmap\">{}</script>\n",
        // An import map is JSON inside <script>: keep "</" from closing it early.
        map.replace("</", "<\\/")
    );
    for (path, (version, eager)) in graph {
        if *eager && path != ENTRY {
            head.push_str(&format!(
                "  <link rel=\"modulepreload\" href=\"./{path}?v={version}\">\n"
            ));
        }
    }
    let anchor = out
        .find("<script type=\"module\"")
        .or_else(|| out.find("</head>"))
        .unwrap_or(0);
    out.insert_str(anchor, &format!("{head}  "));
    out
}

fn respond(file: &Prepared, headers: &HeaderMap, pinned: bool) -> Response {
    let etag = format!("W/\"{}\"", file.version);
    let cache = if pinned { IMMUTABLE } else { REVALIDATE };
    let mut common = vec![
        (header::CACHE_CONTROL, cache.to_owned()),
        (header::ETAG, etag.clone()),
    ];
    if file.gzip.is_some() {
        common.push((header::VARY, "accept-encoding".to_owned()));
    }
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, &file.version));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let gzip = file
            .gzip
            .as_ref()
            .filter(|_| accepts_gzip(headers.get(header::ACCEPT_ENCODING)));
        let mut r = match gzip {
            Some(body) => {
                let mut r = body.clone().into_response();
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            None => file.body.clone().into_response(),
        };
        if let Ok(v) = HeaderValue::from_str(&file.mime) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    for (name, value) in common {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

fn mime_of(path: &str) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let text =
        mime.type_() == "text" || matches!(mime.subtype().as_str(), "javascript" | "json" | "svg");
    if text {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_owned()
    }
}

fn gzip_if_worth_it(mime: &str, body: &[u8]) -> Option<Bytes> {
    let compressible = mime.starts_with("text/")
        || mime.starts_with("application/javascript")
        || mime.starts_with("application/json")
        || mime.starts_with("image/svg");
    if !compressible || body.len() < MIN_GZIP {
        return None;
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).ok()?;
    let packed = encoder.finish().ok()?;
    (packed.len() < body.len()).then(|| Bytes::from(packed))
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}

/// The `v` query parameter, if any.
fn version_param(uri: &Uri) -> Option<&str> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("v="))
}

/// Whether an `If-None-Match` value names this version (weak comparison, `*` matches).
fn etag_matches(header: &str, version: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == version)
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*` with a non-zero quality).
fn accepts_gzip(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').any(|part| {
        let mut it = part.split(';').map(str::trim);
        let name = it.next().unwrap_or("").to_ascii_lowercase();
        let zero = it.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name == "gzip" || name == "*") && !zero
    })
}

/// Relative module specifiers of a JavaScript source: `import … from './x.js'`,
/// `export … from '../y.js'`, `import './z.js'` and `import('./w.js')` (the last
/// dynamic). Bare and absolute specifiers are left to the browser. A specifier-looking
/// string in a comment at worst adds an entry for a file that exists anyway.
fn module_specifiers(source: &str) -> Vec<(String, bool)> {
    let bytes = source.as_bytes();
    let mut found = BTreeSet::new();
    for keyword in ["from", "import"] {
        let mut start = 0;
        while let Some(pos) = source[start..].find(keyword) {
            let at = start + pos;
            start = at + keyword.len();
            let before = at.checked_sub(1).map(|i| bytes[i]);
            if before
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.')
            {
                continue;
            }
            let mut i = start;
            let skip_space = |i: &mut usize| {
                while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
                    *i += 1;
                }
            };
            skip_space(&mut i);
            let mut dynamic = false;
            if keyword == "import" && bytes.get(i) == Some(&b'(') {
                dynamic = true;
                i += 1;
                skip_space(&mut i);
            }
            let Some(&quote) = bytes.get(i).filter(|q| matches!(q, b'\'' | b'"' | b'`')) else {
                continue;
            };
            let Some(len) = source[i + 1..].find(quote as char) else {
                continue;
            };
            let spec = &source[i + 1..i + 1 + len];
            if (spec.starts_with("./") || spec.starts_with("../")) && !spec.contains("${") {
                found.insert((spec.to_owned(), dynamic));
            }
        }
    }
    found.into_iter().collect()
}

/// `spec` relative to the module at `from` (both embedded paths), or None when it leaves
/// the embedded folder.
fn resolve(from: &str, spec: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in spec.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_static_and_dynamic_relative_imports() {
        let src = r#"
            import { a } from './a.js';
            import b from "../vendor/b.js";
            import{options as n}from"./preact.js";
            export { c } from './c.js';
            import './side.js';
            const s = () => import('./screens/s.js');
            import x from 'bare';
            const from = 1; // from
            const t = `${from}`;
            reimport('./not.js');
        "#;
        let found = module_specifiers(src);
        assert_eq!(
            found,
            vec![
                ("../vendor/b.js".to_owned(), false),
                ("./a.js".to_owned(), false),
                ("./c.js".to_owned(), false),
                ("./preact.js".to_owned(), false),
                ("./screens/s.js".to_owned(), true),
                ("./side.js".to_owned(), false),
            ]
        );
    }

    #[test]
    fn resolves_relative_to_the_importing_module() {
        assert_eq!(
            resolve("js/main.js", "./api.js").as_deref(),
            Some("js/api.js")
        );
        assert_eq!(
            resolve("js/screens/items.js", "../components/x.js").as_deref(),
            Some("js/components/x.js")
        );
        assert_eq!(
            resolve("js/lib.js", "../vendor/preact.js").as_deref(),
            Some("vendor/preact.js")
        );
        assert_eq!(resolve("main.js", "../../x.js"), None);
    }

    #[test]
    fn gzip_only_when_the_client_accepts_it() {
        let v = |s: &'static str| Some(HeaderValue::from_static(s));
        assert!(accepts_gzip(v("gzip, deflate, br").as_ref()));
        assert!(accepts_gzip(v("br;q=1.0, gzip;q=0.8").as_ref()));
        assert!(accepts_gzip(v("*").as_ref()));
        assert!(!accepts_gzip(v("gzip;q=0").as_ref()));
        assert!(!accepts_gzip(v("br, identity").as_ref()));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn etags_compare_weakly() {
        assert!(etag_matches("W/\"abc\"", "abc"));
        assert!(etag_matches("\"x\", W/\"abc\"", "abc"));
        assert!(etag_matches("*", "abc"));
        assert!(!etag_matches("W/\"abd\"", "abc"));
    }

    #[test]
    fn the_shell_gets_versions_an_import_map_and_preloads() {
        let html = r#"<head>
  <link rel="icon" href="favicon.svg">
  <link rel="stylesheet" href="app.css">
  <a href="https://example.com/x">x</a>
  <script type="module" src="js/main.js"></script>
</head>"#;
        let graph = BTreeMap::from([
            ("js/main.js".to_owned(), ("m1".to_owned(), true)),
            ("js/lib.js".to_owned(), ("l1".to_owned(), true)),
            ("js/screens/items.js".to_owned(), ("i1".to_owned(), false)),
        ]);
        let out = rewrite_shell(html, &graph, "s1", |p| match p {
            "favicon.svg" => Some("f1".into()),
            "app.css" => Some("c1".into()),
            "js/main.js" => Some("m1".into()),
            _ => None,
        });
        assert!(out.contains(r#"href="favicon.svg?v=f1""#), "{out}");
        assert!(out.contains(r#"href="app.css?v=c1""#), "{out}");
        assert!(out.contains(r#"href="https://example.com/x""#), "{out}");
        assert!(out.contains(r#"src="js/main.js?v=m1""#), "{out}");
        assert!(
            out.contains(r#"<meta name="pricebook-schema" content="s1">"#),
            "{out}"
        );
        assert!(
            out.contains(r#""./js/screens/items.js":"./js/screens/items.js?v=i1""#),
            "{out}"
        );
        assert!(
            out.contains(r#"<link rel="modulepreload" href="./js/lib.js?v=l1">"#),
            "{out}"
        );
        // Lazily loaded screens are mapped but not preloaded; the entry is the script itself.
        assert!(
            !out.contains(r#"modulepreload" href="./js/screens"#),
            "{out}"
        );
        assert!(
            !out.contains(r#"modulepreload" href="./js/main.js"#),
            "{out}"
        );
        let map_at = out.find("importmap").unwrap();
        assert!(map_at < out.find("<script type=\"module\"").unwrap());
    }
}
