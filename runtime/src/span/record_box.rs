//! The box a span's record lives in, kept for the thread's next span once the record is
//! queued.
//!
//! A recording span's record is boxed from the span's start to its end ([`super::lean`]),
//! when the batch processor copies it into its queue. The box used to be freed there and
//! the next span to allocate one of the same size: a `malloc` and a `free` of 544 bytes a
//! span, on the application's thread. The emptied box is kept instead, one per thread, and
//! the next record is built in it, in memory this core has just written: a sampled
//! `#[traced]` call measured 6–10 ns cheaper on the Intel host (`benches/README.md`). Where
//! no batch processor empties the boxes (no exporter at all) every span looks for a spare in
//! vain, 1–3 ns.
//!
//! One spare a thread (544 bytes held by each thread that has queued a span, freed as it
//! exits): a span started while another is open (a nested call) still allocates,
//! and the box the inner span leaves is the one kept until the outer span ends. A box
//! emptied on another thread than the one that allocated it (a future's span that ended
//! elsewhere) becomes the spare of the thread that emptied it.

use std::cell::Cell;
use std::mem::MaybeUninit;

use super::lean::SpanRecord;

thread_local! {
    /// This thread's spare box, empty.
    static SPARE: Cell<Option<Box<MaybeUninit<SpanRecord>>>> = const { Cell::new(None) };
}

/// A box for a new record: this thread's spare if it has one, else a new allocation.
#[inline(always)]
pub(crate) fn new() -> Box<MaybeUninit<SpanRecord>> {
    SPARE
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(Box::new_uninit)
}

/// Moves the record out of `boxed` into `place`, then keeps the box as this thread's spare
/// (freeing the spare it had, if any). Inlined, and the box kept only after `place` ran, so
/// that the record is copied once, straight from the box to where `place` writes it: kept
/// first (a call), the record had to wait aside in a copy of its own, which cost more than
/// the allocation saved.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn move_out<R>(boxed: Box<SpanRecord>, place: impl FnOnce(SpanRecord) -> R) -> R {
    let raw = Box::into_raw(boxed);
    // SAFETY: `raw` comes from `Box::into_raw`, so it is valid for reads, aligned, holds an
    // initialised record, and nothing else refers to it. The record is read out once here;
    // from then on the memory is only reached as `MaybeUninit`, which never reads or drops it.
    let placed = place(unsafe { raw.read() });
    // SAFETY: `raw` was allocated by a `Box<SpanRecord>` with the global allocator;
    // `MaybeUninit<SpanRecord>` has the same size and alignment as `SpanRecord` (which
    // `MaybeUninit` guarantees), so the new box owns that allocation and frees it with the
    // layout it was allocated with. As `MaybeUninit` it drops nothing: the record read out
    // above is not dropped twice. (Should `place` unwind, the allocation leaks: nothing is
    // freed twice.)
    let emptied = unsafe { Box::from_raw(raw.cast::<MaybeUninit<SpanRecord>>()) };
    keep(emptied);
    placed
}

/// Keeps `emptied` as this thread's spare; as the thread exits (its slot gone), frees it.
#[inline(always)]
fn keep(emptied: Box<MaybeUninit<SpanRecord>>) {
    let mut emptied = Some(emptied);
    let _ = SPARE.try_with(|spare| spare.set(emptied.take()));
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    use super::*;
    use crate::span::in_place::filled;

    fn record(name: &'static str) -> SpanRecord {
        let span_context = SpanContext::new(
            TraceId::from(0x5b8e_fe2a_u128),
            SpanId::from(7),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        SpanRecord::empty(name, span_context)
    }

    #[test]
    fn a_record_unboxed_leaves_its_box_for_the_next_one_on_this_thread() {
        let mut first = filled(new(), record("first"));
        first.name = Cow::Owned("renamed".to_owned());
        let address = std::ptr::from_ref::<SpanRecord>(&first).addr();
        let first = move_out(first, |record| record);
        assert_eq!(first.name, "renamed", "the record moved out whole");
        assert_eq!(first.span_context.span_id(), SpanId::from(7));
        let second = filled(new(), record("second"));
        assert_eq!(
            std::ptr::from_ref::<SpanRecord>(&second).addr(),
            address,
            "the next record is built in the box the first left"
        );
        assert_eq!(second.name, "second");
        // Taken: a third record gets a box of its own.
        let third = filled(new(), record("third"));
        assert_ne!(std::ptr::from_ref::<SpanRecord>(&third).addr(), address);
    }

    #[test]
    fn a_box_emptied_on_another_thread_is_that_threads_spare() {
        let boxed = filled(new(), record("moved"));
        let address = std::ptr::from_ref::<SpanRecord>(&boxed).addr();
        let (unboxed, reused) = std::thread::spawn(move || {
            let unboxed = move_out(boxed, |record| record);
            let next = filled(new(), record("next"));
            (unboxed.name, std::ptr::from_ref::<SpanRecord>(&next).addr())
        })
        .join()
        .expect("the thread runs");
        assert_eq!(unboxed, "moved");
        assert_eq!(reused, address);
    }
}
