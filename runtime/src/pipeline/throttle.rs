//! How often a repeated warning is printed: the first at once, then at most one a minute,
//! so that a condition lasting days (a collector gone, a queue always full) shows in the
//! log when it starts without a line per batch.

use std::time::{Duration, Instant};

/// The least time between two printed lines.
const PERIOD: Duration = Duration::from_secs(60);

/// When one kind of warning was last printed.
#[derive(Debug, Default)]
pub(super) struct Throttle {
    printed_at: Option<Instant>,
}

/// Whether a warning is printed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Turn {
    /// Printed: the first of its kind.
    First,
    /// Printed: a minute or more after the one before.
    Again,
    /// Not printed: the one before was less than a minute ago.
    Held,
}

impl Throttle {
    /// Whether a warning happening at `now` is printed; a printed one starts the next
    /// minute of quiet.
    pub(super) fn turn(&mut self, now: Instant) -> Turn {
        let turn = match self.printed_at {
            None => Turn::First,
            Some(printed_at) if now.duration_since(printed_at) < PERIOD => return Turn::Held,
            Some(_) => Turn::Again,
        };
        self.printed_at = Some(now);
        turn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_printed_then_at_most_one_a_minute() {
        let mut throttle = Throttle::default();
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(throttle.turn(at(0)), Turn::First);
        assert_eq!(throttle.turn(at(0)), Turn::Held);
        assert_eq!(throttle.turn(at(59)), Turn::Held);
        assert_eq!(throttle.turn(at(60)), Turn::Again);
        assert_eq!(
            throttle.turn(at(119)),
            Turn::Held,
            "a minute after the last printed"
        );
        assert_eq!(throttle.turn(at(3_600)), Turn::Again);
    }
}
