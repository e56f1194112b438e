//! An exporter of the SDK's interface as the pipeline watches it: the spans of its failed
//! exports counted as dropped, when it counts nothing itself (one given in code, the
//! console's; the OTLP exporter counts its own, rejected spans of a partial success
//! included), and its failures noted to be printed, behind the SDK's simple processor, which
//! keeps its exporters' errors to itself (a batch processor notes them on its own).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::failures::ExportFailures;

/// `exporter`, its export results counted in `lost` and noted in `failures`, each if given.
#[derive(Debug)]
pub(super) struct Watched<E> {
    exporter: E,
    /// The spans of its failed exports: the SDK's exporter interface has no way to say that
    /// only some were delivered, so a failed export lost the whole batch.
    lost: Option<Arc<AtomicU64>>,
    failures: Option<Arc<ExportFailures>>,
}

impl<E> Watched<E> {
    pub(super) fn new(
        exporter: E,
        lost: Option<Arc<AtomicU64>>,
        failures: Option<Arc<ExportFailures>>,
    ) -> Self {
        Self {
            exporter,
            lost,
            failures,
        }
    }
}

impl<E: SpanExporter> SpanExporter for Watched<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.exporter.export(batch).await;
        if let (Err(_), Some(lost)) = (&result, &self.lost) {
            lost.fetch_add(spans, Ordering::Relaxed);
        }
        if let Some(failures) = &self.failures {
            failures.note(&result);
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
        let lost = Arc::new(AtomicU64::new(0));
        let exporter = Watched::new(&flaky, Some(Arc::clone(&lost)), None);
        assert!(block_on(exporter.export(spans(3))).is_ok());
        flaky.refusing.store(true, Ordering::Relaxed);
        let refused = block_on(exporter.export(spans(2)));
        assert!(refused.is_err(), "the error still reaches the processor");
        assert!(block_on(exporter.export(spans(5))).is_err());
        flaky.refusing.store(false, Ordering::Relaxed);
        assert!(block_on(exporter.export(spans(4))).is_ok());
        assert_eq!(lost.load(Ordering::Relaxed), 7);
    }

    #[test]
    fn an_exporter_behind_a_simple_processor_has_its_failures_noted() {
        let flaky = Flaky {
            refusing: AtomicBool::new(true),
        };
        let failures = Arc::new(ExportFailures::default());
        let exporter = Watched::new(&flaky, None, Some(Arc::clone(&failures)));
        // The first is printed; the second, within the minute, is kept.
        for _ in 0..2 {
            let result = block_on(exporter.export(Vec::new()));
            assert!(result.is_err(), "the error still reaches the processor");
        }
        assert_eq!(failures.latest_unprinted().as_deref(), Some("refused"));
    }
}
