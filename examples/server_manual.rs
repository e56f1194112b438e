//! Python's `server_manual.py` in Rust: the server span is made BY HAND with the
//! OpenTelemetry API — no `TraceLayer`, no `#[traced]`.
//!
//! ```console
//! $ cargo run --example server_manual
//! $ cargo run --example client -- testing      # in a second terminal
//! ```
//!
//! The handler extracts the caller's trace context from the request headers with the global
//! propagator, starts a `SERVER` span named `GET /server_request` with the stable HTTP
//! semantic-convention attributes, and ends it with the response status: the span
//! `server_automatic` and `server_programmatic` get from `traced::http::TraceLayer`.
//!
//! The trace prints as a tree (`OTEL_RUST_CONSOLE_FORMAT=json` for Python's JSON;
//! `OTEL_TRACES_EXPORTER` chooses another exporter); `PORT` changes the port (8082; `0` picks
//! a free one, printed at start).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Uri, Version, header};
use axum::routing::get;
use traced::opentelemetry::propagation::Extractor;
use traced::opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use traced::opentelemetry::{KeyValue, global};

/// The route template: the `http.route` attribute and the second half of the span name.
const ROUTE: &str = "/server_request";

async fn server_request(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
) -> &'static str {
    // The caller's `traceparent` (and whatever else OTEL_PROPAGATORS names) becomes the parent.
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(&headers))
    });
    let tracer = global::tracer("server_manual");
    let span = tracer
        .span_builder(format!("{method} {ROUTE}"))
        .with_kind(SpanKind::Server)
        .with_attributes(request_attributes(&method, &uri, version, &headers, peer))
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(span);

    // The span is current while the request is handled, so spans started here are children.
    {
        let _current = cx.clone().attach();
        println!("{}", query_param(&uri, "param").unwrap_or_default());
    }

    let span = cx.span();
    span.set_attribute(KeyValue::new("http.response.status_code", 200));
    span.end();
    "served"
}

/// What Python's `collect_request_attributes(request.environ)` collects, with the names and
/// types of the stable HTTP semantic conventions (numbers are numbers).
fn request_attributes(
    method: &Method,
    uri: &Uri,
    version: Version,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", method.to_string()),
        KeyValue::new("url.path", uri.path().to_owned()),
    ];
    if let Some(query) = uri.query() {
        attributes.push(KeyValue::new("url.query", query.to_owned()));
    }
    attributes.push(KeyValue::new("url.scheme", "http"));
    attributes.push(KeyValue::new("http.route", ROUTE));
    // `server.address` and `server.port` come from the Host header the client sent.
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(authority) = host.and_then(|host| host.parse::<axum::http::uri::Authority>().ok()) {
        attributes.push(KeyValue::new("server.address", authority.host().to_owned()));
        if let Some(port) = authority.port_u16() {
            attributes.push(KeyValue::new("server.port", i64::from(port)));
        }
    }
    attributes.push(KeyValue::new("client.address", peer.ip().to_string()));
    attributes.push(KeyValue::new("client.port", i64::from(peer.port())));
    let version = match version {
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        _ => "1.1",
    };
    attributes.push(KeyValue::new("network.protocol.version", version));
    if let Some(agent) = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        attributes.push(KeyValue::new("user_agent.original", agent.to_owned()));
    }
    attributes
}

/// Lets the propagator read an `http::HeaderMap` (values that are not UTF-8 are ignored).
struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// `request.args.get(name)`: the value of `name` in the query string, as sent.
fn query_param<'u>(uri: &'u Uri, name: &str) -> Option<&'u str> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// The pipeline from the `OTEL_*` variables, printing a tree to the console unless told
/// otherwise.
fn pipeline() -> traced::OtelGuard {
    let mut config = traced::Config::from_env();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        config = config.with_service_name("server_manual");
    }
    if std::env::var_os("OTEL_TRACES_EXPORTER").is_none() {
        config = config.with_exporters([traced::ExporterKind::Console]);
    }
    if std::env::var_os("OTEL_RUST_CONSOLE_FORMAT").is_none() {
        config = config.with_console_format(traced::ConsoleFormat::Tree);
    }
    config.install()
}

/// `PORT`, or Python's 8082.
fn port() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(8082)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let _otel = pipeline();
    let app = Router::new().route(ROUTE, get(server_request));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port())).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // `ConnectInfo` gives the handler the client's address.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}
