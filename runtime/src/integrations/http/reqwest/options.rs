//! What [`super::TracingMiddleware`] records: captured headers and their sanitising, the
//! attribute names (`OTEL_SEMCONV_STABILITY_OPT_IN`), request and response hooks; in code or
//! from the environment.

use std::fmt;
use std::sync::Arc;

use super::super::headers::{HeaderCapture, Side};
use super::super::stability::{HttpNames, OTEL_SEMCONV_STABILITY_OPT_IN};
use crate::span::SpanHandle;

/// A request hook: called with the client span and the request before it is sent.
pub(crate) type RequestHook = Arc<dyn Fn(&SpanHandle, &reqwest::Request) + Send + Sync>;
/// A response hook: called with the client span and the response before the span ends.
pub(crate) type ResponseHook = Arc<dyn Fn(&SpanHandle, &reqwest::Response) + Send + Sync>;

/// The middleware's options.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) headers: HeaderCapture,
    pub(crate) names: HttpNames,
    pub(crate) request_hook: Option<RequestHook>,
    pub(crate) response_hook: Option<ResponseHook>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("headers", &self.headers)
            .field("names", &self.names)
            .field("request_hook", &self.request_hook.is_some())
            .field("response_hook", &self.response_hook.is_some())
            .finish()
    }
}

impl Options {
    /// The options the environment gives, through `lookup`.
    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            headers: HeaderCapture::from_lookup(Side::Client, lookup),
            names: lookup(OTEL_SEMCONV_STABILITY_OPT_IN)
                .map(|value| HttpNames::parse(&value))
                .unwrap_or_default(),
            request_hook: None,
            response_hook: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_gives_client_capture_and_names() {
        let lookup = |name: &str| match name {
            "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST" => {
                Some("x-request-id, x-tenant-.*".to_owned())
            }
            "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST" => {
                Some("x-server-only".to_owned())
            }
            "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE" => {
                Some("content-type".to_owned())
            }
            OTEL_SEMCONV_STABILITY_OPT_IN => Some("http/dup".to_owned()),
            _ => None,
        };
        let options = Options::from_lookup(&lookup);
        assert_eq!(options.headers.request.len(), 2);
        assert_eq!(options.headers.response.len(), 1);
        assert_eq!(options.names, HttpNames::Duplicate);

        let options = Options::from_lookup(&|_| None);
        assert!(options.headers.request.is_empty());
        assert_eq!(options.names, HttpNames::Stable);
    }
}
