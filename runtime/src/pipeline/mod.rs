//! Building and installing the tracer provider: [`init`], [`Config`] and the guard that
//! flushes and shuts down.

mod batch;
mod build;
mod console;
mod console_tree;
mod dropped;
mod events_aside;
mod export;
mod failures;
mod finish;
mod guard;
mod next_slot;
#[cfg(feature = "otlp")]
mod otlp;
mod overflow;
mod pacing;
mod scheduling;
mod senders;
mod set_aside;
pub(crate) mod sink;
mod throttle;
mod watched;

pub use console::ConsoleExporter;
pub use console_tree::ConsoleTreeExporter;
pub use guard::{OtelGuard, ShutdownError};
#[cfg(feature = "otlp")]
pub use otlp::{DroppedSpans, OtlpError, OtlpExporter};

use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{Sampler, ShouldSample, SpanExporter, SpanLimits};

use build::CustomExporter;

use crate::config::{
    ConsoleFormat, ExporterKind, MAX_CONCURRENT_EXPORTS_LIMIT, OtlpSettings, ProcessorSettings,
    SamplerSetting, Settings,
};
use crate::{installed, propagation};

/// Builds the pipeline from the `OTEL_*` environment (or `OTEL_CONFIG_FILE`, or the
/// Hypertrace `HT_*` variables), installs it, and returns the guard that flushes and shuts it
/// down when dropped. The same as `Config::from_env().install()`.
///
/// # Example
///
/// ```no_run
/// #[traced::traced]
/// fn work() {}
///
/// let _otel = traced::init(); // keep it alive until the end of main
/// work();
/// ```
pub fn init() -> OtelGuard {
    Config::from_env().install()
}

/// The pipeline's configuration: read from the environment, then overridden in code. Every
/// `with_*` setting wins over what the environment says.
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
    settings: Settings,
    custom_exporters: Vec<CustomExporter>,
}

impl Config {
    /// The configuration the environment describes; invalid values have been warned about
    /// once and replaced by their defaults.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env();
    /// # let _ = config;
    /// ```
    pub fn from_env() -> Self {
        Self {
            settings: Settings::from_env(),
            custom_exporters: Vec::new(),
        }
    }

    /// The specification's defaults, ignoring the environment.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::defaults().with_exporters([]);
    /// # let _ = config;
    /// ```
    pub fn defaults() -> Self {
        Self {
            settings: Settings::default(),
            custom_exporters: Vec::new(),
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
        let name = KeyValue::new(
            opentelemetry_semantic_conventions::resource::SERVICE_NAME,
            name.into(),
        );
        self.settings
            .resource
            .retain(|attribute| attribute.key != name.key);
        self.settings.resource.insert(0, name);
        self
    }

    /// Adds resource attributes (replacing those with the same keys).
    ///
    /// # Example
    ///
    /// ```
    /// use traced::KeyValue;
    ///
    /// let config = traced::Config::from_env()
    ///     .with_resource_attributes([KeyValue::new("deployment.environment.name", "staging")]);
    /// # let _ = config;
    /// ```
    pub fn with_resource_attributes(
        mut self,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) -> Self {
        for attribute in attributes {
            self.settings
                .resource
                .retain(|existing| existing.key != attribute.key);
            self.settings.resource.push(attribute);
        }
        self
    }

    /// Sets the exporters, over `OTEL_TRACES_EXPORTER`; an empty list exports nothing. Each
    /// gets a batch processor with the `OTEL_BSP_*` settings.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env().with_exporters([]);
    /// # let _ = config;
    /// ```
    pub fn with_exporters(mut self, exporters: impl IntoIterator<Item = ExporterKind>) -> Self {
        let batch = self.settings.batch;
        self.settings.processors = exporters
            .into_iter()
            .map(|exporter| ProcessorSettings {
                exporter,
                batch: Some(batch),
            })
            .collect();
        self
    }

    /// Lets each batch processor have up to `count` exports in flight at once, over
    /// `OTEL_BSP_MAX_CONCURRENT_EXPORTS` (default 1; at most 64, and 0 means 1). With more
    /// than one, the processor's thread encodes each batch and hands it to one of `count`
    /// sender threads, which compress and send it while the next is encoded: for a
    /// collector a network round trip away, where one export at a time caps throughput at
    /// a batch per round trip. The OTLP exporter sends concurrently, as its specification
    /// allows; other exporters, whose contract forbids concurrent exports, still get one
    /// batch at a time.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env().with_max_concurrent_exports(4);
    /// # let _ = config;
    /// ```
    pub fn with_max_concurrent_exports(mut self, count: usize) -> Self {
        let count = count.clamp(1, MAX_CONCURRENT_EXPORTS_LIMIT);
        self.settings.batch.max_concurrent_exports = count;
        let processors = self.settings.processors.iter_mut();
        for batch in processors.filter_map(|processor| processor.batch.as_mut()) {
            batch.max_concurrent_exports = count;
        }
        self
    }

    /// Adds an exporter of your own, behind the pipeline's batch processor (configured by
    /// `OTEL_BSP_*`), beside the exporters `OTEL_TRACES_EXPORTER` names. A clone of this
    /// configuration shares the exporter: the first one installed takes it. An export it
    /// fails (returns an error for) is printed like the OTLP exporter's, and its spans are
    /// counted as dropped ([`crate::OtelGuard::dropped_spans`]).
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry_sdk::error::OTelSdkResult;
    /// use traced::opentelemetry_sdk::trace::{SpanData, SpanExporter};
    ///
    /// #[derive(Debug)]
    /// struct CountNames;
    ///
    /// impl SpanExporter for CountNames {
    ///     async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
    ///         println!("{} spans", batch.len());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let otel = traced::Config::from_env()
    ///     .with_exporters([])
    ///     .with_span_exporter(CountNames)
    ///     .install();
    /// # otel.shutdown().unwrap();
    /// ```
    pub fn with_span_exporter(mut self, exporter: impl SpanExporter + 'static) -> Self {
        self.custom_exporters.push(CustomExporter::new(exporter));
        self
    }

    /// Sets the OTLP exporter's settings, over `OTEL_EXPORTER_OTLP_*`.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::{OtlpProtocol, OtlpSettings};
    ///
    /// let config = traced::Config::from_env().with_otlp(OtlpSettings {
    ///     endpoint: "http://collector:4317".into(),
    ///     protocol: OtlpProtocol::Grpc,
    ///     ..OtlpSettings::default()
    /// });
    /// # let _ = config;
    /// ```
    pub fn with_otlp(mut self, otlp: OtlpSettings) -> Self {
        self.settings.otlp = otlp;
        self
    }

    /// Sets the sampler, over `OTEL_TRACES_SAMPLER`: any of the SDK's or one of the
    /// application's own.
    ///
    /// For the SDK's parent-based sampler prefer [`Self::with_parent_based_sampler`]: inside
    /// a `Sampler::ParentBased` the root sampler is a `Box<dyn ShouldSample>` that `traced`
    /// cannot look into, so it has to assume the root may read a span's name and attributes,
    /// and makes them for it even for a request it then drops.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry_sdk::trace::Sampler;
    ///
    /// let config = traced::Config::from_env().with_sampler(Sampler::TraceIdRatioBased(0.1));
    /// # let _ = config;
    /// ```
    pub fn with_sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.settings.sampler = SamplerSetting::any(sampler);
        self
    }

    /// Sets the SDK's parent-based sampler with `root` for the spans that start a trace,
    /// over `OTEL_TRACES_SAMPLER`: what `parentbased_traceidratio` and the other
    /// `parentbased_*` values set, and the same as `with_sampler(Sampler::ParentBased(
    /// Box::new(root)))`, except that `traced` sees the root. With one of the SDK's
    /// `AlwaysOn`, `AlwaysOff` or `TraceIdRatioBased`, which read neither a span's name nor
    /// its attributes, an HTTP request it drops costs no name and no attributes: tracing
    /// added 0.51 µs to such a request in `benches/http_server.rs`, 0.89 µs with the root
    /// boxed (`benches/README.md`, HTTP server).
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry_sdk::trace::Sampler;
    ///
    /// // Continue the caller's decision; start 1 trace in 100.
    /// let config = traced::Config::from_env()
    ///     .with_parent_based_sampler(Sampler::TraceIdRatioBased(0.01));
    /// # let _ = config;
    /// ```
    pub fn with_parent_based_sampler(mut self, root: Sampler) -> Self {
        self.settings.sampler = SamplerSetting::parent_based(SamplerSetting::sdk(root));
        self
    }

    /// Sets the propagators by name (`tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`,
    /// `xray`, `ottrace`, `none`), over `OTEL_PROPAGATORS`.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env().with_propagators(["tracecontext", "b3multi"]);
    /// # let _ = config;
    /// ```
    pub fn with_propagators<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.settings.propagators = names
            .into_iter()
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        self
    }

    /// Sets the span limits, over the `OTEL_SPAN_*_LIMIT` variables.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry_sdk::trace::SpanLimits;
    ///
    /// let config = traced::Config::from_env()
    ///     .with_span_limits(SpanLimits { max_events_per_span: 16, ..SpanLimits::default() });
    /// # let _ = config;
    /// ```
    pub fn with_span_limits(mut self, limits: SpanLimits) -> Self {
        self.settings.limits.span = limits;
        self
    }

    /// Cuts string attribute values to `limit` characters (`None`: no limit), over
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env().with_attribute_value_length_limit(Some(256));
    /// # let _ = config;
    /// ```
    pub fn with_attribute_value_length_limit(mut self, limit: Option<usize>) -> Self {
        self.settings.limits.attribute_value_length = limit;
        self
    }

    /// Sets how the `console` exporter prints, over `OTEL_RUST_CONSOLE_FORMAT`.
    ///
    /// # Example
    ///
    /// ```
    /// let config = traced::Config::from_env().with_console_format(traced::ConsoleFormat::Tree);
    /// # let _ = config;
    /// ```
    pub fn with_console_format(mut self, format: ConsoleFormat) -> Self {
        self.settings.console_format = format;
        self
    }

    /// Turns the SDK off (`true`) or on, over `OTEL_SDK_DISABLED`.
    ///
    /// # Example
    ///
    /// ```
    /// let otel = traced::Config::from_env().disabled(true).install();
    /// assert!(!traced::is_enabled());
    /// # drop(otel);
    /// ```
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.settings.disabled = disabled;
        self
    }

    /// Builds the provider, installs it for `#[traced]` and the OpenTelemetry API, installs
    /// the propagators, and returns the guard that shuts it all down. With the SDK disabled
    /// nothing is installed and every `#[traced]` function stays on its no-op path.
    ///
    /// # Example
    ///
    /// ```
    /// let guard = traced::Config::from_env().with_exporters([]).install();
    /// guard.shutdown().unwrap();
    /// ```
    pub fn install(self) -> OtelGuard {
        if self.settings.disabled {
            installed::disable();
            return OtelGuard::disabled();
        }
        let built = build::Pipeline::build(&self.settings, &self.custom_exporters);
        installed::set_pipeline_provider(
            built.provider.clone(),
            self.settings.sampler.clone(),
            built.sink,
        );
        crate::config::installed_capture::set(self.settings.data_capture);
        // A configuration that names no propagator (a config file without `propagator`)
        // means none, not the default; warnings about unknown names name the variable.
        let names = match self.settings.propagators.as_slice() {
            [] => "none".to_owned(),
            names => names.join(","),
        };
        opentelemetry::global::set_text_map_propagator(propagation::from_env_value(&names));
        OtelGuard::new(
            built.provider,
            built.dropped,
            self.settings.batch.export_timeout,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concurrency(config: &Config) -> Vec<usize> {
        let processors = config.settings.processors.iter();
        let batches = processors.filter_map(|processor| processor.batch);
        let mut counts: Vec<_> = batches.map(|batch| batch.max_concurrent_exports).collect();
        counts.push(config.settings.batch.max_concurrent_exports);
        counts
    }

    #[test]
    fn max_concurrent_exports_reaches_every_batch_processor_within_bounds() {
        let exporters = [ExporterKind::Console, ExporterKind::Otlp];
        let before = Config::defaults()
            .with_exporters(exporters)
            .with_max_concurrent_exports(4);
        assert_eq!(concurrency(&before), [4, 4, 4]);
        let after = Config::defaults()
            .with_max_concurrent_exports(4)
            .with_exporters(exporters);
        assert_eq!(concurrency(&after), [4, 4, 4]);
        let config = Config::defaults().with_exporters(exporters);
        assert_eq!(concurrency(&config.clone()), [1, 1, 1], "the default");
        assert_eq!(
            concurrency(&config.clone().with_max_concurrent_exports(0)),
            [1, 1, 1]
        );
        assert_eq!(
            concurrency(&config.with_max_concurrent_exports(1000)),
            [64, 64, 64]
        );
    }
}
