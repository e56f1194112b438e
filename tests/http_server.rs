//! `traced::http::TraceLayer` on a real axum server, called by a real HTTP client: the span
//! continues the client's `traceparent`, carries the HTTP semantic-convention attributes with
//! their types, follows the status rules (Error on 5xx only), skips excluded URLs, captures
//! and redacts headers, and is the parent of `#[traced]` functions in handlers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::get;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Array, StringValue, Value, global};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SpanData;
use traced::http::TraceLayer;
use traced::testing::attribute;
use traced::traced;

const PARENT_SPAN: u64 = 0x00f0_67aa_0ba9_02b7;

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

/// The app under test, served on an ephemeral port with the peer address.
async fn serve(layer: TraceLayer) -> SocketAddr {
    global::set_text_map_propagator(TraceContextPropagator::new());
    traced::testing::install();
    let app: Router = Router::new()
        .route("/users/{id}", get(user))
        .route("/fail", get(fail))
        .route("/health", get(|| async { "ok" }))
        .route("/teapot", get(teapot))
        .layer(layer);
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

/// Sends `method path` with a `traceparent` of `trace` and `headers`; returns the status.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    trace: TraceId,
    headers: &[(&str, &str)],
) -> (StatusCode, SocketAddr) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header(
            "traceparent",
            format!("00-{trace:032x}-{:016x}-01", PARENT_SPAN),
        )
        .header("user-agent", "traced-test/1.0");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Empty::new()).expect("request");
    let response = client.request(request).await.expect("response");
    (response.status(), addr)
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

fn string(value: &str) -> Option<Value> {
    Some(Value::String(value.to_owned().into()))
}

fn strings(values: &[&str]) -> Option<Value> {
    let values = values.iter().map(|v| StringValue::from(v.to_string()));
    Some(Value::Array(Array::String(values.collect())))
}

#[tokio::test(flavor = "multi_thread")]
async fn server_span_continues_the_client_trace_with_typed_attributes() {
    let addr = serve(TraceLayer::new()).await;
    let trace = trace_id();
    let (status, _) = send(addr, "GET", "/users/7?verbose=1", trace, &[]).await;
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
    assert_eq!(get("url.query"), string("verbose=1"));
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

impl tower_service::Service<http::Request<()>> for Answer {
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

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
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
    fn outer() -> Result<http::Response<()>, std::convert::Infallible> {
        let mut service = TraceLayer::new().layer(Answer { pending: false });
        // The headers' parent is ignored: a local span is already current.
        futures::executor::block_on(service.call(request_in(trace_id())))
    }
    let (response, spans) = traced::testing::capture(outer);
    assert!(response.is_ok());
    let server = spans.one("GET");
    assert_eq!(server.span_kind, SpanKind::Internal);
    assert_eq!(
        spans.parent_of(server).map(|parent| parent.name.as_ref()),
        Some("outer")
    );
}
