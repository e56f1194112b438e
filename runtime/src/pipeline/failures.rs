//! Export failures on standard error while they happen ([`Throttle`]d), each line counting
//! the failures held back since the one before: a collector that is down or refuses the
//! spans (a wrong endpoint, an expired token) shows in the log when it starts, not only as a
//! count at shutdown. The latest failure, when it was not printed, goes into the report at
//! shutdown. When exports succeed again after a failure was printed, a line says so, with
//! how many failed and for how long. Batch processors note their exports' results
//! themselves; an exporter behind the SDK's simple processor is wrapped
//! ([`super::watched::Watched`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::throttle::{Throttle, Turn};
use crate::diagnostics::{for_people, info, warn};

/// The failed exports of one processor, whichever of its threads sent them.
#[derive(Debug, Default)]
pub(crate) struct ExportFailures {
    state: Mutex<State>,
    /// Whether the latest export failed: a successful one then ends an outage, otherwise
    /// it takes no lock.
    failing: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    throttle: Throttle,
    /// Failures since the last one printed, not printed.
    unprinted: u64,
    /// The latest of those.
    latest_unprinted: Option<String>,
    /// The failures since the last successful export.
    outage: Option<Outage>,
}

/// Exports failing one after the other.
#[derive(Debug)]
struct Outage {
    since: Instant,
    failed: u64,
    /// Whether one of its failures was printed: only then is its end.
    printed: bool,
}

impl ExportFailures {
    /// Notes how an export ended: a failure is kept, and printed unless another was printed
    /// less than a minute ago; a success after printed failures is printed too. (The
    /// exporter counts the spans it dropped.)
    pub(super) fn note(&self, result: &OTelSdkResult) {
        match result {
            Ok(()) if self.failing.load(Ordering::Relaxed) => {
                if let Some(line) = self.recovered(Instant::now()) {
                    info(|| line);
                }
            }
            Ok(()) => {}
            Err(err) => {
                if let Some(line) = self.record(describe(err), Instant::now()) {
                    warn(|| line);
                }
            }
        }
    }

    /// Ends the outage at `now`, when an export succeeded; returns the line to print, if
    /// one of its failures was printed.
    fn recovered(&self, now: Instant) -> Option<String> {
        let mut state = self.lock();
        self.failing.store(false, Ordering::Relaxed);
        let outage = state.outage.take().filter(|outage| outage.printed)?;
        let exports = if outage.failed == 1 {
            "export"
        } else {
            "exports"
        };
        Some(format!(
            "exports succeed again, after {} failed {exports} over {}",
            outage.failed,
            for_people(now.saturating_duration_since(outage.since))
        ))
    }

    /// The latest failure, if an export failed since the last line printed.
    pub(crate) fn latest_unprinted(&self) -> Option<String> {
        self.lock().latest_unprinted.clone()
    }

    /// Records `failure`, which happened at `now`, and returns the line to print, if any.
    fn record(&self, failure: String, now: Instant) -> Option<String> {
        let mut state = self.lock();
        self.failing.store(true, Ordering::Relaxed);
        let line = match state.throttle.turn(now) {
            Turn::First => Some(format!(
                "{failure}; its spans are dropped (export failures are printed at most once a \
                 minute, and the spans dropped counted at shutdown)"
            )),
            Turn::Again => Some(match state.unprinted {
                0 => format!("{failure}; its spans are dropped"),
                others => format!(
                    "{failure}; its spans are dropped, as were those of {others} other failed \
                     export{} since the last message",
                    if others == 1 { "" } else { "s" }
                ),
            }),
            Turn::Held => None,
        };
        let outage = state.outage.get_or_insert(Outage {
            since: now,
            failed: 0,
            printed: false,
        });
        outage.failed += 1;
        outage.printed |= line.is_some();
        if line.is_some() {
            state.unprinted = 0;
            state.latest_unprinted = None;
        } else {
            state.unprinted += 1;
            state.latest_unprinted = Some(failure);
        }
        line
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is a plain assignment: a panic cannot leave the state half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An exporter's error as a sentence. The OTLP exporter's messages say what failed
/// ("OTLP export of 2 spans failed: ..."); the SDK's `Display` would prefix them with
/// "Operation failed".
fn describe(err: &OTelSdkError) -> String {
    match err {
        OTelSdkError::InternalFailure(message) => message.clone(),
        OTelSdkError::Timeout(after) => format!("an export timed out after {after:?}"),
        OTelSdkError::AlreadyShutdown => {
            "an export came after its exporter was shut down".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_first_failure_is_printed_then_at_most_one_a_minute_counting_the_others() {
        let failures = ExportFailures::default();
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);

        let first = failures.record("refused".to_owned(), at(0));
        let first = first.expect("the first failure is printed");
        assert!(
            first.starts_with("refused; its spans are dropped"),
            "{first}"
        );
        assert!(first.contains("at most once a minute"), "{first}");

        assert_eq!(failures.record("refused".to_owned(), at(10)), None);
        assert_eq!(failures.record("HTTP 503".to_owned(), at(59)), None);
        assert_eq!(failures.latest_unprinted().as_deref(), Some("HTTP 503"));

        let later = failures.record("HTTP 401".to_owned(), at(60));
        assert_eq!(failures.latest_unprinted(), None, "printed");
        assert_eq!(
            later.as_deref(),
            Some(
                "HTTP 401; its spans are dropped, as were those of 2 other failed exports \
                 since the last message"
            )
        );
        assert_eq!(failures.record("HTTP 401".to_owned(), at(100)), None);
        let one_other = failures.record("HTTP 401".to_owned(), at(121));
        assert_eq!(
            one_other.as_deref(),
            Some(
                "HTTP 401; its spans are dropped, as were those of 1 other failed export since the last message"
            )
        );
        // Quiet for an hour, then one failure: printed at once, nothing else to count.
        let alone = failures.record("timed out".to_owned(), at(3_700));
        assert_eq!(alone.as_deref(), Some("timed out; its spans are dropped"));
    }

    #[test]
    fn the_end_of_printed_failures_is_printed_once_with_their_count_and_duration() {
        let failures = ExportFailures::default();
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(failures.recovered(at(0)), None, "nothing failed");
        assert!(failures.record("refused".to_owned(), at(0)).is_some());
        assert_eq!(failures.record("refused".to_owned(), at(30)), None);
        assert!(failures.failing.load(Ordering::Relaxed));
        assert_eq!(
            failures.recovered(at(42)).as_deref(),
            Some("exports succeed again, after 2 failed exports over 42s")
        );
        assert!(!failures.failing.load(Ordering::Relaxed));
        assert_eq!(failures.recovered(at(43)), None, "said once");

        // Failing again within the minute of the last line: held back, and so is its end
        // (a collector that fails every other export prints at most a line a minute).
        assert_eq!(failures.record("HTTP 503".to_owned(), at(50)), None);
        assert_eq!(failures.recovered(at(51)), None);
        // Later: printed, and its end too.
        assert!(failures.record("HTTP 503".to_owned(), at(60)).is_some());
        assert_eq!(failures.record("HTTP 503".to_owned(), at(61)), None);
        assert_eq!(
            failures.recovered(at(252)).as_deref(),
            Some("exports succeed again, after 2 failed exports over 3m12s")
        );
    }

    #[test]
    fn successes_are_not_failures() {
        let failures = ExportFailures::default();
        failures.note(&Ok(()));
        let first = failures.record("first".to_owned(), Instant::now());
        assert!(first.is_some(), "the first failure is printed");
        failures.note(&Err(OTelSdkError::InternalFailure("refused".to_owned())));
        failures.note(&Ok(()));
        assert_eq!(
            failures.latest_unprinted().as_deref(),
            Some("refused"),
            "a failure within the minute is kept for the report at shutdown"
        );
    }

    #[test]
    fn every_error_reads_as_a_sentence() {
        let message = OTelSdkError::InternalFailure("OTLP export of 2 spans failed: x".into());
        assert_eq!(describe(&message), "OTLP export of 2 spans failed: x");
        let timeout = OTelSdkError::Timeout(Duration::from_secs(5));
        assert_eq!(describe(&timeout), "an export timed out after 5s");
        assert!(describe(&OTelSdkError::AlreadyShutdown).contains("shut down"));
    }
}
