//! The real batching pipelines into an exporter that counts and discards, shared by the
//! benchmarks: `traced`'s own (what `traced::init()` builds: its batch processor, its own
//! spans, converted and finished on the export thread) for `#[traced]`, and the SDK's
//! `BatchSpanProcessor` for the peers that take a tracer from an SDK provider.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, ShouldSample, SpanData, SpanExporter,
};

/// An exporter that counts the spans it is handed and throws them away, so the figures hold
/// no I/O.
#[derive(Debug, Clone, Default)]
pub struct DiscardExporter {
    exported: Arc<AtomicU64>,
}

impl SpanExporter for DiscardExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.exported
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(black_box(batch));
        Ok(())
    }
}

/// A provider and the count of spans its exporter was handed.
#[derive(Debug)]
pub struct Pipeline {
    pub provider: SdkTracerProvider,
    /// The guard of `traced`'s pipeline, which shuts it down.
    guard: Option<traced::OtelGuard>,
    exported: Arc<AtomicU64>,
}

impl Pipeline {
    /// Spans handed to the exporter so far.
    #[allow(dead_code)] // used by the throughput, service and load runs only (the last two through `spans_exported_by`)
    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// How many spans the pipeline exports for `work`: flushed before and after it, the
    /// second time twice a pause apart, for a span another thread ends just after `work`
    /// returns (a server's, whose client has read the whole response). The benchmarks check
    /// with it that each variant does the same work before they measure it.
    #[allow(dead_code)] // used by the service and load runs only
    pub fn spans_exported_by<R>(&self, work: impl FnOnce() -> R) -> u64 {
        let settled = || {
            for _ in 0..2 {
                self.provider.force_flush().expect("the pipeline flushes");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            self.exported()
        };
        let before = settled();
        work();
        settled() - before
    }

    /// Spans `traced`'s pipeline dropped so far, its queue full (0 for the SDK's pipelines,
    /// whose processor counts none).
    #[allow(dead_code)] // used by the overhead run only
    pub fn dropped(&self) -> u64 {
        self.guard
            .as_ref()
            .map_or(0, traced::OtelGuard::dropped_spans)
    }

    /// [`Self::shutdown`], then prints how many spans `name`'s pipeline exported, so a run
    /// that exported none is seen.
    #[allow(dead_code)] // used by the HTTP, service and load runs only
    pub fn shutdown_reporting(self, name: &str) {
        let exported = self.shutdown();
        println!("{name}: {exported} spans exported");
    }

    /// Flushes and shuts the provider down; returns the spans exported in all.
    pub fn shutdown(self) -> u64 {
        let result = match self.guard {
            Some(guard) => guard.shutdown().map_err(|err| err.to_string()),
            None => self.provider.shutdown().map_err(|err| err.to_string()),
        };
        if let Err(err) = result {
            eprintln!("pipeline shutdown failed: {err}");
        }
        self.exported.load(Ordering::Relaxed)
    }
}

/// A provider with `sampler`, a `BatchSpanProcessor` (its queue and batch sizes from the
/// `OTEL_BSP_*` variables, else the specification's 2048 / 512) and a [`DiscardExporter`].
/// Not installed anywhere: the raw-SDK and tracing-opentelemetry peers take tracers from it.
pub fn build_pipeline(sampler: impl ShouldSample + 'static) -> Pipeline {
    let exporter = DiscardExporter::default();
    let exported = Arc::clone(&exporter.exported);
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .with_sampler(sampler)
        .build();
    Pipeline {
        provider,
        guard: None,
        exported,
    }
}

/// Installs `traced`'s pipeline as `traced::init()` builds it (batch sizes from `OTEL_BSP_*`),
/// with `sampler` (`None`: its default, what `traced::init()` samples with when
/// `OTEL_TRACES_SAMPLER` is not set) and a [`DiscardExporter`] as its only exporter.
pub fn install_pipeline(sampler: Option<Sampler>) -> Pipeline {
    install_configured(|config| match sampler {
        Some(sampler) => config.with_sampler(sampler),
        None => config,
    })
}

/// [`install_pipeline`], its configuration changed by `configure` first.
pub fn install_configured(configure: impl FnOnce(traced::Config) -> traced::Config) -> Pipeline {
    let exporter = DiscardExporter::default();
    let exported = Arc::clone(&exporter.exported);
    let config = configure(traced::Config::from_env().with_exporters([]));
    let guard = config.with_span_exporter(exporter).install();
    let provider = guard
        .provider()
        .cloned()
        .expect("the pipeline is enabled (OTEL_SDK_DISABLED is not set for benchmarks)");
    Pipeline {
        provider,
        guard: Some(guard),
        exported,
    }
}

/// The SDK's default sampler: parent-based, always on (every root sampled), for the peers'
/// providers.
pub fn sampled() -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
}

/// A sampler that samples nothing.
#[allow(dead_code)] // used by the overhead run only
pub fn unsampled() -> Sampler {
    Sampler::AlwaysOff
}
