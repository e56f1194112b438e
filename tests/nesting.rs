//! Spans live in the OpenTelemetry context: nesting, interop with the OTel API, and every
//! function shape the attribute accepts.

use std::future::Future;

use opentelemetry::trace::{TraceContextExt, Tracer, get_active_span};
use opentelemetry::{Context, Value, global};
use traced::testing::{attribute, capture, capture_future};
use traced::traced;

#[traced]
fn foo() {
    bar();
}

#[traced]
fn bar() {
    baz();
}

#[traced]
fn baz() {}

#[test]
fn nested_calls_become_children_in_one_trace() {
    let ((), spans) = capture(foo);
    assert_eq!(
        spans.names(),
        ["baz", "bar", "foo"],
        "ended innermost first"
    );
    assert_eq!(spans.tree(), "foo\n  bar\n    baz\n");
    let trace_ids: Vec<_> = spans
        .all()
        .iter()
        .map(|span| span.span_context.trace_id())
        .collect();
    assert!(trace_ids.windows(2).all(|pair| pair[0] == pair[1]));
    let foo = spans.one("foo");
    assert!(
        foo.start_time <= spans.one("baz").start_time && spans.one("baz").end_time <= foo.end_time
    );
}

#[traced]
fn visible_to_the_otel_api() -> (String, bool) {
    let name_seen = get_active_span(|span| span.span_context().span_id().to_string());
    // A span started with the plain OpenTelemetry API inside is a child.
    let tracer = global::tracer("plain-otel");
    tracer.in_span("otel child", |cx| {
        assert!(cx.span().span_context().is_valid());
    });
    (name_seen, Context::current().has_active_span())
}

#[test]
fn the_otel_api_sees_the_span_and_parents_its_spans_to_it() {
    let ((seen_id, active), spans) = capture(visible_to_the_otel_api);
    assert!(active);
    let ours = spans.one("visible_to_the_otel_api");
    assert_eq!(seen_id, ours.span_context.span_id().to_string());
    let child = spans.one("otel child");
    assert_eq!(child.parent_span_id, ours.span_context.span_id());
}

#[test]
fn the_previous_context_is_restored_after_the_call() {
    let ((before, after), spans) = capture(|| {
        let before = traced::current_span().span_context();
        foo();
        (before, traced::current_span().span_context())
    });
    assert_eq!(before, after);
    assert_eq!(spans.all().len(), 3);
}

struct Counter {
    hits: u32,
}

impl Counter {
    #[traced]
    fn by_ref(&self, step: u32) -> u32 {
        self.hits + step
    }

    #[traced]
    fn by_mut(&mut self, step: u32) {
        self.hits += step;
    }

    #[traced]
    fn by_value(self) -> u32 {
        self.hits
    }

    #[traced]
    fn boxed(self: Box<Self>) -> u32 {
        self.hits
    }

    #[traced]
    fn name(&self) -> &str {
        "counter"
    }

    #[traced]
    fn associated(start: u32) -> Self {
        Counter { hits: start }
    }
}

#[test]
fn methods_with_every_receiver() {
    let (results, spans) = capture(|| {
        let mut counter = Counter::associated(1);
        counter.by_mut(2);
        let by_ref = counter.by_ref(1);
        let name = counter.name().len();
        let boxed = Box::new(Counter { hits: 9 }).boxed();
        (by_ref, name, boxed, counter.by_value())
    });
    assert_eq!(results, (4, 7, 9, 3));
    // Methods with a receiver are named `Type::method`; an associated fn by its own name.
    for name in [
        "associated",
        "Counter::by_mut",
        "Counter::by_ref",
        "Counter::name",
        "Counter::boxed",
        "Counter::by_value",
    ] {
        assert_eq!(spans.named(name).len(), 1, "{name}: {}", spans.tree());
    }
    assert_eq!(
        attribute(spans.one("Counter::by_mut"), "step"),
        Some(&Value::I64(2))
    );
    assert_eq!(
        attribute(spans.one("associated"), "start"),
        Some(&Value::I64(1))
    );
}

#[traced]
fn generic<T, const N: usize>(items: [T; N]) -> Vec<String>
where
    T: std::fmt::Display + std::fmt::Debug + Send,
{
    items.iter().map(ToString::to_string).collect()
}

#[traced]
fn with_impl_arg(value: impl Into<i64>) -> i64 {
    value.into()
}

#[traced]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[traced]
#[allow(unsafe_code)]
unsafe fn raw_read(pointer: *const u32) -> u32 {
    // SAFETY: the caller passes a pointer to a live u32 (see the test below).
    unsafe { *pointer }
}

#[traced]
extern "C" fn exported(code: i32) -> i32 {
    code + 1
}

#[test]
fn generic_impl_trait_unsafe_and_extern_functions() {
    let (results, spans) = capture(|| {
        let value = 5u32;
        #[allow(unsafe_code)]
        // SAFETY: `value` lives for the whole call.
        let read = unsafe { raw_read(&value) };
        (
            generic([1.5, 2.5]),
            with_impl_arg(3u8),
            evens(5).collect::<Vec<_>>(),
            read,
            exported(1),
        )
    });
    assert_eq!(
        results,
        (
            vec!["1.5".to_owned(), "2.5".to_owned()],
            3,
            vec![0, 2, 4],
            5,
            2
        )
    );
    assert_eq!(
        attribute(spans.one("generic"), "items"),
        Some(&Value::from("[1.5, 2.5]"))
    );
    for name in ["with_impl_arg", "evens", "raw_read", "exported"] {
        assert_eq!(spans.named(name).len(), 1, "{name}");
    }
}

#[traced]
fn deferred(id: u32) -> impl Future<Output = u32> {
    let doubled = id * 2;
    async move { doubled + 1 }
}

#[test]
fn a_future_returning_fn_starts_its_span_at_the_call() {
    let ((), spans) = capture(|| {
        // Created inside `outer_sync`'s span but awaited after it ended: still its child.
        let future = make_future_inside_a_span();
        assert_eq!(futures::executor::block_on(future), 7);
    });
    let deferred = spans.one("deferred");
    let maker = spans.one("make_future_inside_a_span");
    assert_eq!(deferred.parent_span_id, maker.span_context.span_id());
    assert!(deferred.start_time <= maker.end_time, "started at the call");
    assert!(
        deferred.end_time >= maker.end_time,
        "ended when the future completed"
    );
    assert_eq!(attribute(deferred, "id"), Some(&Value::I64(3)));
}

#[traced]
fn make_future_inside_a_span() -> impl Future<Output = u32> {
    deferred(3)
}

#[traced]
async fn child_async(n: u32) -> u32 {
    n + 1
}

#[traced]
async fn parent_async() -> u32 {
    child_async(1).await + child_async(2).await
}

#[test]
fn async_nesting_follows_awaits() {
    let (sum, spans) = futures::executor::block_on(capture_future(parent_async()));
    assert_eq!(sum, 5);
    let parent = spans.one("parent_async");
    let children = spans.children_of(parent);
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|child| child.name == "child_async"));
}
