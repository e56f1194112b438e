//! [`TraceLayer`]: the tower layer and its builder methods, each the code form of an
//! environment variable or of a data-capture setting.

use std::sync::Arc;

use tower_layer::Layer;

use super::super::media_types::MediaTypes;
use super::super::patterns;
use super::super::stability::HttpNames;
use super::options::Options;
use super::service::TraceService;
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
    /// A layer with no excluded URLs, no captured headers or bodies, no hooks, the stable
    /// attribute names only, and the scheme from proxy headers; it ignores the environment
    /// and the installed data capture.
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
    /// regular expressions, and `OTEL_SEMCONV_STABILITY_OPT_IN` (`http/dup`: see
    /// [`old_attribute_names`](Self::old_attribute_names)).
    ///
    /// It also follows, at request time (so it may be built before `traced::init()`), the
    /// data capture that `init()` installed from `HT_DATA_CAPTURE_*` or `HT_CONFIG_FILE`:
    /// request and response bodies (`HT_DATA_CAPTURE_HTTP_BODY_{REQUEST,RESPONSE}`, cut to
    /// `HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES`) and every header, sanitised
    /// (`HT_DATA_CAPTURE_HTTP_HEADERS_{REQUEST,RESPONSE}`). Without Hypertrace
    /// configuration nothing of this is captured. A builder method called on the layer wins
    /// over what it replaces (`capture_request_body(false)` turns the Hypertrace capture of
    /// request bodies off).
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
    pub fn excluded_urls<I, P>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        let excluded = urls.into_iter().map(|url| patterns::search(url.as_ref()));
        self.options().excluded.extend(excluded);
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
        self.options().add_sanitize(names);
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

    /// Also records the attributes under their names from before the stable HTTP
    /// conventions (`http.method`, `http.status_code`, `http.target`, `net.host.name`, ...),
    /// for dashboards that still query them: what `OTEL_SEMCONV_STABILITY_OPT_IN=http/dup`
    /// does for [`from_env`](Self::from_env). `false` records the stable names only.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().old_attribute_names(true);
    /// # let _ = layer;
    /// ```
    pub fn old_attribute_names(mut self, also_old: bool) -> Self {
        self.options().names = if also_old {
            HttpNames::Duplicate
        } else {
            HttpNames::Stable
        };
        self
    }

    /// Whether `url.scheme` may come from a proxy's `X-Forwarded-Proto` (first value) or
    /// `Forwarded: proto=` header, when the request URI does not say `https` (the default:
    /// `true`). Only `http` and `https` are accepted. A client reaching the server directly
    /// can send these headers and so mislabel its own request's scheme; set `false` when that
    /// matters more than seeing `https` behind a TLS-terminating proxy.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().trust_forwarded_proto(false);
    /// # let _ = layer;
    /// ```
    pub fn trust_forwarded_proto(mut self, trust: bool) -> Self {
        self.options().forwarded_proto = trust;
        self
    }

    /// Records request bodies of the [allowed content types](Self::body_content_types) as
    /// the string attribute `http.request.body`, cut to
    /// [`body_max_size_bytes`](Self::body_max_size_bytes) on a character boundary. Off by
    /// default (bodies can carry personal data); with [`from_env`](Self::from_env) and no
    /// call to this method, `HT_DATA_CAPTURE_HTTP_BODY_REQUEST` (through `traced::init()`)
    /// decides. The handler gets the body unchanged and as it streams in; the attribute is
    /// set when the handler has read the body to its end (or dropped it).
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().capture_request_body(true);
    /// # let _ = layer;
    /// ```
    pub fn capture_request_body(mut self, capture: bool) -> Self {
        self.options().capture.request_body = Some(capture);
        self
    }

    /// Records response bodies of the [allowed content types](Self::body_content_types) as
    /// the string attribute `http.response.body`, as
    /// [`capture_request_body`](Self::capture_request_body) does for requests
    /// (`HT_DATA_CAPTURE_HTTP_BODY_RESPONSE` through `traced::init()`). The client gets the
    /// body unchanged, frame by frame; the attribute is set when the body is over.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new().capture_response_body(true);
    /// # let _ = layer;
    /// ```
    pub fn capture_response_body(mut self, capture: bool) -> Self {
        self.options().capture.response_body = Some(capture);
        self
    }

    /// The most bytes of a body recorded (128 KiB by default, or
    /// `HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES` through `traced::init()` for a layer from
    /// [`from_env`](Self::from_env)); a longer body is recorded up to the last whole
    /// character that fits. Only this much is ever copied: the rest streams through. `0`
    /// records nothing.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new()
    ///     .capture_request_body(true)
    ///     .body_max_size_bytes(4096);
    /// # let _ = layer;
    /// ```
    pub fn body_max_size_bytes(mut self, max: usize) -> Self {
        self.options().capture.body_max_size_bytes = Some(max);
        self
    }

    /// Replaces the media types whose bodies are captured: `type/subtype`, `type/*`,
    /// `type/*+suffix` (structured syntax, as `application/*+json`) or `*/*`, compared
    /// case-insensitively with the `Content-Type` without its parameters (so
    /// `application/json; charset=utf-8` is `application/json`). A message without a
    /// `Content-Type` is not captured. The default: `application/json`,
    /// `application/*+json`, `application/x-www-form-urlencoded`, `application/xml`,
    /// `application/*+xml`, `application/graphql` and `text/*`; binary and multipart
    /// bodies are left out.
    ///
    /// # Example
    ///
    /// ```
    /// let layer = traced::http::TraceLayer::new()
    ///     .capture_request_body(true)
    ///     .body_content_types(["application/json", "application/vnd.acme.order"]);
    /// # let _ = layer;
    /// ```
    pub fn body_content_types<I, P>(mut self, media_types: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        self.options().capture.content_types = MediaTypes::new(media_types);
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService::new(inner, Arc::clone(&self.options))
    }
}
