//! Spans: the guard `#[traced]` holds around a call ([`ActiveSpan`]), what it records the
//! arguments with ([`Recorder`]), and [`current_span`], the handle for adding to whatever span
//! is current.

mod active;
#[cfg(any(feature = "http-server", feature = "reqwest"))]
pub(crate) mod attribute_sink;
mod handle;
mod ids;
mod in_place;
pub(crate) mod lean;
mod lent;
pub(crate) mod record_box;
pub(crate) mod recorded;
mod recorder;
pub(crate) mod scope;
mod start;
pub(crate) mod tracer;

pub use active::{ActiveSpan, Entered};
use active::{Origin, Recording, Started};
pub(crate) use handle::may_record;
pub use handle::{SpanHandle, current_span};
pub use recorder::Recorder;
#[cfg(any(test, feature = "http-server", feature = "reqwest"))]
pub(crate) use start::sampled_out;
