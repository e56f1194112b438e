//! Where `#[traced]` spans end: the very processors of the installed provider.
//!
//! `#[traced]` builds its sampled spans itself ([`crate::span::lean`]) instead of through the
//! SDK tracer, and ends them straight into the processors the provider ends the OpenTelemetry
//! API's spans in: each processor is shared between the two ([`SinkBuilder::share`]), so
//! both kinds of span reach the same queue, and the provider's flush and shutdown cover both.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanLimits, SpanProcessor};

use crate::span::lean::SpanRecord;

/// A span processor that also takes `#[traced]` spans as they ended, before they are
/// [`SpanData`]: one that queues them hands them to its exporter later, on its own thread,
/// made [`SpanData`] there or read as they are.
pub(crate) trait EndedSpanProcessor: SpanProcessor {
    /// Takes an ended `#[traced]` span; by default as [`SpanData`], through `on_end`.
    fn on_end_record(&self, span: Box<SpanRecord>) {
        self.on_end(span.into_span_data());
    }
}

/// The processors `#[traced]` spans end in, with the limits they are built with.
#[derive(Debug)]
pub(crate) struct SpanSink {
    processors: Vec<Arc<dyn EndedSpanProcessor>>,
    /// The provider's span limits, which `#[traced]` spans keep too.
    pub(crate) limits: SpanLimits,
}

impl SpanSink {
    /// Hands an ended span to every processor, as the SDK does with its own spans.
    pub(crate) fn end(&self, span: Box<SpanRecord>) {
        if let Some((last, others)) = self.processors.split_last() {
            for processor in others {
                processor.on_end_record(span.clone());
            }
            last.on_end_record(span);
        }
    }
}

/// Shares the processors of a provider being built with the [`SpanSink`] of its
/// `#[traced]` spans.
pub(crate) struct SinkBuilder {
    processors: Vec<Arc<dyn EndedSpanProcessor>>,
    resource: Resource,
}

impl SinkBuilder {
    /// For a provider whose resource is `resource`.
    pub(crate) fn new(resource: Resource) -> Self {
        Self {
            processors: Vec::new(),
            resource,
        }
    }

    /// Keeps `processor` for the sink and returns the handle to give the provider.
    pub(crate) fn share(
        &mut self,
        mut processor: impl EndedSpanProcessor + 'static,
    ) -> SharedProcessor {
        // The provider sets the resource through `&mut`, which a shared processor cannot
        // give: it is set here, before sharing, to the resource the provider will have.
        processor.set_resource(&self.resource);
        let processor: Arc<dyn EndedSpanProcessor> = Arc::new(processor);
        self.processors.push(Arc::clone(&processor));
        SharedProcessor(processor)
    }

    /// The sink, for spans built with `limits`.
    pub(crate) fn build(self, limits: SpanLimits) -> SpanSink {
        SpanSink {
            processors: self.processors,
            limits,
        }
    }
}

/// A processor the provider shares with the [`SpanSink`].
#[derive(Debug)]
pub(crate) struct SharedProcessor(Arc<dyn EndedSpanProcessor>);

impl SpanProcessor for SharedProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, _resource: &Resource) {
        // Set by `SinkBuilder::share`, to this same resource.
    }
}
