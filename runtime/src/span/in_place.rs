//! Boxing a value where it is built.
//!
//! `Box::new(value)` evaluates `value` before it allocates, so the value is built on the
//! stack and copied into the box. The copy reads the freshly written bytes back in wider
//! loads than they were written with, a store-forwarding stall: copying a span's 528-byte
//! record into its box cost about 7–11 ns of a sampled `#[traced]` call (`perf annotate`,
//! alternating runs: `benches/README.md`). Allocating first lets the compiler write the
//! value's fields straight into the box.

use std::mem::MaybeUninit;

/// Puts `value` in `boxed`, a box allocated before the value was built: called as
/// `filled(Box::new_uninit(), Value { .. })` (arguments are evaluated in order), the box
/// exists first and the compiler can build the value straight in it.
///
/// It does so only if nothing that could unwind runs between the allocation and the end of
/// the value's construction (else it builds the value aside, as the box could be seen
/// half-written): compute anything that calls out before.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn filled<T>(mut boxed: Box<MaybeUninit<T>>, value: T) -> Box<T> {
    boxed.write(value);
    // SAFETY: `write` initialised the whole value on the line above.
    unsafe { boxed.assume_init() }
}
