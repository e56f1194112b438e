//! async: the span's context is attached on every poll and detached between polls, so
//! interleaved futures never mix parents; a future dropped unfinished ends its span with a
//! `cancelled` event.

use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Waker};
use std::time::Duration;

use opentelemetry::Value;
use opentelemetry::trace::Status;
use traced::testing::{attribute, capture_future, events};
use traced::traced;

#[traced]
async fn leaf(worker: &'static str, round: u32) -> u32 {
    round
}

#[traced]
async fn worker(name: &'static str) -> u32 {
    let mut total = 0;
    for round in 0..3 {
        // Yield to the other worker between every step.
        tokio::task::yield_now().await;
        total += leaf(name, round).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    total
}

#[tokio::test(flavor = "current_thread")]
async fn interleaved_futures_on_one_thread_keep_their_own_parents() {
    let ((a, b), spans) = capture_future(async { tokio::join!(worker("a"), worker("b")) }).await;
    assert_eq!((a, b), (3, 3));
    let workers = spans.named("worker");
    assert_eq!(workers.len(), 2);
    for worker in workers {
        let name = attribute(worker, "name").cloned();
        let leaves = spans.children_of(worker);
        assert_eq!(leaves.len(), 3, "{}", spans.tree());
        for leaf in leaves {
            assert_eq!(
                attribute(leaf, "worker").cloned(),
                name,
                "a leaf of worker {name:?} is parented to it"
            );
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_context_leaks_between_polls() {
    let (outside, _spans) = capture_future(async {
        let mut future = pin!(worker("solo"));
        let waker = Waker::noop();
        let mut task = TaskContext::from_waker(waker);
        // First poll runs up to the first yield, then returns.
        assert!(future.as_mut().poll(&mut task).is_pending());
        let outside = traced::current_span().span_context();
        future.await;
        outside
    })
    .await;
    // Between polls the current span is the capture's parent, not `worker`.
    assert!(
        outside.is_remote(),
        "the current span between polls is the capture's remote parent"
    );
}

#[traced]
async fn slow(step: u32) -> u32 {
    tokio::time::sleep(Duration::from_secs(60)).await;
    step
}

#[tokio::test(flavor = "current_thread")]
async fn a_future_dropped_unfinished_ends_with_a_cancelled_event() {
    let (timed_out, spans) = capture_future(async {
        tokio::time::timeout(Duration::from_millis(5), slow(1))
            .await
            .is_err()
    })
    .await;
    assert!(timed_out);
    let span = spans.one("slow");
    assert_eq!(events(span, "cancelled").len(), 1);
    assert_eq!(span.status, Status::Unset, "a cancellation is not an error");
}

#[tokio::test(flavor = "current_thread")]
async fn a_completed_future_has_no_cancelled_event() {
    let (value, spans) = capture_future(leaf("x", 4)).await;
    assert_eq!(value, 4);
    assert!(events(spans.one("leaf"), "cancelled").is_empty());
}

#[derive(Debug)]
struct Unavailable;

impl std::error::Error for Unavailable {}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("service unavailable")
    }
}

#[traced(ret)]
async fn fetch(ok: bool) -> Result<u16, Unavailable> {
    tokio::task::yield_now().await;
    if !ok {
        return Err(Unavailable);
    }
    let code: u16 = "200".parse().map_err(|_| Unavailable)?;
    Ok(code)
}

#[tokio::test(flavor = "current_thread")]
async fn async_errors_and_returned_values_are_recorded() {
    let (result, spans) = capture_future(fetch(false)).await;
    assert!(result.is_err());
    let span = spans.one("fetch");
    assert_eq!(span.status, Status::error("service unavailable"));
    assert_eq!(events(span, "exception").len(), 1);

    let (result, spans) = capture_future(fetch(true)).await;
    assert_eq!(result.ok(), Some(200));
    assert_eq!(
        attribute(spans.one("fetch"), "return"),
        Some(&Value::I64(200))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_moving_between_threads_keeps_its_span() {
    let (total, spans) = capture_future(worker("mover")).await;
    assert_eq!(total, 3);
    let worker = spans.one("worker");
    assert_eq!(spans.children_of(worker).len(), 3);
}
