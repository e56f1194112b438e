//! The server side: [`TraceLayer`], a tower layer giving every request a `SERVER` span.

mod attributes;
mod layer;
mod options;

pub use layer::{ResponseFuture, TraceLayer, TraceService};
