//! What threads of this process have spent so far, read from Linux's per-thread
//! `schedstat`: how long each has run, and how long it waited runnable for a CPU.

use std::collections::HashMap;

/// The batch processors' export threads, as the kernel names them (cut to 15 bytes):
/// `traced`'s "traced-batch-export" and its "traced-export-send-N" threads (with concurrent
/// exports), and the SDK's "OpenTelemetry.Traces.BatchProcessor".
pub const EXPORT_THREADS: &[&str] = &["traced-batch-ex", "traced-export-s", "OpenTelemetry.T"];

/// How long a thread has run, and waited runnable for a CPU, so far (ns).
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadTimes {
    pub running: u64,
    pub waiting: u64,
}

/// The times of each thread named one of `names` (its `comm`) so far, by thread id; empty
/// where they cannot be read.
pub fn times_of(names: &[&str]) -> HashMap<String, ThreadTimes> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return HashMap::new();
    };
    tasks
        .flatten()
        .filter(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            names.contains(&comm.trim_end())
        })
        .filter_map(|task| {
            let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let mut fields = schedstat.split_whitespace().map(str::parse);
            let running = fields.next()?.ok()?;
            let waiting = fields.next()?.ok()?;
            let times = ThreadTimes { running, waiting };
            Some((task.file_name().to_string_lossy().into_owned(), times))
        })
        .collect()
}

/// What the threads of `after` spent since `before`, summed over the threads (a thread
/// missing from `before` started since); `None` when `after` read none.
pub fn spent(
    before: &HashMap<String, ThreadTimes>,
    after: &HashMap<String, ThreadTimes>,
) -> Option<ThreadTimes> {
    let spent = after.iter().map(|(thread, times)| {
        let earlier = before.get(thread).copied().unwrap_or_default();
        ThreadTimes {
            running: times.running.saturating_sub(earlier.running),
            waiting: times.waiting.saturating_sub(earlier.waiting),
        }
    });
    (!after.is_empty()).then(|| {
        spent.fold(ThreadTimes::default(), |sum, times| ThreadTimes {
            running: sum.running + times.running,
            waiting: sum.waiting + times.waiting,
        })
    })
}
