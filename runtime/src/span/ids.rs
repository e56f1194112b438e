//! Random trace and span ids for `#[traced]` spans (sampled before anything is built, so the
//! ids are drawn here rather than by the SDK): a per-thread generator, so making an id takes
//! no lock and touches no shared cache line.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use opentelemetry::trace::{SpanContext, SpanId, TraceId};

thread_local! {
    /// The generator's state; seeded per thread from the process's random hash keys, the
    /// thread and the clock, so threads and processes draw different sequences.
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64),
    );
    std::hash::Hash::hash(&std::thread::current().id(), &mut hasher);
    hasher.finish()
}

/// The next 64 random bits: SplitMix64, which passes BigCrush and needs one word of state.
fn next() -> u64 {
    STATE.with(|state| {
        let current = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(current);
        let mut z = current;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A random, valid (non-zero) trace id.
pub(crate) fn new_trace_id() -> TraceId {
    loop {
        let id = (u128::from(next()) << 64) | u128::from(next());
        if id != 0 {
            return TraceId::from(id);
        }
    }
}

/// The trace a span under `parent` belongs to: a valid parent's, else a new one (as the
/// SDK decides it).
#[inline]
pub(crate) fn trace_id_under(parent: &SpanContext) -> TraceId {
    if parent.is_valid() {
        parent.trace_id()
    } else {
        new_trace_id()
    }
}

/// A random, valid (non-zero) span id.
pub(crate) fn new_span_id() -> SpanId {
    loop {
        let id = next();
        if id != 0 {
            return SpanId::from(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_valid_and_distinct() {
        let spans: HashSet<SpanId> = (0..10_000).map(|_| new_span_id()).collect();
        assert_eq!(spans.len(), 10_000);
        assert!(!spans.contains(&SpanId::INVALID));
        let traces: HashSet<TraceId> = (0..10_000).map(|_| new_trace_id()).collect();
        assert_eq!(traces.len(), 10_000);
    }

    #[test]
    fn threads_draw_different_sequences() {
        let here = new_span_id();
        let there = std::thread::spawn(new_span_id).join().unwrap();
        assert_ne!(here, there);
    }
}
