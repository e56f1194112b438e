//! The tower [`Layer`], its [`Service`] and the response future that ends the span.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{Request, Response};
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{SpanBuilder, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::super::patterns;
use super::attributes;
use super::options::Options;
use crate::installed;
use crate::outcome::CANCELLED_EVENT;
use crate::span::SpanHandle;

/// A tower layer tracing an HTTP server: one `SERVER` span per request, named
/// `{METHOD} {route}`, with the stable HTTP semantic-convention attributes.
///
/// # Example
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use traced::http::TraceLayer;
///
/// let app: Router = Router::new()
///     .route("/users/{id}", get(|| async { "ada" }))
///     .layer(TraceLayer::new().excluded_urls(["^/health$"]));
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
pub struct TraceLayer {
    options: Arc<Options>,
}

impl TraceLayer {
    /// A layer with no excluded URLs, no captured headers and no hooks.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A layer configured from the environment: `OTEL_RUST_EXCLUDED_URLS` (or
    /// `OTEL_PYTHON_EXCLUDED_URLS`), `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST`,
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE` and
    /// `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS`, each a comma list of
    /// regular expressions (see the builder method of each).
    ///
    /// # Example
    ///
    /// ```
    /// // OTEL_RUST_EXCLUDED_URLS=/health,/metrics
    /// let layer = traced::http::TraceLayer::from_env().capture_request_headers(["x-request-id"]);
    /// # let _ = layer;
    /// ```
    pub fn from_env() -> Self {
        let lookup = |name: &str| std::env::var(name).ok();
        Self {
            options: Arc::new(Options::from_lookup(&lookup)),
        }
    }

    fn options(&mut self) -> &mut Options {
        Arc::make_mut(&mut self.options)
    }

    /// Adds URL patterns whose requests get no span: regular expressions searched anywhere in
    /// the URL path (anchor them with `^`/`$`); a pattern that is not a valid regular
    /// expression is matched as literal text.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().excluded_urls(["^/health$", "/metrics"]);
    /// # let _ = layer;
    /// ```
    pub fn excluded_urls<I, P>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        let patterns = patterns.into_iter().map(|p| patterns::search(p.as_ref()));
        self.options().excluded.extend(patterns);
        self
    }

    /// Adds request headers recorded as `http.request.header.<lower-case name>` string
    /// arrays: case-insensitive regular expressions matching the whole name (a plain name
    /// matches itself). `Authorization`, `Cookie` and `Set-Cookie` values are always
    /// `[REDACTED]`.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().capture_request_headers(["X-Request-Id", "x-tenant-.*"]);
    /// # let _ = layer;
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
    /// let layer = traced::http::TraceLayer::new().capture_response_headers(["content-type"]);
    /// # let _ = layer;
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
    /// let layer = traced::http::TraceLayer::new()
    ///     .capture_request_headers(["x-api-key"])
    ///     .sanitize_fields(["x-api-key"]);
    /// # let _ = layer;
    /// ```
    pub fn sanitize_fields<I, P>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        self.options().headers.add_sanitize(names);
        self
    }

    /// Sets a hook called with the span and the request (without its body) before the
    /// inner service, only for recording spans.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().request_hook(|span, req| {
    ///     if let Some(tenant) = req.headers.get("x-tenant").and_then(|v| v.to_str().ok()) {
    ///         span.set_attribute("tenant.id", tenant.to_owned());
    ///     }
    /// });
    /// # let _ = layer;
    /// ```
    pub fn request_hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(&SpanHandle, &http::request::Parts) + Send + Sync + 'static,
    {
        self.options().request_hook = Some(Arc::new(hook));
        self
    }

    /// Sets a hook called with the span and the response (without its body) before the
    /// span ends, only for recording spans.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().response_hook(|span, res| {
    ///     span.set_attribute("response.cached", res.headers.contains_key("age"));
    /// });
    /// # let _ = layer;
    /// ```
    pub fn response_hook<F>(mut self, hook: F) -> Self
    where
        F: Fn(&SpanHandle, &http::response::Parts) + Send + Sync + 'static,
    {
        self.options().response_hook = Some(Arc::new(hook));
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService {
            inner,
            options: Arc::clone(&self.options),
        }
    }
}

/// The service [`TraceLayer`] wraps around an HTTP service.
///
/// # Example
///
/// ```
/// use traced::http::{TraceLayer, TraceService};
/// use tower_layer::Layer;
///
/// let service: TraceService<()> = TraceLayer::new().layer(());
/// # let _ = service;
/// ```
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    options: Arc<Options>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TraceService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (cx, req) = start(&self.options, req);
        let Some(cx) = cx else {
            // Not traced: no provider installed, or an excluded URL.
            return ResponseFuture {
                inner: self.inner.call(req),
                state: None,
            };
        };
        let inner = {
            let _attached = cx.clone().attach();
            self.inner.call(req)
        };
        ResponseFuture {
            inner,
            state: Some(State {
                cx,
                options: Arc::clone(&self.options),
            }),
        }
    }
}

/// Starts the span of `req` (unless the request is not traced) and runs the request hook.
fn start<B>(options: &Options, req: Request<B>) -> (Option<Context>, Request<B>) {
    if !installed::is_enabled() || options.is_excluded(req.uri().path()) {
        return (None, req);
    }
    let current = Context::current();
    let local_parent = {
        let span = current.span();
        let span_context = span.span_context();
        span_context.is_valid() && !span_context.is_remote()
    };
    let (parent, kind) = if local_parent {
        (current, SpanKind::Internal)
    } else {
        let parent = global::get_text_map_propagator(|propagator| {
            propagator.extract_with_context(&current, &HeaderExtractor(req.headers()))
        });
        (parent, SpanKind::Server)
    };
    let (name, mut attributes) = attributes::request(&req);
    options
        .headers
        .request_attributes(req.headers(), &mut attributes);
    let started = installed::with_tracer(|tracer| {
        let builder = SpanBuilder::from_name(name)
            .with_kind(kind)
            .with_attributes(attributes);
        tracer.build_with_context(builder, &parent)
    });
    let Some(span) = started else {
        return (None, req);
    };
    let cx = parent.with_span(span);
    let req = match &options.request_hook {
        Some(hook) if cx.span().is_recording() => {
            let (parts, body) = req.into_parts();
            hook(&SpanHandle::from_context(cx.clone()), &parts);
            Request::from_parts(parts, body)
        }
        _ => req,
    };
    (Some(cx), req)
}

/// Reads header values that are valid UTF-8 for the propagator.
struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The traced part of a [`ResponseFuture`].
struct State {
    cx: Context,
    options: Arc<Options>,
}

impl State {
    /// Records the response (or the service error) and ends the span.
    fn finish<ResBody, E>(
        self,
        result: Result<Response<ResBody>, E>,
    ) -> Result<Response<ResBody>, E> {
        let span = self.cx.span();
        if !span.is_recording() {
            span.end();
            return result;
        }
        let result = match result {
            Ok(response) => {
                let mut attributes = Vec::new();
                let error = attributes::response_status(response.status(), &mut attributes);
                self.options
                    .headers
                    .response_attributes(response.headers(), &mut attributes);
                span.set_attributes(attributes);
                if error {
                    span.set_status(Status::error(""));
                }
                match &self.options.response_hook {
                    Some(hook) => {
                        let (parts, body) = response.into_parts();
                        hook(&SpanHandle::from_context(self.cx.clone()), &parts);
                        Ok(Response::from_parts(parts, body))
                    }
                    None => Ok(response),
                }
            }
            Err(error) => {
                let kv: KeyValue = attributes::service_error::<E>();
                let description = kv.value.to_string();
                span.set_attribute(kv);
                span.set_status(Status::error(description));
                Err(error)
            }
        };
        span.end();
        result
    }
}

pin_project! {
    /// The response future of [`TraceService`]: the span is current while the inner future
    /// is polled, and ends when it completes (or, with a `cancelled` event, when it is
    /// dropped first).
    ///
    /// # Example
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::future::Ready;
    /// use traced::http::ResponseFuture;
    ///
    /// type Future = ResponseFuture<Ready<Result<http::Response<String>, Infallible>>>;
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        state: Option<State>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(state) = this.project().state.take() {
                let span = state.cx.span();
                if span.is_recording() {
                    span.add_event(CANCELLED_EVENT, Vec::new());
                }
                span.end();
            }
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("traced", &self.state.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(state) = this.state.as_ref() else {
            return this.inner.poll(task);
        };
        let result = {
            let _attached = state.cx.clone().attach();
            match this.inner.poll(task) {
                Poll::Ready(result) => result,
                Poll::Pending => return Poll::Pending,
            }
        };
        match this.state.take() {
            Some(state) => Poll::Ready(state.finish(result)),
            None => Poll::Ready(result),
        }
    }
}
