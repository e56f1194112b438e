//! A sampled synchronous call's span is reached through the thread's current context while
//! the call runs (its context is lent to the attachment, not cloned): what the body does to
//! the current context must neither lose the span nor panic the application.

use std::fmt;
use std::thread;

use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, Value};
use traced::testing::{attribute, capture, events};
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
