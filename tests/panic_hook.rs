//! traced chains its panic hook: a hook the application installed earlier still runs, and
//! the span still gets the message. Its own test binary, because hooks are process-wide.

use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry::Value;
use traced::testing::{capture, event_attribute, events};
use traced::traced;

#[traced]
fn fails() {
    panic!("boom");
}

#[test]
fn the_applications_hook_keeps_running_after_traced_installs_its_own() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    panic::set_hook(Box::new(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    }));

    // The first capture installs traced's provider, and with it the chained hook.
    let (result, spans) = capture(|| panic::catch_unwind(fails));
    assert!(result.is_err());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the application's hook ran once"
    );

    let exception = events(spans.one("fails"), "exception");
    assert_eq!(exception.len(), 1);
    assert_eq!(
        event_attribute(exception[0], "exception.message"),
        Some(&Value::from("boom"))
    );
}
