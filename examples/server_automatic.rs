//! Python's `server_automatic.py` in Rust: the handler is plain code, and
//! `traced::http::TraceLayer::from_env()` gives every request its `SERVER` span — the span
//! `server_manual` builds by hand.
//!
//! ```console
//! $ cargo run --example server_automatic
//! $ cargo run --example client -- testing      # in a second terminal
//! ```
//!
//! The layer reads its options from the environment, as `opentelemetry-instrument` does:
//! `OTEL_PYTHON_EXCLUDED_URLS=/server_request` (or `OTEL_RUST_EXCLUDED_URLS`) silences the
//! route, `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST=user-agent,accept`
//! records those headers. `print_param` is a `#[traced]` function, so its span is a child
//! of the request's.
//!
//! The trace prints as a tree (`OTEL_RUST_CONSOLE_FORMAT=json` for Python's JSON;
//! `OTEL_TRACES_EXPORTER` chooses another exporter); `PORT` changes the port (8082; `0` picks
//! a free one, printed at start).

use std::net::SocketAddr;

use axum::Router;
use axum::http::Uri;
use axum::routing::get;
use traced::http::TraceLayer;
use traced::traced;

async fn server_request(uri: Uri) -> &'static str {
    print_param(query_param(&uri, "param").unwrap_or_default());
    "served"
}

/// Python's `print(request.args.get("param"))`, with a span of its own.
#[traced]
fn print_param(param: &str) {
    println!("{param}");
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
        config = config.with_service_name("server_automatic");
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
    // The whole instrumentation: one layer, configured by the environment.
    let app = Router::new()
        .route("/server_request", get(server_request))
        .layer(TraceLayer::from_env());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port())).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // `ConnectInfo` gives the layer the client's address (`client.address`, `client.port`).
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}
