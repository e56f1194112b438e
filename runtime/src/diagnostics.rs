//! The library's own diagnostics, on standard error: configuration problems, failed exports
//! and their end, dropped spans.
//! Never a panic, never a message that could carry a secret.
//!
//! How much is printed is set by `OTEL_LOG_LEVEL` (see [`set_max_level`]); the default is
//! [`LogLevel::Info`], which prints errors and warnings.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// The severity of a diagnostic, and the threshold `OTEL_LOG_LEVEL` sets: a message is
/// printed when its level is at or below the maximum (`None` prints nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum LogLevel {
    /// Nothing at all.
    None = 0,
    /// Only errors.
    Error = 1,
    /// Errors and warnings.
    Warn = 2,
    /// Errors, warnings and informational messages (the default).
    Info = 3,
    /// Everything.
    Debug = 4,
}

impl LogLevel {
    /// The specification's name of the level, as `OTEL_LOG_LEVEL` spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::None,
            1 => Self::Error,
            2 => Self::Warn,
            3 => Self::Info,
            _ => Self::Debug,
        }
    }
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Sets the most verbose level that is printed (from `OTEL_LOG_LEVEL`).
pub(crate) fn set_max_level(level: LogLevel) {
    MAX_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The most verbose level that is printed.
pub(crate) fn max_level() -> LogLevel {
    LogLevel::from_u8(MAX_LEVEL.load(Ordering::Relaxed))
}

/// Whether a message of `level` would be printed.
pub(crate) fn enabled(level: LogLevel) -> bool {
    allows(max_level(), level)
}

fn allows(max: LogLevel, level: LogLevel) -> bool {
    level != LogLevel::None && level <= max
}

/// Prints `message` as a warning, once per distinct `topic` for the life of the process, so
/// a bad variable read on every `init()` does not flood the log. Nothing is printed (and the
/// topic is not consumed) when the level filter is below [`LogLevel::Warn`].
pub(crate) fn warn_once(topic: &str, message: impl FnOnce() -> String) {
    if !enabled(LogLevel::Warn) {
        return;
    }
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if seen
        .get_or_insert_with(HashSet::new)
        .insert(topic.to_owned())
    {
        eprintln!("traced: warning: {}", message());
    }
}

/// Prints `message` as a warning (every time: for events that happen once, like shutdown).
pub(crate) fn warn(message: impl FnOnce() -> String) {
    if enabled(LogLevel::Warn) {
        eprintln!("traced: warning: {}", message());
    }
}

/// Prints `message` as information: the end of a condition a warning reported.
pub(crate) fn info(message: impl FnOnce() -> String) {
    if enabled(LogLevel::Info) {
        eprintln!("traced: info: {}", message());
    }
}

/// `duration` as people write it in a message: `500ms`, `10s`, `1.5s`, `3m12s`, `2h5m`
/// (milliseconds below a second, tenths of a second below a minute when there are any,
/// then to the second, then to the minute).
pub(crate) fn for_people(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0 => format!("{}ms", duration.as_millis()),
        1..60 if duration.subsec_nanos() == 0 => format!("{seconds}s"),
        1..60 => format!("{:.1}s", duration.as_secs_f64()),
        60..3600 => format!("{}m{}s", seconds / 60, seconds % 60),
        _ => format!("{}h{}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(for_people(Duration::from_millis(500)), "500ms");
        assert_eq!(for_people(Duration::from_millis(850)), "850ms");
        assert_eq!(for_people(Duration::from_secs(10)), "10s");
        assert_eq!(for_people(Duration::from_secs(42)), "42s");
        assert_eq!(for_people(Duration::from_millis(1500)), "1.5s");
        assert_eq!(for_people(Duration::from_secs(192)), "3m12s");
        assert_eq!(
            for_people(Duration::from_secs(2 * 3600 + 5 * 60 + 9)),
            "2h5m"
        );
    }

    #[test]
    fn levels_are_ordered_from_silent_to_verbose() {
        assert!(LogLevel::None < LogLevel::Error);
        assert!(LogLevel::Error < LogLevel::Warn);
        assert!(LogLevel::Warn < LogLevel::Info);
        assert!(LogLevel::Info < LogLevel::Debug);
        for level in [
            LogLevel::None,
            LogLevel::Error,
            LogLevel::Warn,
            LogLevel::Info,
            LogLevel::Debug,
        ] {
            assert_eq!(LogLevel::from_u8(level as u8), level);
        }
    }

    #[test]
    fn a_level_prints_itself_and_everything_more_severe() {
        assert!(allows(LogLevel::Info, LogLevel::Warn));
        assert!(allows(LogLevel::Info, LogLevel::Info));
        assert!(!allows(LogLevel::Info, LogLevel::Debug));
        assert!(allows(LogLevel::Error, LogLevel::Error));
        assert!(!allows(LogLevel::Error, LogLevel::Warn));
        assert!(!allows(LogLevel::None, LogLevel::Error));
        assert!(!allows(LogLevel::Debug, LogLevel::None));
    }
}
