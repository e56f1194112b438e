//! The server side: [`TraceLayer`], a tower layer giving every request a `SERVER` span.
//!
//! | file | concern |
//! |------|---------|
//! | `layer.rs` | [`TraceLayer`] and its builder methods |
//! | `options.rs` | the options, from code or the environment |
//! | `service.rs` | [`TraceService`]: starting the span, wrapping the request body |
//! | `future.rs` | [`ResponseFuture`]: the response, a service error or a panic |
//! | `attributes.rs` | the semantic-convention attributes of a request and a response |
//! | `scheme.rs` | `url.scheme`, with `X-Forwarded-Proto` / `Forwarded` |
//! | `capture.rs` | body capture, and Hypertrace's header capture |

mod attributes;
mod capture;
mod future;
mod layer;
mod options;
mod scheme;
mod service;

pub use future::ResponseFuture;
pub use layer::TraceLayer;
pub use service::TraceService;
