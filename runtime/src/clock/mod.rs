//! The clock `#[traced]` spans are timed with: the processor's time stamp counter where the
//! kernel itself reads the time from it, else the system clock.
//!
//! A sampled span reads the time twice, at its start and at its end. `SystemTime::now` costs
//! about 30 ns a read on our 2-core VM (the vDSO reads the counter, then scales it under a
//! sequence lock); the counter alone costs 8 ns. So the span keeps the raw count, and the
//! export thread, which converts it anyway, turns it into wall-clock time ([`calibration`]):
//! a span's times are then the kernel's clock to within a few tens of nanoseconds.
//!
//! The counter is used only while the kernel's clock source is `tsc` ([`tsc::is_counter`]):
//! the kernel has then checked that it ticks at a constant rate and agrees across CPUs, and
//! `clock_gettime` reads it the same way, so it is never slower nor less right than the
//! system clock. Should the kernel switch away from it (its watchdog found it drifting: a
//! virtual machine moved to another host, a processor whose counter stops in deep sleep),
//! spans read the system clock from then on: the clock source is asked again each time the
//! calibration renews its baseline, every minute or so while counts are converted. Anywhere
//! else (another clock source, another architecture or OS) spans read `SystemTime::now`.

mod calibration;
mod end_marker;
mod tsc;

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use calibration::{Calibration, Converter};
pub(crate) use end_marker::{EndMarker, hand_back_marker, marker_of, now_marker};

use crate::diagnostics;

/// When something happened: a count of the time stamp counter, converted when exported, or
/// a wall-clock time (the system clock, or a time given through the OpenTelemetry API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timestamp {
    Ticks(u64),
    Wall(SystemTime),
}

impl Timestamp {
    /// The wall-clock time. A count is converted with this thread's latest reading of the
    /// counter against the system clock, taken anew when the count is later than it.
    #[cfg(test)]
    pub(crate) fn system_time(self) -> SystemTime {
        time_at(self.signed_unix_nanos())
    }

    /// Nanoseconds since 1970, negative before; a count converted with this thread's latest
    /// reading of the counter against the system clock.
    fn signed_unix_nanos(self) -> i128 {
        match self {
            Self::Wall(time) => signed_unix_nanos(time),
            Self::Ticks(ticks) => counter_unix_nanos(ticks),
        }
    }
}

/// A span's start and end as wall-clock times.
///
/// They may come from different clocks: a span the OpenTelemetry API started without a
/// time is timed by the counter, and ended through [`opentelemetry::trace::SpanRef::end`]
/// at a time the API read from the system clock. A count converts to within tens of
/// nanoseconds, which could put the end of so short a span before its start: an end that
/// close before the start ([`CONVERSION_ERROR`]) is put at the start. One earlier than that
/// was given by the application, and is kept, as are two wall-clock times (given by the
/// application, or read where the counter is not used).
///
/// Inlined, with a case of its own for two counts (a `#[traced]` span's): through one
/// general case out of line, the export thread's conversion of each span to `SpanData`
/// took 10–25 ns longer (alternating runs of `benches/throughput.rs`).
#[inline(always)]
pub(crate) fn span_times(start: Timestamp, end: Timestamp) -> (SystemTime, SystemTime) {
    span_bounds(start, end, time_at, |time| time)
}

/// [`span_times`] in nanoseconds since 1970, as OTLP writes times: 0 before it.
#[cfg(feature = "otlp")]
#[inline(always)]
pub(crate) fn span_unix_nanos(start: Timestamp, end: Timestamp) -> (u64, u64) {
    span_bounds(start, end, otlp_nanos, unix_nanos)
}

/// [`span_times`] as `from_nanos` makes times from signed nanoseconds since 1970, and
/// `from_wall` from the system clock's.
#[inline(always)]
fn span_bounds<T>(
    start: Timestamp,
    end: Timestamp,
    from_nanos: impl Fn(i128) -> T,
    from_wall: impl Fn(SystemTime) -> T,
) -> (T, T) {
    match (start, end) {
        (Timestamp::Ticks(start), Timestamp::Ticks(end)) => (
            from_nanos(counter_unix_nanos(start)),
            from_nanos(counter_unix_nanos(end)),
        ),
        (Timestamp::Wall(start), Timestamp::Wall(end)) => (from_wall(start), from_wall(end)),
        _ => {
            let (start, end) = mixed_span_nanos(start, end);
            (from_nanos(start), from_nanos(end))
        }
    }
}

/// How far a count's conversion may be from the system clock: a reading's own error, tens
/// of nanoseconds, with room for a virtual machine's preemption in the middle of it.
const CONVERSION_ERROR: i128 = 1_000;

/// The start and end of a span one of which the counter timed and the other the system
/// clock, in signed nanoseconds since 1970, an end within the conversion's error before
/// the start put at it.
#[inline(never)]
fn mixed_span_nanos(start: Timestamp, end: Timestamp) -> (i128, i128) {
    let (start, end) = (start.signed_unix_nanos(), end.signed_unix_nanos());
    if end < start && start - end <= CONVERSION_ERROR {
        (start, start)
    } else {
        (start, end)
    }
}

/// Nanoseconds since 1970 of `time`, as OTLP writes times: 0 before it.
#[cfg(feature = "otlp")]
pub(crate) fn unix_nanos(time: SystemTime) -> u64 {
    otlp_nanos(signed_unix_nanos(time))
}

/// Nanoseconds since 1970 of `time`, negative before.
fn signed_unix_nanos(time: SystemTime) -> i128 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => since.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

/// The time `nanos` nanoseconds after 1970 (before it when negative), the epoch itself where
/// the platform cannot represent it.
fn time_at(nanos: i128) -> SystemTime {
    let distance = Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).unwrap_or(u64::MAX));
    let time = if nanos >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(distance)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(distance)
    };
    time.unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Signed nanoseconds since 1970 as OTLP's unsigned field: 0 before 1970, saturated above.
#[cfg(feature = "otlp")]
fn otlp_nanos(nanos: i128) -> u64 {
    u64::try_from(nanos.max(0)).unwrap_or(u64::MAX)
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        Self::Wall(time)
    }
}

/// The counter, once [`start`] chose it: `None` when it is not used.
static COUNTER: OnceLock<Option<Counter>> = OnceLock::new();

/// Chooses the clock, once: the counter if the kernel's clock source is it. Called when
/// `traced`'s pipeline is installed, before any of its spans reads the time.
pub(crate) fn start() {
    COUNTER.get_or_init(|| {
        tsc::is_counter(tsc::clock_source().as_deref()).then(|| Counter::start(tsc::clock_source))
    });
}

/// The time now.
///
/// Only for non-generic code: reached from a generic function a public item instantiates in
/// the application's crate (an integration's span start, say), it makes [`COUNTER`] a
/// symbol other crates may read, which every read then finds through the global offset
/// table, one more load on each span's start and end (`nm` shows it global, `D` for `d`).
#[inline(always)]
pub(crate) fn now() -> Timestamp {
    match COUNTER.get() {
        Some(Some(counter)) => counter.now(),
        _ => Timestamp::Wall(SystemTime::now()),
    }
}

/// The time stamp counter as spans' clock: its calibration, and whether it is still read.
struct Counter {
    calibration: Calibration,
    /// Cleared, for good, once the kernel no longer keeps time with the counter; the counts
    /// taken before still convert with the calibration.
    read: AtomicBool,
    /// The kernel's clock source (a parameter so tests can play the kernel).
    clock_source: fn() -> Option<String>,
}

impl Counter {
    /// Calibrates the counter, before any span reads it.
    fn start(clock_source: fn() -> Option<String>) -> Self {
        Self {
            calibration: Calibration::start(),
            read: AtomicBool::new(true),
            clock_source,
        }
    }

    #[inline(always)]
    fn now(&self) -> Timestamp {
        // Relaxed: a span that reads the counter a moment after it was given up converts
        // like any count taken before.
        if self.read.load(Ordering::Relaxed) {
            Timestamp::Ticks(tsc::read())
        } else {
            Timestamp::Wall(SystemTime::now())
        }
    }

    /// A converter for the counts taken until now, from a new reading; the kernel's clock
    /// source is asked again whenever the calibration renews its baseline.
    fn converter(&self) -> Converter {
        self.calibration.converter(|| self.check_clock_source())
    }

    /// Stops reading the counter if the kernel no longer keeps time with it.
    fn check_clock_source(&self) {
        if !self.read.load(Ordering::Relaxed) {
            return;
        }
        let source = (self.clock_source)();
        if tsc::is_counter(source.as_deref()) {
            return;
        }
        self.read.store(false, Ordering::Relaxed);
        let source = source.unwrap_or_else(|| "unknown".to_owned());
        diagnostics::warn_once("clock source", || {
            format!(
                "the kernel no longer keeps time with the processor's time stamp counter \
                 (clock source now {source}): spans read the system clock from now on"
            )
        });
    }
}

thread_local! {
    /// This thread's latest conversion: a batch converts with one reading.
    static CONVERTER: Cell<Option<Converter>> = const { Cell::new(None) };
}

/// The wall-clock time of counter value `ticks`, in nanoseconds since 1970.
fn counter_unix_nanos(ticks: u64) -> i128 {
    let Some(Some(counter)) = COUNTER.get() else {
        // Unreachable: counts are only read once calibrated. The time now is the closest
        // guess there would be.
        return signed_unix_nanos(SystemTime::now());
    };
    let converter = match CONVERTER.get() {
        Some(converter) if !converter.is_before(ticks) => converter,
        // A count later than the reading (the next batch): read again, so that every count
        // converted lies before the reading it is converted with.
        _ => {
            let converter = counter.converter();
            CONVERTER.set(Some(converter));
            converter
        }
    };
    converter.unix_nanos(ticks)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::thread;

    use super::*;

    #[test]
    fn the_time_now_lies_between_system_clock_readings_around_it() {
        start();
        let mut previous = SystemTime::UNIX_EPOCH;
        for _ in 0..1_000 {
            let before = SystemTime::now();
            let now = now().system_time();
            let after = SystemTime::now();
            // The conversion is within tens of nanoseconds; a microsecond leaves room for
            // a VM's preemption between the readings of one calibration.
            let slack = Duration::from_micros(1);
            assert!(now + slack >= before, "{now:?} before {before:?}");
            assert!(now <= after + slack, "{now:?} after {after:?}");
            assert!(
                now + slack >= previous,
                "went back from {previous:?} to {now:?}"
            );
            previous = now;
        }
    }

    #[test]
    fn durations_are_the_system_clocks() {
        start();
        let (start_wall, start) = (SystemTime::now(), now());
        thread::sleep(Duration::from_millis(30));
        let (end, end_wall) = (now(), SystemTime::now());
        let measured = end.system_time().duration_since(start.system_time());
        let wall = end_wall.duration_since(start_wall);
        let (Ok(measured), Ok(wall)) = (&measured, &wall) else {
            panic!("time went backwards: {measured:?} {wall:?}");
        };
        assert!(*measured >= Duration::from_millis(30), "{measured:?}");
        assert!(
            *measured <= *wall + Duration::from_micros(1),
            "{measured:?} > {wall:?}"
        );
    }

    /// The clock source the kernel of [`spans_stop_reading_the_counter_once_the_kernel_does`]
    /// keeps time with.
    static CLOCK_SOURCE: Mutex<Option<&str>> = Mutex::new(Some("tsc"));

    fn clock_source() -> Option<String> {
        CLOCK_SOURCE.lock().unwrap().map(str::to_owned)
    }

    fn set_clock_source(source: Option<&'static str>) {
        *CLOCK_SOURCE.lock().unwrap() = source;
    }

    #[test]
    fn spans_stop_reading_the_counter_once_the_kernel_does() {
        let counter = Counter::start(clock_source);
        assert!(matches!(counter.now(), Timestamp::Ticks(_)));
        // Asked again when the baseline is renewed: still the counter.
        calibration::tests::age_baseline(&counter.calibration);
        counter.converter();
        assert!(matches!(counter.now(), Timestamp::Ticks(_)));
        // The kernel's watchdog switched to another clock source: not asked until the next
        // renewal, then spans read the system clock.
        set_clock_source(Some("hpet"));
        counter.converter();
        assert!(matches!(counter.now(), Timestamp::Ticks(_)));
        calibration::tests::age_baseline(&counter.calibration);
        counter.converter();
        assert!(matches!(counter.now(), Timestamp::Wall(_)));
        // For good, as the kernel does not trust the counter again either.
        set_clock_source(Some("tsc"));
        calibration::tests::age_baseline(&counter.calibration);
        counter.converter();
        assert!(matches!(counter.now(), Timestamp::Wall(_)));
    }

    #[test]
    fn a_clock_source_that_cannot_be_read_is_not_the_counter() {
        assert!(tsc::is_counter(Some("tsc")));
        assert!(!tsc::is_counter(Some("kvm-clock")));
        assert!(!tsc::is_counter(None));
    }

    #[test]
    fn an_end_read_from_the_system_clock_right_after_a_counted_start_is_never_before_it() {
        start();
        for _ in 0..10_000 {
            let started = now();
            let ended = Timestamp::Wall(SystemTime::now());
            let (start, end) = span_times(started, ended);
            assert!(end >= start, "{start:?} after {end:?}");
        }
    }

    #[test]
    fn an_end_given_long_before_a_counted_start_is_kept() {
        start();
        let given = SystemTime::now() - Duration::from_secs(1);
        let (start, end) = span_times(now(), Timestamp::Wall(given));
        assert_eq!(end, given);
        assert!(start > end);
        let (given_start, given_end) = (SystemTime::now(), given);
        let wall = (Timestamp::Wall(given_start), Timestamp::Wall(given_end));
        assert_eq!(span_times(wall.0, wall.1), (given_start, given_end));
    }

    #[test]
    fn an_end_within_the_conversions_error_before_the_start_is_put_at_it() {
        start();
        let started = now();
        let converted = started.system_time();
        let given = converted - Duration::from_nanos(500);
        let times = span_times(started, Timestamp::Wall(given));
        match started {
            Timestamp::Ticks(_) => assert_eq!(times, (converted, converted)),
            // Where the kernel does not keep time with the counter: two system clock times.
            Timestamp::Wall(_) => assert_eq!(times, (converted, given)),
        }
    }
}
