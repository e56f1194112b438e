//! Turning what a call produced — an `Err`, a panic, a returned value — into span status,
//! `exception` events and attributes.
//!
//! The `Via*Error` traits pick, at compile time, the richest view of the returned value's
//! error type: `std::error::Error` (with its `source()` chain), a pointer to `dyn Error`
//! (`Box<dyn Error + Send + Sync>`, anyhow- and eyre-style reports), then `Display`, then
//! `Debug`; a type that is not a `Result` records nothing. Because the choice follows the
//! type rather than the spelling, `io::Result<T>` and other aliases work.

use std::cell::RefCell;
use std::error::Error;
use std::fmt::{Debug, Display, Write as _};
use std::ops::Deref;
use std::panic::{self, PanicHookInfo};
use std::sync::Once;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanRef, Status};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE,
};

use crate::span::ActiveSpan;
use crate::value::{push_truncated_display, truncated_debug, truncated_display};

/// The event name the specification gives recorded exceptions.
pub(crate) const EXCEPTION_EVENT: &str = "exception";
/// The event a future's span gets when the future is dropped before it completes.
pub(crate) const CANCELLED_EVENT: &str = "cancelled";
/// `exception.type` of a panic.
pub(crate) const PANIC_TYPE: &str = "panic";
/// The attribute `ret` records the returned value under.
pub(crate) const RETURN_KEY: &str = "return";

/// Records an error: status Error with its message, `error.type`, and an `exception` event.
pub(crate) fn record_error<E: Error + ?Sized>(
    span: &SpanRef<'_>,
    type_name: &'static str,
    error: &E,
) {
    if crate::span::may_record(span) {
        Failure::of_error(type_name, error).record(span);
    }
}

/// A failure (an error or a panic) as a span records it, its text formatted before the span
/// is reached: a synchronous call's span may be reached with the thread's context stack
/// borrowed ([`ActiveSpan::on_recording`]), where the application's `Display` must not run.
pub(crate) struct Failure {
    type_name: &'static str,
    message: String,
    stacktrace: String,
}

impl Failure {
    /// `error`, its `source()` chain as the stack trace.
    fn of_error<E: Error + ?Sized>(type_name: &'static str, error: &E) -> Self {
        let message = truncated_display(error);
        Self {
            type_name,
            stacktrace: source_chain(&message, error),
            message,
        }
    }

    /// An error known only by `message` (its `Display` or `Debug` rendering).
    fn of_message(type_name: &'static str, message: String) -> Self {
        Self {
            type_name,
            stacktrace: message.clone(),
            message,
        }
    }

    /// The panic unwinding this thread, as the panic hook remembered it.
    pub(crate) fn of_current_panic() -> Self {
        let panic = current_panic();
        Self {
            type_name: PANIC_TYPE,
            message: panic.message,
            stacktrace: panic.stacktrace,
        }
    }

    /// Status Error, `error.type` and the `exception` event.
    fn record(self, span: &SpanRef<'_>) {
        span.set_attribute(KeyValue::new(ERROR_TYPE, self.type_name));
        record_exception_event(span, self.type_name, self.message, self.stacktrace);
    }
}

/// The `exception` event and status Error of a failure, without `error.type` (which a
/// caller with a better one, such as an HTTP server's status code, sets itself).
fn record_exception_event(
    span: &SpanRef<'_>,
    type_name: &'static str,
    message: String,
    stacktrace: String,
) {
    span.add_event(
        EXCEPTION_EVENT,
        vec![
            KeyValue::new(EXCEPTION_TYPE, type_name),
            KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
            KeyValue::new(EXCEPTION_STACKTRACE, stacktrace),
        ],
    );
    span.set_status(Status::error(message));
}

/// The error, rendered as `message` (its [`truncated_display`], which the caller has made
/// already: rendering it twice cost a sampled call returning an error 16 ns), and its
/// `source()` chain, one cause a line, in the layout of anyhow's alternate `Debug`:
///
/// ```text
/// loading config
///
/// Caused by:
///     0: reading /etc/app.toml
///     1: permission denied
/// ```
pub(crate) fn source_chain<E: Error + ?Sized>(message: &str, error: &E) -> String {
    let mut text = message.to_owned();
    let mut cause = error.source();
    if cause.is_some() {
        text.push_str("\n\nCaused by:");
    }
    let mut depth = 0;
    while let Some(source) = cause {
        // Each cause written straight into the text, cut as the message is.
        let _ = write!(text, "\n    {depth}: ");
        push_truncated_display(&mut text, source);
        depth += 1;
        cause = source.source();
    }
    text
}

/// A panic seen by the hook on this thread, kept for the spans it unwinds through.
#[derive(Clone, Debug)]
struct PanicRecord {
    message: String,
    stacktrace: String,
}

thread_local! {
    static LAST_PANIC: RefCell<Option<PanicRecord>> = const { RefCell::new(None) };
}

/// Chains, once per process, a panic hook that remembers the panic for the spans it unwinds
/// through, then calls the hook that was installed before (the default one prints the
/// message), so nothing an application installed is replaced.
pub(crate) fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            remember_panic(info);
            previous(info);
        }));
    });
}

fn remember_panic(info: &PanicHookInfo<'_>) {
    let message = panic_message(info);
    let mut stacktrace = match info.location() {
        Some(location) => format!("panicked at {location}:\n{message}"),
        None => format!("panicked:\n{message}"),
    };
    // Honours RUST_BACKTRACE / RUST_LIB_BACKTRACE, so it costs nothing unless asked for.
    let backtrace = std::backtrace::Backtrace::capture();
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        let _ = write!(stacktrace, "\nstack backtrace:\n{backtrace}");
    }
    // `try_with`: a panic while the thread-local is being destroyed must not panic again.
    let _ = LAST_PANIC.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(PanicRecord {
                message,
                stacktrace,
            });
        }
    });
}

fn panic_message(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Records the panic currently unwinding this thread on `span` as an `exception` event and
/// status Error, leaving `error.type` to the caller (an HTTP server records `500`).
#[cfg_attr(
    not(feature = "http-server"),
    allow(dead_code, reason = "used by the HTTP server integration")
)]
pub(crate) fn record_current_panic_event(span: &SpanRef<'_>) {
    if !crate::span::may_record(span) {
        return;
    }
    let record = current_panic();
    record_exception_event(span, PANIC_TYPE, record.message, record.stacktrace);
}

/// What the hook remembered of the panic unwinding this thread.
fn current_panic() -> PanicRecord {
    LAST_PANIC
        .try_with(|slot| slot.try_borrow().ok().and_then(|slot| slot.clone()))
        .ok()
        .flatten()
        // The hook was replaced after ours by one that does not chain, or the panic was
        // resumed with `resume_unwind`, which skips hooks.
        .unwrap_or_else(|| PanicRecord {
            message: "panic (message not captured)".to_owned(),
            stacktrace: String::new(),
        })
}

/// The returned value under autoref specialisation; see the `Via*Error` traits.
#[doc(hidden)]
pub struct Outcome<'a, T: ?Sized>(pub &'a T);

macro_rules! error_views {
    ($($(#[$doc:meta])* $trait:ident;)*) => {$(
        $(#[$doc])*
        #[doc(hidden)]
        pub trait $trait {
            /// Records the `Err` on `span`.
            fn __traced_record_err(&self, span: &ActiveSpan);
        }
    )*};
}
error_views! {
    /// First choice: `E: std::error::Error`, with the `source()` chain.
    ViaStdError;
    /// Second choice: `E` points at `dyn Error + Send + Sync` (boxed errors, anyhow, eyre).
    ViaDynSendError;
    /// Third choice: `E` points at `dyn Error`.
    ViaDynError;
    /// Fourth choice: `E: Display`.
    ViaDisplayError;
    /// Fifth choice: `E: Debug`.
    ViaDebugError;
    /// Last: not a `Result`, or an error with no way to show it.
    ViaNoError;
}

impl<T, E: Error + 'static> ViaStdError for &&&&&Outcome<'_, Result<T, E>> {
    #[inline]
    fn __traced_record_err(&self, span: &ActiveSpan) {
        if let Err(error) = self.0 {
            record_failure(span, || {
                Failure::of_error(std::any::type_name::<E>(), error)
            });
        }
    }
}

impl<T, E: Deref<Target = dyn Error + Send + Sync + 'static>> ViaDynSendError
    for &&&&Outcome<'_, Result<T, E>>
{
    #[inline]
    fn __traced_record_err(&self, span: &ActiveSpan) {
        if let Err(error) = self.0 {
            record_failure(span, || {
                Failure::of_error(std::any::type_name::<E>(), &**error)
            });
        }
    }
}

impl<T, E: Deref<Target = dyn Error + 'static>> ViaDynError for &&&Outcome<'_, Result<T, E>> {
    #[inline]
    fn __traced_record_err(&self, span: &ActiveSpan) {
        if let Err(error) = self.0 {
            record_failure(span, || {
                Failure::of_error(std::any::type_name::<E>(), &**error)
            });
        }
    }
}

impl<T, E: Display> ViaDisplayError for &&Outcome<'_, Result<T, E>> {
    #[inline]
    fn __traced_record_err(&self, span: &ActiveSpan) {
        if let Err(error) = self.0 {
            record_failure(span, || {
                Failure::of_message(std::any::type_name::<E>(), truncated_display(error))
            });
        }
    }
}

impl<T, E: Debug> ViaDebugError for &Outcome<'_, Result<T, E>> {
    #[inline]
    fn __traced_record_err(&self, span: &ActiveSpan) {
        if let Err(error) = self.0 {
            record_failure(span, || {
                Failure::of_message(std::any::type_name::<E>(), truncated_debug(error))
            });
        }
    }
}

impl<T: ?Sized> ViaNoError for Outcome<'_, T> {
    #[inline]
    fn __traced_record_err(&self, _span: &ActiveSpan) {}
}

/// Records the failure `failure` makes on `span` if it records, made only then (and before
/// the span is reached, see [`Failure`]).
pub(crate) fn record_failure(span: &ActiveSpan, failure: impl FnOnce() -> Failure) {
    if span.is_recording() {
        let failure = failure();
        span.on_recording(|span| failure.record(span));
    }
}

/// Picks what `ret` records: the `Ok` value of a `Result`, the value itself otherwise.
#[doc(hidden)]
pub trait ViaOkValue {
    type Value: ?Sized;
    fn __traced_returned(&self) -> Option<&Self::Value>;
}
impl<T, E> ViaOkValue for &Outcome<'_, Result<T, E>> {
    type Value = T;
    #[inline]
    fn __traced_returned(&self) -> Option<&T> {
        self.0.as_ref().ok()
    }
}

/// `ret` on a value that is not a `Result`: the value itself.
#[doc(hidden)]
pub trait ViaPlainValue {
    type Value: ?Sized;
    fn __traced_returned(&self) -> Option<&Self::Value>;
}
impl<T: ?Sized> ViaPlainValue for Outcome<'_, T> {
    type Value = T;
    #[inline]
    fn __traced_returned(&self) -> Option<&T> {
        Some(self.0)
    }
}

/// Records the returned value under `return`, computing it only for a recording span.
#[doc(hidden)]
#[inline]
pub fn record_return(span: &ActiveSpan, value: impl FnOnce() -> Option<opentelemetry::Value>) {
    if span.is_recording() {
        // Made before the span is reached: the value's rendering is the application's code.
        if let Some(value) = value() {
            span.on_recording(|span| span.set_attribute(KeyValue::new(RETURN_KEY, value)));
        }
    }
}
