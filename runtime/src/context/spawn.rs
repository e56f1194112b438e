//! Carrying the current context into other futures and tasks.

use std::future::Future;

use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::context::WithContext;

/// Runs any future in the context current *now*, wherever it is polled later.
///
/// # Example
///
/// ```
/// use traced::FutureExt as _;
///
/// #[traced::traced]
/// async fn child() {}
///
/// #[traced::traced]
/// fn parent() -> impl std::future::Future<Output = ()> {
///     // `child`'s span will be a child of `parent`'s, even if polled elsewhere.
///     child().in_current_context()
/// }
/// futures::executor::block_on(parent());
/// ```
pub trait FutureExt: Future + Sized {
    /// Attaches the current context on every poll of `self`.
    fn in_current_context(self) -> WithContext<Self> {
        self.with_context(Context::current())
    }
}

impl<F: Future> FutureExt for F {}

/// `tokio::spawn` in the current context: spans the task starts are children of the current
/// span (feature `tokio`).
///
/// # Example
///
/// ```
/// #[traced::traced]
/// async fn job(id: u32) -> u32 { id }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let handle = traced::spawn(job(7));
/// assert_eq!(handle.await.unwrap(), 7);
/// # });
/// ```
#[cfg(feature = "tokio")]
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_context())
}

/// `tokio::task::spawn_blocking` in the current context (feature `tokio`).
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn crunch(n: u64) -> u64 { n * 2 }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let handle = traced::spawn_blocking(|| crunch(21));
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
#[cfg(feature = "tokio")]
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(in_current_context(f))
}

/// `f`, made to run in the context current now, wherever it is called later.
pub(crate) fn in_current_context<F, R>(f: F) -> impl FnOnce() -> R + Send + 'static
where
    F: FnOnce() -> R + Send + 'static,
{
    let cx = Context::current();
    move || {
        let _attached = cx.attach();
        f()
    }
}
