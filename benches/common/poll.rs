//! Running a future on the benchmark's own thread, shared by the benchmarks of async code.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

/// Polls `future` to completion with a no-op waker: no executor cost in the figures.
#[inline(always)]
pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// [`run`], with each poll a real call rather than inlined into the loop.
///
/// `#[inline(never)]` on an `async fn` keeps only its constructor out of line: its poll is
/// inlined where it is polled, or not, as the compiler decides. Run through this, a
/// future's poll is a call whatever it decides, as the synchronous variants' calls all are.
#[allow(dead_code)] // used by the overhead run only
pub fn run_poll_called<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = poll_called(future.as_mut(), &mut cx) {
            return output;
        }
    }
}

#[inline(never)]
fn poll_called<F: Future>(future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    future.poll(cx)
}
