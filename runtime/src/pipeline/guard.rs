//! The guard [`crate::init`] returns.

use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::installed;

/// Keeps the pipeline running; dropping it (or [`OtelGuard::shutdown`]) stops `#[traced]`
/// from starting spans, flushes every ended span to the exporters, and shuts them down.
///
/// # Example
///
/// ```
/// {
///     let _otel = traced::init();
///     // ... the application ...
/// } // spans are flushed here
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard shuts the pipeline down at once; bind it: `let _otel = traced::init();`"]
pub struct OtelGuard {
    provider: Option<SdkTracerProvider>,
}

/// The pipeline did not shut down cleanly.
#[derive(Debug, thiserror::Error)]
#[error("traced: shutting the tracer provider down failed: {0}")]
pub struct ShutdownError(#[from] OTelSdkError);

impl OtelGuard {
    pub(crate) fn new(provider: SdkTracerProvider) -> Self {
        Self {
            provider: Some(provider),
        }
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
        provider.shutdown()?;
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
