//! The time slice Linux gives each thread of a process, read with `sched_getattr(2)`.

use std::fs;

/// The slice `traced`'s pipeline threads ask for, in nanoseconds.
pub const PIPELINE_SLICE_NANOS: u64 = 100_000;

/// `struct sched_attr` up to `SCHED_ATTR_SIZE_VER0`.
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

const SIZE: libc::c_long = 48;
const _: () = assert!(size_of::<SchedAttr>() == SIZE as usize);

/// Whether this kernel keeps a slice a thread asks for (Linux 6.12 and later).
pub fn kernel_keeps_custom_slices() -> bool {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut numbers = release.split(['.', '-']).map(str::parse::<u32>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= (6, 12),
        _ => panic!("unexpected kernel release {release:?}"),
    }
}

/// Each thread of process `pid`: its name and its time slice in nanoseconds. A thread that
/// ends while it is read is left out.
pub fn thread_slices(pid: u32) -> Vec<(String, u64)> {
    let mut threads = Vec::new();
    for task in fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap();
        let tid: libc::c_long = task.file_name().to_str().unwrap().parse().unwrap();
        let Ok(name) = fs::read_to_string(task.path().join("comm")) else {
            continue;
        };
        let mut attr = SchedAttr::default();
        // SAFETY: `sched_getattr(pid, attr, size, flags)` writes at most `size` bytes to
        // `attr`, a live, exclusively borrowed `SchedAttr` of exactly that size (asserted
        // above) made only of integers, so any bytes written are a valid value.
        #[allow(unsafe_code)]
        let done = unsafe {
            libc::syscall(
                libc::SYS_sched_getattr,
                tid,
                &raw mut attr,
                SIZE,
                0 as libc::c_long,
            )
        };
        if done != 0 {
            let error = std::io::Error::last_os_error();
            assert_eq!(
                error.raw_os_error(),
                Some(libc::ESRCH),
                "sched_getattr({tid}): {error}"
            );
            continue;
        }
        threads.push((name.trim().to_owned(), attr.runtime));
    }
    threads
}
