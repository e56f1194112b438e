//! `OTEL_TRACES_EXPORTER`.

use crate::diagnostics::warn_once;

use super::OTEL_TRACES_EXPORTER;

/// Where finished spans go.
///
/// # Example
///
/// ```
/// use traced::ExporterKind;
///
/// let config = traced::Config::from_env().with_exporters([ExporterKind::Console]);
/// # let _ = config;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExporterKind {
    /// Python-compatible JSON on standard output.
    Console,
    /// OpenTelemetry protocol to a collector (not in this build yet: spans are dropped with a
    /// warning).
    Otlp,
}

/// Parses a comma list of exporter names. `none` (alone) means no exporter; unknown names
/// are warned about and skipped; duplicates count once.
pub(crate) fn parse_exporters(value: &str) -> Vec<ExporterKind> {
    let mut kinds = Vec::new();
    for name in value
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
    {
        let kind = match name.as_str() {
            "console" => ExporterKind::Console,
            "otlp" => ExporterKind::Otlp,
            "none" | "" => continue,
            unknown => {
                warn_once(&format!("{OTEL_TRACES_EXPORTER}={unknown}"), || {
                    format!(
                        "{OTEL_TRACES_EXPORTER}: unknown exporter {unknown:?} is ignored (known: otlp, console, none)"
                    )
                });
                continue;
            }
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_trimmed_case_folded_and_deduplicated() {
        assert_eq!(
            parse_exporters(" Console ,console"),
            vec![ExporterKind::Console]
        );
        assert_eq!(
            parse_exporters("otlp,console"),
            vec![ExporterKind::Otlp, ExporterKind::Console]
        );
    }

    #[test]
    fn none_and_unknown_names_export_nothing() {
        assert!(parse_exporters("none").is_empty());
        assert!(parse_exporters("zipkin-v9").is_empty());
    }
}
