//! The spans of failed exports, counted for exporters that count nothing themselves: one
//! given in code ([`crate::Config::with_span_exporter`]) and the console's. The OTLP exporter
//! counts its own, rejected spans of a partial success included.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// An exporter whose failed exports count their spans as lost: the SDK's exporter
/// interface has no way to say that only some were delivered, so a failed export lost the
/// whole batch.
#[derive(Debug)]
pub(super) struct CountingLosses<E> {
    exporter: E,
    lost: Arc<AtomicU64>,
}

impl<E> CountingLosses<E> {
    pub(super) fn new(exporter: E) -> Self {
        Self {
            exporter,
            lost: Arc::default(),
        }
    }

    /// The spans of its failed exports so far.
    pub(super) fn counter(&self) -> impl Fn() -> u64 + Send + Sync + use<E> {
        let lost = Arc::clone(&self.lost);
        move || lost.load(Ordering::Relaxed)
    }
}

impl<E: SpanExporter> SpanExporter for CountingLosses<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.exporter.export(batch).await;
        if result.is_err() {
            self.lost.fetch_add(spans, Ordering::Relaxed);
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.exporter.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.exporter.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use opentelemetry::trace::SpanContext;
    use opentelemetry_sdk::error::OTelSdkError;

    use super::*;
    use crate::pipeline::export::block_on;
    use crate::span::lean::SpanRecord;

    /// Refuses every export while `refusing` is set.
    #[derive(Debug, Default)]
    struct Flaky {
        refusing: AtomicBool,
    }

    impl SpanExporter for &Flaky {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            if self.refusing.load(Ordering::Relaxed) {
                Err(OTelSdkError::InternalFailure("refused".to_owned()))
            } else {
                Ok(())
            }
        }
    }

    fn spans(count: usize) -> Vec<SpanData> {
        let span = || SpanRecord::empty("work", SpanContext::NONE).into_span_data();
        (0..count).map(|_| span()).collect()
    }

    #[test]
    fn only_the_spans_of_failed_exports_are_counted() {
        let flaky = Flaky::default();
        let exporter = CountingLosses::new(&flaky);
        let lost = exporter.counter();
        assert!(block_on(exporter.export(spans(3))).is_ok());
        flaky.refusing.store(true, Ordering::Relaxed);
        let refused = block_on(exporter.export(spans(2)));
        assert!(refused.is_err(), "the error still reaches the processor");
        assert!(block_on(exporter.export(spans(5))).is_err());
        flaky.refusing.store(false, Ordering::Relaxed);
        assert!(block_on(exporter.export(spans(4))).is_ok());
        assert_eq!(lost(), 7);
    }
}
