//! HTTP client instrumentation for [reqwest](https://docs.rs/reqwest) (feature `reqwest`):
//! every outgoing request gets a `CLIENT` span with the stable HTTP semantic-convention
//! attributes, and the span's context travels to the server in the headers the global
//! propagator writes (`OTEL_PROPAGATORS`).
//!
//! - [`client`] wraps a `reqwest::Client` with [`TracingMiddleware`] configured from the
//!   environment; [`ClientBuilder`] stacks it with other middlewares.
//! - [`RequestBuilderExt::send_traced`] gives the same span to a plain `reqwest::Client`.
//!
//! The span is named after the method, is a child of the current context, and ends when the
//! response headers arrive (reading the body is not part of it). It records
//! `http.request.method`, `url.full` (credentials and signature parameters `REDACTED`),
//! `server.address`, `server.port`, `http.response.status_code`, `network.protocol.version`
//! and `error.type`; its status is Error on 4xx, 5xx and transport errors.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), traced::http::reqwest::Error> {
//! let client = traced::http::reqwest::client(reqwest::Client::new());
//! let body = client.get("http://localhost:8080/users/7").send().await?.text().await?;
//! # let _ = body;
//! # Ok(())
//! # }
//! ```

mod attributes;
mod client_span;
mod middleware;
mod options;
mod send;

pub use middleware::TracingMiddleware;
/// The reqwest-middleware types a traced client is built and used with, re-exported so an
/// application needs no dependency of its own on `reqwest-middleware`.
///
/// # Example
///
/// ```no_run
/// use traced::http::reqwest::{ClientBuilder, ClientWithMiddleware, TracingMiddleware};
///
/// let client: ClientWithMiddleware = ClientBuilder::new(reqwest::Client::new())
///     .with(TracingMiddleware::from_env())
///     .build();
/// # let _ = client;
/// ```
pub use reqwest_middleware::{
    ClientBuilder, ClientWithMiddleware, Error, Middleware, Next, RequestBuilder, Result,
};
pub use send::RequestBuilderExt;

/// `client` with a [`TracingMiddleware`] configured from the environment
/// ([`TracingMiddleware::from_env`]).
///
/// # Example
///
/// ```no_run
/// # async fn run() -> Result<(), traced::http::reqwest::Error> {
/// let client = traced::http::reqwest::client(reqwest::Client::new());
/// let status = client.get("http://localhost:8080/health").send().await?.status();
/// # let _ = status;
/// # Ok(())
/// # }
/// ```
pub fn client(client: reqwest::Client) -> ClientWithMiddleware {
    ClientBuilder::new(client)
        .with(TracingMiddleware::from_env())
        .build()
}
