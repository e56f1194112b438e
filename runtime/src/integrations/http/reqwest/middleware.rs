//! [`TracingMiddleware`]: the reqwest-middleware middleware and its builder.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Extensions;
use opentelemetry::context::FutureExt as _;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use super::super::stability::HttpNames;
use super::client_span::ClientSpan;
use super::options::Options;
use crate::installed;
use crate::span::SpanHandle;

/// A [`reqwest_middleware`] middleware giving every outgoing request a `CLIENT` span and
/// writing the span's context into the request headers with the global propagator.
///
/// The span is named after the method (`GET`, or `HTTP` for a method the conventions do not
/// know), is a child of the current context (a `#[traced]` function, a server span, ...), is
/// current while the rest of the middleware chain runs, and ends when the response headers
/// arrive: reading the body is not part of it. Its status is Error on 4xx and 5xx responses
/// and on transport errors (which also get an `exception` event). When no provider is
/// installed the middleware passes requests through untouched.
///
/// The propagator's headers (`traceparent`, `b3`, ... as `OTEL_PROPAGATORS` picks) replace
/// any header of the same name already on the request, so the server always sees this span
/// as its parent; no other header is changed.
///
/// # Example
///
/// ```no_run
/// use traced::http::reqwest::{ClientBuilder, TracingMiddleware};
///
/// # async fn run() -> Result<(), traced::http::reqwest::Error> {
/// let client = ClientBuilder::new(reqwest::Client::new())
///     .with(TracingMiddleware::from_env().capture_response_headers(["content-type"]))
///     .build();
/// let response = client.get("http://localhost:8080/users/7").send().await?;
/// # let _ = response;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TracingMiddleware {
    options: Arc<Options>,
}

impl Default for TracingMiddleware {
    fn default() -> Self {
        Self {
            options: Arc::new(Options {
                names: HttpNames::from_env(),
                ..Options::default()
            }),
        }
    }
}

impl TracingMiddleware {
    /// A middleware with no captured headers and no hooks. The attribute names still follow
    /// the process's `OTEL_SEMCONV_STABILITY_OPT_IN` (a process-wide switch, read once): with
    /// `http/dup` the pre-1.21 names are recorded beside the stable ones.
    ///
    /// # Example
    ///
    /// ```
    /// let middleware = traced::http::reqwest::TracingMiddleware::new();
    /// # let _ = middleware;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A middleware configured from the environment:
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST`,
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE` and
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS` (comma lists of regular
    /// expressions, see the builder method of each), and `OTEL_SEMCONV_STABILITY_OPT_IN`
    /// (with `http/dup`, the pre-1.21 attribute names are recorded beside the stable ones).
    ///
    /// # Example
    ///
    /// ```
    /// // OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST=x-request-id
    /// let middleware = traced::http::reqwest::TracingMiddleware::from_env()
    ///     .capture_response_headers(["content-type"]);
    /// # let _ = middleware;
    /// ```
    pub fn from_env() -> Self {
        Self::from_lookup(&|name: &str| std::env::var(name).ok())
    }

    /// The middleware the variables `lookup` gives configure.
    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            options: Arc::new(Options::from_lookup(lookup)),
        }
    }

    pub(crate) fn options_ref(&self) -> &Options {
        &self.options
    }

    fn options(&mut self) -> &mut Options {
        Arc::make_mut(&mut self.options)
    }

    /// Adds request headers recorded as `http.request.header.<lower-case name>` string
    /// arrays: case-insensitive regular expressions matching the whole name (a plain name
    /// matches itself). `Authorization`, `Cookie` and `Set-Cookie` values are always
    /// `[REDACTED]`. The headers are those the middleware sends on, propagation headers
    /// included; headers the client adds later (its defaults, `Host`) are not seen.
    ///
    /// # Example
    ///
    /// ```
    /// let middleware = traced::http::reqwest::TracingMiddleware::new()
    ///     .capture_request_headers(["X-Request-Id", "x-tenant-.*"]);
    /// # let _ = middleware;
    /// ```
    pub fn capture_request_headers<I, P>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        self.options().headers.add_request(names);
        self
    }

    /// Adds response headers recorded as `http.response.header.<lower-case name>` string
    /// arrays, matched as in [`capture_request_headers`](Self::capture_request_headers).
    ///
    /// # Example
    ///
    /// ```
    /// let middleware = traced::http::reqwest::TracingMiddleware::new()
    ///     .capture_response_headers(["content-type"]);
    /// # let _ = middleware;
    /// ```
    pub fn capture_response_headers<I, P>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        self.options().headers.add_response(names);
        self
    }

    /// Adds headers whose captured values are recorded as `[REDACTED]` (besides
    /// `Authorization`, `Cookie` and `Set-Cookie`), matched as in
    /// [`capture_request_headers`](Self::capture_request_headers).
    ///
    /// # Example
    ///
    /// ```
    /// let middleware = traced::http::reqwest::TracingMiddleware::new()
    ///     .capture_request_headers(["x-api-key"])
    ///     .sanitize_fields(["x-api-key"]);
    /// # let _ = middleware;
    /// ```
    pub fn sanitize_fields<I, P>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        self.options().headers.add_sanitize(names);
        self
    }

    /// Sets a hook called with the span and the request (its headers include the
    /// propagation headers) before it is sent, only for recording spans.
    ///
    /// # Example
    ///
    /// ```
    /// let middleware = traced::http::reqwest::TracingMiddleware::new().request_hook(|span, req| {
    ///     span.set_attribute("request.path.depth", req.url().path_segments().map_or(0, |s| s.count()));
    /// });
    /// # let _ = middleware;
    /// ```
    pub fn request_hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(&SpanHandle, &reqwest::Request) + Send + Sync + 'static,
    {
        self.options().request_hook = Some(Arc::new(hook));
        self
    }

    /// Sets a hook called with the span and the response (before its body is read) before
    /// the span ends, only for recording spans. It is not called on transport errors.
    ///
    /// # Example
    ///
    /// ```
    /// let middleware = traced::http::reqwest::TracingMiddleware::new().response_hook(|span, res| {
    ///     span.set_attribute("response.cached", res.headers().contains_key("age"));
    /// });
    /// # let _ = middleware;
    /// ```
    pub fn response_hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(&SpanHandle, &reqwest::Response) + Send + Sync + 'static,
    {
        self.options().response_hook = Some(Arc::new(hook));
        self
    }

    /// Sends `req` down the chain inside its span.
    async fn traced<'a>(
        &'a self,
        mut req: Request,
        extensions: &'a mut Extensions,
        next: Next<'a>,
    ) -> reqwest_middleware::Result<Response> {
        let Some(span) = ClientSpan::start(&self.options, &mut req) else {
            return next.run(req, extensions).await;
        };
        let result = next
            .run(req, extensions)
            .with_context(span.context().clone())
            .await;
        span.finish(result)
    }
}

// `Middleware` is an `async_trait` trait: this is the signature the attribute gives it, so
// traced needs no `async-trait` dependency of its own.
impl Middleware for TracingMiddleware {
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        req: Request,
        extensions: &'life1 mut Extensions,
        next: Next<'life2>,
    ) -> Pin<Box<dyn Future<Output = reqwest_middleware::Result<Response>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        // Nothing installed: the rest of the chain's own future, not one of ours around it
        // (a box and a state machine less a request: `benches/http_client.rs`).
        if !installed::is_enabled() {
            return next.run(req, extensions);
        }
        Box::pin(self.traced(req, extensions, next))
    }
}
