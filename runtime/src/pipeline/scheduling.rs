//! A short time slice for the pipeline's own threads, so that on a busy machine they run as
//! soon as they wake.
//!
//! The export thread sleeps until a batch is ready, and an export over the network sleeps
//! until the collector answers; each then needs the CPU briefly. On a CPU kept busy by the
//! application, Linux's fair scheduler (EEVDF) lets a thread that wakes wait until the running
//! thread's time slice ends (1.4 ms on the 2-core machine of `benches/`), unless the woken
//! thread asked for a shorter slice than the running one's (`sched_setattr`'s
//! `sched_runtime`, Linux 6.12): then it may take the CPU at once. Its weight is its nice
//! value, which stays as it was: the thread gets no more than its fair share, but no longer
//! loses part of it waiting. With two producers keeping both cores busy, the OTLP exporter
//! sent 0.95–1.34 M spans/s to a collector on the same machine with it, 0.15–0.66 without,
//! and the producers got about a fifth less CPU (`benches/README.md`, Throughput).
//!
//! Older kernels ignore the field; other systems have no such call. Nothing else changes.

/// The slice asked for: the shortest Linux grants (it clamps the request to 0.1–100 ms).
#[cfg(target_os = "linux")]
const SLICE_NANOS: u64 = 100_000;

/// Asks the scheduler to give the calling thread a short time slice (see the module), keeping
/// its policy and nice value. A thread the application made real-time, batch or idle is left as
/// it is, and so is any thread where the call fails (a sandbox refusing it, say): the thread
/// then runs as before.
#[cfg(target_os = "linux")]
pub(super) fn prefer_prompt_wakeups() {
    let Some(mut attr) = linux::attributes(linux::THIS_THREAD) else {
        return;
    };
    if attr.policy != linux::SCHED_OTHER {
        return;
    }
    attr.runtime = SLICE_NANOS;
    // Kept as it was read; no other flag is asked for (each would change something else).
    attr.flags &= linux::SCHED_FLAG_RESET_ON_FORK;
    // Failing costs nothing but the wait this avoids.
    let _ = linux::set_attributes(&attr);
}

/// Nothing to ask for outside Linux.
#[cfg(not(target_os = "linux"))]
pub(super) fn prefer_prompt_wakeups() {}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::mem::size_of;

    /// The fair scheduler's normal policy.
    pub(super) const SCHED_OTHER: u32 = 0;
    /// `SCHED_FLAG_RESET_ON_FORK`: children of the thread start with the default policy.
    pub(super) const SCHED_FLAG_RESET_ON_FORK: u64 = 0x01;

    /// `struct sched_attr` of `sched_setattr(2)`, up to `SCHED_ATTR_SIZE_VER0` (48 bytes):
    /// the utilisation clamps after it are not read, and not changed when set.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default)]
    pub(super) struct SchedAttr {
        pub(super) size: u32,
        pub(super) policy: u32,
        pub(super) flags: u64,
        pub(super) nice: i32,
        pub(super) priority: u32,
        /// For the fair policies, the thread's time slice in nanoseconds (Linux 6.12).
        pub(super) runtime: u64,
        pub(super) deadline: u64,
        pub(super) period: u64,
    }

    /// The calls' `flags`: none is defined.
    const NO_FLAGS: libc::c_long = 0;
    /// The thread id that names the calling thread.
    pub(super) const THIS_THREAD: libc::c_long = 0;

    /// The size the kernel is told the structure has.
    const SIZE: u32 = 48;
    const _: () = assert!(size_of::<SchedAttr>() == SIZE as usize);
    /// [`SIZE`] as a system call argument (lossless: 48 fits any `c_long`).
    const SIZE_ARGUMENT: libc::c_long = SIZE as libc::c_long;

    /// The scheduling attributes of thread `tid` ([`THIS_THREAD`]: the calling one).
    pub(super) fn attributes(tid: libc::c_long) -> Option<SchedAttr> {
        let mut attr = SchedAttr::default();
        // SAFETY: `sched_getattr(pid, attr, size, flags)` writes at most `size` bytes to
        // `attr`; `attr` is a live, exclusively borrowed `SchedAttr` of exactly `SIZE`
        // bytes (asserted above), whose fields are all plain integers, so any bytes written
        // are a valid value. It reads no other memory of this process.
        #[allow(unsafe_code)]
        let done = unsafe {
            libc::syscall(
                libc::SYS_sched_getattr,
                tid,
                &raw mut attr,
                SIZE_ARGUMENT,
                NO_FLAGS,
            )
        };
        (done == 0).then_some(attr)
    }

    /// Sets the calling thread's scheduling attributes to `attr`.
    pub(super) fn set_attributes(attr: &SchedAttr) -> io::Result<()> {
        let attr = SchedAttr {
            size: SIZE,
            ..*attr
        };
        // SAFETY: `sched_setattr(pid, attr, flags)` reads `attr.size` bytes from `attr`, a
        // live `SchedAttr` of exactly that size (asserted above); it writes no memory of
        // this process. Pid 0 is the calling thread.
        #[allow(unsafe_code)]
        let done = unsafe {
            libc::syscall(
                libc::SYS_sched_setattr,
                THIS_THREAD,
                &raw const attr,
                NO_FLAGS,
            )
        };
        if done == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(test)]
#[cfg(target_os = "linux")]
mod tests {
    use super::linux::{SCHED_OTHER, SchedAttr, THIS_THREAD, attributes, set_attributes};
    use super::{SLICE_NANOS, prefer_prompt_wakeups};

    /// `SCHED_BATCH`.
    const SCHED_BATCH: u32 = 3;

    /// Whether this kernel keeps a slice asked for (Linux 6.12 and later).
    fn kernel_keeps_custom_slices() -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut numbers = release.split(['.', '-']).map(|part| part.parse::<u32>());
        let (Some(Ok(major)), Some(Ok(minor))) = (numbers.next(), numbers.next()) else {
            panic!("unexpected kernel release {release:?}");
        };
        (major, minor) >= (6, 12)
    }

    /// Runs `check` on a new thread, whose attributes nothing else has touched.
    fn on_a_new_thread(check: impl FnOnce() + Send + 'static) {
        std::thread::spawn(check).join().unwrap();
    }

    #[test]
    fn a_thread_gets_the_short_slice_and_keeps_its_nice_value() {
        on_a_new_thread(|| {
            let before = attributes(THIS_THREAD).unwrap();
            assert_eq!(before.policy, SCHED_OTHER);
            // A higher nice value is allowed without privileges.
            let niced = SchedAttr {
                nice: before.nice + 3,
                runtime: 0,
                ..before
            };
            set_attributes(&niced).unwrap();
            prefer_prompt_wakeups();
            let after = attributes(THIS_THREAD).unwrap();
            assert_eq!(after.policy, SCHED_OTHER);
            assert_eq!(after.nice, before.nice + 3, "the nice value is kept");
            if kernel_keeps_custom_slices() {
                assert_eq!(after.runtime, SLICE_NANOS);
            }
        });
    }

    #[test]
    fn a_batch_thread_is_left_as_it_is() {
        on_a_new_thread(|| {
            let before = attributes(THIS_THREAD).unwrap();
            let batch = SchedAttr {
                policy: SCHED_BATCH,
                runtime: 0,
                ..before
            };
            set_attributes(&batch).unwrap();
            let batched = attributes(THIS_THREAD).unwrap();
            prefer_prompt_wakeups();
            let after = attributes(THIS_THREAD).unwrap();
            assert_eq!(after.policy, SCHED_BATCH);
            assert_eq!(after.runtime, batched.runtime);
            assert_ne!(after.runtime, SLICE_NANOS);
        });
    }
}
