//! What [`super::TraceLayer`] records: excluded URLs, captured headers and their sanitising,
//! request and response hooks; in code or from the environment.

use std::fmt;
use std::sync::Arc;

use http::HeaderMap;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use regex::Regex;

use crate::span::SpanHandle;

/// `OTEL_RUST_EXCLUDED_URLS`: comma-separated regular expressions; a request whose URL path
/// matches one (anywhere, as a search) gets no span.
pub(crate) const OTEL_RUST_EXCLUDED_URLS: &str = "OTEL_RUST_EXCLUDED_URLS";
/// The Python variable read when [`OTEL_RUST_EXCLUDED_URLS`] is not set.
pub(crate) const OTEL_PYTHON_EXCLUDED_URLS: &str = "OTEL_PYTHON_EXCLUDED_URLS";
/// The request headers recorded, comma-separated (case-insensitive regular expressions
/// matched against the whole name).
pub(crate) const CAPTURE_REQUEST: &str = "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST";
/// The response headers recorded, as [`CAPTURE_REQUEST`].
pub(crate) const CAPTURE_RESPONSE: &str =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE";
/// Headers whose values are recorded as [`REDACTED`], as [`CAPTURE_REQUEST`].
pub(crate) const SANITIZE_FIELDS: &str =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS";

/// The value recorded for a sanitised header.
pub(crate) const REDACTED: &str = "[REDACTED]";
/// Headers always sanitised.
const ALWAYS_SANITIZED: [&str; 3] = ["authorization", "cookie", "set-cookie"];

/// A request hook: called with the server span and the request before the inner service.
pub(crate) type RequestHook = Arc<dyn Fn(&SpanHandle, &http::request::Parts) + Send + Sync>;
/// A response hook: called with the server span and the response before the span ends.
pub(crate) type ResponseHook = Arc<dyn Fn(&SpanHandle, &http::response::Parts) + Send + Sync>;

/// The layer's options.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) excluded: Vec<Regex>,
    pub(crate) request_headers: Vec<Regex>,
    pub(crate) response_headers: Vec<Regex>,
    pub(crate) sanitize: Vec<Regex>,
    pub(crate) request_hook: Option<RequestHook>,
    pub(crate) response_hook: Option<ResponseHook>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("excluded", &self.excluded)
            .field("request_headers", &self.request_headers)
            .field("response_headers", &self.response_headers)
            .field("sanitize", &self.sanitize)
            .field("request_hook", &self.request_hook.is_some())
            .field("response_hook", &self.response_hook.is_some())
            .finish()
    }
}

impl Options {
    /// The options the environment gives, through `lookup`.
    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let list = |name: &str| lookup(name).map(|value| split(&value)).unwrap_or_default();
        let excluded = lookup(OTEL_RUST_EXCLUDED_URLS)
            .or_else(|| lookup(OTEL_PYTHON_EXCLUDED_URLS))
            .map(|value| split(&value))
            .unwrap_or_default();
        Self {
            excluded: excluded.iter().map(|p| search(p)).collect(),
            request_headers: list(CAPTURE_REQUEST).iter().map(|p| name(p)).collect(),
            response_headers: list(CAPTURE_RESPONSE).iter().map(|p| name(p)).collect(),
            sanitize: list(SANITIZE_FIELDS).iter().map(|p| name(p)).collect(),
            request_hook: None,
            response_hook: None,
        }
    }

    /// Whether requests to `path` get no span.
    pub(crate) fn is_excluded(&self, path: &str) -> bool {
        self.excluded.iter().any(|regex| regex.is_match(path))
    }

    /// The `{prefix}.<name>` attributes of the headers `patterns` select, sanitised.
    pub(crate) fn header_attributes(
        &self,
        prefix: &str,
        patterns: &[Regex],
        headers: &HeaderMap,
        attributes: &mut Vec<KeyValue>,
    ) {
        if patterns.is_empty() {
            return;
        }
        for key in headers.keys() {
            let key = key.as_str(); // always lower-case in `http`
            if !patterns.iter().any(|regex| regex.is_match(key)) {
                continue;
            }
            let redacted = ALWAYS_SANITIZED.contains(&key)
                || self.sanitize.iter().any(|regex| regex.is_match(key));
            let values: Vec<StringValue> = headers
                .get_all(key)
                .iter()
                .map(|value| {
                    if redacted {
                        StringValue::from(REDACTED)
                    } else {
                        StringValue::from(String::from_utf8_lossy(value.as_bytes()).into_owned())
                    }
                })
                .collect();
            attributes.push(KeyValue::new(
                format!("{prefix}.{key}"),
                Value::Array(Array::String(values)),
            ));
        }
    }
}

/// The non-empty, trimmed items of a comma list.
fn split(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `pattern` as a regular expression searched anywhere; literal text when it is not valid.
pub(crate) fn search(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| literal(pattern, false))
}

/// `pattern` as a case-insensitive regular expression matching a whole header name; literal
/// text when it is not valid.
pub(crate) fn name(pattern: &str) -> Regex {
    Regex::new(&format!("(?i)^(?:{pattern})$")).unwrap_or_else(|_| literal(pattern, true))
}

/// `text` matched literally (a whole, case-insensitive name when `whole`).
fn literal(text: &str, whole: bool) -> Regex {
    let escaped = regex::escape(text);
    let pattern = if whole {
        format!("(?i)^{escaped}$")
    } else {
        escaped
    };
    // An escaped literal always compiles; the fallback matches nothing.
    Regex::new(&pattern).unwrap_or_else(|_| never())
}

/// A regular expression that matches nothing.
fn never() -> Regex {
    // `[^\s\S]` is a valid class matching no character; should it fail, an empty pattern is
    // the last resort (it cannot fail to compile).
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| Regex::new("").unwrap_or_else(|_| never()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lists() {
        let lookup = |name: &str| match name {
            OTEL_PYTHON_EXCLUDED_URLS => Some("/health, ^/metrics$,".to_owned()),
            CAPTURE_REQUEST => Some("X-Request-Id,x-tenant-.*".to_owned()),
            SANITIZE_FIELDS => Some("x-tenant-secret".to_owned()),
            _ => None,
        };
        let options = Options::from_lookup(&lookup);
        assert!(options.is_excluded("/health"));
        assert!(options.is_excluded("/api/health/deep"));
        assert!(options.is_excluded("/metrics"));
        assert!(!options.is_excluded("/metrics/x"));
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", http::HeaderValue::from_static("7"));
        headers.insert("x-tenant-secret", http::HeaderValue::from_static("s"));
        headers.insert("authorization", http::HeaderValue::from_static("Bearer x"));
        let mut attributes = Vec::new();
        options.header_attributes(
            "http.request.header",
            &options.request_headers,
            &headers,
            &mut attributes,
        );
        assert_eq!(attributes.len(), 2);
        assert!(attributes.contains(&KeyValue::new(
            "http.request.header.x-tenant-secret",
            Value::Array(Array::String(vec![REDACTED.into()])),
        )));
    }

    #[test]
    fn invalid_patterns_are_literal() {
        assert!(search("/a(").is_match("/a(/b"));
        assert!(name("x-(").is_match("X-("));
        assert!(!never().is_match("anything"));
    }
}
