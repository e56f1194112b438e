//! [`Settings`]: everything the pipeline needs, resolved once from `OTEL_CONFIG_FILE`, or
//! from the `OTEL_*` variables over the Hypertrace `HT_*` ones.

use super::console::{ConsoleFormat, console_format_from_env};
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;

use crate::diagnostics::{self, LogLevel, warn_once};

use super::batch::{BatchSettings, batch_from_env};
use super::data_capture::DataCapture;
use super::exporter::{ExporterKind, exporters_from_env};
use super::file::{OTEL_CONFIG_FILE, settings_from_file};
use super::hypertrace::{Hypertrace, hypertrace_from_env};
use super::limits::{Limits, limits_from_env};
use super::log_level::{OTEL_LOG_LEVEL_DEFAULT, log_level_from_env};
use super::otlp::OtlpSettings;
use super::otlp_env::otlp_from_env;
use super::resource::{
    OTEL_SERVICE_NAME, merge_attributes, resource_attributes_from_env, service_name_in,
    with_service_name,
};
use super::sampler::{SamplerSetting, sampler_from_env};
use super::source::{Reader, Warning, split_list};

/// `OTEL_SDK_DISABLED`: `true` turns tracing off (case-insensitive; anything but `true` or
/// `false` warns and counts as `false`).
pub(crate) const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";

/// `OTEL_PROPAGATORS`: a comma list of propagator names.
pub(crate) const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// The specification's default for [`OTEL_PROPAGATORS`].
pub(crate) const OTEL_PROPAGATORS_DEFAULT: [&str; 2] = ["tracecontext", "baggage"];

/// One span processor: an exporter, batched or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcessorSettings {
    /// Where the spans go (an OTLP exporter uses [`Settings::otlp`]).
    pub(crate) exporter: ExporterKind,
    /// `Some`: a batch processor with these settings; `None`: a simple processor that
    /// exports each span as it ends.
    pub(crate) batch: Option<BatchSettings>,
}

/// The resolved configuration: plain fields, every value validated, every default applied.
///
/// Sources, highest first:
/// 1. `OTEL_CONFIG_FILE`, when set and readable: then no other `OTEL_*` or `HT_*` variable
///    is read, as the specification says (except the `HT_DATA_CAPTURE_*` choices, which the
///    file has no place for);
/// 2. the `OTEL_*` variables;
/// 3. the Hypertrace configuration: `HT_*` variables over `HT_CONFIG_FILE`. An `OTEL_*`
///    variable wins over its `HT_*` counterpart whenever both are set (`OTEL_SERVICE_NAME`
///    over `HT_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_*ENDPOINT` over `HT_REPORTING_ENDPOINT`,
///    `OTEL_TRACES_EXPORTER` over `HT_TRACES_EXPORTER`, `OTEL_PROPAGATORS` over
///    `HT_PROPAGATION_FORMATS`, `OTEL_SDK_DISABLED` over `HT_ENABLED`, `OTEL_LOG_LEVEL`
///    over `HT_LOG_LEVEL`, ...); the `HT_REPORTING_TOKEN` header is added unless the
///    `OTEL_*` headers have one of the same name;
/// 4. the specification's defaults.
///
/// Code overrides (`traced::Config`) are applied on top by the pipeline.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// Tracing is off: install nothing, record nothing.
    pub(crate) disabled: bool,
    /// The resource attributes, `service.name` first (always present).
    pub(crate) resource: Vec<KeyValue>,
    /// The span processors, in order (empty: nothing is exported).
    pub(crate) processors: Vec<ProcessorSettings>,
    /// The OTLP exporter's settings (for every [`ExporterKind::Otlp`] processor).
    pub(crate) otlp: OtlpSettings,
    /// The batch settings from `OTEL_BSP_*` (or the file's first batch processor), for
    /// exporters added in code.
    pub(crate) batch: BatchSettings,
    /// The propagator names, lower-cased, in order, once each (not validated here).
    pub(crate) propagators: Vec<String>,
    /// The sampler.
    pub(crate) sampler: SamplerSetting,
    /// Span, event, link and attribute limits.
    pub(crate) limits: Limits,
    /// The library's own diagnostics level.
    pub(crate) log_level: LogLevel,
    /// What the HTTP and gRPC integrations capture.
    #[allow(dead_code, reason = "read by the HTTP and gRPC integrations")]
    pub(crate) data_capture: DataCapture,
    /// How the `console` exporter prints (`OTEL_RUST_CONSOLE_FORMAT`, read whatever the
    /// source, since it is this library's own).
    pub(crate) console_format: ConsoleFormat,
}

impl Settings {
    /// Resolves the process environment, applies the log level to the library's
    /// diagnostics, and prints each warning (once per process).
    pub(crate) fn from_env() -> Self {
        let lookup = |name: &str| std::env::var(name).ok();
        let (settings, warnings) = Self::from_lookup(&lookup);
        diagnostics::set_max_level(settings.log_level);
        for warning in warnings {
            warn_once(&warning.topic, || warning.message);
        }
        settings
    }

    /// Resolves the variables `lookup` gives, without printing anything or touching the
    /// process: the warnings are returned, in the order they were found.
    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> (Self, Vec<Warning>) {
        let mut reader = Reader::new(lookup);
        let settings = resolve(&mut reader);
        (settings, reader.into_warnings())
    }

    /// The service name (the `service.name` resource attribute).
    #[cfg(test)]
    pub(crate) fn service_name(&self) -> String {
        self.resource
            .iter()
            .find(|attribute| {
                attribute.key.as_str() == opentelemetry_semantic_conventions::resource::SERVICE_NAME
            })
            .map(|attribute| attribute.value.as_str().into_owned())
            .unwrap_or_default()
    }

    /// The exporters of [`Settings::processors`], in order.
    #[cfg(test)]
    pub(crate) fn exporters(&self) -> Vec<ExporterKind> {
        self.processors
            .iter()
            .map(|processor| processor.exporter)
            .collect()
    }

    /// The SDK resource: the `telemetry.sdk.*` attributes, the detected `host`, `os` and
    /// `process` ones, then [`Settings::resource`] (later ones win).
    /// (`Resource::builder()` would read `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`
    /// again, without percent-decoding and with the wrong precedence.)
    pub(crate) fn sdk_resource(&self) -> Resource {
        Resource::builder_empty()
            .with_detector(Box::new(TelemetryResourceDetector))
            .with_attributes(super::detectors::detected_attributes())
            .with_attributes(self.resource.iter().cloned())
            .build()
    }
}

impl Default for Settings {
    /// The specification's defaults, as with an empty environment.
    fn default() -> Self {
        Self::from_lookup(&|_| None).0
    }
}

/// Batches each exporter with `batch`.
pub(crate) fn batched(
    exporters: Vec<ExporterKind>,
    batch: BatchSettings,
) -> Vec<ProcessorSettings> {
    exporters
        .into_iter()
        .map(|exporter| ProcessorSettings {
            exporter,
            batch: Some(batch),
        })
        .collect()
}

/// Splits, trims, lower-cases and de-duplicates a propagator list.
pub(crate) fn propagator_names<'v>(names: impl IntoIterator<Item = &'v str>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        let name = name.trim().to_ascii_lowercase();
        if !name.is_empty() && !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

fn resolve(reader: &mut Reader<'_>) -> Settings {
    let console_format = console_format_from_env(reader);
    let hypertrace = hypertrace_from_env(reader);
    let from_file = reader
        .get(OTEL_CONFIG_FILE)
        .and_then(|path| settings_from_file(reader, &path, hypertrace.data_capture));
    let mut settings = match from_file {
        Some(settings) => settings,
        None => from_variables(reader, hypertrace),
    };
    settings.console_format = console_format;
    settings
}

fn from_variables(reader: &mut Reader<'_>, hypertrace: Hypertrace) -> Settings {
    let log_level = log_level_from_env(
        reader,
        hypertrace.log_level.unwrap_or(OTEL_LOG_LEVEL_DEFAULT),
    );
    let disabled = reader.bool(OTEL_SDK_DISABLED, hypertrace.disabled.unwrap_or(false));

    let env_attributes = resource_attributes_from_env(reader);
    let service_name = reader
        .get(OTEL_SERVICE_NAME)
        .or_else(|| service_name_in(&env_attributes))
        .or(hypertrace.service_name);
    let resource = with_service_name(
        merge_attributes(hypertrace.resource_attributes, env_attributes),
        service_name,
    );

    let batch = batch_from_env(reader);
    let processors = match exporters_from_env(reader) {
        Some(exporters) => batched(exporters, batch),
        None => match hypertrace.exporters {
            Some(exporters) if hypertrace.console => exporters
                .into_iter()
                .map(|exporter| ProcessorSettings {
                    exporter,
                    batch: None,
                })
                .collect(),
            Some(exporters) => batched(exporters, batch),
            None => batched(vec![ExporterKind::Otlp], batch),
        },
    };
    let otlp = otlp_from_env(reader, hypertrace.otlp);

    let propagators = match reader.get(OTEL_PROPAGATORS) {
        Some(value) => propagator_names(split_list(&value)),
        None => hypertrace
            .propagators
            .unwrap_or_else(|| propagator_names(OTEL_PROPAGATORS_DEFAULT)),
    };

    Settings {
        disabled,
        resource,
        processors,
        otlp,
        batch,
        propagators,
        sampler: sampler_from_env(reader),
        limits: limits_from_env(reader),
        log_level,
        data_capture: hypertrace.data_capture,
        console_format: ConsoleFormat::default(),
    }
}
