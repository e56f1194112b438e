//! `traced::http::TraceLayer` on a real axum server, called by a real HTTP client: the span
//! continues the client's `traceparent`, carries the HTTP semantic-convention attributes with
//! their types, follows the status rules (Error on 5xx only), skips excluded URLs, captures
//! and redacts headers, redacts signatures in `url.query`, takes the scheme from proxy
//! headers, records the old names with `http/dup`, records a handler's panic and lets it go
//! on, captures bodies without changing or holding them back, ends with the response body,
//! follows `HT_DATA_CAPTURE_*` through `traced::init()`, shows a sampler of the
//! application's own each request's attributes, works with a provider installed by hand,
//! and is the parent of `#[traced]` functions in handlers.

#[path = "support/child.rs"]
mod child;
#[path = "support/samplers.rs"]
mod samplers;
#[path = "support/values.rs"]
mod values;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{FutureExt, StreamExt};
use http::header::CONTENT_TYPE;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Value, global};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SpanData};
use traced::http::TraceLayer;
use traced::testing::{InMemoryExporter, attribute, event_attribute, events};
use traced::traced;
use values::{string, strings};

const PARENT_SPAN: u64 = 0x00f0_67aa_0ba9_02b7;
/// The panic message of the `/panic` handler.
const PANIC_MESSAGE: &str = "handler exploded";

#[traced]
async fn load_user(id: u64) -> String {
    format!("user-{id}")
}

async fn user(axum::extract::Path(id): axum::extract::Path<u64>) -> String {
    load_user(id).await
}

async fn fail() -> (StatusCode, &'static str) {
    (StatusCode::INTERNAL_SERVER_ERROR, "boom")
}

async fn teapot() -> (StatusCode, [(&'static str, &'static str); 2], &'static str) {
    (
        StatusCode::IM_A_TEAPOT,
        [("x-served-by", "pot-1"), ("set-cookie", "session=secret")],
        "short and stout",
    )
}

/// Answers with the request body and content type, as the handler received them.
async fn echo(headers: HeaderMap, body: Bytes) -> Response {
    let mut response = body.into_response();
    if let Some(content_type) = headers.get(CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, content_type.clone());
    }
    response
}

/// The `traceparent` a request from the handler would carry (the global propagator's).
async fn outgoing() -> String {
    let mut headers = std::collections::HashMap::new();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&opentelemetry::Context::current(), &mut headers);
    });
    headers.remove("traceparent").unwrap_or_default()
}

async fn panics() -> &'static str {
    panic!("{PANIC_MESSAGE}")
}

/// The routes most tests use.
fn routes() -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/fail", get(fail))
        .route("/health", get(|| async { "ok" }))
        .route("/teapot", get(teapot))
        .route("/echo", post(echo))
        .route("/panic", get(panics))
        .route("/outgoing", get(outgoing))
}

/// The app under test, served on an ephemeral port with the peer address.
async fn serve(layer: TraceLayer) -> SocketAddr {
    serve_app(routes().layer(layer)).await
}

/// `app` served on an ephemeral port with the peer address.
async fn serve_app(app: Router) -> SocketAddr {
    global::set_text_map_propagator(TraceContextPropagator::new());
    traced::testing::install();
    listen(app).await
}

/// `app` served on an ephemeral port with the peer address, traced by whatever pipeline is
/// installed.
async fn listen(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    addr
}

/// A new trace id for one request.
fn trace_id() -> TraceId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let high = u128::from(nanos) << 64;
    TraceId::from(high | u128::from(NEXT.fetch_add(1, Ordering::Relaxed)))
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A request of the tests: `method path` with a `traceparent` of `trace`.
struct Call<'a> {
    method: &'a str,
    path: &'a str,
    trace: TraceId,
    /// The `traceparent`'s flags: `01` (sampled) unless [`Call::not_sampled`]; `None`: no
    /// `traceparent` at all ([`Call::starting_a_trace`]).
    flags: Option<&'a str>,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

impl<'a> Call<'a> {
    fn new(method: &'a str, path: &'a str, trace: TraceId) -> Self {
        Self {
            method,
            path,
            trace,
            flags: Some("01"),
            headers: &[],
            body: &[],
        }
    }

    /// The caller did not sample its trace.
    fn not_sampled(self) -> Self {
        Self {
            flags: Some("00"),
            ..self
        }
    }

    /// No caller's trace: the request comes without a `traceparent`.
    fn starting_a_trace(self) -> Self {
        Self {
            flags: None,
            ..self
        }
    }

    fn headers(self, headers: &'a [(&'a str, &'a str)]) -> Self {
        Self { headers, ..self }
    }

    fn body(self, body: &'a [u8]) -> Self {
        Self { body, ..self }
    }

    /// Sends it and waits for the response head.
    async fn response(
        &self,
        addr: SocketAddr,
    ) -> Result<http::Response<BoxBody<Bytes, Error>>, Error> {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut request = http::Request::builder()
            .method(self.method)
            .uri(format!("http://{addr}{}", self.path))
            .header("user-agent", "traced-test/1.0");
        if let Some(flags) = self.flags {
            let traceparent = format!("00-{:032x}-{PARENT_SPAN:016x}-{flags}", self.trace);
            request = request.header("traceparent", traceparent);
        }
        for (name, value) in self.headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::copy_from_slice(self.body)))?;
        let response = client.request(request).await?;
        Ok(response.map(|body| body.map_err(Error::from).boxed()))
    }

    /// Sends it and reads the whole response.
    async fn try_send(&self, addr: SocketAddr) -> Result<(StatusCode, Bytes), Error> {
        let response = self.response(addr).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    async fn send(&self, addr: SocketAddr) -> (StatusCode, Bytes) {
        self.try_send(addr).await.expect("response")
    }
}

/// Sends `method path` with a `traceparent` of `trace` and `headers`; returns the status
/// once the whole response is read.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    trace: TraceId,
    headers: &[(&str, &str)],
) -> (StatusCode, SocketAddr) {
    let (status, _) = Call::new(method, path, trace)
        .headers(headers)
        .send(addr)
        .await;
    (status, addr)
}

/// The finished spans of one trace.
fn spans_of(trace: TraceId) -> Vec<SpanData> {
    traced::testing::install()
        .finished_spans()
        .into_iter()
        .filter(|span| span.span_context.trace_id() == trace)
        .collect()
}

fn one<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one {name:?} in {spans:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn server_span_continues_the_client_trace_with_typed_attributes() {
    let addr = serve(TraceLayer::new()).await;
    let trace = trace_id();
    let (status, _) = send(addr, "GET", "/users/7?verbose=1&sig=secret", trace, &[]).await;
    assert_eq!(status, StatusCode::OK);

    let spans = spans_of(trace);
    let server = one(&spans, "GET /users/{id}");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.parent_span_id, SpanId::from(PARENT_SPAN));
    assert!(server.parent_span_is_remote);
    assert_eq!(server.status, Status::Unset);
    let get = |key| attribute(server, key).cloned();
    assert_eq!(get("http.request.method"), string("GET"));
    assert_eq!(get("url.path"), string("/users/7"));
    assert_eq!(get("url.query"), string("verbose=1&sig=REDACTED"));
    assert_eq!(get("url.scheme"), string("http"));
    assert_eq!(get("http.route"), string("/users/{id}"));
    assert_eq!(get("http.response.status_code"), Some(Value::I64(200)));
    assert_eq!(get("server.address"), string("127.0.0.1"));
    assert_eq!(get("server.port"), Some(Value::I64(i64::from(addr.port()))));
    assert_eq!(get("client.address"), string("127.0.0.1"));
    assert!(matches!(get("client.port"), Some(Value::I64(port)) if port > 0));
    assert_eq!(get("network.protocol.version"), string("1.1"));
    assert_eq!(get("user_agent.original"), string("traced-test/1.0"));
    assert_eq!(get("error.type"), None);
    // Stable names only, and no body without asking.
    assert_eq!(get("http.method"), None);
    assert_eq!(get("http.request.body"), None);
    assert_eq!(get("http.response.body"), None);

    let child = one(&spans, "load_user");
    assert_eq!(child.parent_span_id, server.span_context.span_id());
    assert_eq!(attribute(child, "id"), Some(&Value::I64(7)));
}

#[tokio::test(flavor = "multi_thread")]
async fn error_status_on_5xx_only() {
    let addr = serve(TraceLayer::new()).await;

    let trace = trace_id();
    let (status, _) = send(addr, "GET", "/fail", trace, &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let spans = spans_of(trace);
    let server = one(&spans, "GET /fail");
    assert!(matches!(server.status, Status::Error { .. }));
    assert_eq!(
        attribute(server, "http.response.status_code"),
        Some(&Value::I64(500))
    );
    assert_eq!(attribute(server, "error.type").cloned(), string("500"));

    let trace = trace_id();
    let (status, _) = send(addr, "GET", "/missing", trace, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let spans = spans_of(trace);
    let server = one(&spans, "GET");
    assert_eq!(server.status, Status::Unset);
    assert_eq!(
        attribute(server, "http.response.status_code"),
        Some(&Value::I64(404))
    );
    assert_eq!(attribute(server, "http.route"), None);
    assert_eq!(attribute(server, "error.type"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn excluded_urls_get_no_span() {
    let addr = serve(TraceLayer::new().excluded_urls(["^/health$"])).await;
    let trace = trace_id();
    let (status, _) = send(addr, "GET", "/health", trace, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(spans_of(trace).is_empty());

    let trace = trace_id();
    send(addr, "GET", "/users/1", trace, &[]).await;
    assert_eq!(spans_of(trace).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_its_caller_did_not_sample_runs_in_the_callers_trace_without_a_span() {
    let addr = serve(TraceLayer::new()).await;
    let trace = trace_id();
    let (status, sent) = Call::new("GET", "/outgoing", trace)
        .not_sampled()
        .send(addr)
        .await;
    assert_eq!(status, StatusCode::OK);
    // Under the parent-based sampler the server's span would add nothing, so none is built:
    // the handler runs in the caller's context, and a request it makes tells the next
    // service the same trace, the caller's span as its parent, and "not sampled".
    let expected = format!("00-{trace:032x}-{PARENT_SPAN:016x}-00");
    assert_eq!(String::from_utf8_lossy(&sent), expected);
    // `#[traced]` calls in such a handler record nothing either.
    let (status, body) = Call::new("GET", "/users/5", trace)
        .not_sampled()
        .send(addr)
        .await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"user-5"[..]));
    assert!(spans_of(trace).is_empty(), "{:#?}", spans_of(trace));

    // A sampled request from the same caller gets its own server span, whose id goes out.
    let trace = trace_id();
    let (_, sent) = Call::new("GET", "/outgoing", trace).send(addr).await;
    let spans = spans_of(trace);
    let server = one(&spans, "GET /outgoing");
    let expected = format!("00-{trace:032x}-{}-01", server.span_context.span_id());
    assert_eq!(String::from_utf8_lossy(&sent), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn non_standard_methods_are_other() {
    let addr = serve(TraceLayer::new()).await;
    let trace = trace_id();
    send(addr, "PURGE", "/users/1", trace, &[]).await;
    let spans = spans_of(trace);
    let server = one(&spans, "HTTP /users/{id}");
    assert_eq!(
        attribute(server, "http.request.method").cloned(),
        string("_OTHER")
    );
    assert_eq!(
        attribute(server, "http.request.method_original").cloned(),
        string("PURGE")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_are_captured_and_redacted_and_hooks_run() {
    let layer = TraceLayer::new()
        .capture_request_headers(["X-Request-Id", "authorization", "cookie", "x-api-key"])
        .capture_response_headers(["x-served-by", "set-cookie"])
        .sanitize_fields(["x-api-key"])
        .request_hook(|span, req| span.set_attribute("hook.request", req.uri.path().to_owned()))
        .response_hook(|span, res| span.set_attribute("hook.status", res.status.as_u16()));
    let addr = serve(layer).await;
    let trace = trace_id();
    let headers = [
        ("x-request-id", "r-1"),
        ("authorization", "Bearer token"),
        ("cookie", "session=secret"),
        ("x-api-key", "key"),
        ("x-not-captured", "no"),
    ];
    let (status, _) = send(addr, "GET", "/teapot", trace, &headers).await;
    assert_eq!(status, StatusCode::IM_A_TEAPOT);

    let spans = spans_of(trace);
    let server = one(&spans, "GET /teapot");
    let get = |key| attribute(server, key).cloned();
    assert_eq!(get("http.request.header.x-request-id"), strings(&["r-1"]));
    assert_eq!(
        get("http.request.header.authorization"),
        strings(&["[REDACTED]"])
    );
    assert_eq!(get("http.request.header.cookie"), strings(&["[REDACTED]"]));
    assert_eq!(
        get("http.request.header.x-api-key"),
        strings(&["[REDACTED]"])
    );
    assert_eq!(get("http.request.header.x-not-captured"), None);
    assert_eq!(get("http.response.header.x-served-by"), strings(&["pot-1"]));
    assert_eq!(
        get("http.response.header.set-cookie"),
        strings(&["[REDACTED]"])
    );
    assert_eq!(get("hook.request"), string("/teapot"));
    assert_eq!(get("hook.status"), Some(Value::I64(418)));
    assert_eq!(server.status, Status::Unset);
}

/// A service answering 200 at once, or never (`pending`).
#[derive(Clone, Copy)]
struct Answer {
    pending: bool,
}

impl<B> tower_service::Service<http::Request<B>> for Answer {
    type Response = http::Response<()>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<B>) -> Self::Future {
        if self.pending {
            Box::pin(std::future::pending())
        } else {
            Box::pin(async { Ok(http::Response::new(())) })
        }
    }
}

fn request_in(trace: TraceId) -> http::Request<()> {
    let mut request = http::Request::new(());
    let traceparent = format!("00-{trace:032x}-{:016x}-01", PARENT_SPAN);
    if let Ok(value) = http::HeaderValue::from_str(&traceparent) {
        request.headers_mut().insert("traceparent", value);
    }
    request
}

#[test]
fn a_dropped_response_future_ends_the_span_as_cancelled() {
    use tower_layer::Layer;
    use tower_service::Service;

    global::set_text_map_propagator(TraceContextPropagator::new());
    traced::testing::install();
    let mut service = TraceLayer::new().layer(Answer { pending: true });
    let trace = trace_id();
    let future = service.call(request_in(trace));
    assert!(spans_of(trace).is_empty());
    drop(future);
    let spans = spans_of(trace);
    let server = one(&spans, "GET");
    assert_eq!(traced::testing::events(server, "cancelled").len(), 1);
    assert_eq!(attribute(server, "http.response.status_code"), None);
}

#[test]
fn a_server_span_under_a_current_span_is_internal() {
    use tower_layer::Layer;
    use tower_service::Service;

    global::set_text_map_propagator(TraceContextPropagator::new());
    #[traced]
    fn outer() -> bool {
        let mut service = TraceLayer::new().layer(Answer { pending: false });
        // The headers' parent is ignored: a local span is already current.
        let response = futures::executor::block_on(service.call(request_in(trace_id())));
        response.is_ok() // and the response, with its body, is dropped: the span ends
    }
    let (answered, spans) = traced::testing::capture(outer);
    assert!(answered);
    let server = spans.one("GET");
    assert_eq!(server.span_kind, SpanKind::Internal);
    assert_eq!(
        spans.parent_of(server).map(|parent| parent.name.as_ref()),
        Some("outer")
    );
}

#[test]
fn the_span_ends_with_the_response_body_not_its_head() {
    use tower_layer::Layer;
    use tower_service::Service;

    global::set_text_map_propagator(TraceContextPropagator::new());
    traced::testing::install();
    let mut service = TraceLayer::new().layer(Answer { pending: false });
    let trace = trace_id();
    let response = futures::executor::block_on(service.call(request_in(trace)));
    let response = response.expect("answered");
    // The head is ready and recorded, but the body has not been sent yet.
    assert!(spans_of(trace).is_empty());
    drop(response);
    let spans = spans_of(trace);
    let server = one(&spans, "GET");
    assert_eq!(
        attribute(server, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    assert!(traced::testing::events(server, "cancelled").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheme_follows_the_proxy_headers_when_trusted() {
    let addr = serve(TraceLayer::new()).await;
    let scheme_with = |headers: &'static [(&'static str, &'static str)]| async move {
        let trace = trace_id();
        send(addr, "GET", "/users/1", trace, headers).await;
        let spans = spans_of(trace);
        attribute(one(&spans, "GET /users/{id}"), "url.scheme").cloned()
    };
    assert_eq!(
        scheme_with(&[("x-forwarded-proto", "https")]).await,
        string("https")
    );
    assert_eq!(
        scheme_with(&[("x-forwarded-proto", "https, http")]).await,
        string("https")
    );
    assert_eq!(
        scheme_with(&[("forwarded", "for=192.0.2.60;proto=https")]).await,
        string("https")
    );
    // Only http and https are accepted.
    assert_eq!(
        scheme_with(&[("x-forwarded-proto", "gopher")]).await,
        string("http")
    );

    let addr = serve(TraceLayer::new().trust_forwarded_proto(false)).await;
    let trace = trace_id();
    send(
        addr,
        "GET",
        "/users/1",
        trace,
        &[("x-forwarded-proto", "https")],
    )
    .await;
    let spans = spans_of(trace);
    assert_eq!(
        attribute(one(&spans, "GET /users/{id}"), "url.scheme").cloned(),
        string("http")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_dup_records_the_old_names_too() {
    let addr = serve(TraceLayer::new().old_attribute_names(true)).await;
    let trace = trace_id();
    send(addr, "GET", "/users/7?a=1", trace, &[]).await;
    let spans = spans_of(trace);
    let server = one(&spans, "GET /users/{id}");
    let get = |key| attribute(server, key).cloned();
    let port = Some(Value::I64(i64::from(addr.port())));
    // The stable names stay.
    assert_eq!(get("http.request.method"), string("GET"));
    assert_eq!(get("http.response.status_code"), Some(Value::I64(200)));
    assert_eq!(get("server.port"), port);
    // The old ones are added, with the old types.
    assert_eq!(get("http.method"), string("GET"));
    assert_eq!(get("http.status_code"), Some(Value::I64(200)));
    assert_eq!(get("http.target"), string("/users/7?a=1"));
    assert_eq!(get("http.scheme"), string("http"));
    assert_eq!(get("http.flavor"), string("1.1"));
    assert_eq!(get("http.user_agent"), string("traced-test/1.0"));
    assert_eq!(get("net.host.name"), string("127.0.0.1"));
    assert_eq!(get("net.host.port"), port);
    assert!(matches!(get("net.sock.peer.port"), Some(Value::I64(p)) if p > 0));
}

/// Asserts the span of a request to `/panic`.
fn assert_panicked(trace: TraceId) {
    let spans = spans_of(trace);
    let server = one(&spans, "GET /panic");
    assert!(
        matches!(&server.status, Status::Error { description } if description.contains(PANIC_MESSAGE)),
        "{:?}",
        server.status
    );
    assert_eq!(
        attribute(server, "http.response.status_code"),
        Some(&Value::I64(500))
    );
    assert_eq!(attribute(server, "error.type").cloned(), string("500"));
    let found = events(server, "exception");
    assert_eq!(found.len(), 1);
    let exception = found[0];
    assert_eq!(
        event_attribute(exception, "exception.type").cloned(),
        string("panic")
    );
    assert_eq!(
        event_attribute(exception, "exception.message").cloned(),
        string(PANIC_MESSAGE)
    );
    let stacktrace = event_attribute(exception, "exception.stacktrace")
        .map(|value| value.as_str().into_owned())
        .unwrap_or_default();
    assert!(
        stacktrace.starts_with("panicked at tests/http_server.rs:"),
        "{stacktrace}"
    );
    assert!(events(server, "cancelled").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_handler_is_recorded_and_the_server_keeps_serving() {
    let addr = serve(TraceLayer::new()).await;
    let trace = trace_id();
    // Neither axum nor hyper turns a panic into a response: the connection is closed.
    let result = Call::new("GET", "/panic", trace).try_send(addr).await;
    assert!(result.is_err(), "{result:?}");
    assert_panicked(trace);

    let trace = trace_id();
    let (status, body) = Call::new("GET", "/users/3", trace).send(addr).await;
    assert_eq!(
        (status, body.as_ref()),
        (StatusCode::OK, b"user-3".as_ref())
    );
    assert_eq!(spans_of(trace).len(), 2);
}

/// What the outer middleware of the next test caught.
static CAUGHT: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A middleware outside the trace layer turning panics into 500s, as tower-http's
/// `CatchPanic` does; it keeps the payload's message to show the panic went on unchanged.
async fn catch_panic(request: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            CAUGHT.lock().expect("caught").push(message);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_goes_on_to_the_layers_outside() {
    let app = routes()
        .layer(TraceLayer::new())
        .layer(middleware::from_fn(catch_panic));
    let addr = serve_app(app).await;
    let trace = trace_id();
    let (status, _) = Call::new("GET", "/panic", trace).send(addr).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_panicked(trace);
    assert_eq!(
        CAUGHT.lock().expect("caught").as_slice(),
        [PANIC_MESSAGE.to_owned()]
    );
}

/// A layer capturing bodies, at most `max` bytes.
fn capturing(max: usize) -> TraceLayer {
    TraceLayer::new()
        .capture_request_body(true)
        .capture_response_body(true)
        .body_max_size_bytes(max)
}

/// POSTs `body` as `content_type` to `/echo`; returns the echoed body and the recorded
/// request and response bodies.
async fn echo_through(
    addr: SocketAddr,
    content_type: &str,
    body: &[u8],
) -> (Bytes, Option<Value>, Option<Value>) {
    let trace = trace_id();
    let headers = [("content-type", content_type)];
    let (status, echoed) = Call::new("POST", "/echo", trace)
        .headers(&headers)
        .body(body)
        .send(addr)
        .await;
    assert_eq!(status, StatusCode::OK);
    let spans = spans_of(trace);
    let server = one(&spans, "POST /echo");
    (
        echoed,
        attribute(server, "http.request.body").cloned(),
        attribute(server, "http.response.body").cloned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn json_bodies_are_captured_with_or_without_parameters() {
    let addr = serve(capturing(1024)).await;
    let json = br#"{"name":"ada","langs":["en","fr"]}"#;
    let (echoed, request, response) = echo_through(addr, "application/json", json).await;
    assert_eq!(echoed.as_ref(), json.as_ref());
    assert_eq!(request, string(r#"{"name":"ada","langs":["en","fr"]}"#));
    assert_eq!(response, request);

    let (_, request, response) =
        echo_through(addr, "Application/JSON; charset=utf-8", br#"{"a":1}"#).await;
    assert_eq!(request, string(r#"{"a":1}"#));
    assert_eq!(response, string(r#"{"a":1}"#));

    let form = b"name=ada&lang=en";
    let (_, request, _) = echo_through(addr, "application/x-www-form-urlencoded", form).await;
    assert_eq!(request, string("name=ada&lang=en"));
}

#[tokio::test(flavor = "multi_thread")]
async fn other_content_types_are_not_captured() {
    let addr = serve(capturing(1024)).await;
    let binary = [0_u8, 159, 146, 150, 255];
    let (echoed, request, response) = echo_through(addr, "application/octet-stream", &binary).await;
    assert_eq!(echoed.as_ref(), binary.as_ref());
    assert_eq!((request, response), (None, None));

    let addr = serve(capturing(1024).body_content_types(["application/vnd.acme"])).await;
    let (_, request, _) = echo_through(addr, "application/vnd.acme", b"order 7").await;
    assert_eq!(request, string("order 7"));
    let (_, request, _) = echo_through(addr, "application/json", b"{}").await;
    assert_eq!(request, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_are_off_by_default() {
    let addr = serve(TraceLayer::new()).await;
    let (echoed, request, response) = echo_through(addr, "application/json", b"{}").await;
    assert_eq!(echoed.as_ref(), b"{}");
    assert_eq!((request, response), (None, None));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_body_is_cut_on_a_character_boundary_but_delivered_whole() {
    // "€" is three bytes, 9..12: a limit of 10 cuts it, so it is left out whole.
    let text = "abcdefghi€xyz".repeat(3);
    let addr = serve(capturing(10)).await;
    let (echoed, request, response) =
        echo_through(addr, "text/plain; charset=utf-8", text.as_bytes()).await;
    assert_eq!(echoed.as_ref(), text.as_bytes());
    assert_eq!(request, string("abcdefghi"));
    assert_eq!(response, string("abcdefghi"));

    let addr = serve(capturing(12)).await;
    let (_, request, _) = echo_through(addr, "text/plain", text.as_bytes()).await;
    assert_eq!(request, string("abcdefghi€"));
}

/// One kilobyte of the `index`-th letter.
fn chunk(index: usize) -> Bytes {
    let letter = b'a' + (index % 26) as u8;
    Bytes::from(vec![letter; 1024])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_response_streams_and_only_the_limit_is_kept() {
    type Chunks = futures::channel::mpsc::UnboundedReceiver<Bytes>;
    let (sender, receiver) = futures::channel::mpsc::unbounded::<Bytes>();
    let receiver: Arc<Mutex<Option<Chunks>>> = Arc::new(Mutex::new(Some(receiver)));
    let stream = move || {
        let chunks = receiver.lock().expect("receiver").take();
        async move {
            let chunks = chunks.expect("one request");
            let body = Body::from_stream(chunks.map(Ok::<_, Infallible>));
            ([(CONTENT_TYPE, "text/plain")], body)
        }
    };
    let app = Router::new()
        .route("/stream", get(stream))
        .layer(capturing(100));
    let addr = serve_app(app).await;

    let trace = trace_id();
    sender.unbounded_send(chunk(0)).expect("send");
    let response = Call::new("GET", "/stream", trace)
        .response(addr)
        .await
        .expect("response");
    let mut body = response.into_body();
    // The first chunk arrives while the rest does not exist yet: nothing is held back.
    // (The timeout only keeps a broken build from hanging the suite.)
    let first = tokio::time::timeout(Duration::from_secs(60), body.frame())
        .await
        .expect("the first chunk is forwarded at once")
        .expect("a frame")
        .expect("no error");
    let mut received = first.into_data().expect("data").to_vec();
    assert_eq!(received, chunk(0));
    assert!(spans_of(trace).is_empty(), "the span waits for the body");

    const CHUNKS: usize = 64;
    for index in 1..CHUNKS {
        sender.unbounded_send(chunk(index)).expect("send");
    }
    let before_the_end = SystemTime::now();
    drop(sender);
    received.extend_from_slice(&body.collect().await.expect("body").to_bytes());
    let expected: Vec<u8> = (0..CHUNKS)
        .flat_map(|index| chunk(index).to_vec())
        .collect();
    assert_eq!(received, expected);

    let spans = spans_of(trace);
    let server = one(&spans, "GET /stream");
    assert_eq!(
        attribute(server, "http.response.body").cloned(),
        string(&"a".repeat(100))
    );
    assert!(
        server.end_time >= before_the_end,
        "the span covers the body"
    );
}

/// Runs the child test `name` of this binary with `vars` set (and the `OTEL_`/`HT_`
/// variables of this process removed).
fn run_child(name: &str, vars: &[(&str, &str)]) {
    let mut command = child::child_test(name);
    command.envs(vars.iter().copied());
    let output = command.output().expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "run by the test below in a child process"]
fn child_follows_the_installed_data_capture() {
    // Built before init(): the layer reads the installed capture at request time.
    let layer = TraceLayer::from_env();
    let _otel = traced::init();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let addr = serve(layer).await;
        let trace = trace_id();
        let headers = [
            ("content-type", "application/json"),
            ("x-tenant", "acme"),
            ("x-secret", "s3"),
            ("authorization", "Bearer t"),
        ];
        let (_, echoed) = Call::new("POST", "/echo", trace)
            .headers(&headers)
            .body(br#"{"a":"1"}"#)
            .send(addr)
            .await;
        assert_eq!(echoed.as_ref(), br#"{"a":"1"}"#);
        let spans = spans_of(trace);
        let server = one(&spans, "POST /echo");
        let get = |key| attribute(server, key).cloned();
        if std::env::var("EXPECT").as_deref() == Ok("captured") {
            // HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES=4
            assert_eq!(get("http.request.body"), string(r#"{"a""#));
            // HT_DATA_CAPTURE_HTTP_BODY_RESPONSE=false
            assert_eq!(get("http.response.body"), None);
            // Hypertrace captures every header, sanitised.
            assert_eq!(get("http.request.header.x-tenant"), strings(&["acme"]));
            assert_eq!(
                get("http.request.header.x-secret"),
                strings(&["[REDACTED]"])
            );
            assert_eq!(
                get("http.request.header.authorization"),
                strings(&["[REDACTED]"])
            );
            assert_eq!(
                get("http.response.header.content-type"),
                strings(&["application/json"])
            );
        } else {
            assert_eq!(get("http.request.body"), None);
            assert_eq!(get("http.request.header.x-tenant"), None);
        }
    });
}

#[test]
#[ignore = "run by a_request_starting_a_trace_the_ratio_drops_still_carries_its_own_trace"]
fn child_parent_based_ratio_sampler() {
    let exporter = InMemoryExporter::default();
    let otel = traced::Config::defaults()
        .with_exporters([])
        .with_span_exporter(exporter.clone())
        .with_parent_based_sampler(Sampler::TraceIdRatioBased(0.0))
        .install();
    let sampled_caller = trace_id();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (first, second, relayed) = runtime.block_on(async {
        let addr = listen(routes().layer(TraceLayer::new())).await;
        let outgoing = |call: Call<'static>| async move {
            let (status, sent) = call.send(addr).await;
            assert_eq!(status, StatusCode::OK);
            String::from_utf8_lossy(&sent).into_owned()
        };
        let fresh = || Call::new("GET", "/outgoing", TraceId::INVALID).starting_a_trace();
        let first = outgoing(fresh()).await;
        let second = outgoing(fresh()).await;
        let relayed = outgoing(Call::new("GET", "/outgoing", sampled_caller)).await;
        (first, second, relayed)
    });
    otel.shutdown().expect("flushed");

    // Requests that start a trace, which the ratio (0) drops: no span, but a trace of their
    // own, new each time, which a request the handler makes carries on as not sampled.
    let parts = |traceparent: &str| {
        let parts: Vec<String> = traceparent.split('-').map(str::to_owned).collect();
        assert_eq!(parts.len(), 4, "{traceparent:?}");
        parts
    };
    let (first, second) = (parts(&first), parts(&second));
    for sent in [&first, &second] {
        assert_eq!(sent[0], "00");
        assert_eq!(sent[3], "00", "not sampled");
        let trace = u128::from_str_radix(&sent[1], 16).expect("a trace id");
        let span = u64::from_str_radix(&sent[2], 16).expect("a span id");
        assert!(trace != 0 && span != 0, "{sent:?}");
    }
    assert_ne!(first[1], second[1], "a new trace for each request");
    // A caller that sampled its trace: its decision is followed, the server span exported.
    let spans = exporter.finished_spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let server = &spans[0];
    assert_eq!(server.span_context.trace_id(), sampled_caller);
    assert_eq!(server.parent_span_id, SpanId::from(PARENT_SPAN));
    let expected = format!(
        "00-{sampled_caller:032x}-{}-01",
        server.span_context.span_id()
    );
    assert_eq!(relayed, expected);
}

#[test]
#[ignore = "run by a_sampler_of_the_applications_own_is_shown_each_requests_attributes"]
fn child_sampler_of_the_applications_own() {
    let (exporter, otel) = samplers::install_skipping_health_checks("url.path");
    let (health, users) = (trace_id(), trace_id());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let addr = listen(routes().layer(TraceLayer::new())).await;
        let (status, _) = Call::new("GET", "/health", health).send(addr).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = Call::new("GET", "/users/7?verbose=1", users)
            .send(addr)
            .await;
        assert_eq!(status, StatusCode::OK);
    });
    otel.shutdown().expect("flushed");
    let spans = exporter.finished_spans();
    let of = |trace| {
        spans
            .iter()
            .filter(|span| span.span_context.trace_id() == trace)
            .collect::<Vec<_>>()
    };
    assert!(
        of(health).is_empty(),
        "the sampler dropped the health check"
    );
    let users = of(users);
    let server = users
        .iter()
        .find(|span| span.name == "GET /users/{id}")
        .expect("the request's span");
    let get = |key| attribute(server, key).cloned();
    assert_eq!(get(samplers::RULE.0), string(samplers::RULE.1));
    assert_eq!(get("url.path"), string("/users/7"));
    assert_eq!(get("url.query"), string("verbose=1"));
    assert_eq!(get("http.response.status_code"), Some(Value::I64(200)));
    samplers::assert_each_attribute_once(server);
    let last = server.attributes.last().map(|kv| kv.key.as_str());
    assert_eq!(last, Some("http.response.status_code"));
}

#[test]
#[ignore = "run by with_a_provider_installed_by_hand_its_tracer_builds_the_span"]
fn child_provider_installed_by_hand() {
    let spans = traced::testing::InMemoryExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(spans.clone())
        .build();
    traced::set_tracer_provider(provider);
    global::set_text_map_propagator(TraceContextPropagator::new());
    let trace = trace_id();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let addr = runtime.block_on(async {
        let addr = listen(routes().layer(TraceLayer::new())).await;
        let (status, _) = Call::new("GET", "/users/7", trace).send(addr).await;
        assert_eq!(status, StatusCode::OK);
        addr
    });
    let spans: Vec<SpanData> = spans
        .finished_spans()
        .into_iter()
        .filter(|span| span.span_context.trace_id() == trace)
        .collect();
    let server = one(&spans, "GET /users/{id}");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.parent_span_id, SpanId::from(PARENT_SPAN));
    // Built by the tracer `traced::set_tracer_provider` took from the SDK, in its scope.
    assert_eq!(server.instrumentation_scope.name(), "traced");
    let get = |key| attribute(server, key).cloned();
    assert_eq!(get("http.request.method"), string("GET"));
    assert_eq!(get("url.path"), string("/users/7"));
    assert_eq!(get("http.route"), string("/users/{id}"));
    assert_eq!(get("server.port"), Some(Value::I64(i64::from(addr.port()))));
    assert_eq!(get("http.response.status_code"), Some(Value::I64(200)));
    let child = one(&spans, "load_user");
    assert_eq!(child.parent_span_id, server.span_context.span_id());
}

#[test]
fn with_a_provider_installed_by_hand_its_tracer_builds_the_span() {
    run_child("child_provider_installed_by_hand", &[]);
}

#[test]
fn a_sampler_of_the_applications_own_is_shown_each_requests_attributes() {
    run_child("child_sampler_of_the_applications_own", &[]);
}

#[test]
fn a_request_starting_a_trace_the_ratio_drops_still_carries_its_own_trace() {
    run_child("child_parent_based_ratio_sampler", &[]);
}

#[test]
fn ht_data_capture_settings_reach_layers_from_env() {
    run_child(
        "child_follows_the_installed_data_capture",
        &[
            ("EXPECT", "captured"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("HT_DATA_CAPTURE_HTTP_BODY_REQUEST", "true"),
            ("HT_DATA_CAPTURE_HTTP_BODY_RESPONSE", "false"),
            ("HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES", "4"),
            (
                "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SANITIZE_FIELDS",
                "x-secret",
            ),
        ],
    );
    // Without Hypertrace configuration, init() captures nothing.
    run_child(
        "child_follows_the_installed_data_capture",
        &[("EXPECT", "nothing"), ("OTEL_TRACES_EXPORTER", "none")],
    );
}
