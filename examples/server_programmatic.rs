//! Python's `server_programmatic.py` in Rust: `traced::http::TraceLayer` configured in code,
//! with the options Python's `FlaskInstrumentor().instrument_app(app, excluded_urls=...)`
//! takes.
//!
//! ```console
//! $ cargo run --example server_programmatic
//! $ cargo run --example client -- testing      # in a second terminal
//! $ curl http://127.0.0.1:8082/health          # served, but no span: an excluded URL
//! ```
//!
//! `/server_request` gets the same `SERVER` span as `server_manual` and `server_automatic`;
//! `/health` matches an excluded URL pattern and gets none. Code decides here: the `OTEL_*_EXCLUDED_URLS` and header-capture
//! variables are not read (`TraceLayer::from_env()` would read them, and the builder methods
//! would add to them).
//!
//! The trace prints as a tree (`OTEL_RUST_CONSOLE_FORMAT=json` for Python's JSON;
//! `OTEL_TRACES_EXPORTER` chooses another exporter); `PORT` changes the port (8082; `0` picks
//! a free one, printed at start).

use std::net::SocketAddr;

use axum::Router;
use axum::http::Uri;
use axum::routing::get;
use traced::http::TraceLayer;

async fn server_request(uri: Uri) -> &'static str {
    println!("{}", query_param(&uri, "param").unwrap_or_default());
    "served"
}

async fn health() -> &'static str {
    "ok"
}

/// `request.args.get(name)`: the value of `name` in the query string, as sent.
fn query_param<'u>(uri: &'u Uri, name: &str) -> Option<&'u str> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// The instrumentation, configured in code.
fn trace_layer() -> TraceLayer {
    TraceLayer::new()
        // Regular expressions searched in the URL path; Python's commented-out line would be
        // `.excluded_urls(["/server_request"])`.
        .excluded_urls(["^/health$"])
    // `.capture_request_headers([..])`, `.capture_response_headers([..])`,
    // `.sanitize_fields([..])`, `.request_hook(..)` and `.response_hook(..)` are the other
    // options.
}

/// The pipeline from the `OTEL_*` variables, printing a tree to the console unless told
/// otherwise.
fn pipeline() -> traced::OtelGuard {
    let mut config = traced::Config::from_env();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        config = config.with_service_name("server_programmatic");
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
    let app = Router::new()
        .route("/server_request", get(server_request))
        .route("/health", get(health))
        .layer(trace_layer());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port())).await?;
    println!("listening on http://{}", listener.local_addr()?);
    // `ConnectInfo` gives the layer the client's address (`client.address`, `client.port`).
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}
