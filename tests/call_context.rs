//! A sampled call's span is reached through the thread's current context while the call (or
//! one poll of its future) runs: its context is lent to the attachment, not cloned. What the
//! body does to the current context must neither lose the span nor panic the application.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::thread;

use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, Value};
use traced::testing::{attribute, capture, capture_future, events};
use traced::traced;

#[derive(Debug)]
struct Overdrawn;

impl fmt::Display for Overdrawn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The application's `Display` runs instrumented code, which attaches a context.
        write!(f, "overdrawn by {}", shortfall())
    }
}

impl std::error::Error for Overdrawn {}

#[traced]
fn shortfall() -> u32 {
    12
}

#[traced]
fn withdraw(amount: u32) -> Result<u32, Overdrawn> {
    if amount > 100 {
        Err(Overdrawn)
    } else {
        Ok(amount)
    }
}

#[test]
fn an_error_whose_display_runs_traced_code_is_recorded() {
    let (result, spans) = capture(|| withdraw(500));
    assert!(result.is_err());
    let withdraw = spans.one("withdraw");
    assert_eq!(
        withdraw.status,
        Status::error("overdrawn by 12"),
        "the message rendered before the span was reached"
    );
    assert_eq!(events(withdraw, "exception").len(), 1);
    // The rendering's own span, made while the call's span was current, is its child.
    let rendered = spans.named("shortfall");
    assert!(!rendered.is_empty());
    assert!(
        rendered
            .iter()
            .all(|span| span.parent_span_id == withdraw.span_context.span_id())
    );
}

/// A returned value whose `Display` runs instrumented code.
struct Receipt(u32);

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "receipt #{} ({} short)", self.0, shortfall())
    }
}

#[traced(ret)]
fn receipt(number: u32) -> Receipt {
    Receipt(number)
}

#[test]
fn a_returned_value_whose_display_runs_traced_code_is_recorded() {
    let (_, spans) = capture(|| receipt(7));
    assert_eq!(
        attribute(spans.one("receipt"), "return"),
        Some(&Value::from("receipt #7 (12 short)"))
    );
}

#[traced]
fn leaks_a_guard(other: &Context) -> Result<(), Overdrawn> {
    // A guard leaked: `other` stays current after the call returns.
    std::mem::forget(other.clone().attach());
    Err(Overdrawn)
}

#[test]
fn a_body_that_leaves_another_context_current_still_ends_its_span_once() {
    // On a thread of its own: the leaked guard leaves its context current for good.
    let (leaked_current, spans) = thread::spawn(|| {
        capture(|| {
            let unrelated = Context::new();
            let _ = leaks_a_guard(&unrelated);
            Context::current().span().span_context().is_valid()
        })
    })
    .join()
    .expect("the call does not panic");
    assert!(!leaked_current, "the leaked (empty) context is current");
    // Exported once, in the capture's trace, under its remote parent.
    let span = spans.one("leaks_a_guard");
    assert!(span.parent_span_is_remote);
    assert!(span.end_time >= span.start_time);
}

#[traced]
fn keeps_its_span_current_with_a_value(amount: u32) -> Result<u32, Overdrawn> {
    // The context made current holds the call's span: the span is still reachable.
    std::mem::forget(Context::current().with_value(Ledger("savings")).attach());
    withdraw(amount)
}

#[derive(Debug, PartialEq)]
struct Ledger(&'static str);

#[test]
fn a_context_left_current_that_holds_the_span_still_records_on_it() {
    let ((result, ledger), spans) = thread::spawn(|| {
        capture(|| {
            let result = keeps_its_span_current_with_a_value(900);
            let ledger = Context::map_current(|cx| cx.get::<Ledger>().map(|ledger| ledger.0));
            (result, ledger)
        })
    })
    .join()
    .expect("the call does not panic");
    assert!(result.is_err());
    assert_eq!(
        ledger,
        Some("savings"),
        "the leaked context is still current"
    );
    let outer = spans.one("keeps_its_span_current_with_a_value");
    assert_eq!(outer.status, Status::error("overdrawn by 12"));
    let inner = spans.one("withdraw");
    assert_eq!(inner.parent_span_id, outer.span_context.span_id());
    assert!(
        inner.end_time <= outer.end_time,
        "ended at the call's end, not when the leaked context is dropped"
    );
}

/// Pending once, then ready: a suspension without a runtime.
#[derive(Default)]
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        task.waker().wake_by_ref();
        Poll::Pending
    }
}

#[traced]
async fn settles(amount: u32) -> Result<u32, Overdrawn> {
    for key in ["settle.first", "settle.second", "settle.third"] {
        YieldOnce::default().await;
        traced::current_span().set_attribute(key, true);
    }
    withdraw(amount)
}

#[test]
fn a_future_suspended_between_polls_records_on_its_span_in_each_and_at_its_end() {
    let (result, spans) = futures::executor::block_on(capture_future(settles(300)));
    assert!(result.is_err());
    let settles = spans.one("settles");
    for key in ["settle.first", "settle.second", "settle.third"] {
        assert_eq!(attribute(settles, key), Some(&Value::Bool(true)), "{key}");
    }
    assert_eq!(settles.status, Status::error("overdrawn by 12"));
    assert_eq!(
        spans.one("withdraw").parent_span_id,
        settles.span_context.span_id()
    );
}

#[traced]
async fn holds_a_guard_across_an_await() -> u32 {
    // What OpenTelemetry warns against: the guard's context stays current over the
    // suspension, where the span's context was lent.
    let _held = Context::new().with_value(Ledger("held")).attach();
    YieldOnce::default().await;
    traced::current_span().set_attribute("after.await", true);
    7
}

#[test]
fn a_guard_held_across_an_await_loses_no_span_and_panics_nothing() {
    let (output, spans) = thread::spawn(|| {
        futures::executor::block_on(capture_future(holds_a_guard_across_an_await()))
    })
    .join()
    .expect("the future does not panic");
    assert_eq!(output, 7);
    // Exported once, ended when its own context was dropped at the suspension.
    let span = spans.one("holds_a_guard_across_an_await");
    assert!(span.parent_span_is_remote);
    assert!(span.end_time >= span.start_time);
}
