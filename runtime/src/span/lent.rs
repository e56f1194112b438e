//! The span of a sampled call, reached through the thread's current context while the call
//! (or one poll of its future) runs.
//!
//! A `#[traced]` call makes its span current for the call by attaching the context that
//! holds it, and a future's span for each poll. A span that records used to attach a clone
//! of that context and keep the original to record its outcome on and end itself through:
//! the clone's shared count, raised and lowered each time, is two locked instructions (8–9
//! ns each on the Intel host, `benches/README.md`). The span is current for exactly as long
//! as the call or poll, so its context is lent to the attachment instead (as a span that
//! does not record already lends its own), and the span is reached through the current
//! context: only while that context holds the span's id. A poll that suspends the future
//! takes a clone back for the polls to come. A body that leaves another context current (a
//! guard it leaked, or keeps past the call or across an `.await`) therefore records nothing
//! more on the span, which then ends when its own context is dropped, by [`LeanSpan`]'s
//! `Drop`, as the OpenTelemetry API's spans end (guards the body drops out of order are all
//! gone by its end: the span is current again).
//!
//! Reaching the current context borrows the thread's context stack, and attaching a
//! context while it is borrowed panics. So nothing that may attach one runs there: an
//! outcome's text is formatted before (an error's `Display` is the application's code), and
//! the ended span's record is handed back through this thread's slot and given to the
//! processors once the borrow is over (a processor may attach a context as a span ends: one
//! that keeps its exporter's own work from being traced attaches a suppression scope, as the
//! SDK's batch processor does on its thread).
//!
//! Only `traced`'s own spans are lent: the SDK's (a provider installed by hand) end into
//! the SDK's processors, which cannot be asked to hand anything back.

use std::cell::Cell;
use std::time::SystemTime;

use opentelemetry::Context;
use opentelemetry::trace::{SpanId, SpanRef, TraceContextExt};

use super::lean::{LeanSpan, SpanRecord};
use crate::{clock, diagnostics};

thread_local! {
    /// The record of the span [`end`] just ended, until it is handed to the processors.
    static HANDED_BACK: Cell<Option<Box<SpanRecord>>> = const { Cell::new(None) };
}

/// Runs `record` on the span `span_id` if the thread's current context holds it.
///
/// `record` runs with the context stack borrowed: it must not attach a context, nor run
/// code that might (the application's).
#[inline]
pub(super) fn with_span<R>(span_id: SpanId, record: impl FnOnce(&SpanRef<'_>) -> R) -> Option<R> {
    Context::map_current(|current| holds(current, span_id).then(|| record(&current.span())))
}

/// Ends the span `span_id` now if the thread's current context holds it, and hands it to
/// the installed pipeline's processors.
pub(super) fn end(span_id: SpanId) {
    let ended = with_span(span_id, |span| span.end_with_timestamp(hand_back_marker()));
    if ended.is_none() {
        warn_not_current();
        return;
    }
    // Nothing is handed back for a span ended already (through the OpenTelemetry API).
    if let Some(record) = HANDED_BACK.try_with(Cell::take).ok().flatten() {
        LeanSpan::hand_on(record);
    }
}

/// A clone of the thread's current context if it holds the span `span_id`: how a future's
/// span takes its context back after a poll that suspended the future.
pub(super) fn context_holding(span_id: SpanId) -> Option<Context> {
    Context::map_current(|current| holds(current, span_id).then(|| current.clone()))
}

/// Whether `cx`'s span is the span `span_id`.
#[inline(always)]
fn holds(cx: &Context, span_id: SpanId) -> bool {
    cx.span().span_context().span_id() == span_id
}

/// Says, once, that a lent span was not in the current context where it should have been.
#[cold]
pub(super) fn warn_not_current() {
    diagnostics::warn_once("lent span not current", || {
        "a #[traced] call returned, or its future suspended, while another context was \
         current (a ContextGuard leaked, or held past the call or across an .await): the \
         call's span ends when its own context is dropped, and what the call returned is \
         not recorded on it"
            .to_owned()
    });
}

/// Keeps the ended span's `record` for [`end`], which asked for it with
/// [`clock::hand_back_marker`].
///
/// Out of line, as the compiler left it until the span module was split into files: then
/// inlined into `LeanSpan::end_with_timestamp`, a sampled call followed by other work
/// (`traced/sampled_spaced`) measured 14 ns slower (six rounds taking turns,
/// `benches/README.md`).
#[inline(never)]
pub(super) fn hand_back(record: Box<SpanRecord>) {
    let mut record = Some(record);
    let _ = HANDED_BACK.try_with(|slot| slot.set(record.take()));
    // The slot is gone (a call in another thread-local's destructor, as the thread exits):
    // handed on at once, as a span that was not lent is.
    if let Some(record) = record {
        LeanSpan::hand_on(record);
    }
}

/// Whether a span may be lent here: it needs [`clock::hand_back_marker`], a time before
/// 1970, which a platform whose clock cannot go back past 1970 (WASI's) has no room for.
#[inline]
pub(super) fn can_lend() -> bool {
    clock::hand_back_marker().is_some()
}

/// The end time [`end`] gives a span to have it read the time itself and hand its record
/// back to [`hand_back`] rather than to the processors. Only lent spans are ended so, and
/// only where [`can_lend`].
fn hand_back_marker() -> SystemTime {
    clock::hand_back_marker().unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::Duration;

    use opentelemetry::trace::SpanKind;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanLimits, SpanProcessor};

    use super::*;
    use crate::callsite::CallSite;
    use crate::config::default_sampler;
    use crate::installed;
    use crate::pipeline::sink::{EndedSpanProcessor, SinkBuilder};
    use crate::span::ActiveSpan;

    #[test]
    fn spans_are_lent_here_and_ended_with_the_marker_that_hands_them_back() {
        assert!(can_lend());
        let marker = clock::marker_of(hand_back_marker());
        assert_eq!(marker, Some(clock::EndMarker::NowHandedBack));
    }

    #[test]
    fn a_span_not_current_is_not_reached() {
        assert!(with_span(SpanId::from(7), |_| ()).is_none());
    }

    /// A processor that attaches a context of its own as each span ends (as one that
    /// suppresses its exporter's telemetry does), and keeps the names of the spans ended.
    #[derive(Debug)]
    struct AttachesOnEnd {
        ended: Arc<Mutex<Vec<String>>>,
    }

    impl SpanProcessor for AttachesOnEnd {
        fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

        fn on_end(&self, span: SpanData) {
            let _suppressed = Context::enter_telemetry_suppressed_scope();
            let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
            ended.push(span.name.into_owned());
        }

        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }

        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    impl EndedSpanProcessor for AttachesOnEnd {}

    fn marker() -> &'static str {
        "lent::tests::checkout::__traced_function"
    }

    static CHECKOUT: CallSite = CallSite::new("checkout", SpanKind::Internal, file!(), 1, marker);

    /// Installs a pipeline ending into [`AttachesOnEnd`] (for good: run in a process of its
    /// own), makes a sampled synchronous call's span and prints what the processor saw.
    #[test]
    #[ignore = "run in a child process by the test below"]
    fn child_ends_a_lent_span_into_a_processor_that_attaches() {
        let ended = Arc::new(Mutex::new(Vec::new()));
        let processor = AttachesOnEnd {
            ended: Arc::clone(&ended),
        };
        let resource = Resource::builder().build();
        let mut sink = SinkBuilder::new(resource.clone());
        let sampler = default_sampler();
        let provider = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(sampler.sampler.clone())
            .with_span_processor(sink.share(processor))
            .build();
        installed::set_pipeline_provider(provider, sampler, sink.build(SpanLimits::default()));
        {
            let call = ActiveSpan::start_call(&CHECKOUT, || (), |_, ()| {});
            assert!(call.span().is_recording());
            assert!(Context::map_current(|cx| cx.span().is_recording()));
        }
        let ended = ended.lock().unwrap_or_else(PoisonError::into_inner);
        println!("ended={}", ended.join(","));
    }

    #[test]
    fn a_processor_that_attaches_a_context_as_a_lent_span_ends_does_not_panic() {
        let child = "span::lent::tests::child_ends_a_lent_span_into_a_processor_that_attaches";
        let output = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                child,
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .output()
            .expect("the child runs");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert!(output.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("ended=checkout\n"), "{stdout}");
    }
}
