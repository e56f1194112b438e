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

/// SplitMix64's step: the next 64 random bits from `state`. It passes BigCrush and needs one
/// word of state.
#[inline(always)]
fn draw(state: &Cell<u64>) -> u64 {
    let current = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
    state.set(current);
    let mut z = current;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random, valid (non-zero) trace id drawn from `state`.
#[inline(always)]
fn draw_trace_id(state: &Cell<u64>) -> TraceId {
    loop {
        let id = (u128::from(draw(state)) << 64) | u128::from(draw(state));
        if id != 0 {
            return TraceId::from(id);
        }
    }
}

/// A random, valid (non-zero) span id drawn from `state`.
#[inline(always)]
fn draw_span_id(state: &Cell<u64>) -> SpanId {
    loop {
        let id = draw(state);
        if id != 0 {
            return SpanId::from(id);
        }
    }
}

/// The trace a span under `parent` belongs to (a valid parent's, else a new one, as the SDK
/// decides it) and a new span id, drawn with one access to this thread's generator.
#[inline]
pub(crate) fn ids_under(parent: &SpanContext) -> (TraceId, SpanId) {
    let valid_parent = parent.is_valid().then(|| parent.trace_id());
    STATE.with(|state| {
        let trace_id = valid_parent.unwrap_or_else(|| draw_trace_id(state));
        (trace_id, draw_span_id(state))
    })
}

/// A random, valid (non-zero) trace id.
#[cfg(test)]
fn new_trace_id() -> TraceId {
    STATE.with(draw_trace_id)
}

/// A random, valid (non-zero) span id.
#[cfg(test)]
fn new_span_id() -> SpanId {
    STATE.with(draw_span_id)
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
    fn a_span_keeps_a_valid_parents_trace_and_draws_its_own_otherwise() {
        use opentelemetry::trace::{TraceFlags, TraceState};

        let parent_trace = TraceId::from(0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c);
        let parent_span = SpanId::from(0x00f0_67aa_0ba9_02b7);
        let parent = SpanContext::new(
            parent_trace,
            parent_span,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let (trace, span) = ids_under(&parent);
        assert_eq!(trace, parent_trace);
        assert_ne!(span, parent_span);
        assert_ne!(span, SpanId::INVALID);

        let (first_trace, first_span) = ids_under(&SpanContext::NONE);
        let (second_trace, second_span) = ids_under(&SpanContext::NONE);
        assert_ne!(first_trace, TraceId::INVALID);
        assert_ne!(first_trace, second_trace);
        assert_ne!(first_span, second_span);
    }

    #[test]
    fn threads_draw_different_sequences() {
        let here = new_span_id();
        let there = std::thread::spawn(new_span_id).join().unwrap();
        assert_ne!(here, there);
    }
}
