//! End times that stand for an instruction rather than a time.
//!
//! The OpenTelemetry API ends a span at a [`SystemTime`] (`Span::end_with_timestamp`), or
//! at the system clock's time it reads first (`Span::end`). `traced`'s own spans
//! ([`crate::span::lean`]) read the time from [`super::now`] instead, a fraction of the system
//! clock's cost, so `#[traced]` ends them with a time before 1970, which no caller means,
//! and the span reads the time itself. Which time says what to do with the ended record.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

/// What a span ended with a marker does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndMarker {
    /// Reads the time and hands the span to the processors ([`now_marker`]).
    Now,
    /// Reads the time and hands the record back to the code that ended it, which holds the
    /// thread's context stack ([`hand_back_marker`]; `span::lent`'s `end`).
    NowHandedBack,
}

/// The markers' times, made once.
struct Markers {
    now: SystemTime,
    handed_back: Option<SystemTime>,
}

static MARKERS: LazyLock<Markers> = LazyLock::new(|| {
    let before_1970 = |nanos| SystemTime::UNIX_EPOCH.checked_sub(Duration::from_nanos(nanos));
    Markers {
        // 1970 itself where the clock cannot go back past it (WASI's): without a marker
        // every span would read the system clock, then its own.
        now: before_1970(1).unwrap_or(SystemTime::UNIX_EPOCH),
        handed_back: before_1970(2),
    }
});

/// The end time for [`EndMarker::Now`]: one nanosecond before 1970.
#[inline]
pub(crate) fn now_marker() -> SystemTime {
    MARKERS.now
}

/// The end time for [`EndMarker::NowHandedBack`]: two nanoseconds before 1970, `None` on a
/// platform whose clock cannot go back past 1970 (no span is handed back there).
#[inline]
pub(crate) fn hand_back_marker() -> Option<SystemTime> {
    MARKERS.handed_back
}

/// The marker `time` is, if it is one.
#[inline]
pub(crate) fn marker_of(time: SystemTime) -> Option<EndMarker> {
    let markers = &*MARKERS;
    // The marker of lent spans first: `#[traced]` calls end theirs so.
    if Some(time) == markers.handed_back {
        Some(EndMarker::NowHandedBack)
    } else if time == markers.now {
        Some(EndMarker::Now)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Timestamp, now};

    #[test]
    fn each_marker_is_a_time_no_caller_gives_and_reads_back_as_itself() {
        let handed_back = hand_back_marker().expect("Linux goes back past 1970");
        assert!(now_marker() < SystemTime::UNIX_EPOCH);
        assert!(handed_back < now_marker());
        assert_ne!(Timestamp::from(now_marker()), now());
        assert_eq!(marker_of(now_marker()), Some(EndMarker::Now));
        assert_eq!(marker_of(handed_back), Some(EndMarker::NowHandedBack));
    }

    #[test]
    fn times_a_caller_gives_are_no_marker() {
        assert_eq!(marker_of(SystemTime::UNIX_EPOCH), None);
        assert_eq!(marker_of(SystemTime::now()), None);
        let three_before = SystemTime::UNIX_EPOCH - Duration::from_nanos(3);
        assert_eq!(marker_of(three_before), None);
    }
}
