//! When the export thread wakes for its next batch: on a timer of its own, set from the rate
//! spans have been arriving at, so that the application's threads need not wake it.
//!
//! Waking a sleeping thread is a system call on the waker's thread, and where the sleeper's
//! CPU is idle the kernel interrupts that CPU to run it, which on a virtual machine is a trip
//! through the hypervisor. When every full batch woke the export thread, the application
//! thread that queued the batch's last span paid for that: on the 2-core VM of `benches/`
//! about 15 ns a span (one wake-up per 512 spans), in any application that ends spans more
//! slowly than the export thread takes them, which is nearly every one (`benches/README.md`:
//! the `traced/sampled_spaced` row, and the enabled path's history).
//!
//! So the export thread, going to sleep with less than a batch queued, sets its own timeout
//! to when the spans' latest rate says a batch will be waiting: the timer then fires on its
//! own CPU. An application thread still wakes it where that estimate was wrong by half (twice
//! a batch queued: a burst), and where there is no estimate (before the first batch, or after
//! a turn that found nothing queued) as soon as a batch is queued, as before. The schedule
//! delay (`OTEL_BSP_SCHEDULE_DELAY`) still bounds every wait.

use std::time::{Duration, Instant};

/// The shortest sleep asked for. Waking sooner than this would take batches smaller than
/// the timer's own wake-up is worth (Linux lets a sleeping thread's timer fire up to 50 µs
/// late anyway, its default timer slack).
const SHORTEST_SLEEP: Duration = Duration::from_micros(100);

/// What the export thread knows of the rate spans arrive at.
#[derive(Debug)]
pub(super) struct Pacing {
    /// The spans the export thread waits for: one batch.
    batch: usize,
    /// The queue length at which an application thread wakes an export thread sleeping on
    /// an estimate: twice a batch, or less where the queue would then have no room left for
    /// another batch, but never less than one.
    burst: usize,
    /// When the export thread last took the queue.
    taken_at: Instant,
    /// How many spans it took then, and over how long they arrived; `None` when it took
    /// none, or has not taken any yet.
    last_interval: Option<(usize, Duration)>,
    /// The export thread has not slept since it last took the queue: with nothing queued yet,
    /// the last interval's rate is all there is to go by. A sleep that ends with nothing
    /// queued shows that rate gone, and it is not used again.
    first_sleep: bool,
}

/// How the export thread sleeps until its next turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Sleep {
    /// At most this long.
    pub(super) duration: Duration,
    /// Unless a span makes the queue this long: the application thread that queues it wakes
    /// the export thread.
    pub(super) wake_at: usize,
}

impl Pacing {
    /// Pacing for batches of `max_export_batch_size` from a queue of `max_queue_size`, the
    /// export thread starting at `now`.
    pub(super) fn new(max_export_batch_size: usize, max_queue_size: usize, now: Instant) -> Self {
        let batch = max_export_batch_size.max(1);
        let burst = batch
            .saturating_mul(2)
            .min(max_queue_size.saturating_sub(batch).max(batch));
        Self {
            batch,
            burst,
            taken_at: now,
            last_interval: None,
            first_sleep: true,
        }
    }

    /// The export thread took `spans` from the queue at `now`.
    pub(super) fn took(&mut self, spans: usize, now: Instant) {
        let arrived_over = now.saturating_duration_since(self.taken_at);
        self.last_interval = (spans > 0).then_some((spans, arrived_over));
        self.taken_at = now;
        self.first_sleep = true;
    }

    /// How to sleep at `now` with `queued` spans waiting (fewer than a batch), `left` being
    /// the time left until the schedule delay's export.
    pub(super) fn sleep(&mut self, queued: usize, now: Instant, left: Duration) -> Sleep {
        let first_sleep = std::mem::replace(&mut self.first_sleep, false);
        match self.until_batch(queued, now, first_sleep) {
            Some(until_batch) if until_batch < left => Sleep {
                duration: until_batch.max(SHORTEST_SLEEP).min(left),
                wake_at: self.burst,
            },
            // No estimate, or no batch before the schedule delay at the rate seen: the
            // application's threads wake the export thread for a full batch.
            _ => Sleep {
                duration: left,
                wake_at: self.batch,
            },
        }
    }

    /// When a batch will be queued at the rate spans arrived at since the last turn, or, with
    /// none queued yet, on the `first_sleep` since it, during the interval before it. (Where
    /// a few spans trickle in, the rate read from them falls as time passes, and each sleep
    /// is longer than the one before.)
    fn until_batch(&self, queued: usize, now: Instant, first_sleep: bool) -> Option<Duration> {
        let (spans, over) = if queued > 0 {
            (queued, now.saturating_duration_since(self.taken_at))
        } else if first_sleep {
            self.last_interval?
        } else {
            return None;
        };
        let missing = self.batch.saturating_sub(queued);
        // In nanoseconds, as u128: a queue length times any time elapsed fits.
        let nanos = (missing as u128).saturating_mul(over.as_nanos()) / spans as u128;
        Some(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(5);

    /// The sleep without an estimate, batches of 512: until the schedule delay (`LONG`),
    /// unless an application thread wakes the export thread at a full batch.
    const UNTIL_A_FULL_BATCH: Sleep = Sleep {
        duration: LONG,
        wake_at: 512,
    };

    fn micros(micros: u64) -> Duration {
        Duration::from_micros(micros)
    }

    #[test]
    fn without_a_rate_the_application_wakes_it_for_a_full_batch() {
        let start = Instant::now();
        let mut pacing = Pacing::new(512, 2048, start);
        let sleep = pacing.sleep(0, start + micros(10), LONG);
        assert_eq!(sleep, UNTIL_A_FULL_BATCH);
    }

    #[test]
    fn it_sleeps_until_a_batch_is_due_at_the_last_intervals_rate() {
        let start = Instant::now();
        let mut pacing = Pacing::new(512, 2048, start);
        // 512 spans in 1 ms: the next 512 are due 1 ms after this take.
        let taken_at = start + micros(1_000);
        pacing.took(512, taken_at);
        let sleep = pacing.sleep(0, taken_at, LONG);
        assert_eq!(sleep.duration, micros(1_000));
        assert_eq!(
            sleep.wake_at, 1024,
            "woken by the application only at twice a batch"
        );
    }

    #[test]
    fn spans_queued_since_the_last_turn_give_the_current_rate() {
        let start = Instant::now();
        let mut pacing = Pacing::new(512, 2048, start);
        pacing.took(512, start + micros(1_000));
        // Twice as fast now: 256 in the 250 µs since the take, the other 256 due in 250 µs.
        let sleep = pacing.sleep(256, start + micros(1_250), LONG);
        assert_eq!(sleep.duration, micros(250));
        // Four times slower: 16 in 125 µs, 496 more due in 3.875 ms.
        let sleep = pacing.sleep(16, start + micros(1_125), LONG);
        assert_eq!(sleep.duration, micros(3_875));
    }

    #[test]
    fn no_sleep_is_shorter_than_the_shortest_nor_past_the_schedule_delay() {
        let start = Instant::now();
        let mut pacing = Pacing::new(512, 2048, start);
        pacing.took(512, start + micros(10));
        let fast = pacing.sleep(0, start + micros(10), LONG);
        assert_eq!(fast.duration, SHORTEST_SLEEP);
        assert_eq!(fast.wake_at, 1024);
        // A batch due after the schedule delay's export: that export comes first, and the
        // application wakes the thread if a batch is queued before it.
        let mut pacing = Pacing::new(512, 2048, start);
        pacing.took(2, start + Duration::from_secs(5));
        let slow = pacing.sleep(0, start + Duration::from_secs(5), LONG);
        assert_eq!(slow, UNTIL_A_FULL_BATCH);
    }

    #[test]
    fn a_sleep_that_ends_with_nothing_queued_forgets_the_rate() {
        let start = Instant::now();
        let mut pacing = Pacing::new(512, 2048, start);
        let taken_at = start + micros(100);
        pacing.took(512, taken_at);
        assert_eq!(pacing.sleep(0, taken_at, LONG).duration, micros(100));
        // Spans stopped: no more waking every 100 µs until the schedule delay, but one sleep
        // until it, the application's thread waking the export thread for a batch.
        let sleep = pacing.sleep(0, taken_at + micros(100), LONG);
        assert_eq!(sleep, UNTIL_A_FULL_BATCH);
        // Spans queued since still give a rate of their own.
        let sleep = pacing.sleep(2, taken_at + micros(1_000), LONG);
        assert_eq!(sleep.duration, micros(255_000));
        assert_eq!(sleep.wake_at, 1024);
    }

    #[test]
    fn a_turn_that_took_nothing_forgets_the_rate() {
        let start = Instant::now();
        let mut pacing = Pacing::new(512, 2048, start);
        pacing.took(512, start + micros(1_000));
        pacing.took(0, start + Duration::from_secs(5));
        let sleep = pacing.sleep(0, start + Duration::from_secs(5), LONG);
        assert_eq!(sleep, UNTIL_A_FULL_BATCH);
    }

    #[test]
    fn the_burst_threshold_leaves_the_queue_room() {
        let now = Instant::now();
        assert_eq!(Pacing::new(512, 2048, now).burst, 1024);
        assert_eq!(Pacing::new(512, 8192, now).burst, 1024);
        // Less than two batches of room: woken at one, as without an estimate.
        assert_eq!(Pacing::new(512, 512, now).burst, 512);
        assert_eq!(Pacing::new(512, 700, now).burst, 512);
        assert_eq!(Pacing::new(100, 250, now).burst, 150);
        assert_eq!(Pacing::new(0, 0, now).burst, 1);
    }

    #[test]
    fn extreme_intervals_do_not_overflow() {
        let start = Instant::now();
        let mut pacing = Pacing::new(usize::MAX, usize::MAX, start);
        pacing.took(1, start + Duration::from_secs(1_000_000));
        let now = start + Duration::from_secs(1_000_000);
        let sleep = pacing.sleep(0, now, Duration::MAX);
        assert_eq!(sleep.duration, Duration::from_nanos(u64::MAX));
    }
}
