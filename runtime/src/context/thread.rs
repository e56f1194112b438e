//! `std::thread::spawn` in the current context.

use std::thread::JoinHandle;

/// Spawns a thread that runs `f` in the context current now: spans it starts are children of
/// the current span.
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn work(n: u32) -> u32 { n + 1 }
///
/// let handle = traced::thread::spawn(|| work(1));
/// assert_eq!(handle.join().unwrap(), 2);
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::spawn(super::spawn::in_current_context(f))
}
