//! Counting what a batch processor drops when its queue is full: opentelemetry_sdk 0.33
//! drops those spans without telling anyone. A wrapper around the processor counts the
//! sampled spans it is given, a wrapper around the exporter counts the spans it is handed;
//! once the pipeline is flushed, the difference is what the queue dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

/// The two counts of one processor.
#[derive(Debug, Default)]
pub(crate) struct QueueCounts {
    received: AtomicU64,
    handed: AtomicU64,
}

impl QueueCounts {
    /// Spans received and not handed to the exporter: queued, or dropped from a full queue.
    pub(crate) fn not_exported(&self) -> u64 {
        let handed = self.handed.load(Ordering::Relaxed);
        self.received.load(Ordering::Relaxed).saturating_sub(handed)
    }
}

/// Counts the sampled spans a processor receives.
#[derive(Debug)]
pub(crate) struct CountReceived<P> {
    pub(crate) inner: P,
    pub(crate) counts: Arc<QueueCounts>,
}

impl<P: SpanProcessor> SpanProcessor for CountReceived<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.counts.received.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Counts the spans an exporter is handed.
#[derive(Debug)]
pub(crate) struct CountHanded<E> {
    pub(crate) inner: E,
    pub(crate) counts: Arc<QueueCounts>,
}

impl<E: SpanExporter> SpanExporter for CountHanded<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.counts
            .handed
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        self.inner.export(batch).await
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
