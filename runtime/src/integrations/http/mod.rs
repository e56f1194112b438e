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
//! children. As the conventions ask, a server span covers the whole response: it ends when
//! the response body is over (its last frame read by the server, or the body dropped), so a
//! streamed response is timed to its end; a service error ends it at once, and a response
//! future dropped first ends it with a `cancelled` event. The status is Error on 5xx
//! responses only. A handler that panics gets an `exception` event, status Error and
//! `http.response.status_code` `500`, and the panic goes on unchanged.
//!
//! A request in a trace its caller did not sample, under `traced`'s pipeline with a
//! parent-based sampler (the default) or `always_off`, gets no span of its own, on either
//! side: it would record nothing, and building its name and attributes was most of what
//! such a request cost (`benches/README.md`, "HTTP server"). The caller's context is then
//! current in the handler and goes out with the client's requests, carrying the same trace
//! and the same decision, as `#[traced]` functions under such a parent add nothing either.
//!
//! A sampler of the application's own (`Config::with_sampler`) is shown a request's
//! attributes (`url.path`, `http.route`, `url.full`, …) when it decides, so it can drop
//! health checks. The SDK's samplers never read them: with those, on `traced`'s pipeline a
//! sampled request's span, on either side, is built straight into its record, its
//! attributes written there without a `KeyValue` list in between.
//!
//! `url.query` has the values of signature parameters (`sig`, `Signature`,
//! `X-Goog-Signature`, `AWSAccessKeyId`) replaced by `REDACTED`; `url.scheme` follows a
//! proxy's `X-Forwarded-Proto` or `Forwarded: proto=` (see
//! [`TraceLayer::trust_forwarded_proto`]). Request and response bodies can be recorded
//! (`http.request.body`, `http.response.body`; off by default, bounded, never holding the
//! body back): see [`TraceLayer::capture_request_body`].
//!
//! [`TraceLayer::from_env`] reads the `OTEL_*` variables of the Python instrumentations
//! (excluded URLs, captured headers and their sanitising, `OTEL_SEMCONV_STABILITY_OPT_IN`)
//! and, at request time, the Hypertrace data capture (`HT_DATA_CAPTURE_*`) that
//! `traced::init()` installed; each has a builder method, which wins.
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

#[cfg(feature = "http-server")]
mod body;
// Shared by the server and the reqwest client.
mod headers;
#[cfg(feature = "http-server")]
mod media_types;
mod methods;
mod patterns;
mod redaction;
mod span_start;
mod stability;

#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "http-server")]
mod server;

#[cfg(feature = "http-server")]
pub use body::TracedBody;
#[cfg(feature = "http-server")]
pub use server::{ResponseFuture, TraceLayer, TraceService};
