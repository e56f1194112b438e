//! The processor's time stamp counter, where the kernel keeps time with it.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86_64_linux {
    use std::fs;

    /// Where Linux names the clock source `clock_gettime` reads.
    const CLOCK_SOURCE: &str = "/sys/devices/system/clocksource/clocksource0/current_clocksource";

    /// Whether the kernel keeps time with the counter: it does only once it found the
    /// counter invariant (constant rate, never stopping) and in step across CPUs. Asked
    /// once, when the pipeline is installed: should the kernel switch away later (its
    /// watchdog found the counter drifting), spans keep the counter.
    pub(in crate::clock) fn usable() -> bool {
        fs::read_to_string(CLOCK_SOURCE).is_ok_and(|source| source.trim() == "tsc")
    }

    /// The counter now.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(in crate::clock) fn read() -> u64 {
        // SAFETY: `_rdtsc` is `unsafe` only as a platform intrinsic. RDTSC is part of the
        // x86-64 baseline, so every CPU this code compiles for has it; it reads the
        // counter into registers and touches no memory, so no input or state can make it
        // undefined behaviour.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(super) use x86_64_linux::{read, usable};

/// Elsewhere the system clock is used: the counter is never read.
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
pub(super) fn usable() -> bool {
    false
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
pub(super) fn read() -> u64 {
    0
}
