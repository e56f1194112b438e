//! What the batch processor hands its exporter: the spans as they were queued, `#[traced]`
//! ones still as their records. An exporter that can read a record as it is (the OTLP
//! exporter, writing protobuf) skips making it [`SpanData`], which took most of the export
//! thread's time per span; any other exporter gets [`SpanData`] ([`ViaSpanData`]).

use std::fmt::Debug;
use std::future::Future;
use std::mem;
use std::pin::pin;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use opentelemetry::trace::SpanContext;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::finish;
use crate::span::lean::SpanRecord;
use crate::span::record_box;

/// A span waiting for export, in the order spans ended.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "boxing the record would have the export thread free what the application's allocated"
)]
pub(crate) enum Queued {
    /// A `#[traced]` span, as it ended.
    Traced(SpanRecord),
    /// A span of the OpenTelemetry API, built by the SDK.
    Sdk(SpanData),
}

/// An ended span, appended to the batch processor's queue.
pub(crate) trait Enqueue {
    /// Appends the span to `queue`.
    fn push_onto(self, queue: &mut Vec<Queued>);
}

impl Enqueue for Box<SpanRecord> {
    /// Copies the record from its box straight into the queue, once. `Vec::push` would take
    /// it moved out of the box first, onto the stack: its check for room may call out to
    /// grow the vector, before which the value must exist, and the box is freed before
    /// `push` runs. That was a second copy of the record's 528 bytes on every sampled span
    /// (`objdump` showed two `memcpy` calls; one now: 5–8 ns a sampled `#[traced]` call,
    /// alternating runs). Room is made first here, and the box is kept after the copy for
    /// this thread's next record ([`record_box`]).
    #[allow(unsafe_code)]
    #[inline(always)]
    fn push_onto(self, queue: &mut Vec<Queued>) {
        queue.reserve(1);
        let len = queue.len();
        if let Some(slot) = queue.spare_capacity_mut().first_mut() {
            record_box::move_out(self, |record| slot.write(Queued::Traced(record)));
            // SAFETY: `slot` is the element at index `len`, the first past the length
            // (`spare_capacity_mut` starts there), so `len + 1` does not exceed the
            // capacity, and it was initialised on the line above; the first `len` were
            // already. Nothing else refers to it: it is reached only through `queue`,
            // borrowed mutably here.
            unsafe { queue.set_len(len + 1) };
        }
    }
}

impl Enqueue for SpanData {
    #[inline(always)]
    fn push_onto(self, queue: &mut Vec<Queued>) {
        queue.push(Queued::Sdk(self));
    }
}

impl Queued {
    /// Removes duplicate attribute keys and applies the attribute value length `limit`
    /// ([`finish`]), keeping the span as it is.
    pub(crate) fn finish(&mut self, limit: Option<usize>) {
        match self {
            Self::Traced(record) => finish::finish_record(record, limit),
            Self::Sdk(data) => finish::finish_span(data, limit),
        }
    }

    /// The span as exporters of the OpenTelemetry SDK take it, finished, its contents moved
    /// out: what is left holds nothing but is still dropped with the queue.
    ///
    /// Finished before it is converted, so that the conversion returns straight into this
    /// function's caller: finishing the converted span held it here, to be copied out once
    /// more (`perf`: that copy 1 % of the two-producer throughput run).
    fn take_finished_span_data(&mut self, limit: Option<usize>) -> SpanData {
        self.finish(limit);
        match self {
            Self::Traced(record) => record.take_span_data(),
            Self::Sdk(data) => take_span_data(data),
        }
    }

    /// The instrumentation scope the span is exported under.
    #[cfg(feature = "otlp")]
    pub(crate) fn scope(&self) -> &opentelemetry::InstrumentationScope {
        match self {
            Self::Traced(record) => record.scope(),
            Self::Sdk(data) => &data.instrumentation_scope,
        }
    }
}

/// The exporter behind a batch processor. Each batch is prepared on the processor's export
/// thread (finished, perhaps encoded) and then sent: on the same thread, or, for an exporter
/// that is [`CONCURRENT`](Self::CONCURRENT) when several exports may be in flight, on a
/// sender thread while the export thread prepares the next.
pub(crate) trait BatchExporter: Debug + Send + Sync + 'static {
    /// A batch ready to be sent.
    type Request: Send + 'static;

    /// Whether [`send`](Self::send) may run while another send is in flight. An exporter of
    /// the SDK's interface may not: its `export` is never called concurrently.
    const CONCURRENT: bool;

    /// Makes one batch ready to send, finishing its spans: `value_length_limit` is
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, to apply with [`Queued::finish`] or
    /// [`finished_span_data`]. The spans stay where the queue holds them, which drops them
    /// afterwards: an exporter that reads them as they are (the OTLP exporter) copies none,
    /// one that needs them as [`SpanData`] moves their contents out.
    fn prepare(&self, batch: &mut [Queued], value_length_limit: Option<usize>) -> Self::Request;

    /// Sends a prepared batch. The exporter counts and reports its own failures.
    fn send(&self, request: Self::Request) -> OTelSdkResult;

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult;

    fn set_resource(&mut self, resource: &Resource);
}

/// The exporter to export with, even if an export panicked while holding it.
pub(super) fn read_exporter<E>(exporter: &RwLock<E>) -> RwLockReadGuard<'_, E> {
    exporter.read().unwrap_or_else(PoisonError::into_inner)
}

/// The exporter to change, even if an export panicked while holding it.
pub(super) fn write_exporter<E>(exporter: &RwLock<E>) -> RwLockWriteGuard<'_, E> {
    exporter.write().unwrap_or_else(PoisonError::into_inner)
}

/// `batch` as exporters of the OpenTelemetry SDK take it: every span [`SpanData`],
/// finished with the attribute value length `limit`, its contents moved out of the queue.
pub(super) fn finished_span_data(batch: &mut [Queued], limit: Option<usize>) -> Vec<SpanData> {
    batch
        .iter_mut()
        .map(|span| span.take_finished_span_data(limit))
        .collect()
}

/// The contents of `data`, moved out; what is left owns nothing.
fn take_span_data(data: &mut SpanData) -> SpanData {
    SpanData {
        span_context: mem::replace(&mut data.span_context, SpanContext::NONE),
        parent_span_id: data.parent_span_id,
        parent_span_is_remote: data.parent_span_is_remote,
        span_kind: data.span_kind.clone(),
        name: mem::take(&mut data.name),
        start_time: data.start_time,
        end_time: data.end_time,
        attributes: mem::take(&mut data.attributes),
        dropped_attributes_count: data.dropped_attributes_count,
        events: mem::take(&mut data.events),
        links: mem::take(&mut data.links),
        status: mem::take(&mut data.status),
        instrumentation_scope: mem::take(&mut data.instrumentation_scope),
    }
}

/// An exporter of the OpenTelemetry SDK's interface: it gets every span as [`SpanData`],
/// one batch at a time.
#[derive(Debug)]
pub(crate) struct ViaSpanData<E>(pub(crate) E);

impl<E: SpanExporter + 'static> BatchExporter for ViaSpanData<E> {
    type Request = Vec<SpanData>;

    const CONCURRENT: bool = false;

    fn prepare(&self, batch: &mut [Queued], value_length_limit: Option<usize>) -> Vec<SpanData> {
        finished_span_data(batch, value_length_limit)
    }

    fn send(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        block_on(self.0.export(batch))
    }

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// Runs `future` to completion on this thread, parking between polls.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut task = TaskContext::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut task) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}
