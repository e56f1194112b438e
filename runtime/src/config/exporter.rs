//! `OTEL_TRACES_EXPORTER`.

use super::source::{Reader, split_list};

/// `OTEL_TRACES_EXPORTER`: a comma list of `otlp` (the default), `console`, `none`.
pub(crate) const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";

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
    /// OpenTelemetry protocol to a collector (feature `otlp`, on by default).
    Otlp,
}

/// Parses a comma list of exporter names into the known kinds (in order, once each) and
/// the unknown names (lower-cased).
pub(crate) fn parse_exporter_names(value: &str) -> (Vec<ExporterKind>, Vec<String>) {
    let mut kinds = Vec::new();
    let mut unknown = Vec::new();
    for name in split_list(value).map(str::to_ascii_lowercase) {
        let kind = match name.as_str() {
            "console" => ExporterKind::Console,
            "otlp" => ExporterKind::Otlp,
            "none" => continue,
            _ => {
                unknown.push(name);
                continue;
            }
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    (kinds, unknown)
}

/// Reads [`OTEL_TRACES_EXPORTER`]: `None` when unset; unknown names give one warning and
/// are skipped.
pub(crate) fn exporters_from_env(reader: &mut Reader<'_>) -> Option<Vec<ExporterKind>> {
    let value = reader.get(OTEL_TRACES_EXPORTER)?;
    let (kinds, unknown) = parse_exporter_names(&value);
    if !unknown.is_empty() {
        let used = if kinds.is_empty() {
            "no exporter".to_owned()
        } else {
            kinds
                .iter()
                .map(|kind| match kind {
                    ExporterKind::Console => "console",
                    ExporterKind::Otlp => "otlp",
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        reader.invalid(
            OTEL_TRACES_EXPORTER,
            &value,
            "a list of otlp, console, none",
            &format!("{used} (unknown names are skipped)"),
        );
    }
    Some(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_trimmed_case_folded_and_deduplicated() {
        assert_eq!(
            parse_exporter_names(" Console ,console").0,
            vec![ExporterKind::Console]
        );
        assert_eq!(
            parse_exporter_names("otlp,console").0,
            vec![ExporterKind::Otlp, ExporterKind::Console]
        );
    }

    #[test]
    fn none_and_unknown_names_export_nothing() {
        assert!(parse_exporter_names("none").0.is_empty());
        assert_eq!(
            parse_exporter_names("zipkin-v9"),
            (vec![], vec!["zipkin-v9".to_owned()])
        );
    }
}
