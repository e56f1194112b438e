//! Carrying a span's context through a future: attached on every poll, detached between
//! polls, so futures interleaved on one thread never see each other's span as parent.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use crate::span::ActiveSpan;

pin_project! {
    /// The future of a `#[traced]` async function: polls `inner` with the span current, and
    /// ends the span when `inner` completes, panics, or is dropped unfinished (`cancelled`).
    #[doc(hidden)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F, O> {
        #[pin]
        inner: F,
        span: ActiveSpan,
        on_output: Option<O>,
    }

    impl<F, O> PinnedDrop for Instrumented<F, O> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Still holding the span: the future never completed.
            if this.span.is_started() {
                this.span.record_cancelled();
                this.span.end();
            }
        }
    }
}

impl<F, O> Instrumented<F, O>
where
    F: Future,
    O: FnOnce(&ActiveSpan, &F::Output),
{
    /// Wraps `inner`; `on_output` records the output on the span before it ends.
    #[inline]
    pub fn new(span: ActiveSpan, inner: F, on_output: O) -> Self {
        Self {
            inner,
            span,
            on_output: Some(on_output),
        }
    }
}

impl<F, O> Future for Instrumented<F, O>
where
    F: Future,
    O: FnOnce(&ActiveSpan, &F::Output),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(cx) = this.span.context() else {
            return this.inner.poll(task);
        };
        let _attached = cx.clone().attach();
        let unwinding = EndOnUnwind(this.span);
        let output = match this.inner.poll(task) {
            Poll::Ready(output) => output,
            Poll::Pending => return Poll::Pending,
        };
        if let Some(on_output) = this.on_output.take() {
            on_output(unwinding.0, &output);
        }
        unwinding.0.end();
        Poll::Ready(output)
    }
}

/// Ends the span with the panic recorded if the poll it guards unwinds.
struct EndOnUnwind<'a>(&'a mut ActiveSpan);

impl Drop for EndOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.record_panic();
            self.0.end();
        }
    }
}
