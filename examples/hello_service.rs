//! The hello service of "OpenTelemetry for Python" in Rust: a web service whose requests are
//! traced, that fails with the exception on its span, calls a second service over HTTP in
//! the same trace, and adds its own attributes and events to the current span.
//!
//! ```console
//! $ cargo run --example hello_service
//! $ curl http://127.0.0.1:8000/hello/ada      # in a second terminal
//! $ curl http://127.0.0.1:8000/fail/ada
//! ```
//!
//! Two services run in this one program, each on its own listener and each behind
//! `traced::http::TraceLayer`: the hello service (`PORT`, 8000) and the user service it calls
//! (`USER_SERVICE_PORT`, 8082; `0` picks free ports, printed at start). The hello service
//! calls the user service through `traced::http::reqwest`, which gives the call a `CLIENT`
//! span and sends its `traceparent`: the user service's span joins the same trace.
//!
//! Traces print as trees (`OTEL_RUST_CONSOLE_FORMAT=json` for Python's JSON;
//! `OTEL_TRACES_EXPORTER` chooses another exporter).

use std::fmt;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use traced::http::TraceLayer;
use traced::http::reqwest::ClientWithMiddleware;
use traced::traced;

/// What the hello service needs to reach the user service.
#[derive(Clone)]
struct UserService {
    client: ClientWithMiddleware,
    base_url: String,
}

/// `GET /hello/{name}`: greets a user by the full name the user service knows.
async fn hello(State(users): State<UserService>, Path(name): Path<String>) -> (StatusCode, String) {
    // The current span is the request's SERVER span, made by the layer.
    let span = traced::current_span();
    span.set_attribute("user.name", name.as_str());

    let url = format!("{}/user/{name}", users.base_url);
    let profile = match users.client.get(url).send().await {
        Ok(response) if response.status().is_success() => response.text().await.ok(),
        Ok(_) | Err(_) => None,
    };
    let Some(full_name) = profile else {
        return (StatusCode::NOT_FOUND, format!("no user {name}\n"));
    };

    span.add_event("the user profile has been loaded from the user service", []);
    match render_greeting(&full_name, false) {
        Ok(greeting) => (StatusCode::OK, greeting),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
    }
}

/// The error of Python's `raise Exception("Failure injection")`.
#[derive(Debug)]
struct FailureInjection;

impl fmt::Display for FailureInjection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Failure injection")
    }
}

impl std::error::Error for FailureInjection {}

/// The greeting, or Python's `raise Exception("Failure injection")` when asked to fail: an
/// `Err` gives this span status Error and an `exception` event.
#[traced]
fn render_greeting(full_name: &str, inject_failure: bool) -> Result<String, FailureInjection> {
    if inject_failure {
        return Err(FailureInjection);
    }
    Ok(format!("Hello, {full_name}!\n"))
}

/// `GET /fail/{name}`: the same greeting, failing.
async fn fail(Path(name): Path<String>) -> (StatusCode, String) {
    match render_greeting(&name, true) {
        Ok(greeting) => (StatusCode::OK, greeting),
        Err(error) => {
            // The request's span records the exception too, as Python's instrumentation does
            // for an exception escaping a view; the 500 makes its status Error.
            traced::current_span().record_error(&error);
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n"))
        }
    }
}

/// `GET /user/{name}` on the user service.
async fn user(Path(name): Path<String>) -> (StatusCode, String) {
    match find_user(&name) {
        Some(full_name) => (StatusCode::OK, full_name.to_owned()),
        None => (StatusCode::NOT_FOUND, String::new()),
    }
}

/// The user service's database.
#[traced(ret)]
fn find_user(name: &str) -> Option<&'static str> {
    match name {
        "ada" => Some("Ada Lovelace"),
        "alan" => Some("Alan Turing"),
        "grace" => Some("Grace Hopper"),
        _ => None,
    }
}

/// The pipeline from the `OTEL_*` variables, printing trees to the console unless told
/// otherwise.
fn pipeline() -> traced::OtelGuard {
    let mut config = traced::Config::from_env();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        config = config.with_service_name("hello_service");
    }
    if std::env::var_os("OTEL_TRACES_EXPORTER").is_none() {
        config = config.with_exporters([traced::ExporterKind::Console]);
    }
    if std::env::var_os("OTEL_RUST_CONSOLE_FORMAT").is_none() {
        config = config.with_console_format(traced::ConsoleFormat::Tree);
    }
    config.install()
}

/// The port in variable `name`, or `default`.
fn port(name: &str, default: u16) -> u16 {
    std::env::var(name)
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(default)
}

/// Serves `app` on `listener`, with the peer addresses the layer records.
async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let _otel = pipeline();

    let user_listener =
        tokio::net::TcpListener::bind(("127.0.0.1", port("USER_SERVICE_PORT", 8082))).await?;
    let user_address = user_listener.local_addr()?;
    let user_service = Router::new()
        .route("/user/{name}", get(user))
        .layer(TraceLayer::from_env());

    let users = UserService {
        // The traced client: a CLIENT span per request, and the `traceparent` header.
        client: traced::http::reqwest::client(reqwest::Client::new()),
        base_url: format!("http://{user_address}"),
    };
    let hello_listener = tokio::net::TcpListener::bind(("127.0.0.1", port("PORT", 8000))).await?;
    let hello_service = Router::new()
        .route("/hello/{name}", get(hello))
        .route("/fail/{name}", get(fail))
        .with_state(users)
        .layer(TraceLayer::from_env());

    println!("user service listening on http://{user_address}");
    println!(
        "hello service listening on http://{}",
        hello_listener.local_addr()?
    );
    tokio::try_join!(
        serve(user_listener, user_service),
        serve(hello_listener, hello_service)
    )?;
    Ok(())
}
