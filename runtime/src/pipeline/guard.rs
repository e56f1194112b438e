//! The guard [`crate::init`] returns.

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::dropped::DroppedReport;
use crate::diagnostics::warn;
use crate::installed;

/// Keeps the pipeline running; dropping it (or [`OtelGuard::shutdown`]) stops `#[traced]`
/// from starting spans, flushes every ended span to the exporters, and shuts them down.
///
/// # Example
///
/// ```no_run
/// {
///     let _otel = traced::init();
///     // ... the application ...
/// } // spans are flushed here
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard shuts the pipeline down at once; bind it: `let _otel = traced::init();`"]
pub struct OtelGuard {
    provider: Option<SdkTracerProvider>,
    dropped: DroppedReport,
    timeout: Duration,
}

/// The pipeline did not shut down cleanly.
#[derive(Debug, thiserror::Error)]
#[error("traced: shutting the tracer provider down failed: {0}")]
pub struct ShutdownError(#[from] OTelSdkError);

impl OtelGuard {
    pub(crate) fn new(
        provider: SdkTracerProvider,
        dropped: DroppedReport,
        timeout: Duration,
    ) -> Self {
        Self {
            provider: Some(provider),
            dropped,
            timeout,
        }
    }

    /// The guard of a disabled SDK: nothing to shut down.
    pub(crate) fn disabled() -> Self {
        Self {
            provider: None,
            dropped: DroppedReport::default(),
            timeout: Duration::ZERO,
        }
    }

    /// How many spans have not reached the collector so far: those an exporter failed to
    /// deliver, those a full batch queue dropped, and (until the pipeline is flushed) those
    /// still queued. Reported once on standard error at shutdown, after the final flush.
    ///
    /// # Example
    ///
    /// ```
    /// let otel = traced::Config::from_env().with_exporters([]).install();
    /// assert_eq!(otel.dropped_spans(), 0);
    /// ```
    pub fn dropped_spans(&self) -> u64 {
        self.dropped.total()
    }

    /// The installed provider, e.g. to add instrumentation that takes one explicitly.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry::trace::TracerProvider as _;
    ///
    /// let otel = traced::Config::from_env().with_exporters([]).install();
    /// let tracer = otel.provider().map(|provider| provider.tracer("manual"));
    /// # let _ = tracer;
    /// ```
    pub fn provider(&self) -> Option<&SdkTracerProvider> {
        self.provider.as_ref()
    }

    /// Flushes and shuts down now, reporting failure instead of printing it.
    ///
    /// # Example
    ///
    /// ```
    /// let otel = traced::Config::from_env().with_exporters([]).install();
    /// otel.shutdown().unwrap();
    /// ```
    pub fn shutdown(mut self) -> Result<(), ShutdownError> {
        self.shutdown_provider()
    }

    fn shutdown_provider(&mut self) -> Result<(), ShutdownError> {
        let Some(provider) = self.provider.take() else {
            return Ok(());
        };
        installed::disable();
        // Zero is "no limit" in the configuration schema; the SDK wants a duration.
        let timeout = if self.timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            self.timeout
        };
        let result = provider.shutdown_with_timeout(timeout);
        if let Some(summary) = self.dropped.summary() {
            warn(|| summary);
        }
        result?;
        Ok(())
    }
}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown_provider() {
            eprintln!("{err}");
        }
    }
}
