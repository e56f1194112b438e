//! What [`super::TraceLayer`] records: excluded URLs, captured headers and their sanitising,
//! request and response hooks; in code or from the environment.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

use super::super::headers::{HeaderCapture, Side};
use super::super::patterns;
use crate::span::SpanHandle;

/// `OTEL_RUST_EXCLUDED_URLS`: comma-separated regular expressions; a request whose URL path
/// matches one (anywhere, as a search) gets no span.
pub(crate) const OTEL_RUST_EXCLUDED_URLS: &str = "OTEL_RUST_EXCLUDED_URLS";
/// The Python variable read when [`OTEL_RUST_EXCLUDED_URLS`] is not set.
pub(crate) const OTEL_PYTHON_EXCLUDED_URLS: &str = "OTEL_PYTHON_EXCLUDED_URLS";

/// A request hook: called with the server span and the request before the inner service.
pub(crate) type RequestHook = Arc<dyn Fn(&SpanHandle, &http::request::Parts) + Send + Sync>;
/// A response hook: called with the server span and the response before the span ends.
pub(crate) type ResponseHook = Arc<dyn Fn(&SpanHandle, &http::response::Parts) + Send + Sync>;

/// The layer's options.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) excluded: Vec<Regex>,
    pub(crate) headers: HeaderCapture,
    pub(crate) request_hook: Option<RequestHook>,
    pub(crate) response_hook: Option<ResponseHook>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("excluded", &self.excluded)
            .field("headers", &self.headers)
            .field("request_hook", &self.request_hook.is_some())
            .field("response_hook", &self.response_hook.is_some())
            .finish()
    }
}

impl Options {
    /// The options the environment gives, through `lookup`.
    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let excluded = lookup(OTEL_RUST_EXCLUDED_URLS)
            .or_else(|| lookup(OTEL_PYTHON_EXCLUDED_URLS))
            .map(|value| patterns::split(&value))
            .unwrap_or_default();
        Self {
            excluded: excluded.iter().map(|p| patterns::search(p)).collect(),
            headers: HeaderCapture::from_lookup(Side::Server, lookup),
            request_hook: None,
            response_hook: None,
        }
    }

    /// Whether requests to `path` get no span.
    pub(crate) fn is_excluded(&self, path: &str) -> bool {
        self.excluded.iter().any(|regex| regex.is_match(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lists() {
        let lookup = |name: &str| match name {
            OTEL_PYTHON_EXCLUDED_URLS => Some("/health, ^/metrics$,".to_owned()),
            "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST" => {
                Some("X-Request-Id".to_owned())
            }
            _ => None,
        };
        let options = Options::from_lookup(&lookup);
        assert!(options.is_excluded("/health"));
        assert!(options.is_excluded("/api/health/deep"));
        assert!(options.is_excluded("/metrics"));
        assert!(!options.is_excluded("/metrics/x"));
        assert_eq!(options.headers.request.len(), 1);
    }

    #[test]
    fn rust_name_wins() {
        let lookup = |name: &str| match name {
            OTEL_RUST_EXCLUDED_URLS => Some("/a".to_owned()),
            OTEL_PYTHON_EXCLUDED_URLS => Some("/b".to_owned()),
            _ => None,
        };
        let options = Options::from_lookup(&lookup);
        assert!(options.is_excluded("/a"));
        assert!(!options.is_excluded("/b"));
    }
}
