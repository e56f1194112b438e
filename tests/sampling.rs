//! An unsampled span evaluates nothing either, but still carries the trace: its children
//! inherit the not-sampled decision.

#[path = "support/suspend.rs"]
mod suspend;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use traced::testing::{capture, capture_unsampled};
use traced::traced;

use suspend::suspend_once;

static FORMATTED: AtomicUsize = AtomicUsize::new(0);
static FIELD_EVALUATED: AtomicUsize = AtomicUsize::new(0);

struct Watched;
impl fmt::Display for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FORMATTED.fetch_add(1, Ordering::SeqCst);
        f.write_str("watched")
    }
}

fn expensive_field() -> u64 {
    FIELD_EVALUATED.fetch_add(1, Ordering::SeqCst);
    1
}

#[traced(ret, fields(cost = expensive_field()))]
fn work(watched: &Watched) -> Result<u8, Watched> {
    inner(watched)
}

#[traced]
fn inner(watched: &Watched) -> Result<u8, Watched> {
    let _ = watched;
    Err(Watched)
}

#[test]
fn unsampled_spans_evaluate_nothing_and_export_nothing() {
    let (result, spans) = capture_unsampled(|| {
        let result = work(&Watched);
        let context = traced::current_span().span_context();
        (result.is_err(), context.is_sampled())
    });
    assert_eq!(result, (true, false));
    assert!(spans.is_empty(), "{}", spans.tree());
    assert_eq!(FORMATTED.load(Ordering::SeqCst), 0);
    assert_eq!(FIELD_EVALUATED.load(Ordering::SeqCst), 0);

    // The same call sampled does format: the counters above can move.
    let (_, spans) = capture(|| work(&Watched));
    assert_eq!(spans.all().len(), 2);
    assert!(FORMATTED.load(Ordering::SeqCst) > 0);
    assert_eq!(FIELD_EVALUATED.load(Ordering::SeqCst), 1);
}

#[traced]
fn unsampled_step() -> (
    traced::opentelemetry::trace::SpanContext,
    traced::opentelemetry::trace::SpanContext,
) {
    use traced::opentelemetry::trace::{TraceContextExt as _, Tracer as _};
    let own = traced::current_span().span_context();
    let native = traced::opentelemetry::global::tracer("native")
        .in_span("native child", |cx| cx.span().span_context().clone());
    (own, native)
}

#[test]
fn under_an_unsampled_parent_a_span_adds_nothing_and_its_children_follow_the_parent() {
    let ((parent, (own, native)), spans) =
        capture_unsampled(|| (traced::current_span().span_context(), unsampled_step()));
    assert!(spans.is_empty(), "{}", spans.tree());
    // The parent's context already carries the trace and the not-sampled decision, so the
    // call adds no span context: outgoing headers carry the parent's, with the decision.
    assert!(parent.is_valid() && !parent.is_sampled());
    assert_eq!(own, parent);
    // An OpenTelemetry-API span started inside inherits the decision.
    assert!(native.is_valid() && !native.is_sampled());
    assert_eq!(native.trace_id(), parent.trace_id());
}

/// Returns a future that reports the span context current while it runs.
#[traced]
fn deferred_step() -> impl std::future::Future<Output = traced::opentelemetry::trace::SpanContext> {
    async { traced::current_span().span_context() }
}

/// The span context current before its suspension and after it.
#[traced]
async fn async_step() -> (
    traced::opentelemetry::trace::SpanContext,
    traced::opentelemetry::trace::SpanContext,
) {
    let before = traced::current_span().span_context();
    suspend_once().await;
    (before, traced::current_span().span_context())
}

#[test]
fn an_unsampled_future_keeps_its_parent_context_wherever_it_is_polled() {
    use std::future::Future as _;
    use std::task::{Context, Waker};

    let ((parent, deferred, started), spans) = capture_unsampled(|| {
        let mut started = Box::pin(async_step());
        // Started (first poll) under the unsampled parent, as an awaiting caller would.
        let poll = started
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(poll.is_pending());
        (
            traced::current_span().span_context(),
            deferred_step(),
            started,
        )
    });
    assert!(spans.is_empty(), "{}", spans.tree());
    assert!(parent.is_valid() && !parent.is_sampled());
    // Polled later with no context current: each still runs under the unsampled parent, so
    // what it starts inside follows the parent's decision instead of starting a new trace.
    assert!(!traced::current_span().span_context().is_valid());
    assert_eq!(futures::executor::block_on(deferred), parent);
    assert_eq!(
        futures::executor::block_on(started),
        (parent.clone(), parent)
    );
}
