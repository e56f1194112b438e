//! Carrying a span's context through a future: attached on every poll, detached between
//! polls, so futures interleaved on one thread never see each other's span as parent.
//!
//! An `async fn` whose span adds nothing to its parent's context (an unsampled child) is
//! first polled right where that context is current: it holds no context, attaches none,
//! and allocates nothing, unless that poll suspends it, when it takes the context along for
//! the polls to come, which may run elsewhere. A call that finishes without suspending
//! then costs about what a synchronous one does (17 ns, against 63 when every such future
//! held a clone of the context: `benches/README.md`). Any other span (a root the sampler
//! dropped, or one that records, but the SDK's) lends its context to each poll's attachment
//! instead of attaching a clone, and takes it back only when the poll suspends the future:
//! a recording span is reached through the current context meanwhile
//! ([`crate::span`]'s `lent` module).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use crate::span::ActiveSpan;

/// Where an [`Instrumented`] future is first polled.
#[doc(hidden)]
pub trait FirstPoll {
    /// In the poll its span started in ([`Awaited`]).
    const WHERE_STARTED: bool;
}

/// An `async fn`'s body, awaited in the poll its span started in.
#[doc(hidden)]
#[derive(Debug)]
pub enum Awaited {}

impl FirstPoll for Awaited {
    const WHERE_STARTED: bool = true;
}

/// A returned future, first polled wherever its caller polls it.
#[doc(hidden)]
#[derive(Debug)]
pub enum Returned {}

impl FirstPoll for Returned {
    const WHERE_STARTED: bool = false;
}

pin_project! {
    /// The future of a `#[traced]` async function: polls `inner` with the span current, and
    /// ends the span when `inner` completes, panics, or is dropped unfinished (`cancelled`).
    ///
    /// `P`: where it is first polled ([`Awaited`] or [`Returned`]).
    #[doc(hidden)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F, O, P> {
        #[pin]
        inner: F,
        span: ActiveSpan,
        on_output: Option<O>,
        first_poll: PhantomData<P>,
    }

    impl<F, O, P> PinnedDrop for Instrumented<F, O, P> {
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

impl<F, O, P> Instrumented<F, O, P>
where
    F: Future,
    O: FnOnce(&ActiveSpan, &F::Output),
{
    /// Wraps `inner`; `on_output` records the output on the span before it ends.
    #[inline(always)]
    fn wrapping(span: ActiveSpan, inner: F, on_output: O) -> Self {
        Self {
            inner,
            span,
            on_output: Some(on_output),
            first_poll: PhantomData,
        }
    }
}

impl<F, O> Instrumented<F, O, Returned>
where
    F: Future,
    O: FnOnce(&ActiveSpan, &F::Output),
{
    /// Wraps `inner`, a future returned to be polled wherever its caller polls it;
    /// `on_output` records the output on the span before it ends.
    #[inline]
    pub fn new(span: ActiveSpan, inner: F, on_output: O) -> Self {
        Self::wrapping(span, inner, on_output)
    }
}

impl<F, O> Instrumented<F, O, Awaited>
where
    F: Future,
    O: FnOnce(&ActiveSpan, &F::Output),
{
    /// Wraps `inner`, the body of an `async fn` whose span
    /// ([`ActiveSpan::start_awaited`]) started in the poll that now awaits it; `on_output`
    /// as in [`Instrumented::new`].
    #[inline]
    pub fn awaited(span: ActiveSpan, inner: F, on_output: O) -> Self {
        Self::wrapping(span, inner, on_output)
    }
}

impl<F, O, P> Future for Instrumented<F, O, P>
where
    P: FirstPoll,
    F: Future,
    O: FnOnce(&ActiveSpan, &F::Output),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(_attached) = this.span.attach_for_poll() else {
            let poll = this.inner.poll(task);
            if P::WHERE_STARTED && poll.is_pending() {
                // Its span added nothing to the context it was polled under so far; later
                // polls may happen under another one.
                this.span.inherit_current();
            }
            return poll;
        };
        let after_poll = AfterPoll(this.span);
        let output = match this.inner.poll(task) {
            Poll::Ready(output) => output,
            Poll::Pending => return Poll::Pending,
        };
        if let Some(on_output) = this.on_output.take() {
            on_output(after_poll.0, &output);
        }
        after_poll.0.end();
        Poll::Ready(output)
    }
}

/// What follows a poll of a started span: the span ended with the panic recorded if the
/// poll unwinds; otherwise the context a span that does not record lent to the poll's
/// attachment taken back, if the poll suspended the future (one that finished has ended
/// its span already). Dropped before the attachment ends, while the context lent is still
/// the current one.
struct AfterPoll<'a>(&'a mut ActiveSpan);

impl Drop for AfterPoll<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.record_panic();
            self.0.end();
        } else {
            self.0.take_back_lent();
        }
    }
}
