//! A panic in an instrumented function: an `exception` event with message and location,
//! status Error, the span ends, and the panic continues unchanged.

#[path = "support/suspend.rs"]
mod suspend;

use std::panic::{self, AssertUnwindSafe};

use opentelemetry::Value;
use opentelemetry::trace::Status;
use traced::testing::{capture, capture_future, event_attribute, events};
use traced::traced;

use suspend::suspend_once;

#[traced]
fn explode(order_id: u32) -> u32 {
    if order_id > 0 {
        panic!("order {order_id} has no items");
    }
    order_id
}

#[traced]
fn outer(order_id: u32) -> u32 {
    explode(order_id) + 1
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.as_str().to_owned(),
        other => panic!("expected a string, got {other:?}"),
    }
}

#[test]
fn a_panic_is_recorded_on_every_span_it_unwinds_through_and_keeps_unwinding() {
    let (result, spans) = capture(|| panic::catch_unwind(|| outer(7)));
    let payload = result.expect_err("the panic continues past the instrumented functions");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("order 7 has no items")
    );

    for name in ["explode", "outer"] {
        let span = spans.one(name);
        assert_eq!(span.status, Status::error("order 7 has no items"), "{name}");
        let exception = events(span, "exception");
        assert_eq!(exception.len(), 1, "{name}");
        assert_eq!(
            text(event_attribute(exception[0], "exception.type")),
            "panic"
        );
        assert_eq!(
            text(event_attribute(exception[0], "exception.message")),
            "order 7 has no items"
        );
        let stacktrace = text(event_attribute(exception[0], "exception.stacktrace"));
        assert!(
            stacktrace.starts_with(&format!("panicked at {}:", file!())),
            "{stacktrace}"
        );
    }
    let explode = spans.one("explode");
    assert_eq!(
        spans.parent_of(explode).map(|p| p.name.as_ref()),
        Some("outer")
    );
}

#[test]
fn a_function_that_does_not_panic_is_unaffected() {
    let (value, spans) = capture(|| outer(0));
    assert_eq!(value, 1);
    assert_eq!(spans.one("outer").status, Status::Unset);
    assert!(events(spans.one("explode"), "exception").is_empty());
}

#[traced]
async fn async_explode(after_yield: bool) {
    if after_yield {
        suspend_once().await;
    }
    panic!("async failure");
}

#[test]
fn a_panic_inside_a_future_is_recorded_on_the_poll_it_happens_in() {
    let future = capture_future(async {
        AssertUnwindSafe(async_explode(true))
            .catch_unwind_ext()
            .await
    });
    let (result, spans) = futures::executor::block_on(future);
    assert!(result.is_err());
    let span = spans.one("async_explode");
    assert_eq!(span.status, Status::error("async failure"));
    assert!(
        events(span, "cancelled").is_empty(),
        "a panic is not a cancellation"
    );
}

/// `FutureExt::catch_unwind` without pulling in all of `futures-util`.
trait CatchUnwindExt: std::future::Future + Sized {
    fn catch_unwind_ext(self) -> CatchUnwind<Self> {
        CatchUnwind(Box::pin(self))
    }
}
impl<F: std::future::Future> CatchUnwindExt for AssertUnwindSafe<F> {}

struct CatchUnwind<F>(std::pin::Pin<Box<F>>);
impl<F: std::future::Future> std::future::Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Ok(std::task::Poll::Ready(value)) => std::task::Poll::Ready(Ok(value)),
            Err(payload) => std::task::Poll::Ready(Err(payload)),
        }
    }
}
