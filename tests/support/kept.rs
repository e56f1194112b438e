//! The installed pipeline with an exporter of the test's own, one test at a time.

use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// The pipeline is process-wide: the tests of one binary install it one at a time.
static PIPELINE: Mutex<()> = Mutex::new(());

/// Keeps what it is handed.
#[derive(Clone, Debug, Default)]
pub struct Keep(pub Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Keep {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// Installs the pipeline, `configure`d, exporting only into a [`Keep`]; the other tests wait
/// until the returned lock guard drops.
pub fn install(
    configure: impl FnOnce(traced::Config) -> traced::Config,
) -> (MutexGuard<'static, ()>, traced::OtelGuard, Keep) {
    let installing = PIPELINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let kept = Keep::default();
    let otel = configure(traced::Config::defaults().with_exporters([]))
        .with_span_exporter(kept.clone())
        .install();
    (installing, otel, kept)
}

/// A sampled remote span whose trace and span ids are both `id`: a parent, or a link's
/// target.
pub fn remote(id: u64) -> SpanContext {
    SpanContext::new(
        TraceId::from(u128::from(id)),
        SpanId::from(id),
        TraceFlags::SAMPLED,
        true,
        Default::default(),
    )
}
