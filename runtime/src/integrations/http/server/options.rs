//! What [`super::TraceLayer`] records: excluded URLs, captured headers and their sanitising,
//! request and response hooks, old attribute names, the scheme's source and body capture;
//! in code or from the environment.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

use super::super::headers::{HeaderCapture, Side};
use super::super::patterns;
use super::super::stability::{HttpNames, OTEL_SEMCONV_STABILITY_OPT_IN};
use super::capture::CaptureOptions;
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
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) excluded: Vec<Regex>,
    pub(crate) headers: HeaderCapture,
    /// Every header, with the sanitising of [`Options::headers`]: Hypertrace's capture.
    pub(crate) all_headers: HeaderCapture,
    pub(crate) request_hook: Option<RequestHook>,
    pub(crate) response_hook: Option<ResponseHook>,
    /// `OTEL_SEMCONV_STABILITY_OPT_IN=http/dup`: the old names too.
    pub(crate) names: HttpNames,
    /// Whether `url.scheme` may come from `X-Forwarded-Proto` / `Forwarded`.
    pub(crate) forwarded_proto: bool,
    pub(crate) capture: CaptureOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            excluded: Vec::new(),
            headers: HeaderCapture::default(),
            all_headers: all_headers(&HeaderCapture::default()),
            request_hook: None,
            response_hook: None,
            names: HttpNames::Stable,
            forwarded_proto: true,
            capture: CaptureOptions::default(),
        }
    }
}

/// A capture of every header, sanitised as `headers` is.
fn all_headers(headers: &HeaderCapture) -> HeaderCapture {
    HeaderCapture {
        request: vec![patterns::name(".*")],
        response: vec![patterns::name(".*")],
        sanitize: headers.sanitize.clone(),
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("excluded", &self.excluded)
            .field("headers", &self.headers)
            .field("request_hook", &self.request_hook.is_some())
            .field("response_hook", &self.response_hook.is_some())
            .field("names", &self.names)
            .field("forwarded_proto", &self.forwarded_proto)
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// The options the environment gives, through `lookup`; the body and header capture of
    /// the installed pipeline (`HT_DATA_CAPTURE_*`) is followed at request time.
    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let excluded = lookup(OTEL_RUST_EXCLUDED_URLS)
            .or_else(|| lookup(OTEL_PYTHON_EXCLUDED_URLS))
            .map(|value| patterns::split(&value))
            .unwrap_or_default();
        let headers = HeaderCapture::from_lookup(Side::Server, lookup);
        Self {
            excluded: excluded.iter().map(|p| patterns::search(p)).collect(),
            all_headers: all_headers(&headers),
            headers,
            names: lookup(OTEL_SEMCONV_STABILITY_OPT_IN)
                .map(|value| HttpNames::parse(&value))
                .unwrap_or_default(),
            capture: CaptureOptions {
                follow_installed: true,
                ..CaptureOptions::default()
            },
            ..Self::default()
        }
    }

    /// Adds sanitised header names, for the listed headers and Hypertrace's all-headers
    /// capture alike.
    pub(crate) fn add_sanitize<I, P>(&mut self, names: I)
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        self.headers.add_sanitize(&names);
        self.all_headers.add_sanitize(&names);
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
        assert_eq!(options.names, HttpNames::Stable);
        assert!(options.capture.follow_installed);
        assert!(!Options::default().capture.follow_installed);
    }

    #[test]
    fn dup_from_the_lookup() {
        let lookup = |name: &str| {
            (name == OTEL_SEMCONV_STABILITY_OPT_IN).then(|| "database,http/dup".to_owned())
        };
        assert_eq!(Options::from_lookup(&lookup).names, HttpNames::Duplicate);
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
