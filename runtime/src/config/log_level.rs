//! `OTEL_LOG_LEVEL`: how much the library itself prints about its own problems.

use crate::diagnostics::LogLevel;

use super::source::{Describe, Reader};

/// `OTEL_LOG_LEVEL`: `error`, `warn`, `info`, `debug` or `none`.
pub(crate) const OTEL_LOG_LEVEL: &str = "OTEL_LOG_LEVEL";
/// The specification's default for [`OTEL_LOG_LEVEL`].
pub(crate) const OTEL_LOG_LEVEL_DEFAULT: LogLevel = LogLevel::Info;

/// What a warning says is expected.
pub(crate) const EXPECTED: &str = "one of error, warn, info, debug, none";

impl Describe for LogLevel {
    fn describe(&self) -> String {
        self.name().to_owned()
    }
}

/// Parses a level name, case-insensitive.
pub(crate) fn parse_log_level(value: &str) -> Option<LogLevel> {
    Some(match value.to_ascii_lowercase().as_str() {
        "none" => LogLevel::None,
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        _ => return None,
    })
}

/// Reads [`OTEL_LOG_LEVEL`]; unset gives `fallback` (the `HT_LOG_LEVEL` value or the default).
pub(crate) fn log_level_from_env(reader: &mut Reader<'_>, fallback: LogLevel) -> LogLevel {
    reader.parse(OTEL_LOG_LEVEL, fallback, EXPECTED, parse_log_level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(parse_log_level("DEBUG"), Some(LogLevel::Debug));
        assert_eq!(parse_log_level("None"), Some(LogLevel::None));
        assert_eq!(parse_log_level("warn"), Some(LogLevel::Warn));
        assert_eq!(parse_log_level("verbose"), None);
    }
}
