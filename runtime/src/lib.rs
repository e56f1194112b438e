//! # traced
//!
//! OpenTelemetry instrumentation for Rust in one dependency: `#[traced]` turns a function
//! into a span with its arguments as typed attributes, records `Err` returns and panics as
//! `exception` events with Error status, and keeps the OpenTelemetry context across
//! `.await`; [`init`] builds the exporter pipeline from the standard `OTEL_*` variables.
//!
//! ```no_run
//! use traced::traced;
//!
//! #[derive(Debug)]
//! struct Token;
//!
//! #[traced(kind = server, skip(password))]
//! fn login(user: &str, password: &str) -> Result<Token, std::io::Error> {
//!     traced::current_span().set_attribute("user.tier", "gold");
//!     traced::current_span().add_event("credentials checked", []);
//!     Ok(Token)
//! }
//!
//! let _otel = traced::init(); // reads OTEL_*; flushes and shuts down on drop
//! login("ada", "secret").unwrap();
//! ```
//!
//! Run it with `OTEL_SERVICE_NAME=shop OTEL_TRACES_EXPORTER=console`.
//!
//! ## Features
//!
//! | feature   | default | what it gives |
//! |-----------|---------|---------------|
//! | `enable`  | yes     | `#[traced]` instruments; without it the attribute only checks its arguments |
//! | `testing` | no      | `traced::testing`: in-memory capture of spans and span-tree assertions |
//! | `otlp`    | yes     | `OtlpExporter`: OTLP over HTTP (`http/protobuf`, `http/json`), no async runtime needed |
//! | `otlp-grpc` | no    | OTLP over gRPC (tonic, on the exporter's own small runtime) |
//! | `tokio`   | no      | `traced::spawn`, `traced::spawn_blocking`: tokio tasks in the current context |
//! | `http`    | no      | `#[traced(context = headers)]` with an `http::HeaderMap` |
//! | `http-server` | no  | `traced::http::TraceLayer`: SERVER spans for tower services (hyper, axum) |
//! | `axum`    | no      | `http-server` plus axum's matched routes and client addresses |
//! | `reqwest` | no      | `traced::http::reqwest`: CLIENT spans and propagation headers for reqwest (a middleware, or `send_traced`) |

pub use opentelemetry;
pub use opentelemetry_sdk;

/// Instruments a function: see the [crate documentation](crate).
///
/// # Example
///
/// ```
/// #[traced::traced(name = "load user", kind = client, skip(db), fields(user.tier = "gold"), ret)]
/// fn load_user(db: &(), id: u64) -> Result<String, std::io::Error> {
///     Ok(format!("user-{id}"))
/// }
/// # load_user(&(), 7).unwrap();
/// ```
pub use traced_macros::traced;

pub use opentelemetry::KeyValue;
pub use opentelemetry::trace::Status;

pub use config::{ConsoleFormat, ExporterKind, OtlpCompression, OtlpProtocol, OtlpSettings};
pub use context::{FutureExt, IntoLink, IntoParentContext, LinkSource, thread};
#[cfg(feature = "tokio")]
pub use context::{spawn, spawn_blocking};
pub use installed::{disable, is_enabled, set_tracer_provider};
pub use pipeline::{Config, ConsoleExporter, ConsoleTreeExporter, OtelGuard, ShutdownError, init};
#[cfg(feature = "otlp")]
pub use pipeline::{DroppedSpans, OtlpError, OtlpExporter};
pub use propagation::{
    B3Encoding, B3Propagator, JaegerPropagator, OtTracePropagator, TraceContextPropagator,
    XrayPropagator, propagator,
};
pub use span::{SpanHandle, current_span};
pub use value::{ArrayElement, AttributeValue};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

mod callsite;
mod capture;
mod clock;
mod config;
mod context;
mod diagnostics;
mod installed;
mod outcome;
mod pipeline;
mod propagation;
mod span;
mod value;

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(any(feature = "http-server", feature = "reqwest"))]
#[path = "integrations/http/mod.rs"]
pub mod http;
