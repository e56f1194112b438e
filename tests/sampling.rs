//! An unsampled span evaluates nothing either, but still carries the trace: its children
//! inherit the not-sampled decision.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use traced::testing::{capture, capture_unsampled};
use traced::traced;

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
fn an_unsampled_span_is_a_new_span_of_the_same_trace_and_its_children_follow_it() {
    let ((parent, (own, native)), spans) =
        capture_unsampled(|| (traced::current_span().span_context(), unsampled_step()));
    assert!(spans.is_empty(), "{}", spans.tree());
    // The span exists as a span context: valid, local, not sampled, in the parent's trace,
    // with an id of its own, so outgoing headers carry the not-sampled decision.
    assert!(own.is_valid() && !own.is_remote() && !own.is_sampled());
    assert_eq!(own.trace_id(), parent.trace_id());
    assert_ne!(own.span_id(), parent.span_id());
    // An OpenTelemetry-API span started inside inherits the decision.
    assert!(native.is_valid() && !native.is_sampled());
    assert_eq!(native.trace_id(), own.trace_id());
}
