//! Converting counts of the time stamp counter into wall-clock time.
//!
//! The counter's rate is measured against the monotonic clock between two readings of both,
//! the earlier one a minute old or more (1 to 2 minutes while spans are exported steadily),
//! so the rate follows the slow frequency
//! corrections NTP makes to the kernel's clock and the error of one reading (tens of
//! nanoseconds) is spread over a minute. The wall-clock time of a count is then the
//! system clock at the latest reading, minus the time between the count and that reading:
//! a step of the system clock moves every later conversion, as it moves
//! `SystemTime::now`, but never stretches the durations between counts.
//!
//! Every count converted was taken after the first reading ([`super::start`] calibrates
//! before the counter is read), which bounds the error even while the readings are only
//! microseconds apart: a count lies within the interval the rate was measured over, or
//! shortly after it.

use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::{signed_unix_nanos, tsc};

/// After how long the earlier reading is replaced by a newer one.
const BASELINE_AGE: Duration = Duration::from_secs(60);

/// The shortest interval the rate is measured over: a conversion right after the first
/// reading waits for it, once.
const SHORTEST_BASELINE: Duration = Duration::from_micros(50);

/// The readings the rate is measured from.
#[derive(Debug)]
pub(super) struct Calibration {
    readings: Mutex<Baseline>,
}

#[derive(Clone, Copy, Debug)]
struct Baseline {
    /// The reading the rate is measured from.
    since: Reading,
    /// The reading that replaces it once [`BASELINE_AGE`] old.
    next: Reading,
}

/// The counter read together with the monotonic and the system clock.
#[derive(Clone, Copy, Debug)]
struct Reading {
    monotonic_ticks: u64,
    monotonic: Instant,
    wall_ticks: u64,
    wall: SystemTime,
}

impl Reading {
    /// Each clock read between two counts, its count taken half way: the tightest of a few
    /// tries, so a preemption in the middle of one does not skew it.
    fn now() -> Self {
        let mut tightest = Self::try_now();
        for _ in 0..4 {
            let reading = Self::try_now();
            if reading.0 < tightest.0 {
                tightest = reading;
            }
        }
        tightest.1
    }

    /// One reading, and how many ticks it took.
    fn try_now() -> (u64, Self) {
        let first = tsc::read();
        let monotonic = Instant::now();
        let second = tsc::read();
        let wall = SystemTime::now();
        let third = tsc::read();
        let reading = Self {
            monotonic_ticks: midpoint(first, second),
            monotonic,
            wall_ticks: midpoint(second, third),
            wall,
        };
        (third.wrapping_sub(first), reading)
    }
}

fn midpoint(earlier: u64, later: u64) -> u64 {
    earlier.wrapping_add(later.wrapping_sub(earlier) / 2)
}

impl Calibration {
    /// The first reading: made before the counter is read for any span.
    pub(super) fn start() -> Self {
        let reading = Reading::now();
        Self {
            readings: Mutex::new(Baseline {
                since: reading,
                next: reading,
            }),
        }
    }

    /// A converter for the counts taken until now, from a new reading. `on_renewal` is
    /// called when the baseline is renewed: about once a minute while counts are converted.
    pub(super) fn converter(&self, on_renewal: impl FnOnce()) -> Converter {
        // A panic cannot leave the baseline half-written (it is copied whole).
        let mut baseline = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        let mut reading = Reading::now();
        let elapsed = reading.monotonic.duration_since(baseline.since.monotonic);
        if elapsed < SHORTEST_BASELINE {
            thread::sleep(SHORTEST_BASELINE - elapsed);
            reading = Reading::now();
        }
        if reading.monotonic.duration_since(baseline.next.monotonic) >= BASELINE_AGE {
            baseline.since = baseline.next;
            baseline.next = reading;
            on_renewal();
        }
        Converter::between(&baseline.since, &reading)
    }
}

/// Converts counts into wall-clock time, from one reading and the rate up to it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Converter {
    ticks: u64,
    /// The system clock at `ticks`, in nanoseconds since 1970.
    unix_nanos: i128,
    /// Nanoseconds per tick, in fixed point: times 2^[`RATE_SHIFT`].
    rate: i128,
}

/// The fixed point of [`Converter::rate`]: integer arithmetic, no rounding call per count, and
/// still a relative resolution below 10^-9 for a counter of a few GHz.
const RATE_SHIFT: u32 = 32;

impl Converter {
    fn between(since: &Reading, until: &Reading) -> Self {
        let ticks = until.monotonic_ticks.wrapping_sub(since.monotonic_ticks);
        let nanos = until.monotonic.duration_since(since.monotonic).as_nanos();
        // Both clocks only go forward; a rate of 0 (no tick counted) would leave every
        // count at the reading's time rather than fail. The quotient is below 2^RATE_SHIFT
        // times the nanoseconds of a baseline (minutes), far inside `i128`.
        let rate = (nanos << RATE_SHIFT)
            .checked_div(u128::from(ticks))
            .map_or(0, |rate| i128::try_from(rate).unwrap_or(0));
        Self {
            ticks: until.wall_ticks,
            unix_nanos: signed_unix_nanos(until.wall),
            rate,
        }
    }

    /// Whether the reading was taken before count `ticks`.
    pub(super) fn is_before(&self, ticks: u64) -> bool {
        // Signed: counts lie within centuries of each other, far inside `i64`.
        (ticks.wrapping_sub(self.ticks) as i64) > 0
    }

    /// The wall-clock time of count `ticks`, in nanoseconds since 1970.
    pub(super) fn unix_nanos(&self, ticks: u64) -> i128 {
        let ticks_before = i128::from(self.ticks.wrapping_sub(ticks) as i64);
        self.unix_nanos - ((ticks_before * self.rate) >> RATE_SHIFT)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Makes the readings of `calibration` look over a minute old: the next conversion
    /// renews the baseline.
    pub(in crate::clock) fn age_baseline(calibration: &Calibration) {
        let age = BASELINE_AGE + Duration::from_secs(1);
        let Some(then) = Instant::now().checked_sub(age) else {
            panic!("the monotonic clock started less than {age:?} ago");
        };
        let mut baseline = calibration.readings.lock().unwrap();
        baseline.since.monotonic = then;
        baseline.next.monotonic = then;
    }

    /// Now on the monotonic clock, and a system-clock time far from 1970 (2^30 s after it,
    /// in 2004), where signed and unsigned nanoseconds agree.
    fn origin_in_2004() -> (Instant, SystemTime) {
        (
            Instant::now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 30),
        )
    }

    /// A reading `nanos` after `origin`, on a counter that ticks `ticks_per_nano` times a
    /// nanosecond, with the system clock `wall_offset` ahead of the monotonic one.
    fn reading(origin: &(Instant, SystemTime), nanos: u64, ticks_per_nano: u64) -> Reading {
        let (monotonic, wall) = origin;
        let ticks = 1_000_000 + nanos * ticks_per_nano;
        Reading {
            monotonic_ticks: ticks,
            monotonic: *monotonic + Duration::from_nanos(nanos),
            wall_ticks: ticks,
            wall: *wall + Duration::from_nanos(nanos),
        }
    }

    #[test]
    fn counts_convert_at_the_measured_rate_from_the_latest_reading() {
        let origin = origin_in_2004();
        let since = reading(&origin, 0, 3);
        let until = reading(&origin, 2_000_000_000, 3);
        let converter = Converter::between(&since, &until);
        // Three ticks a nanosecond: a count 3 000 ticks before the reading is 1 µs before.
        let at = |nanos: i128| signed_unix_nanos(origin.1) + nanos;
        let near = |ticks: u64, nanos: i128| {
            let converted = converter.unix_nanos(ticks);
            assert!(
                (converted - at(nanos)).abs() <= 1,
                "{converted} for {}",
                at(nanos)
            );
        };
        near(until.wall_ticks, 2_000_000_000);
        near(until.wall_ticks - 3_000, 1_999_999_000);
        near(since.wall_ticks, 0);
        near(until.wall_ticks + 30, 2_000_000_010);
        assert!(converter.is_before(until.wall_ticks + 1));
        assert!(!converter.is_before(until.wall_ticks));
    }

    #[test]
    fn the_wall_clock_at_the_reading_places_the_counts() {
        let origin = origin_in_2004();
        let since = reading(&origin, 0, 2);
        let mut until = reading(&origin, 1_000_000, 2);
        // The system clock was stepped back an hour in between: counts follow it, and
        // their differences keep the monotonic clock's rate.
        until.wall -= Duration::from_secs(3600);
        let converter = Converter::between(&since, &until);
        let (earlier, later) = (until.wall_ticks - 2_000, until.wall_ticks - 1_000);
        let between = converter.unix_nanos(later) - converter.unix_nanos(earlier);
        assert!((499..=501).contains(&between), "{between}");
        assert_eq!(
            converter.unix_nanos(until.wall_ticks),
            signed_unix_nanos(until.wall)
        );
    }

    #[test]
    fn the_baseline_is_renewed_once_a_minute_old() {
        let calibration = Calibration::start();
        let mut renewals = 0;
        calibration.converter(|| renewals += 1);
        assert_eq!(renewals, 0);
        age_baseline(&calibration);
        calibration.converter(|| renewals += 1);
        assert_eq!(renewals, 1);
        // The reading that replaced it is new.
        calibration.converter(|| renewals += 1);
        assert_eq!(renewals, 1);
    }

    #[test]
    fn a_reading_without_ticks_leaves_counts_at_its_time() {
        let origin = (Instant::now(), SystemTime::UNIX_EPOCH);
        let since = reading(&origin, 0, 1);
        let converter = Converter::between(&since, &since);
        assert_eq!(converter.unix_nanos(since.wall_ticks - 5), 0);
        assert_eq!(converter.unix_nanos(since.wall_ticks + 5), 0);
    }
}
