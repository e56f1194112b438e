//! Building the tracer provider from the resolved [`Settings`]: resource, sampler, limits,
//! and one processor per configured exporter.

use std::fmt;
use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_sdk::trace::{
    SdkTracerProvider, SimpleSpanProcessor, SpanExporter, TracerProviderBuilder,
};

use super::batch::BatchProcessor;
use super::console::ConsoleExporter;
use super::console_tree::ConsoleTreeExporter;
use super::dropped::{Cause, DroppedReport};
use super::export::{BatchExporter, ViaSpanData};
use super::failures::ExportFailures;
use super::finish::Finishing;
use super::sink::{SinkBuilder, SpanSink};
use super::watched::Watched;
use crate::config::{BatchSettings, ConsoleFormat, ExporterKind, ProcessorSettings, Settings};
use crate::diagnostics::warn_once;

/// A built provider, the sink `#[traced]` spans end in, and the drop counters of its
/// exporters.
pub(crate) struct Pipeline {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) sink: SpanSink,
    pub(crate) dropped: DroppedReport,
}

impl Pipeline {
    /// Builds the provider. An exporter that cannot be built (a bad TLS file, say) is warned
    /// about and left out; the application runs on without it.
    pub(crate) fn build(settings: &Settings, custom: &[CustomExporter]) -> Self {
        let resource = settings.sdk_resource();
        let builder = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_sampler(settings.sampler.sampler.clone())
            .with_span_limits(settings.limits.span);
        let mut assembly = Assembly {
            settings,
            builder,
            sink: SinkBuilder::new(resource),
            dropped: DroppedReport::default(),
        };
        for processor in &settings.processors {
            assembly.add_processor(processor);
        }
        for exporter in custom {
            exporter.add_to(&mut assembly);
        }
        Self {
            provider: assembly.builder.build(),
            sink: assembly.sink.build(settings.limits.span),
            dropped: assembly.dropped,
        }
    }
}

/// An exporter given in code ([`crate::Config::with_span_exporter`]), added behind a
/// batch processor when the pipeline is built. Clones share it: the first pipeline built
/// takes it.
#[derive(Clone)]
pub(crate) struct CustomExporter(Arc<Mutex<Option<AddExporter>>>);

type AddExporter = Box<dyn FnOnce(&mut Assembly<'_>) + Send>;

impl CustomExporter {
    pub(crate) fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        let add: AddExporter = Box::new(move |assembly: &mut Assembly<'_>| {
            let batch = assembly.settings.batch;
            assembly.add(exporter, Some(batch));
        });
        Self(Arc::new(Mutex::new(Some(add))))
    }

    fn add_to(&self, assembly: &mut Assembly<'_>) {
        let add = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(add) = add {
            add(assembly);
        }
    }
}

impl fmt::Debug for CustomExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomExporter")
    }
}

/// The provider being built, the sink sharing its processors, and their drop counters.
struct Assembly<'a> {
    settings: &'a Settings,
    builder: TracerProviderBuilder,
    sink: SinkBuilder,
    dropped: DroppedReport,
}

impl Assembly<'_> {
    fn add_processor(&mut self, processor: &ProcessorSettings) {
        match processor.exporter {
            ExporterKind::Console => match self.settings.console_format {
                ConsoleFormat::Json => self.add(ConsoleExporter::stdout(), processor.batch),
                ConsoleFormat::Tree => self.add(ConsoleTreeExporter::stdout(), processor.batch),
            },
            ExporterKind::Otlp => self.add_otlp(processor),
        }
    }

    #[cfg(feature = "otlp")]
    fn add_otlp(&mut self, processor: &ProcessorSettings) {
        // OTEL_BSP_EXPORT_TIMEOUT bounds each export too: the exporter gets the smaller of
        // the two.
        let mut otlp = self.settings.otlp.clone();
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
                self.dropped.add(Cause::Export, move || counter.get());
                // Behind a batch processor, it encodes `#[traced]` spans from their records.
                match processor.batch {
                    Some(batch) => self.add_batch(exporter, batch),
                    None => self.add_watched(exporter, None, None),
                }
            }
            Err(err) => warn_once("otlp-exporter", || {
                format!("the OTLP exporter is not used: {err}")
            }),
        }
    }

    #[cfg(not(feature = "otlp"))]
    fn add_otlp(&mut self, _processor: &ProcessorSettings) {
        warn_once("otlp-exporter", || {
            "the otlp exporter needs the `otlp` feature of traced; spans are not exported"
                .to_owned()
        });
    }

    /// Adds `exporter`, which counts nothing itself, as [`Self::add_watched`] does: the
    /// spans of its failed exports are counted as dropped.
    fn add<E: SpanExporter + 'static>(&mut self, exporter: E, batch: Option<BatchSettings>) {
        let lost = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&lost);
        self.dropped
            .add(Cause::Export, move || counted.load(Ordering::Relaxed));
        self.add_watched(exporter, Some(lost), batch);
    }

    /// Adds `exporter` behind a batch processor on its own thread (its queue drops counted)
    /// or a simple one exporting as each span ends (its failures noted); either applies the
    /// attribute value length limit. `lost`, if given, counts the spans of its failed
    /// exports.
    fn add_watched<E: SpanExporter + 'static>(
        &mut self,
        exporter: E,
        lost: Option<Arc<AtomicU64>>,
        batch: Option<BatchSettings>,
    ) {
        match batch {
            Some(batch) => self.add_batch(ViaSpanData(Watched::new(exporter, lost, None)), batch),
            None => {
                let limit = self.settings.limits.attribute_value_length;
                let failures = Arc::new(ExportFailures::default());
                self.dropped.add_failures(Arc::clone(&failures));
                let exporter = Watched::new(exporter, lost, Some(failures));
                let simple = Box::new(SimpleSpanProcessor::new(exporter));
                let processor = self.sink.share(Finishing::new(simple, limit));
                self.builder = mem::take(&mut self.builder).with_span_processor(processor);
            }
        }
    }

    /// Adds `exporter` behind a batch processor on its own thread (its queue drops counted).
    fn add_batch(&mut self, exporter: impl BatchExporter, batch: BatchSettings) {
        let limit = self.settings.limits.attribute_value_length;
        let batch = BatchProcessor::new(exporter, batch, limit);
        self.dropped
            .add(Cause::FullQueue, batch.full_queue_counter());
        self.dropped
            .add(Cause::Shutdown, batch.unexported_counter());
        self.dropped.add_failures(batch.failures());
        let processor = self.sink.share(batch);
        self.builder = mem::take(&mut self.builder).with_span_processor(processor);
    }
}
