//! The queue's next slot brought into the application core's cache, for writing, as soon as
//! a span is queued: its lines then travel while the application runs until its next span
//! ends, instead of while that span's copy waits for them.
//!
//! The batch processor's two buffers take turns ([`super::batch`]): the export thread empties
//! one while the application's threads copy each ended span (eight or nine cache lines) into
//! the other. Every line the application writes was last read by the export thread (and,
//! with an exporter of `SpanData`, written), so it sits in the export core's cache. On an
//! Intel host (`benches/README.md`) each copy waited for its lines to come from there, and the
//! queue lock's release right after it waited for the copy: 72 % of the enqueue's samples on
//! that one instruction by `perf annotate`. `PREFETCHW` asks for each line in the state a
//! write needs, and nothing waits for it, not even the lock's release, which it is not
//! ordered with. Measured there (the enabled path's history in `benches/README.md`): a
//! sampled `#[traced]` call 17-25 ns faster, the export thread's cost unchanged. On the AMD
//! host of earlier rounds the same prefetch neither helped nor hurt.
//!
//! A read prefetch does not do it: `PREFETCHT0` (also what the `_MM_HINT_ET0` intrinsic
//! compiles to unless the build enables `prfchw`) brings the line shared, the write then has
//! to claim it from the other core anyway, and the sampled call measured 40 ns slower. Where
//! the processor lacks `PREFETCHW`, or on other architectures, nothing is done.

/// The size of a cache line on x86-64 processors.
#[cfg(target_arch = "x86_64")]
const LINE: usize = 64;

/// Prefetches a queue's next slot for writing, where the processor can.
#[derive(Clone, Copy, Debug)]
pub(super) struct NextSlot {
    /// The processor has `PREFETCHW`.
    supported: bool,
}

impl NextSlot {
    /// Asks the processor whether it has `PREFETCHW`.
    pub(super) fn detect() -> Self {
        Self {
            supported: prefetchw_supported(),
        }
    }

    /// Prefetches, for writing, the slot `queue` fills next, if it has one without growing.
    /// Called with the queue locked, so the slot is the one the next push writes, not one of
    /// a buffer the export thread has just taken and is about to read.
    #[inline(always)]
    pub(super) fn prefetch<T>(self, queue: &mut Vec<T>) {
        if !self.supported {
            return;
        }
        if let Some(slot) = queue.spare_capacity_mut().first() {
            prefetch_for_writing(slot.as_ptr().cast::<u8>(), size_of::<T>());
        }
    }
}

/// Whether the processor has `PREFETCHW`: CPUID leaf `0x8000_0001`, ECX bit 8 (Linux calls
/// it `3dnowprefetch`). Intel's processors before Broadwell lack it.
#[cfg(target_arch = "x86_64")]
fn prefetchw_supported() -> bool {
    use std::arch::x86_64::__cpuid;

    const EXTENDED_FEATURES: u32 = 0x8000_0001;
    // SAFETY: `cpuid` exists on every x86-64 processor, and the extended leaf is read only
    // where leaf 0x8000_0000 says it exists. (Safe to call in newer Rust, `unsafe` in the
    // oldest we support.)
    #[allow(unsafe_code, unused_unsafe)]
    unsafe {
        __cpuid(0x8000_0000).eax >= EXTENDED_FEATURES
            && __cpuid(EXTENDED_FEATURES).ecx & (1 << 8) != 0
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetchw_supported() -> bool {
    false
}

/// Prefetches for writing every cache line holding one of the `bytes` bytes from `start`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch_for_writing(start: *const u8, bytes: usize) {
    let first = start as usize & !(LINE - 1);
    let end = start as usize + bytes;
    for line in (first..end).step_by(LINE) {
        // SAFETY: `prefetchw` changes no architectural state (no register, flag or byte of
        // memory) and cannot fault, whatever the address: it only hints that the line
        // holding it will be written. It runs only where CPUID reported it
        // (`NextSlot::detect`), so it is never an undefined opcode.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::asm!(
                "prefetchw [{line}]",
                line = in(reg) line,
                options(nostack, preserves_flags, readonly),
            );
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch_for_writing(_start: *const u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_changes_nothing_in_the_queue() {
        let mut queue: Vec<[u64; 62]> = Vec::with_capacity(3);
        queue.push([7; 62]);
        let next_slot = NextSlot::detect();
        next_slot.prefetch(&mut queue);
        assert_eq!(queue, [[7; 62]]);
        assert_eq!(queue.capacity(), 3);
        // A full queue has no next slot, and nothing past its allocation is touched.
        queue.push([8; 62]);
        queue.push([9; 62]);
        next_slot.prefetch(&mut queue);
        assert_eq!(queue, [[7; 62], [8; 62], [9; 62]]);
    }

    /// The CPUID bit read is the one Linux reports as `3dnowprefetch`.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    #[test]
    fn detection_agrees_with_the_kernel() {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").expect("Linux has /proc/cpuinfo");
        let flags = cpuinfo
            .lines()
            .find(|line| line.starts_with("flags"))
            .expect("x86-64 processors list their flags");
        let kernel_says = flags.split_whitespace().any(|flag| flag == "3dnowprefetch");
        assert_eq!(NextSlot::detect().supported, kernel_says);
    }
}
