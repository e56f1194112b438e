//! Python's `client.py` in Rust: calls `/server_request?param=<argument>` on one of the
//! `server_*` examples, inside a span, through the traced reqwest client.
//!
//! ```console
//! $ cargo run --example server_automatic      # or server_manual, server_programmatic
//! $ cargo run --example client -- testing     # in a second terminal
//! ```
//!
//! `traced::http::reqwest::client` wraps a `reqwest::Client` in a middleware that gives each
//! request a `CLIENT` span and sends its `traceparent`, so the server's span is a child of
//! this program's span: one trace across two processes.
//!
//! The trace prints as a tree (`OTEL_RUST_CONSOLE_FORMAT=json` for Python's JSON;
//! `OTEL_TRACES_EXPORTER` chooses another exporter); `PORT` is the server's port (8082).

use std::process::ExitCode;

use traced::traced;

/// One request to the server, in a span of its own (the middleware's `CLIENT` span is its
/// child); an error ends it with status Error and an `exception` event.
#[traced]
async fn client(param: &str) -> Result<String, traced::http::reqwest::Error> {
    let client = traced::http::reqwest::client(reqwest::Client::new());
    let url = format!("http://127.0.0.1:{}/server_request?param={param}", port());
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.text().await?)
}

/// The pipeline from the `OTEL_*` variables, printing a tree to the console unless told
/// otherwise.
fn pipeline() -> traced::OtelGuard {
    let mut config = traced::Config::from_env();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        config = config.with_service_name("client");
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
async fn main() -> ExitCode {
    // Dropped at the end of main, after the request: the span is exported before exit.
    let _otel = pipeline();
    let Some(param) = std::env::args().nth(1) else {
        eprintln!("usage: client <param>");
        return ExitCode::from(2);
    };
    match client(&param).await {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("request failed: {error}");
            ExitCode::FAILURE
        }
    }
}
