//! `OTEL_RUST_CONSOLE_FORMAT`: how the `console` exporter prints.

use super::source::Reader;

/// `OTEL_RUST_CONSOLE_FORMAT`: `json` (Python's `ConsoleSpanExporter` documents) or `tree`
/// (an indented, human-readable tree per trace).
pub(crate) const OTEL_RUST_CONSOLE_FORMAT: &str = "OTEL_RUST_CONSOLE_FORMAT";

/// How the `console` exporter prints spans.
///
/// # Example
///
/// ```
/// use traced::{ConsoleFormat, ExporterKind};
///
/// let config = traced::Config::from_env()
///     .with_exporters([ExporterKind::Console])
///     .with_console_format(ConsoleFormat::Tree);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsoleFormat {
    /// One JSON document per span, as Python's `ConsoleSpanExporter` prints (the default).
    #[default]
    Json,
    /// One indented tree per trace, with durations, status and attributes.
    Tree,
}

/// Reads [`OTEL_RUST_CONSOLE_FORMAT`]; an unknown value warns and prints JSON.
pub(crate) fn console_format_from_env(reader: &mut Reader<'_>) -> ConsoleFormat {
    let Some(value) = reader.get(OTEL_RUST_CONSOLE_FORMAT) else {
        return ConsoleFormat::Json;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "json" => ConsoleFormat::Json,
        "tree" => ConsoleFormat::Tree,
        _ => {
            reader.invalid(OTEL_RUST_CONSOLE_FORMAT, &value, "json or tree", "json");
            ConsoleFormat::Json
        }
    }
}
