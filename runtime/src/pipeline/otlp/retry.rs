//! Retries with exponential backoff and jitter, all within one export's time budget.
//!
//! The transports classify each attempt ([`Verdict`]); this module decides whether and when
//! to try again. A server's own delay (`Retry-After`, gRPC `RetryInfo`) is honoured; a
//! delay that would end past the export timeout ends the export at once instead of sleeping
//! for nothing.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::diagnostics::for_people;

/// The first backoff delay; each retry doubles it, up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest backoff delay the exporter chooses itself (a server may ask for more).
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What one attempt came to.
#[derive(Debug)]
pub(super) enum Verdict<T> {
    /// Delivered (perhaps partially: `T` says).
    Done(T),
    /// A transient failure: try again, after `after` when the server said so.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// A failure that another attempt would not fix.
    Fail(String),
}

/// Why an export failed, after how many attempts. Never carries a header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    /// The last attempt's failure.
    pub(super) reason: String,
    /// How many requests were made.
    pub(super) attempts: u32,
}

impl Failure {
    /// A request that could not be made (its body not encoded): no attempt.
    pub(super) fn before_sending(reason: String) -> Self {
        Self {
            reason,
            attempts: 0,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.attempts {
            1 => write!(f, "{}", self.reason),
            n => write!(f, "{} (after {n} attempts)", self.reason),
        }
    }
}

/// Runs `attempt` until it is done, fails for good, or the `timeout` is spent. Each call
/// gets the time left, to use as its own timeout.
pub(super) fn with_retries<T>(
    timeout: Duration,
    attempt: impl FnMut(Duration) -> Verdict<T>,
) -> Result<T, Failure> {
    let start = Instant::now();
    retrying(timeout, attempt, || start.elapsed(), std::thread::sleep)
}

/// [`with_retries`] on a given clock: `elapsed` says how long the export has taken so far,
/// `sleep` waits (the tests' clock moves only when they say).
fn retrying<T>(
    timeout: Duration,
    mut attempt: impl FnMut(Duration) -> Verdict<T>,
    elapsed: impl Fn() -> Duration,
    mut sleep: impl FnMut(Duration),
) -> Result<T, Failure> {
    let mut attempts = 0_u32;
    loop {
        let remaining = timeout.saturating_sub(elapsed());
        if remaining.is_zero() {
            return Err(Failure {
                reason: format!("timed out after {}", for_people(timeout)),
                attempts,
            });
        }
        attempts += 1;
        let (reason, after) = match attempt(remaining) {
            Verdict::Done(value) => return Ok(value),
            Verdict::Fail(reason) => return Err(Failure { reason, attempts }),
            Verdict::Retry { reason, after } => (reason, after),
        };
        let delay = after.unwrap_or_else(|| backoff(attempts - 1, jitter()));
        let remaining = timeout.saturating_sub(elapsed());
        if delay >= remaining {
            let reason = match after {
                Some(after) => format!(
                    "{reason}; the server asked to retry after {}, past the export timeout of {}",
                    for_people(after),
                    for_people(timeout)
                ),
                None => format!(
                    "{reason}; no time left to retry within {}",
                    for_people(timeout)
                ),
            };
            return Err(Failure { reason, attempts });
        }
        sleep(delay);
    }
}

/// The delay before retry number `retry` (0-based): exponential, capped, with "equal
/// jitter" (half fixed, half random) so that many clients do not retry in lockstep.
/// `jitter` is in `[0, 1)`.
fn backoff(retry: u32, jitter: f64) -> Duration {
    let exponential = INITIAL_BACKOFF.saturating_mul(1_u32 << retry.min(16));
    let capped = exponential.min(MAX_BACKOFF);
    let half = capped / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

/// A random fraction in `[0, 1)`, from the standard library's randomly keyed hasher (no
/// random-number crate needed for jitter).
fn jitter() -> f64 {
    let bits = RandomState::new().hash_one(Instant::now()) >> 11;
    bits as f64 / (1_u64 << 53) as f64
}

/// Parses a `Retry-After` header in seconds (the HTTP-date form is not used by collectors
/// and is ignored, which falls back to the exporter's own backoff).
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A clock that moves only when slept on or told to: what the retries wait for, without
    /// the machine's scheduling in the measurement.
    #[derive(Default)]
    struct Clock {
        now: Cell<Duration>,
        sleeps: RefCell<Vec<Duration>>,
    }

    impl Clock {
        fn advance(&self, by: Duration) {
            self.now.set(self.now.get() + by);
        }

        fn retrying<T>(
            &self,
            timeout: Duration,
            attempt: impl FnMut(Duration) -> Verdict<T>,
        ) -> Result<T, Failure> {
            let sleep = |delay| {
                self.sleeps.borrow_mut().push(delay);
                self.advance(delay);
            };
            retrying(timeout, attempt, || self.now.get(), sleep)
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(50));
        assert!(backoff(0, 0.999) < Duration::from_millis(100));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(100));
        assert_eq!(backoff(3, 0.0), Duration::from_millis(400));
        assert_eq!(backoff(30, 0.0), MAX_BACKOFF / 2);
        assert!(backoff(u32::MAX, 0.999) < MAX_BACKOFF);
    }

    #[test]
    fn jitter_is_a_fraction() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "{j}");
        }
    }

    #[test]
    fn retries_until_done() {
        let calls = Cell::new(0);
        let result = with_retries(Duration::from_secs(5), |_| {
            calls.set(calls.get() + 1);
            if calls.get() < 3 {
                Verdict::Retry {
                    reason: "busy".into(),
                    after: Some(Duration::from_millis(1)),
                }
            } else {
                Verdict::Done(calls.get())
            }
        });
        assert_eq!(result, Ok(3));
    }

    #[test]
    fn a_permanent_failure_is_not_retried() {
        let calls = Cell::new(0);
        let result: Result<(), _> = with_retries(Duration::from_secs(5), |_| {
            calls.set(calls.get() + 1);
            Verdict::Fail("HTTP 400 Bad Request".into())
        });
        assert_eq!(
            result,
            Err(Failure {
                reason: "HTTP 400 Bad Request".into(),
                attempts: 1
            })
        );
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn a_retry_after_past_the_deadline_ends_at_once() {
        let clock = Clock::default();
        let result: Result<(), _> =
            clock.retrying(Duration::from_millis(300), |_| Verdict::Retry {
                reason: "HTTP 503".into(),
                after: Some(Duration::from_secs(30)),
            });
        let failure = result.unwrap_err();
        assert_eq!(failure.attempts, 1);
        assert!(failure.reason.contains("retry after 30s"), "{failure}");
        assert!(clock.sleeps.borrow().is_empty(), "no sleep for nothing");
    }

    #[test]
    fn retries_back_off_and_stop_within_the_timeout() {
        let clock = Clock::default();
        let timeout = Duration::from_millis(400);
        let given = RefCell::new(Vec::new());
        let result: Result<(), _> = clock.retrying(timeout, |remaining| {
            given.borrow_mut().push(remaining);
            // Each attempt takes 20 ms to be refused.
            clock.advance(Duration::from_millis(20));
            Verdict::Retry {
                reason: "connection refused".into(),
                after: None,
            }
        });
        let failure = result.unwrap_err();
        assert!(failure.attempts >= 2, "{failure:?}");
        assert!(
            failure.to_string().contains("connection refused"),
            "{failure}"
        );
        // The backoff doubles (with jitter: 50-100 ms, then 100-200 ms, ...), and no sleep
        // runs past the timeout: the export ends within it, each attempt given what is left.
        let sleeps = clock.sleeps.borrow();
        assert_eq!(sleeps.len() + 1, failure.attempts as usize);
        assert!(
            sleeps.windows(2).all(|pair| pair[1] >= pair[0]),
            "{sleeps:?}"
        );
        assert!(clock.now.get() <= timeout, "{:?}", clock.now.get());
        let given = given.borrow();
        assert_eq!(given[0], timeout);
        assert!(given.windows(2).all(|pair| pair[1] < pair[0]), "{given:?}");
    }

    #[test]
    fn retries_stop_when_the_timeout_is_spent() {
        let clock = Clock::default();
        let result: Result<(), _> = clock.retrying(Duration::from_millis(400), |_| {
            // An attempt that uses the whole budget: no second one.
            clock.advance(Duration::from_millis(400));
            Verdict::Retry {
                reason: "connection reset".into(),
                after: Some(Duration::from_millis(1)),
            }
        });
        let failure = result.unwrap_err();
        assert_eq!(failure.attempts, 1);
        assert!(
            failure.reason.contains("past the export timeout"),
            "{failure}"
        );
    }

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
