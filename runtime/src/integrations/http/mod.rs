//! HTTP instrumentation with the stable HTTP semantic conventions.
//!
//! - Servers: [`TraceLayer`], a tower layer that gives every request a `SERVER` span.
//!   Feature `http-server` (and `axum` for the route of axum's `MatchedPath` and the client
//!   of its `ConnectInfo`).
//! - Clients: [`reqwest`], a reqwest middleware (and a plain-client helper)
//!   that gives every outgoing request a `CLIENT` span and writes its context into the
//!   request headers with the global propagator. Feature `reqwest`.
//!
//! The parent is extracted from the request headers with the global propagator; the span is
//! current while the inner service runs, so `#[traced]` functions called by handlers are its
//! children; it ends when the response is ready (or with a `cancelled` event when the
//! response future is dropped first). The status is Error on 5xx responses only.
//!
//! # Example
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use traced::http::TraceLayer;
//!
//! # async fn run() -> std::io::Result<()> {
//! let app: Router = Router::new()
//!     .route("/users/{id}", get(|| async { "ada" }))
//!     .layer(TraceLayer::from_env().excluded_urls(["^/health$"]));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

mod headers;
mod patterns;
mod redaction;
mod stability;

#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "http-server")]
mod server;

#[cfg(feature = "http-server")]
pub use server::{ResponseFuture, TraceLayer, TraceService};
