//! Spans a full batch queue dropped, printed by the export thread as it notices them
//! ([`Throttle`]d): spans ending faster than they are exported show in the log while it
//! happens, not only in the count at shutdown, and the application's threads, which drop
//! them, never print.

use std::time::Instant;

use super::throttle::{Throttle, Turn};
use crate::diagnostics::warn;

/// What the export thread has reported of its queue's overflow.
#[derive(Debug)]
pub(super) struct QueueOverflow {
    /// The queue's capacity, named in the warning.
    capacity: usize,
    /// The overflow count when last read.
    seen: u64,
    /// Spans dropped since the last line printed.
    unprinted: u64,
    throttle: Throttle,
}

impl QueueOverflow {
    /// Nothing dropped yet from a queue of `capacity` spans.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            seen: 0,
            unprinted: 0,
            throttle: Throttle::default(),
        }
    }

    /// Reads the queue's overflow count (every span a full queue dropped so far) and prints
    /// the spans dropped since, unless a line was printed less than a minute ago.
    pub(super) fn note(&mut self, overflowed: u64) {
        // Every export turn asks: the clock is read only when there is something to say.
        if overflowed == self.seen {
            return;
        }
        if let Some(line) = self.record(overflowed, Instant::now()) {
            warn(|| line);
        }
    }

    /// [`Self::note`] at `now`: the line to print, if any.
    fn record(&mut self, overflowed: u64, now: Instant) -> Option<String> {
        let new = overflowed.saturating_sub(self.seen);
        if new == 0 {
            return None;
        }
        self.seen = overflowed;
        self.unprinted += new;
        let (capacity, dropped) = (self.capacity, self.unprinted);
        let spans = if dropped == 1 { "span" } else { "spans" };
        let line = match self.throttle.turn(now) {
            Turn::First => format!(
                "the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE={capacity}): {dropped} \
                 {spans} dropped, ended faster than they were exported (a full queue is \
                 printed at most once a minute, and the spans dropped counted at shutdown)"
            ),
            Turn::Again => format!(
                "the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE={capacity}): {dropped} \
                 {spans} dropped since the last message"
            ),
            Turn::Held => return None,
        };
        self.unprinted = 0;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn new_drops_are_printed_at_once_then_summed_a_minute_later() {
        let mut overflow = QueueOverflow::new(2048);
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);

        assert_eq!(overflow.record(0, at(0)), None, "nothing dropped");
        let first = overflow
            .record(37, at(1))
            .expect("the first drops are printed");
        assert!(
            first.starts_with(
                "the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE=2048): 37 spans dropped"
            ),
            "{first}"
        );
        assert_eq!(overflow.record(37, at(2)), None, "no new drops");
        assert_eq!(overflow.record(40, at(30)), None, "within the minute");
        assert_eq!(
            overflow.record(41, at(60)),
            None,
            "59 s after the first line"
        );
        assert_eq!(
            overflow.record(41, at(61)).as_deref(),
            None,
            "nothing new since the last read: no line, even after the minute"
        );
        assert_eq!(
            overflow.record(42, at(62)).as_deref(),
            Some(
                "the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE=2048): 5 spans dropped \
                 since the last message"
            ),
            "the drops held back are summed"
        );
        assert_eq!(
            overflow.record(43, at(200)).as_deref(),
            Some(
                "the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE=2048): 1 span dropped since the last message"
            )
        );
    }
}
