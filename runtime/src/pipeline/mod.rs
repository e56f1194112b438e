//! Building and installing the tracer provider: [`init`], [`Config`] and the guard that
//! flushes and shuts down.

mod console;
mod guard;

pub use console::ConsoleExporter;
pub use guard::{OtelGuard, ShutdownError};

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_semantic_conventions::resource::SERVICE_NAME;

use crate::config::{self, ExporterKind, OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER};
use crate::diagnostics::warn_once;
use crate::installed;

/// Builds the pipeline from the `OTEL_*` environment, installs it, and returns the guard
/// that flushes and shuts it down when dropped. The same as `Config::from_env().install()`.
///
/// Read today: `OTEL_SERVICE_NAME`, `OTEL_TRACES_EXPORTER` (`console`, `none`).
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn work() {}
///
/// let _otel = traced::init(); // keep it alive until the end of main
/// work();
/// ```
pub fn init() -> OtelGuard {
    Config::from_env().install()
}

/// The pipeline's configuration: read from the environment, then overridden in code.
///
/// # Example
///
/// ```
/// use traced::ExporterKind;
///
/// let _otel = traced::Config::from_env()
///     .with_service_name("checkout")
///     .with_exporters([ExporterKind::Console])
///     .install();
/// ```
#[derive(Clone, Debug)]
#[must_use = "a Config does nothing until `install()`"]
pub struct Config {
    service_name: Option<String>,
    exporters: Vec<ExporterKind>,
}

impl Config {
    /// The configuration the `OTEL_*` variables describe.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env();
    /// # let _ = config;
    /// ```
    pub fn from_env() -> Self {
        let exporters = config::var(OTEL_TRACES_EXPORTER)
            .unwrap_or_else(|| config::OTEL_TRACES_EXPORTER_DEFAULT.to_owned());
        Self {
            service_name: config::var(OTEL_SERVICE_NAME),
            exporters: config::parse_exporters(&exporters),
        }
    }

    /// Sets `service.name`, over `OTEL_SERVICE_NAME`.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env().with_service_name("shop");
    /// # let _ = config;
    /// ```
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets the exporters, over `OTEL_TRACES_EXPORTER`; an empty list exports nothing.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env().with_exporters([]);
    /// # let _ = config;
    /// ```
    pub fn with_exporters(mut self, exporters: impl IntoIterator<Item = ExporterKind>) -> Self {
        self.exporters = exporters.into_iter().collect();
        self
    }

    /// Builds the provider, installs it for `#[traced]` and the OpenTelemetry API, installs
    /// the W3C trace-context propagator, and returns the guard that shuts it all down.
    ///
    /// # Example
    ///
    /// ```
    /// let guard = traced::Config::from_env().with_exporters([]).install();
    /// guard.shutdown().unwrap();
    /// ```
    pub fn install(self) -> OtelGuard {
        let provider = self.build_provider();
        installed::set_tracer_provider(provider.clone());
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        OtelGuard::new(provider)
    }

    fn build_provider(&self) -> SdkTracerProvider {
        let mut resource = Resource::builder();
        if let Some(name) = &self.service_name {
            resource = resource.with_attribute(KeyValue::new(SERVICE_NAME, name.clone()));
        }
        let mut builder = SdkTracerProvider::builder().with_resource(resource.build());
        for exporter in &self.exporters {
            match exporter {
                ExporterKind::Console => {
                    builder = builder.with_span_processor(
                        BatchSpanProcessor::builder(ConsoleExporter::stdout()).build(),
                    );
                }
                ExporterKind::Otlp => warn_once("exporter-otlp", || {
                    format!(
                        "{OTEL_TRACES_EXPORTER}: the otlp exporter is not in this build yet; \
                         spans are not exported (set {OTEL_TRACES_EXPORTER}=console to print them)"
                    )
                }),
            }
        }
        builder.build()
    }
}
