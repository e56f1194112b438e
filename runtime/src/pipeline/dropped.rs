//! The spans a pipeline did not deliver, counted by cause, and the line that reports them at
//! shutdown: which cause lost how many, so the fix is plain (a larger queue, or a look at the
//! collector).

use std::fmt;
use std::sync::Arc;

use super::failures::ExportFailures;

/// Why spans were not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A batch processor's queue was full: spans ended faster than they were exported.
    FullQueue,
    /// An export failed, or the collector rejected spans (partial success).
    Export,
    /// Ended while the pipeline was shutting down, or still queued when shutting down timed
    /// out.
    Shutdown,
}

impl Cause {
    /// How the report at shutdown says it, after the count.
    fn phrase(self) -> &'static str {
        match self {
            Self::FullQueue => "by a full export queue (OTEL_BSP_MAX_QUEUE_SIZE)",
            Self::Export => "by failed or rejected exports",
            Self::Shutdown => "ended during shutdown or still queued when it timed out",
        }
    }
}

/// The counters of a pipeline's processors and exporters, and their failed exports.
#[derive(Clone, Default)]
pub(crate) struct DroppedReport {
    counters: Vec<(Cause, Arc<dyn Fn() -> u64 + Send + Sync>)>,
    failures: Vec<Arc<ExportFailures>>,
}

impl DroppedReport {
    /// Adds a counter of spans lost to `cause`.
    pub(crate) fn add(&mut self, cause: Cause, counter: impl Fn() -> u64 + Send + Sync + 'static) {
        self.counters.push((cause, Arc::new(counter)));
    }

    /// Adds a processor's failed exports.
    pub(crate) fn add_failures(&mut self, failures: Arc<ExportFailures>) {
        self.failures.push(failures);
    }

    /// Every span not delivered so far.
    pub(crate) fn total(&self) -> u64 {
        self.counters.iter().map(|(_, counter)| counter()).sum()
    }

    /// The warning for the end of the pipeline: how many spans each cause lost, and the
    /// latest failed export if it was not printed when it happened. `None` when nothing was
    /// lost.
    pub(crate) fn summary(&self) -> Option<String> {
        let unprinted = self
            .failures
            .iter()
            .find_map(|failures| failures.latest_unprinted());
        let mut total = 0;
        let mut parts = Vec::new();
        for cause in [Cause::FullQueue, Cause::Export, Cause::Shutdown] {
            let count: u64 = self
                .counters
                .iter()
                .filter(|(counted, _)| *counted == cause)
                .map(|(_, counter)| counter())
                .sum();
            if count > 0 {
                total += count;
                parts.push(format!("{count} {}", cause.phrase()));
            }
        }
        let latest = unprinted.map(|failure| format!("; the latest failed export: {failure}"));
        if total == 0 {
            // A failed export that lost no counted span (an empty one) is still named.
            return latest.map(|latest| format!("spans may have been lost{latest}"));
        }
        let spans = if total == 1 { "span was" } else { "spans were" };
        Some(format!(
            "{total} {spans} dropped: {}{}",
            parts.join(", "),
            latest.unwrap_or_default()
        ))
    }
}

impl fmt::Debug for DroppedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DroppedReport")
            .field("total", &self.total())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::error::OTelSdkError;

    use super::*;

    #[test]
    fn nothing_lost_says_nothing() {
        let mut report = DroppedReport::default();
        report.add(Cause::FullQueue, || 0);
        report.add(Cause::Export, || 0);
        assert_eq!(report.total(), 0);
        assert_eq!(report.summary(), None);
    }

    #[test]
    fn each_cause_is_named_with_its_count() {
        let mut report = DroppedReport::default();
        report.add(Cause::Shutdown, || 2);
        report.add(Cause::FullQueue, || 196);
        report.add(Cause::FullQueue, || 4);
        report.add(Cause::Export, || 0);
        assert_eq!(report.total(), 202);
        assert_eq!(
            report.summary().as_deref(),
            Some(
                "202 spans were dropped: 200 by a full export queue (OTEL_BSP_MAX_QUEUE_SIZE), \
                 2 ended during shutdown or still queued when it timed out"
            )
        );
    }

    #[test]
    fn a_failed_export_not_printed_yet_is_named() {
        let failures = Arc::new(ExportFailures::default());
        // The first failure is printed when it happens; the second, within the minute, not.
        for reason in ["refused", "HTTP 401"] {
            failures.note(&Err(OTelSdkError::InternalFailure(reason.to_owned())));
        }
        let mut report = DroppedReport::default();
        report.add(Cause::Export, || 1);
        report.add_failures(Arc::clone(&failures));
        assert_eq!(
            report.summary().as_deref(),
            Some(
                "1 span was dropped: 1 by failed or rejected exports; the latest failed \
                 export: HTTP 401"
            )
        );
        let mut uncounted = DroppedReport::default();
        uncounted.add_failures(failures);
        assert_eq!(
            uncounted.summary().as_deref(),
            Some("spans may have been lost; the latest failed export: HTTP 401")
        );
    }
}
