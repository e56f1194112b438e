//! `traced::http::reqwest` with real reqwest clients calling a real axum server traced by
//! `traced::http::TraceLayer`: the client span is the server span's parent across the wire
//! under every propagator, carries the HTTP client attributes with their types, follows the
//! client status rules (Error on 4xx, 5xx and transport errors), captures and sanitises
//! headers, and `send_traced` gives the same span. The environment cases (`http/dup`,
//! capture lists, no provider installed) and a pipeline of their own (a sampler of the
//! application's own, shown each request's attributes) run in a child process.
//!
//! The global propagator is process-wide, so every test here takes [`SERIAL`] and installs
//! the propagator it needs before it sends anything.

#[path = "support/child.rs"]
mod child;
#[path = "support/samplers.rs"]
mod samplers;
#[path = "support/values.rs"]
mod values;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use opentelemetry::Value;
use opentelemetry::global;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;
use traced::http::TraceLayer;
use traced::http::reqwest::{ClientBuilder, RequestBuilderExt, TracingMiddleware};
use traced::testing::{Spans, attribute, event_attribute, events};
use traced::traced;
use values::{string, strings};

/// Held by every test: the global propagator is one per process.
static SERIAL: Mutex<()> = Mutex::new(());

/// Every header name the propagators under test can write.
const TRACE_HEADERS: [&str; 9] = [
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "x-b3-flags",
    "x-b3-parentspanid",
    "uber-trace-id",
];

/// Runs `test` on its own runtime with `propagator` as the global propagator and the
/// in-memory provider installed, serialised with the other tests.
fn run<F: Future>(propagator: &str, test: F) -> F::Output {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    global::set_text_map_propagator(traced::propagator(&[propagator]));
    traced::testing::install();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test)
}

/// The request headers the server saw, as a JSON object of name to values.
async fn echo(headers: HeaderMap) -> String {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        seen.entry(name.as_str().to_owned())
            .or_default()
            .push(value);
    }
    serde_json::to_string(&seen).expect("json")
}

/// Answers with the status of the path, a plain and a credential response header.
async fn status(Path(code): Path<u16>) -> (StatusCode, [(&'static str, &'static str); 2]) {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [("x-served-by", "pot-1"), ("set-cookie", "session=s")],
    )
}

/// Calls `/echo` on the same server (at `port`) through a traced client, from inside a
/// handler.
async fn call_echo(port: u16) -> traced::http::reqwest::Result<reqwest::Response> {
    traced_client()
        .get(format!("http://127.0.0.1:{port}/echo"))
        .send()
        .await
}

/// Answers with the status `/echo` gave a request made from the handler.
async fn proxy(Path(port): Path<u16>) -> String {
    match call_echo(port).await {
        Ok(response) => response.status().to_string(),
        Err(error) => error.to_string(),
    }
}

/// Answers with what `/echo` answered a request made from the handler: the headers that
/// request carried.
async fn relay(Path(port): Path<u16>) -> String {
    match call_echo(port).await {
        Ok(response) => response
            .text()
            .await
            .unwrap_or_else(|error| error.to_string()),
        Err(error) => error.to_string(),
    }
}

/// The traced app, served on an ephemeral port.
async fn serve() -> SocketAddr {
    let app: Router = Router::new()
        .route("/echo", any(echo))
        .route("/status/{code}", get(status))
        .route("/proxy/{port}", get(proxy))
        .route("/relay/{port}", get(relay))
        .layer(TraceLayer::new());
    serve_app(app).await
}

/// `app`, served on an ephemeral port.
async fn serve_app(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A port nothing listens on: bound, read, released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address").port()
}

fn traced_client() -> traced::http::reqwest::ClientWithMiddleware {
    traced::http::reqwest::client(reqwest::Client::new())
}

/// The one span of `kind` in `spans`.
fn one_of_kind(spans: &Spans, kind: SpanKind) -> &SpanData {
    let found: Vec<_> = spans.all().iter().filter(|s| s.span_kind == kind).collect();
    assert_eq!(found.len(), 1, "one {kind:?} span in {}", spans.tree());
    found[0]
}

/// Sends one GET to `/echo` with a stale `traceparent` and a header of the application's
/// own, then checks that the server span is the client span's child across the wire and
/// that exactly `written` trace headers went out.
fn parent_across_the_wire(propagator: &str, written: &[&str]) {
    run(propagator, async {
        let addr = serve().await;
        let client = traced_client();
        let request = client
            .get(format!("http://{addr}/echo"))
            .header(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )
            .header("x-app", "kept")
            .send();
        let (seen, spans) = traced::testing::capture_future(async {
            let response = request.await.expect("response");
            response.text().await.expect("body")
        })
        .await;
        let seen: BTreeMap<String, Vec<String>> = serde_json::from_str(&seen).expect("json");

        let client = one_of_kind(&spans, SpanKind::Client);
        let server = one_of_kind(&spans, SpanKind::Server);
        assert_eq!(client.name, "GET");
        assert_eq!(server.name, "GET /echo");
        assert_eq!(
            server.span_context.trace_id(),
            client.span_context.trace_id()
        );
        assert_eq!(server.parent_span_id, client.span_context.span_id());
        assert!(server.parent_span_is_remote);

        // Only the propagator's own headers are written; the application's others are kept.
        let mut sent: Vec<&str> = TRACE_HEADERS
            .iter()
            .copied()
            .filter(|name| seen.contains_key(*name))
            .collect();
        let mut expected = written.to_vec();
        if !written.contains(&"traceparent") {
            // Not the propagator's: the application's stale value went out untouched.
            expected.push("traceparent");
            assert_eq!(
                seen["traceparent"],
                ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]
            );
        }
        sent.sort_unstable();
        expected.sort_unstable();
        assert_eq!(sent, expected, "trace headers sent: {seen:?}");
        for name in written {
            assert_eq!(seen[*name].len(), 1, "{name} replaced, not appended");
        }
        assert_eq!(seen["x-app"], ["kept"]);
    });
}

#[test]
fn parent_across_the_wire_with_tracecontext() {
    parent_across_the_wire("tracecontext", &["traceparent", "tracestate"]);
}

#[test]
fn parent_across_the_wire_with_b3_single_header() {
    parent_across_the_wire("b3", &["b3"]);
}

#[test]
fn parent_across_the_wire_with_b3multi() {
    parent_across_the_wire("b3multi", &["x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]);
}

#[test]
fn parent_across_the_wire_with_jaeger() {
    parent_across_the_wire("jaeger", &["uber-trace-id"]);
}

#[traced]
async fn fetch(client: &traced::http::reqwest::ClientWithMiddleware, url: &str) -> StatusCode {
    client.get(url).send().await.expect("response").status()
}

#[test]
fn client_attributes_with_their_types() {
    run("tracecontext", async {
        let addr = serve().await;
        let port = addr.port();
        let url = format!("http://ada:secret@127.0.0.1:{port}/status/200?sig=abc&color=blue");
        let client = traced_client();
        let (status, spans) = traced::testing::capture_future(fetch(&client, &url)).await;
        assert_eq!(status, StatusCode::OK);

        let client = one_of_kind(&spans, SpanKind::Client);
        assert_eq!(client.name, "GET");
        // A child of the #[traced] function that sent it.
        assert_eq!(
            spans.parent_of(client).map(|parent| parent.name.as_ref()),
            Some("fetch")
        );
        assert_eq!(client.status, Status::Unset);
        let get = |key| attribute(client, key).cloned();
        assert_eq!(get("http.request.method"), string("GET"));
        // reqwest's builder moves URL credentials into `Authorization` before the middleware
        // runs; the signature is redacted.
        assert_eq!(
            get("url.full"),
            string(&format!(
                "http://127.0.0.1:{port}/status/200?sig=REDACTED&color=blue"
            ))
        );
        assert_eq!(get("server.address"), string("127.0.0.1"));
        assert_eq!(get("server.port"), Some(Value::I64(i64::from(port))));
        assert_eq!(get("http.response.status_code"), Some(Value::I64(200)));
        assert_eq!(get("network.protocol.version"), string("1.1"));
        assert_eq!(get("error.type"), None);
        // The stable names only, unless OTEL_SEMCONV_STABILITY_OPT_IN asks for more.
        assert_eq!(get("http.method"), None);
        assert!(events(client, "exception").is_empty());

        // A request built by hand keeps its credentials in the URL: they are redacted.
        let url = reqwest::Url::parse(&url).expect("url");
        let by_hand = reqwest::Request::new(reqwest::Method::GET, url);
        let traced = traced_client();
        let (response, spans) = traced::testing::capture_future(traced.execute(by_hand)).await;
        assert!(response.is_ok());
        let client = one_of_kind(&spans, SpanKind::Client);
        assert_eq!(
            attribute(client, "url.full").cloned(),
            string(&format!(
                "http://REDACTED:REDACTED@127.0.0.1:{port}/status/200?sig=REDACTED&color=blue"
            ))
        );
    });
}

#[test]
fn client_and_server_spans_are_timed_within_the_request() {
    run("tracecontext", async {
        let addr = serve().await;
        let url = format!("http://{addr}/echo");
        let client = traced_client();
        let before = SystemTime::now();
        let (status, spans) = traced::testing::capture_future(fetch(&client, &url)).await;
        let after = SystemTime::now();
        assert_eq!(status, StatusCode::OK);
        // The clocks' conversion is good to within a microsecond; a span timed by the wrong
        // clock, or not converted, would be off by far more than this.
        let margin = Duration::from_millis(1);
        for kind in [SpanKind::Client, SpanKind::Server] {
            let span = one_of_kind(&spans, kind.clone());
            assert!(span.start_time <= span.end_time, "{kind:?}: {span:#?}");
            assert!(span.start_time + margin >= before, "{kind:?}: {span:#?}");
            assert!(span.end_time <= after + margin, "{kind:?}: {span:#?}");
        }
        let (client, server) = (
            one_of_kind(&spans, SpanKind::Client),
            one_of_kind(&spans, SpanKind::Server),
        );
        assert!(server.start_time + margin >= client.start_time);
    });
}

#[test]
fn error_status_on_4xx_and_5xx() {
    run("tracecontext", async {
        let addr = serve().await;
        let client = traced_client();
        for (code, error) in [(204, false), (302, false), (404, true), (500, true)] {
            let url = format!("http://{addr}/status/{code}");
            let (response, spans) = traced::testing::capture_future(client.get(&url).send()).await;
            assert_eq!(response.expect("response").status().as_u16(), code);
            let span = one_of_kind(&spans, SpanKind::Client);
            assert_eq!(
                attribute(span, "http.response.status_code"),
                Some(&Value::I64(i64::from(code)))
            );
            if error {
                assert_eq!(span.status, Status::error(""));
                assert_eq!(
                    attribute(span, "error.type").cloned(),
                    string(&code.to_string())
                );
            } else {
                assert_eq!(span.status, Status::Unset, "{code}");
                assert_eq!(attribute(span, "error.type"), None);
            }
            assert!(events(span, "exception").is_empty());
        }
    });
}

#[test]
fn a_transport_error_is_an_error_with_an_exception_event() {
    run("tracecontext", async {
        let port = closed_port();
        let url = format!("http://ada:secret@127.0.0.1:{port}/nowhere");
        let client = traced_client();
        let (result, spans) = traced::testing::capture_future(client.get(&url).send()).await;
        let error = result.expect_err("nothing listens");
        assert!(error.is_connect(), "{error:?}");
        // The caller's error still names the URL.
        assert_eq!(error.url().map(|url| url.port()), Some(Some(port)));

        let span = one_of_kind(&spans, SpanKind::Client);
        assert_eq!(attribute(span, "error.type").cloned(), string("connect"));
        assert_eq!(attribute(span, "http.response.status_code"), None);
        assert_eq!(
            attribute(span, "server.port"),
            Some(&Value::I64(i64::from(port)))
        );
        let Status::Error { description } = &span.status else {
            panic!("status {:?}", span.status);
        };
        assert!(!description.is_empty());
        let exceptions = events(span, "exception");
        assert_eq!(exceptions.len(), 1);
        let exception = exceptions[0];
        assert_eq!(
            event_attribute(exception, "exception.type").cloned(),
            string("reqwest::error::Error")
        );
        assert_eq!(
            event_attribute(exception, "exception.message").cloned(),
            Some(Value::String(description.clone().into_owned().into()))
        );
        // The credentials of the URL reach no attribute or event.
        let recorded = format!("{:?} {:?}", span.attributes, span.events);
        assert!(!recorded.contains("secret"), "{recorded}");
        let stacktrace = event_attribute(exception, "exception.stacktrace")
            .map(Value::to_string)
            .unwrap_or_default();
        assert!(stacktrace.contains("Caused by:"), "{stacktrace}");
    });
}

#[test]
fn unknown_methods_are_other() {
    run("tracecontext", async {
        let addr = serve().await;
        let method = reqwest::Method::from_bytes(b"PURGE").expect("method");
        let client = traced_client();
        let (response, spans) = traced::testing::capture_future(
            client.request(method, format!("http://{addr}/echo")).send(),
        )
        .await;
        assert_eq!(response.expect("response").status(), StatusCode::OK);
        let span = one_of_kind(&spans, SpanKind::Client);
        assert_eq!(span.name, "HTTP");
        assert_eq!(
            attribute(span, "http.request.method").cloned(),
            string("_OTHER")
        );
        assert_eq!(
            attribute(span, "http.request.method_original").cloned(),
            string("PURGE")
        );
    });
}

#[test]
fn headers_are_captured_and_sanitised_and_hooks_run() {
    run("tracecontext", async {
        let addr = serve().await;
        let middleware = TracingMiddleware::new()
            .capture_request_headers(["X-Request-Id", "authorization", "x-api-key", "traceparent"])
            .capture_response_headers(["x-served-by", "set-cookie"])
            .sanitize_fields(["x-api-key"])
            .request_hook(|span, req| span.set_attribute("hook.path", req.url().path().to_owned()))
            .response_hook(|span, res| span.set_attribute("hook.status", res.status().as_u16()));
        let client = ClientBuilder::new(reqwest::Client::new())
            .with(middleware)
            .build();
        let request = client
            .get(format!("http://{addr}/status/418"))
            .header("x-request-id", "r-1")
            .header("authorization", "Bearer token")
            .header("x-api-key", "key")
            .header("x-not-captured", "no")
            .send();
        let (response, spans) = traced::testing::capture_future(request).await;
        assert_eq!(response.expect("response").status().as_u16(), 418);

        let span = one_of_kind(&spans, SpanKind::Client);
        let get = |key| attribute(span, key).cloned();
        assert_eq!(get("http.request.header.x-request-id"), strings(&["r-1"]));
        assert_eq!(
            get("http.request.header.authorization"),
            strings(&["[REDACTED]"])
        );
        assert_eq!(
            get("http.request.header.x-api-key"),
            strings(&["[REDACTED]"])
        );
        assert_eq!(get("http.request.header.x-not-captured"), None);
        // The propagation header is captured as it went out: this span's context.
        let traceparent = format!(
            "00-{}-{}-01",
            span.span_context.trace_id(),
            span.span_context.span_id()
        );
        assert_eq!(
            get("http.request.header.traceparent"),
            strings(&[&traceparent])
        );
        assert_eq!(get("http.response.header.x-served-by"), strings(&["pot-1"]));
        assert_eq!(
            get("http.response.header.set-cookie"),
            strings(&["[REDACTED]"])
        );
        assert_eq!(get("hook.path"), string("/status/418"));
        assert_eq!(get("hook.status"), Some(Value::I64(418)));
        assert_eq!(span.status, Status::error(""));
    });
}

/// The attributes of a client span, with those that differ per request taken out.
fn stable_part(span: &SpanData) -> Vec<(String, String)> {
    let mut attributes: Vec<(String, String)> = span
        .attributes
        .iter()
        .map(|kv| (kv.key.to_string(), format!("{:?}", kv.value)))
        .collect();
    attributes.sort();
    attributes
}

#[test]
fn send_traced_gives_the_middleware_span() {
    run("tracecontext", async {
        let addr = serve().await;
        let url = format!("http://{addr}/status/503");
        let (response, with_middleware) =
            traced::testing::capture_future(traced_client().get(&url).send()).await;
        assert_eq!(response.expect("response").status().as_u16(), 503);
        let plain = reqwest::Client::new();
        let (response, with_extension) =
            traced::testing::capture_future(plain.get(&url).send_traced()).await;
        assert_eq!(response.expect("response").status().as_u16(), 503);

        let expected = one_of_kind(&with_middleware, SpanKind::Client);
        let client = one_of_kind(&with_extension, SpanKind::Client);
        assert_eq!(client.name, expected.name);
        assert_eq!(client.status, expected.status);
        assert_eq!(stable_part(client), stable_part(expected));
        let server = one_of_kind(&with_extension, SpanKind::Server);
        assert_eq!(server.parent_span_id, client.span_context.span_id());
        assert!(server.parent_span_is_remote);

        // With explicit options, and a transport error.
        let options = TracingMiddleware::new().capture_response_headers(["x-served-by"]);
        let (response, spans) =
            traced::testing::capture_future(plain.get(&url).send_traced_with(&options)).await;
        assert!(response.is_ok());
        let client = one_of_kind(&spans, SpanKind::Client);
        assert_eq!(
            attribute(client, "http.response.header.x-served-by").cloned(),
            strings(&["pot-1"])
        );
        let closed = format!("http://127.0.0.1:{}/", closed_port());
        let (response, spans) =
            traced::testing::capture_future(plain.get(&closed).send_traced()).await;
        assert!(response.expect_err("nothing listens").is_connect());
        let client = one_of_kind(&spans, SpanKind::Client);
        assert_eq!(attribute(client, "error.type").cloned(), string("connect"));
        assert_eq!(events(client, "exception").len(), 1);
    });
}

#[test]
fn a_request_dropped_in_flight_ends_its_span_as_cancelled() {
    run("tracecontext", async {
        let (arrived, mut arrival) = tokio::sync::mpsc::unbounded_channel::<()>();
        let app: Router = Router::new().route(
            "/hang",
            get(move || {
                let _ = arrived.send(());
                std::future::pending::<&'static str>()
            }),
        );
        let addr = serve_app(app).await;
        let client = traced_client();
        let ((), spans) = traced::testing::capture_future(async {
            tokio::select! {
                _ = client.get(format!("http://{addr}/hang")).send() => {
                    panic!("the server never answers");
                }
                _ = arrival.recv() => {}
            }
        })
        .await;
        let span = one_of_kind(&spans, SpanKind::Client);
        assert_eq!(events(span, "cancelled").len(), 1);
        assert_eq!(attribute(span, "http.response.status_code"), None);
    });
}

#[test]
fn a_call_from_a_handler_is_a_child_of_the_server_span() {
    run("tracecontext", async {
        let addr = serve().await;
        let url = format!("http://{addr}/proxy/{}", addr.port());
        let (response, spans) =
            traced::testing::capture_future(traced_client().get(&url).send()).await;
        let body = response.expect("response").text().await.expect("body");
        assert_eq!(body, "200 OK");
        // client -> server /proxy -> client -> server /echo, one trace.
        let outer = spans.one("GET /proxy/{port}");
        let inner_client = spans
            .children_of(outer)
            .into_iter()
            .find(|span| span.span_kind == SpanKind::Client)
            .expect("the handler's client span");
        assert_eq!(inner_client.name, "GET");
        let echo = spans.one("GET /echo");
        assert_eq!(echo.parent_span_id, inner_client.span_context.span_id());
        assert!(echo.parent_span_is_remote);
        let first_client = spans.parent_of(outer).expect("the test's client span");
        assert_eq!(first_client.span_kind, SpanKind::Client);
        assert_eq!(spans.all().len(), 4, "{}", spans.tree());
    });
}

#[test]
fn a_trace_not_sampled_goes_on_to_the_next_service_without_spans() {
    use opentelemetry::trace::{
        FutureExt as _, SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };

    run("tracecontext", async {
        let addr = serve().await;
        let trace = TraceId::from(0x5a17_c0de_0000_0000_0000_0000_0000_0001);
        let caller = SpanId::from(0x00f0_67aa_0ba9_02b7);
        let not_sampled = SpanContext::new(
            trace,
            caller,
            TraceFlags::NOT_SAMPLED,
            true,
            TraceState::NONE,
        );
        let cx = opentelemetry::Context::new().with_remote_span_context(not_sampled);
        // test -> server /relay -> client -> server /echo, all in a trace not sampled.
        let url = format!("http://{addr}/relay/{}", addr.port());
        let response = traced_client().get(&url).send().with_context(cx).await;
        let body = response.expect("response").text().await.expect("body");
        let seen: BTreeMap<String, Vec<String>> = serde_json::from_str(&body).expect("json");

        // Under the parent-based sampler neither client nor server span would add anything,
        // so none is built and the caller's context travels on unchanged.
        let expected = format!("00-{trace:032x}-{caller:016x}-00");
        assert_eq!(seen["traceparent"], [expected]);
        let exported = traced::testing::install().finished_spans();
        let in_trace: Vec<_> = exported
            .iter()
            .filter(|span| span.span_context.trace_id() == trace)
            .collect();
        assert!(in_trace.is_empty(), "{in_trace:#?}");
    });
}

#[traced]
async fn inner_step() {}

/// A middleware after the tracing one: it runs inside the client span.
struct Inner;

#[async_trait::async_trait]
impl traced::http::reqwest::Middleware for Inner {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: traced::http::reqwest::Next<'_>,
    ) -> traced::http::reqwest::Result<reqwest::Response> {
        inner_step().await;
        next.run(req, extensions).await
    }
}

#[test]
fn the_client_span_is_current_for_the_rest_of_the_chain() {
    run("tracecontext", async {
        let addr = serve().await;
        let client = ClientBuilder::new(reqwest::Client::new())
            .with(TracingMiddleware::new())
            .with(Inner)
            .build();
        let (response, spans) =
            traced::testing::capture_future(client.get(format!("http://{addr}/echo")).send()).await;
        assert!(response.is_ok());
        let step = spans.one("inner_step");
        let parent = spans.parent_of(step).expect("a parent");
        assert_eq!(parent.span_kind, SpanKind::Client);
    });
}

/// Runs child test `name` with `vars` set and every other `OTEL_` variable removed; it
/// asserts for itself, so the parent checks that it passed.
fn run_child(name: &str, vars: &[(&str, &str)]) {
    let mut command = child::child_test(name);
    command.envs(vars.iter().copied());
    let output = command.output().expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "child {name} ran:\n{stdout}");
}

#[test]
fn env_asks_for_old_names_and_captured_headers() {
    run_child(
        "child_old_names_and_captured_headers",
        &[
            ("OTEL_SEMCONV_STABILITY_OPT_IN", "http/dup"),
            (
                "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST",
                "x-request-id",
            ),
            (
                "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE",
                "x-served-by",
            ),
        ],
    );
}

#[test]
#[ignore = "run by env_asks_for_old_names_and_captured_headers in a child process"]
fn child_old_names_and_captured_headers() {
    run("tracecontext", async {
        let addr = serve().await;
        let port = i64::from(addr.port());
        let url = format!("http://{addr}/status/404?sig=s");
        let request = traced_client()
            .get(&url)
            .header("x-request-id", "r-9")
            .send();
        let (response, middleware_spans) = traced::testing::capture_future(request).await;
        assert!(response.is_ok());
        let request = reqwest::Client::new()
            .get(&url)
            .header("x-request-id", "r-9")
            .send_traced();
        let (response, extension_spans) = traced::testing::capture_future(request).await;
        assert!(response.is_ok());

        for spans in [&middleware_spans, &extension_spans] {
            let span = one_of_kind(spans, SpanKind::Client);
            let get = |key| attribute(span, key).cloned();
            let redacted = format!("http://{addr}/status/404?sig=REDACTED");
            for (stable, old) in [
                ("http.request.method", "http.method"),
                ("url.full", "http.url"),
                ("server.address", "net.peer.name"),
                ("server.port", "net.peer.port"),
                ("http.response.status_code", "http.status_code"),
                ("network.protocol.version", "http.flavor"),
            ] {
                assert!(get(stable).is_some(), "{stable}");
                assert_eq!(get(old), get(stable), "{old}");
            }
            assert_eq!(get("http.url"), string(&redacted));
            assert_eq!(get("net.peer.port"), Some(Value::I64(port)));
            assert_eq!(get("http.status_code"), Some(Value::I64(404)));
            assert_eq!(get("http.request.header.x-request-id"), strings(&["r-9"]));
            assert_eq!(get("http.response.header.x-served-by"), strings(&["pot-1"]));
        }
    });
}

#[test]
fn a_sampler_of_the_applications_own_is_shown_each_requests_attributes() {
    run_child("child_sampler_of_the_applications_own", &[]);
}

#[test]
#[ignore = "run by a_sampler_of_the_applications_own_is_shown_each_requests_attributes"]
fn child_sampler_of_the_applications_own() {
    let (exporter, otel) = samplers::install_skipping_health_checks("url.full");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let addr = runtime.block_on(async {
        let addr = serve_app(Router::new().route("/echo", any(echo))).await;
        for path in ["health", "echo"] {
            let response = traced_client()
                .get(format!("http://{addr}/{path}"))
                .send()
                .await
                .expect("response");
            let expected = if path == "echo" {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(response.status(), expected);
        }
        addr
    });
    otel.shutdown().expect("flushed");
    let clients: Vec<SpanData> = exporter
        .finished_spans()
        .into_iter()
        .filter(|span| span.span_kind == SpanKind::Client)
        .collect();
    assert_eq!(clients.len(), 1, "the health check dropped: {clients:#?}");
    let client = &clients[0];
    let get = |key| attribute(client, key).cloned();
    assert_eq!(get("url.full"), string(&format!("http://{addr}/echo")));
    assert_eq!(get("server.port"), Some(Value::I64(i64::from(addr.port()))));
    assert_eq!(get(samplers::RULE.0), string(samplers::RULE.1));
    assert_eq!(get("http.response.status_code"), Some(Value::I64(200)));
    samplers::assert_each_attribute_once(client);
}

#[test]
fn without_a_provider_requests_pass_through() {
    run_child("child_without_a_provider", &[]);
}

#[test]
#[ignore = "run by without_a_provider_requests_pass_through in a child process"]
fn child_without_a_provider() {
    // No `traced::testing::install()`: nothing is installed for traced. A provider set only
    // as OpenTelemetry's global one is not used by traced's integrations either (see
    // `traced::set_tracer_provider`), so it must see no span.
    global::set_text_map_propagator(traced::propagator(&["tracecontext"]));
    let exporter = traced::testing::InMemoryExporter::default();
    global::set_tracer_provider(
        opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_span_processor(exporter.clone())
            .build(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        assert!(!traced::is_enabled());
        let app: Router = Router::new()
            .route("/echo", any(echo))
            .layer(TraceLayer::new());
        let addr = serve_app(app).await;
        let url = format!("http://{addr}/echo");
        let through_middleware = traced_client().get(&url).send().await.expect("response");
        let through_extension = reqwest::Client::new()
            .get(&url)
            .send_traced()
            .await
            .expect("response");
        for response in [through_middleware, through_extension] {
            assert_eq!(response.status(), StatusCode::OK);
            let seen: BTreeMap<String, Vec<String>> =
                serde_json::from_str(&response.text().await.expect("body")).expect("json");
            // No span, so nothing to propagate: no trace header was written.
            for name in TRACE_HEADERS {
                assert!(!seen.contains_key(name), "{name} in {seen:?}");
            }
        }
    });
    assert!(exporter.finished_spans().is_empty());
}
