//! The batch span processor: `OTEL_BSP_*`.

use std::time::Duration;

use super::source::{Reader, parse_count};

/// `OTEL_BSP_SCHEDULE_DELAY`: milliseconds between two exports.
pub(crate) const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// The specification's default for [`OTEL_BSP_SCHEDULE_DELAY`].
pub(crate) const OTEL_BSP_SCHEDULE_DELAY_DEFAULT: Duration = Duration::from_millis(5_000);

/// `OTEL_BSP_EXPORT_TIMEOUT`: milliseconds one export may take.
pub(crate) const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// The specification's default for [`OTEL_BSP_EXPORT_TIMEOUT`].
pub(crate) const OTEL_BSP_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_millis(30_000);

/// `OTEL_BSP_MAX_QUEUE_SIZE`: the most spans waiting for export; more are dropped.
pub(crate) const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// The specification's default for [`OTEL_BSP_MAX_QUEUE_SIZE`].
pub(crate) const OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT: usize = 2_048;

/// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: the most spans in one export; at most the queue size.
pub(crate) const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// The specification's default for [`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`].
pub(crate) const OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT: usize = 512;

/// `OTEL_BSP_MAX_CONCURRENT_EXPORTS` (the name opentelemetry_sdk's batch processor reads):
/// how many exports may be in flight at once, for an exporter that can send concurrently
/// (OTLP, whose specification allows concurrent requests); other exporters get one batch at
/// a time, as their contract says.
pub(crate) const OTEL_BSP_MAX_CONCURRENT_EXPORTS: &str = "OTEL_BSP_MAX_CONCURRENT_EXPORTS";
/// The default for [`OTEL_BSP_MAX_CONCURRENT_EXPORTS`]: one export at a time, on the
/// processor's own thread, as every OpenTelemetry SDK does by default.
pub(crate) const OTEL_BSP_MAX_CONCURRENT_EXPORTS_DEFAULT: usize = 1;
/// The most concurrent exports accepted: each is a thread.
pub(crate) const MAX_CONCURRENT_EXPORTS_LIMIT: usize = 64;

/// The resolved batch processor settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchSettings {
    /// Time between two exports.
    pub(crate) schedule_delay: Duration,
    /// How long one export may take.
    pub(crate) export_timeout: Duration,
    /// The most spans waiting for export (at least 1).
    pub(crate) max_queue_size: usize,
    /// The most spans in one export (at least 1, at most `max_queue_size`).
    pub(crate) max_export_batch_size: usize,
    /// The most exports in flight at once (1 to [`MAX_CONCURRENT_EXPORTS_LIMIT`]).
    pub(crate) max_concurrent_exports: usize,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            schedule_delay: OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
            export_timeout: OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
            max_queue_size: OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
            max_export_batch_size: OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
            max_concurrent_exports: OTEL_BSP_MAX_CONCURRENT_EXPORTS_DEFAULT,
        }
    }
}

/// A positive integer.
pub(crate) fn parse_size(value: &str) -> Option<usize> {
    parse_count::<usize>(value).filter(|size| *size > 0)
}

/// A number of concurrent exports: 1 to [`MAX_CONCURRENT_EXPORTS_LIMIT`].
fn parse_concurrency(value: &str) -> Option<usize> {
    parse_size(value).filter(|count| *count <= MAX_CONCURRENT_EXPORTS_LIMIT)
}

/// Keeps the batch size within the queue size; `warn` is called (once) with the message
/// when it had to be lowered.
pub(crate) fn clamp_batch_size(
    max_queue_size: usize,
    max_export_batch_size: usize,
    warn: impl FnOnce(String),
) -> usize {
    if max_export_batch_size > max_queue_size {
        warn(format!(
            "the export batch size {max_export_batch_size} is larger than the queue size \
             {max_queue_size}; using {max_queue_size}"
        ));
        max_queue_size
    } else {
        max_export_batch_size
    }
}

/// Reads the five variables.
pub(crate) fn batch_from_env(reader: &mut Reader<'_>) -> BatchSettings {
    let schedule_delay = reader.millis(OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_SCHEDULE_DELAY_DEFAULT);
    let export_timeout = reader.millis(OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_EXPORT_TIMEOUT_DEFAULT);
    let max_queue_size = reader.parse(
        OTEL_BSP_MAX_QUEUE_SIZE,
        OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
        "a positive integer",
        parse_size,
    );
    let batch_size = reader.parse(
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
        "a positive integer",
        parse_size,
    );
    let max_export_batch_size = clamp_batch_size(max_queue_size, batch_size, |message| {
        reader.warn(
            OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
            &batch_size.to_string(),
            format!("{OTEL_BSP_MAX_EXPORT_BATCH_SIZE}: {message}"),
        );
    });
    let max_concurrent_exports = reader.parse(
        OTEL_BSP_MAX_CONCURRENT_EXPORTS,
        OTEL_BSP_MAX_CONCURRENT_EXPORTS_DEFAULT,
        &format!("an integer from 1 to {MAX_CONCURRENT_EXPORTS_LIMIT}"),
        parse_concurrency,
    );
    BatchSettings {
        schedule_delay,
        export_timeout,
        max_queue_size,
        max_export_batch_size,
        max_concurrent_exports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(vars: &[(&str, &str)]) -> (BatchSettings, Vec<String>) {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let mut reader = Reader::new(&lookup);
        let settings = batch_from_env(&mut reader);
        let messages = reader
            .into_warnings()
            .into_iter()
            .map(|warning| warning.message)
            .collect();
        (settings, messages)
    }

    #[test]
    fn values_are_read_in_milliseconds_and_spans() {
        let (settings, warnings) = batch(&[
            (OTEL_BSP_SCHEDULE_DELAY, "100"),
            (OTEL_BSP_EXPORT_TIMEOUT, "0"),
            (OTEL_BSP_MAX_QUEUE_SIZE, "10"),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "5"),
            (OTEL_BSP_MAX_CONCURRENT_EXPORTS, "4"),
        ]);
        assert_eq!(
            settings,
            BatchSettings {
                schedule_delay: Duration::from_millis(100),
                export_timeout: Duration::ZERO,
                max_queue_size: 10,
                max_export_batch_size: 5,
                max_concurrent_exports: 4,
            }
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_batch_larger_than_the_queue_is_clamped_with_a_warning() {
        let (settings, warnings) = batch(&[(OTEL_BSP_MAX_QUEUE_SIZE, "100")]);
        assert_eq!(settings.max_export_batch_size, 100);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains(OTEL_BSP_MAX_EXPORT_BATCH_SIZE));
        assert!(warnings[0].contains("using 100"));
    }

    #[test]
    fn zero_sizes_are_invalid() {
        let (settings, warnings) = batch(&[
            (OTEL_BSP_MAX_QUEUE_SIZE, "0"),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "0"),
            (OTEL_BSP_MAX_CONCURRENT_EXPORTS, "0"),
        ]);
        assert_eq!(settings, BatchSettings::default());
        assert_eq!(warnings.len(), 3);
    }

    #[test]
    fn concurrent_exports_are_bounded() {
        let (settings, warnings) = batch(&[(OTEL_BSP_MAX_CONCURRENT_EXPORTS, "64")]);
        assert_eq!(settings.max_concurrent_exports, 64);
        assert!(warnings.is_empty());
        for value in ["65", "-1", "two"] {
            let (settings, warnings) = batch(&[(OTEL_BSP_MAX_CONCURRENT_EXPORTS, value)]);
            assert_eq!(settings.max_concurrent_exports, 1, "{value}");
            assert_eq!(warnings.len(), 1, "{value}");
            assert!(warnings[0].contains("from 1 to 64"), "{}", warnings[0]);
        }
    }
}
