//! The library's own diagnostics, on standard error: configuration problems, dropped spans.
//! Never a panic, never a message that could carry a secret.

use std::collections::HashSet;
use std::sync::Mutex;

/// Prints `message` as a warning, once per distinct `topic` for the life of the process, so
/// a bad variable read on every `init()` does not flood the log.
pub(crate) fn warn_once(topic: &str, message: impl FnOnce() -> String) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if seen
        .get_or_insert_with(HashSet::new)
        .insert(topic.to_owned())
    {
        eprintln!("traced: warning: {}", message());
    }
}
