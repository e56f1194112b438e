//! Configuration from the standard `OTEL_*` environment variables: one constant per
//! variable, with its default beside it, and the parsing of each value.

mod exporter;
mod otlp;

pub use exporter::ExporterKind;
pub use otlp::{OtlpCompression, OtlpProtocol, OtlpSettings};
pub(crate) use exporter::parse_exporters;

/// `OTEL_SERVICE_NAME`: the `service.name` resource attribute.
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// `OTEL_TRACES_EXPORTER`: a comma list of `otlp`, `console`, `none`.
pub(crate) const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// The specification's default for [`OTEL_TRACES_EXPORTER`].
pub(crate) const OTEL_TRACES_EXPORTER_DEFAULT: &str = "otlp";

/// Reads a variable; unset, empty or not Unicode all count as unset, which is what the
/// specification asks ("an empty value is treated as unset").
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}
