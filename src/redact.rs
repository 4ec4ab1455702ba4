//! Redaction by value: text that may reach the database, the logs or an API answer is
//! scrubbed of every secret this process has handled and of anything shaped like a
//! credential, wherever the text came from (an upstream error body echoing a request's
//! `Authorization` header is the usual way one gets there).
//!
//! Values are learned where secrets pass: connection secrets when they are sealed or
//! opened ([`crate::auth::secrets::SecretBox`]), access tokens when a connector obtains
//! them. The set is bounded ([`MAX_VALUES`], oldest forgotten first). [`scrub`] masks those
//! values, then `Bearer …`/`Basic …` credentials and `key=value` / `"key": "value"` pairs
//! whose key names a secret. The storage points (run errors, run events, audit entries),
//! upstream error excerpts, public upstream error messages and the log writer
//! ([`ScrubbingWriter`]) all call it.

use aho_corasick::AhoCorasick;
use regex::Regex;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, LazyLock, RwLock};

/// Shorter values are not masked by value (they would mask ordinary words); the shape
/// rules still catch them next to a secret-sounding key.
pub const MIN_CHARS: usize = 8;
/// Distinct values remembered at most.
pub const MAX_VALUES: usize = 4_096;
const MASK: &str = "[redacted]";

#[derive(Default)]
struct Known {
    values: VecDeque<String>,
    matcher: Option<Arc<AhoCorasick>>,
}

static KNOWN: LazyLock<RwLock<Known>> = LazyLock::new(Default::default);

/// Remembers one secret value (and its URL- and Base64-encoded forms, as request bodies
/// and headers carry them).
pub fn remember(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_CHARS {
        return;
    }
    let mut forms = vec![value.to_owned()];
    let encoded: String = form_urlencoded(value);
    if encoded != value {
        forms.push(encoded);
    }
    let Ok(mut known) = KNOWN.write() else {
        return;
    };
    let mut changed = false;
    for form in forms {
        if known.values.iter().any(|v| *v == form) {
            continue;
        }
        if known.values.len() >= MAX_VALUES {
            known.values.pop_front();
        }
        known.values.push_back(form);
        changed = true;
    }
    if changed {
        known.matcher = None;
    }
}

/// Remembers every string in a secrets document (`{"clientSecret": "…", …}`), and the
/// Basic credentials a client id and secret make together.
pub fn remember_all(secrets: &serde_json::Value) {
    match secrets {
        serde_json::Value::String(s) => remember(s),
        serde_json::Value::Array(items) => items.iter().for_each(remember_all),
        serde_json::Value::Object(map) => {
            map.values().for_each(remember_all);
            let text = |k: &str| map.get(k).and_then(|v| v.as_str());
            if let (Some(id), Some(secret)) = (text("clientId"), text("clientSecret")) {
                use base64::Engine;
                remember(
                    &base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")),
                );
            }
        }
        _ => {}
    }
}

fn form_urlencoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn matcher() -> Option<Arc<AhoCorasick>> {
    if let Ok(known) = KNOWN.read()
        && let Some(m) = &known.matcher
    {
        return Some(m.clone());
    }
    let mut known = KNOWN.write().ok()?;
    if known.values.is_empty() {
        return None;
    }
    let built = Arc::new(
        AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&known.values)
            .ok()?,
    );
    known.matcher = Some(built.clone());
    Some(built)
}

/// `Bearer <credential>` / `Basic <base64>`.
static AUTH_SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:(bearer)(?:\s+|%20|\+)[A-Za-z0-9\-._~+/]{6,}=*|(basic)(?:\s+|%20|\+)[A-Za-z0-9+/]{12,}=*)",
    )
    .expect("static pattern")
});

/// `client_secret=…`, `"access_token": "…"`, `ST-App-Key: …`, `password: …`.
static SECRET_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)((?:access|refresh|id)[_-]?token|client[_-]?secret|app[_-]?key|api[_-]?key|apikey|password|passwd|secret|authorization|webhook[_-]?secret)("?\s*[:=]\s*"?)([^"&\s,;}]{4,})"#,
    )
    .expect("static pattern")
});

/// The text with every known secret and credential-shaped part masked.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Some(m) = matcher()
        && m.is_match(out.as_ref())
    {
        out = Cow::Owned(m.replace_all(out.as_ref(), &vec![MASK; m.patterns_len()]));
    }
    if AUTH_SCHEME.is_match(&out) {
        let masked = AUTH_SCHEME.replace_all(&out, |c: &regex::Captures| {
            let scheme = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            format!("{scheme} {MASK}")
        });
        out = Cow::Owned(masked.into_owned());
    }
    if SECRET_PAIR.is_match(&out) {
        out = Cow::Owned(SECRET_PAIR.replace_all(&out, "$1$2[redacted]").into_owned());
    }
    out
}

/// [`scrub`] of every string in a JSON document (keys stay).
pub fn scrub_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let Cow::Owned(clean) = scrub(s) {
                *s = clean;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(scrub_json),
        _ => {}
    }
}

/// A `tracing` writer that scrubs each formatted event before it reaches `inner`.
#[derive(Clone)]
pub struct ScrubbingWriter<M>(pub M);

/// The writer of one event: collects it, scrubs it whole when dropped.
pub struct ScrubbedEvent<W: std::io::Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: std::io::Write> std::io::Write for ScrubbedEvent<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let text = String::from_utf8_lossy(&self.buf);
            self.inner.write_all(scrub(&text).as_bytes())?;
            self.buf.clear();
        }
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for ScrubbedEvent<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

impl<'a, M> tracing_subscriber::fmt::MakeWriter<'a> for ScrubbingWriter<M>
where
    M: tracing_subscriber::fmt::MakeWriter<'a>,
{
    type Writer = ScrubbedEvent<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedEvent {
            inner: self.0.make_writer(),
            buf: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_masked_wherever_they_appear() {
        remember("sk-live-7f3a9c0d1e2b");
        remember_all(
            &serde_json::json!({ "clientId": "cid-12345678", "clientSecret": "pa ss/wörd+42", "n": 3 }),
        );
        let text = "upstream said: {\"echo\":\"sk-live-7f3a9c0d1e2b\"} and client_id=cid-12345678&client_secret=pa+ss%2Fw%C3%B6rd%2B42";
        let clean = scrub(text);
        assert!(!clean.contains("sk-live-7f3a9c0d1e2b"), "{clean}");
        assert!(!clean.contains("cid-12345678"), "{clean}");
        assert!(!clean.contains("pa+ss%2Fw"), "{clean}");
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("cid-12345678:pa ss/wörd+42");
        assert!(!scrub(&format!("got Authorization: Basic {basic}")).contains(&basic));
        assert_eq!(scrub("nothing secret here"), "nothing secret here");
        remember("short");
        assert_eq!(scrub("a short word"), "a short word");
    }

    #[test]
    fn credential_shapes_are_masked_without_knowing_them() {
        for (text, secret) in [
            ("Authorization: Bearer at-9f8e7d6c5b4a", "at-9f8e7d6c5b4a"),
            ("authorization=Bearer%20abc.def.ghi", "abc.def.ghi"),
            ("{\"access_token\":\"eyJhbGciOi.x.y\"}", "eyJhbGciOi"),
            ("ST-App-Key: ak1-abcdef", "ak1-abcdef"),
            ("refresh_token=Atzr|IwEBIA", "Atzr|IwEBIA"),
            ("x-api-key = k-123456", "k-123456"),
            ("password: hunter22", "hunter22"),
        ] {
            let clean = scrub(text);
            assert!(!clean.contains(secret), "{text} → {clean}");
            assert!(clean.contains(MASK), "{clean}");
        }
        for plain in [
            "fetched 500 materials",
            "Token expired",
            "basic information about the token",
            "missing webhook secret",
        ] {
            assert_eq!(scrub(plain), plain);
        }
    }

    #[test]
    fn json_documents_are_scrubbed_value_by_value() {
        let mut v = serde_json::json!({ "message": "Bearer tok-abcdef123", "n": 1, "list": ["password=abcd1234"] });
        scrub_json(&mut v);
        assert_eq!(v["message"], "Bearer [redacted]");
        assert_eq!(v["list"][0], "password=[redacted]");
        assert_eq!(v["n"], 1);
    }

    #[test]
    fn the_log_writer_scrubs_each_event() {
        use std::io::Write;
        use tracing_subscriber::fmt::MakeWriter;
        let out = Arc::new(std::sync::Mutex::new(Vec::new()));
        #[derive(Clone)]
        struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink(out.clone());
        let make = ScrubbingWriter(move || sink.clone());
        let mut w = make.make_writer();
        w.write_all(b"run ended: upstream error: Authorization: ")
            .unwrap();
        w.write_all(b"Bearer at-0011223344\n").unwrap();
        drop(w);
        let logged = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        assert!(!logged.contains("at-0011223344"), "{logged}");
        assert!(logged.starts_with("run ended: upstream error: Authorization: "));
        assert!(logged.ends_with("[redacted]\n"), "{logged}");
    }
}
