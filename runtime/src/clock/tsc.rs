//! The processor's time stamp counter, where the kernel keeps time with it.

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86_64_linux {
    use std::fs;

    /// Where Linux names the clock source `clock_gettime` reads.
    const CLOCK_SOURCE: &str = "/sys/devices/system/clocksource/clocksource0/current_clocksource";

    /// The clock source the kernel keeps time with, by its name (`tsc`, `kvm-clock`,
    /// `hpet`, ..), if it can be read.
    pub(in crate::clock) fn clock_source() -> Option<String> {
        let source = fs::read_to_string(CLOCK_SOURCE).ok()?;
        Some(source.trim().to_owned())
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
pub(super) use x86_64_linux::{clock_source, read};

/// Elsewhere the system clock is used: no clock source is the counter, which is never read.
#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
pub(super) fn clock_source() -> Option<String> {
    None
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
pub(super) fn read() -> u64 {
    0
}

/// Whether the clock source named `source` is the counter: the kernel keeps time with it
/// only once it found it invariant (constant rate, never stopping) and in step across CPUs,
/// and switches away for good when its watchdog finds it drifting.
pub(super) fn is_counter(source: Option<&str>) -> bool {
    source == Some("tsc")
}
