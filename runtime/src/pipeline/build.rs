//! Building the tracer provider from the resolved [`Settings`]: resource, sampler, limits,
//! and one processor per configured exporter.

use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SdkTracerProvider, SimpleSpanProcessor, SpanExporter, SpanProcessor,
};

use std::sync::Arc;

use super::console::ConsoleExporter;
use super::console_tree::ConsoleTreeExporter;
use super::counting::{CountHanded, CountReceived, QueueCounts};
use super::guard::DroppedReport;
use super::truncate::Truncating;
use crate::config::{ConsoleFormat, ExporterKind, ProcessorSettings, Settings};
use crate::diagnostics::warn_once;

/// A built provider and the drop counters of its exporters.
pub(crate) struct Pipeline {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) dropped: DroppedReport,
}

impl Pipeline {
    /// Builds the provider. An exporter that cannot be built (a bad TLS file, say) is warned
    /// about and left out; the application runs on without it.
    pub(crate) fn build(settings: &Settings) -> Self {
        let mut builder = SdkTracerProvider::builder()
            .with_resource(settings.sdk_resource())
            .with_sampler(settings.sampler.clone())
            .with_span_limits(settings.limits.span);
        let mut dropped = DroppedReport::default();
        for processor in &settings.processors {
            if let Some(processor) = build_processor(settings, processor, &mut dropped) {
                builder = builder.with_span_processor(Truncating::new(
                    processor,
                    settings.limits.attribute_value_length,
                ));
            }
        }
        Self {
            provider: builder.build(),
            dropped,
        }
    }
}

fn build_processor(
    settings: &Settings,
    processor: &ProcessorSettings,
    dropped: &mut DroppedReport,
) -> Option<Box<dyn SpanProcessor>> {
    match processor.exporter {
        ExporterKind::Console => Some(match settings.console_format {
            ConsoleFormat::Json => wrap(ConsoleExporter::stdout(), processor, dropped),
            ConsoleFormat::Tree => wrap(ConsoleTreeExporter::stdout(), processor, dropped),
        }),
        ExporterKind::Otlp => otlp_processor(settings, processor, dropped),
    }
}

#[cfg(feature = "otlp")]
fn otlp_processor(
    settings: &Settings,
    processor: &ProcessorSettings,
    dropped: &mut DroppedReport,
) -> Option<Box<dyn SpanProcessor>> {
    // OTEL_BSP_EXPORT_TIMEOUT bounds each export too (opentelemetry_sdk 0.33 only offers it
    // behind an experimental feature): the exporter gets the smaller of the two.
    let mut otlp = settings.otlp.clone();
    let export_timeout = processor
        .batch
        .map(|batch| batch.export_timeout)
        .filter(|timeout| !timeout.is_zero());
    if let Some(export_timeout) = export_timeout {
        otlp.timeout = if otlp.timeout.is_zero() {
            export_timeout
        } else {
            otlp.timeout.min(export_timeout)
        };
    }
    match super::otlp::OtlpExporter::new(&otlp) {
        Ok(exporter) => {
            let counter = exporter.dropped_counter();
            dropped.add(move || counter.get());
            Some(wrap(exporter, processor, dropped))
        }
        Err(err) => {
            warn_once("otlp-exporter", || {
                format!("the OTLP exporter is not used: {err}")
            });
            None
        }
    }
}

#[cfg(not(feature = "otlp"))]
fn otlp_processor(
    _settings: &Settings,
    _processor: &ProcessorSettings,
    _dropped: &mut DroppedReport,
) -> Option<Box<dyn SpanProcessor>> {
    warn_once("otlp-exporter", || {
        "the otlp exporter needs the `otlp` feature of traced; spans are not exported".to_owned()
    });
    None
}

/// A batch processor on its own thread, or a simple one exporting as each span ends. A batch
/// processor's queue drops are counted in `dropped`.
fn wrap(
    exporter: impl SpanExporter + 'static,
    processor: &ProcessorSettings,
    dropped: &mut DroppedReport,
) -> Box<dyn SpanProcessor> {
    let Some(batch) = processor.batch else {
        return Box::new(SimpleSpanProcessor::new(exporter));
    };
    let counts = Arc::new(QueueCounts::default());
    let exporter = CountHanded {
        inner: exporter,
        counts: Arc::clone(&counts),
    };
    let inner = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch.to_batch_config())
        .build();
    let reported = Arc::clone(&counts);
    dropped.add(move || reported.not_exported());
    Box::new(CountReceived { inner, counts })
}
