//! Captured request and response headers (`http.request.header.<name>` and
//! `http.response.header.<name>`, string arrays) and their sanitising, for the server layer
//! and the client middleware alike.

use http::HeaderMap;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use regex::Regex;

use super::patterns;

/// The value recorded for a sanitised header.
pub(crate) const REDACTED: &str = "[REDACTED]";
/// Headers whose values are recorded as [`REDACTED`] (comma-separated, as the capture lists).
pub(crate) const SANITIZE_FIELDS: &str =
    "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS";
/// Headers always sanitised: they carry credentials.
const ALWAYS_SANITIZED: [&str; 3] = ["authorization", "cookie", "set-cookie"];

/// Which end of the connection the instrumentation sits on; it picks the capture variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_{REQUEST,RESPONSE}`.
    #[cfg_attr(not(feature = "http-server"), allow(dead_code))] // client-only builds
    Server,
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_{REQUEST,RESPONSE}`.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))] // server-only builds
    Client,
}

impl Side {
    /// The variables listing the request and the response headers to capture.
    pub(crate) const fn variables(self) -> (&'static str, &'static str) {
        match self {
            Self::Server => (
                "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST",
                "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE",
            ),
            Self::Client => (
                "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST",
                "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE",
            ),
        }
    }
}

/// The headers recorded on a span: names as case-insensitive regular expressions matching
/// the whole name; an invalid one is literal text.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeaderCapture {
    /// Request headers recorded.
    pub(crate) request: Vec<Regex>,
    /// Response headers recorded.
    pub(crate) response: Vec<Regex>,
    /// Headers recorded as [`REDACTED`] (besides Authorization, Cookie and Set-Cookie).
    pub(crate) sanitize: Vec<Regex>,
}

impl HeaderCapture {
    /// The capture the environment gives for `side`, through `lookup`.
    pub(crate) fn from_lookup(side: Side, lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let names = |variable: &str| -> Vec<Regex> {
            lookup(variable)
                .map(|value| patterns::split(&value))
                .unwrap_or_default()
                .iter()
                .map(|pattern| patterns::name(pattern))
                .collect()
        };
        let (request, response) = side.variables();
        Self {
            request: names(request),
            response: names(response),
            sanitize: names(SANITIZE_FIELDS),
        }
    }

    /// Adds request header names (regular expressions).
    pub(crate) fn add_request<I, P>(&mut self, names: I)
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        extend(&mut self.request, names);
    }

    /// Adds response header names (regular expressions).
    pub(crate) fn add_response<I, P>(&mut self, names: I)
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        extend(&mut self.response, names);
    }

    /// Adds sanitised header names (regular expressions).
    pub(crate) fn add_sanitize<I, P>(&mut self, names: I)
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        extend(&mut self.sanitize, names);
    }

    /// The `http.request.header.<name>` attributes of `headers`.
    pub(crate) fn request_attributes(&self, headers: &HeaderMap, attributes: &mut Vec<KeyValue>) {
        self.attributes("http.request.header", &self.request, headers, attributes);
    }

    /// The `http.response.header.<name>` attributes of `headers`.
    pub(crate) fn response_attributes(&self, headers: &HeaderMap, attributes: &mut Vec<KeyValue>) {
        self.attributes("http.response.header", &self.response, headers, attributes);
    }

    /// The `{prefix}.<name>` attributes of the headers `selected` picks, sanitised.
    fn attributes(
        &self,
        prefix: &str,
        selected: &[Regex],
        headers: &HeaderMap,
        attributes: &mut Vec<KeyValue>,
    ) {
        if selected.is_empty() {
            return;
        }
        for key in headers.keys() {
            let key = key.as_str(); // always lower-case in `http`
            if !selected.iter().any(|regex| regex.is_match(key)) {
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

/// Appends `names` to `patterns` as header-name patterns.
fn extend<I, P>(patterns: &mut Vec<Regex>, names: I)
where
    I: IntoIterator<Item = P>,
    P: AsRef<str>,
{
    patterns.extend(names.into_iter().map(|name| patterns::name(name.as_ref())));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", http::HeaderValue::from_static("7"));
        headers.append("x-request-id", http::HeaderValue::from_static("8"));
        headers.insert("x-tenant-secret", http::HeaderValue::from_static("s"));
        headers.insert("authorization", http::HeaderValue::from_static("Bearer x"));
        headers
    }

    #[test]
    fn env_lists_per_side() {
        let lookup = |name: &str| match name {
            "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST" => {
                Some("X-Request-Id,x-tenant-.*,Authorization".to_owned())
            }
            SANITIZE_FIELDS => Some("x-tenant-secret".to_owned()),
            _ => None,
        };
        let server = HeaderCapture::from_lookup(Side::Server, &lookup);
        let mut attributes = Vec::new();
        server.request_attributes(&headers(), &mut attributes);
        assert!(attributes.is_empty());

        let client = HeaderCapture::from_lookup(Side::Client, &lookup);
        client.request_attributes(&headers(), &mut attributes);
        let value = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.clone())
        };
        let strings = |values: &[&'static str]| {
            Some(Value::Array(Array::String(
                values.iter().map(|v| StringValue::from(*v)).collect(),
            )))
        };
        assert_eq!(
            value("http.request.header.x-request-id"),
            strings(&["7", "8"])
        );
        assert_eq!(
            value("http.request.header.x-tenant-secret"),
            strings(&[REDACTED])
        );
        assert_eq!(
            value("http.request.header.authorization"),
            strings(&[REDACTED])
        );
        assert_eq!(attributes.len(), 3);
    }

    #[test]
    fn code_adds_to_env() {
        let mut capture = HeaderCapture::default();
        capture.add_response(["Content-Type"]);
        let mut headers = HeaderMap::new();
        headers.insert("content-type", http::HeaderValue::from_static("text/plain"));
        let mut attributes = Vec::new();
        capture.response_attributes(&headers, &mut attributes);
        assert_eq!(attributes.len(), 1);
        assert_eq!(
            attributes[0].key.as_str(),
            "http.response.header.content-type"
        );
    }
}
