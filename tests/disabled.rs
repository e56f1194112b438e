//! With no provider installed, `#[traced]` evaluates nothing: no argument is formatted, no
//! `fields` expression runs, and the span API is a silent no-op. This binary never installs
//! a provider.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use traced::{KeyValue, Status, traced};

static FORMATTED: AtomicUsize = AtomicUsize::new(0);
static FIELD_EVALUATED: AtomicUsize = AtomicUsize::new(0);

/// Counts every time it is formatted.
struct Watched;
impl fmt::Display for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FORMATTED.fetch_add(1, Ordering::SeqCst);
        f.write_str("watched")
    }
}

fn expensive_field() -> u64 {
    FIELD_EVALUATED.fetch_add(1, Ordering::SeqCst);
    42
}

#[traced(ret, fields(cost = expensive_field()))]
fn work(watched: &Watched, n: u32) -> Result<Watched, Watched> {
    if n == 0 { Err(Watched) } else { Ok(Watched) }
}

#[traced(fields(cost = expensive_field()))]
async fn async_work(watched: &Watched) -> u32 {
    let _ = watched;
    7
}

#[test]
fn nothing_is_evaluated_without_a_provider() {
    assert!(!traced::is_enabled());
    assert!(work(&Watched, 1).is_ok());
    assert!(work(&Watched, 0).is_err());
    assert_eq!(futures::executor::block_on(async_work(&Watched)), 7);
    assert_eq!(
        FORMATTED.load(Ordering::SeqCst),
        0,
        "no argument, error or return value was formatted"
    );
    assert_eq!(
        FIELD_EVALUATED.load(Ordering::SeqCst),
        0,
        "no fields expression ran"
    );
}

#[test]
fn the_span_api_is_a_no_op_without_a_span() {
    let span = traced::current_span();
    assert!(!span.is_recording());
    assert!(!span.span_context().is_valid());
    span.set_attribute("key", 1);
    span.add_event("event", [KeyValue::new("k", "v")]);
    span.record_error(&std::io::Error::other("ignored"));
    span.set_status(Status::error("ignored"));
    span.update_name("renamed");
}

#[test]
fn panics_pass_through_untouched() {
    #[traced]
    fn explode() {
        panic!("still a panic");
    }
    let payload = std::panic::catch_unwind(explode).expect_err("panics");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"still a panic"));
}
