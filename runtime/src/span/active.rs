//! [`ActiveSpan`]: the span of one `#[traced]` call or future, from its start to its end, and
//! [`Entered`], a synchronous call's span made current for the call.

use std::mem::ManuallyDrop;

use opentelemetry::trace::{Link, SpanId, SpanRef, TraceContextExt};
use opentelemetry::{Context, ContextGuard};

use super::start::{self, Start};
use super::{Recorder, lent};
use crate::callsite::CallSite;
use crate::{clock, installed, outcome};

/// The span of one `#[traced]` call, from its start to its end.
///
/// Holds the context that carries the span (so it is the parent of everything the call
/// does), or nothing at all when no provider is installed. The `Option` is in a
/// `ManuallyDrop` so that the compiler emits no drop glue for it: [`Drop`] takes the started
/// span out (safe code) and ends it out of line, and on the disabled path dropping an
/// `ActiveSpan` is one inlined test with nothing to call.
#[doc(hidden)]
#[derive(Debug)]
pub struct ActiveSpan {
    // Boxed so the disabled value is one null pointer: instrumented functions move and test
    // a single word instead of a whole context.
    started: ManuallyDrop<Option<Box<Started>>>,
}

/// Where a span starts from, which decides what an unsampled one may skip (see
/// [`Start::Inherited`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum Origin {
    /// A synchronous call, under the current context.
    Call,
    /// A future, under the current context at its first poll (or its creation).
    Future,
    /// An `async fn`'s future, under the current context at its first poll, where that
    /// poll goes on straight into the function's body.
    AwaitedFuture,
    /// An explicit parent, which need not be the current context.
    ExplicitParent,
}

/// A started span; dropping it ends the span.
#[derive(Debug)]
pub(super) struct Started {
    pub(super) cx: Context,
    pub(super) recording: Recording,
    /// The span's id once its context is lent ([`Recording::Lent`]), `INVALID` before.
    pub(super) lent: SpanId,
}

/// Whether a started span records, and who reads the time it ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Recording {
    /// Nothing to end.
    No,
    /// A span of the SDK: the OpenTelemetry API reads the system clock.
    Sdk,
    /// `traced`'s own span ([`super::lean::LeanSpan`]), which reads [`crate::clock`] itself.
    Own,
    /// `traced`'s own span, its context lent to the attachment of a synchronous call or of
    /// one poll of its future, and reached through the thread's current context meanwhile
    /// ([`lent`]): [`Started::cx`] is empty.
    Lent,
}

impl Drop for Started {
    fn drop(&mut self) {
        // Ending reads the clock before anything else.
        match self.recording {
            Recording::No => {}
            Recording::Sdk => self.cx.span().end(),
            Recording::Own => self.cx.span().end_with_timestamp(clock::now_marker()),
            Recording::Lent => lent::end(self.lent),
        }
    }
}

impl Started {
    /// The context to attach for a synchronous call, or for one poll of a future: lent to
    /// the attachment rather than cloned, which saves a shared count's increment and
    /// decrement, unless the span is the SDK's (see [`lent`]). A span that does not record
    /// needs nothing from it afterwards (ending it does nothing, and what the call records
    /// on it is dropped); `traced`'s own span is reached through the current context until
    /// the call or poll ends. A poll that suspends its future takes the context back
    /// ([`ActiveSpan::take_back_lent`]).
    #[inline(always)]
    fn context_to_attach(&mut self) -> Context {
        match self.recording {
            Recording::No => std::mem::take(&mut self.cx),
            Recording::Own if lent::can_lend() => {
                self.lent = self.cx.span().span_context().span_id();
                self.recording = Recording::Lent;
                std::mem::take(&mut self.cx)
            }
            Recording::Own | Recording::Sdk | Recording::Lent => self.cx.clone(),
        }
    }

    /// Takes back the lent span's context after a poll that suspended its future, from the
    /// current context, which is the one lent (the poll has detached whatever it attached).
    /// A future that keeps a context attached over its suspension (a `ContextGuard` held
    /// across an `.await`, which OpenTelemetry warns against) hands that context on instead:
    /// the span is not in it, and ends as its own context drops with this poll's attachment
    /// ([`lent`]); the later polls attach the context handed on, as a span that does not
    /// record does.
    fn take_back_lent_span(&mut self) {
        match lent::context_holding(self.lent) {
            Some(cx) => {
                self.cx = cx;
                self.recording = Recording::Own;
            }
            None => {
                lent::warn_not_current();
                self.cx = Context::current();
                self.recording = Recording::No;
            }
        }
    }
}

impl ActiveSpan {
    const DISABLED: Self = Self {
        started: ManuallyDrop::new(None),
    };

    /// Starts the span of a synchronous call to `site` and makes it current until the
    /// returned guard drops, recording arguments with `record` only if it is sampled.
    ///
    /// `capture` takes the arguments `record` reads ([`crate::capture`]: copies of numbers,
    /// `bool`, `char` and references, references to the others); it runs only once a
    /// provider is installed, so the function's arguments have their addresses taken only
    /// on that path. Without a provider this is one relaxed load and a branch to an empty
    /// guard; the rest, the span's start and its attachment, is one call out of line, so the
    /// instrumented function's own code stays small (with the attachment inlined into it, as
    /// it was, it saved one register more on entry and cost 0.8 ns more a call without a
    /// provider: `benches/README.md`).
    #[inline(always)]
    pub fn start_call<A>(
        site: &'static CallSite,
        capture: impl FnOnce() -> A,
        record: impl FnOnce(&mut Recorder<'_>, &A),
    ) -> Entered {
        if !installed::is_enabled() {
            return Entered::DISABLED;
        }
        Self::start_call_recorded(site, &capture(), &mut Some(record))
    }

    #[cold]
    #[inline(never)]
    fn start_call_recorded<A>(
        site: &'static CallSite,
        captured: &A,
        record: &mut Option<impl FnOnce(&mut Recorder<'_>, &A)>,
    ) -> Entered {
        Self::start_call_under_current(site, &mut record_once(captured, record))
    }

    /// The part of [`Self::start_call_recorded`] that does not depend on the function: not
    /// generic, so it is compiled once rather than in every instrumented function (see
    /// [`Self::start_under_current`]).
    #[inline(never)]
    fn start_call_under_current(
        site: &'static CallSite,
        record: &mut dyn FnMut(&mut Recorder<'_>),
    ) -> Entered {
        Self::start_under_current_inlined(site, Origin::Call, record).enter()
    }

    /// Like [`Self::start_call`] without making the span current, for the span of a future
    /// (an `async fn`, a function returning a future), which may be polled under another
    /// context than the one it started in.
    #[inline(always)]
    pub fn start_carried<A>(
        site: &'static CallSite,
        capture: impl FnOnce() -> A,
        record: impl FnOnce(&mut Recorder<'_>, &A),
    ) -> Self {
        if !installed::is_enabled() {
            return Self::DISABLED;
        }
        Self::start_recorded(site, Origin::Future, &capture(), &mut Some(record))
    }

    /// Like [`Self::start_carried`], for the span of an `async fn`, which starts in its
    /// future's first poll and is polled on right there: a span that adds nothing to the
    /// current context (an unsampled child) starts as nothing at all, and brings that
    /// context along only if the poll does not finish the future (see
    /// [`Self::inherit_current`]).
    #[inline(always)]
    pub fn start_awaited<A>(
        site: &'static CallSite,
        capture: impl FnOnce() -> A,
        record: impl FnOnce(&mut Recorder<'_>, &A),
    ) -> Self {
        if !installed::is_enabled() {
            return Self::DISABLED;
        }
        Self::start_recorded(site, Origin::AwaitedFuture, &capture(), &mut Some(record))
    }

    /// `record` comes by reference: moving the caller's freshly written closure here would
    /// cost a store-forwarding stall on every call, sampled or not.
    #[cold]
    #[inline(never)]
    fn start_recorded<A>(
        site: &'static CallSite,
        origin: Origin,
        captured: &A,
        record: &mut Option<impl FnOnce(&mut Recorder<'_>, &A)>,
    ) -> Self {
        Self::start_under_current(site, origin, &mut record_once(captured, record))
    }

    /// Starts the span of `site` under the current context. Not generic: reading the current
    /// context instantiates the thread-local's access for the closure given it, which, done
    /// in each instrumented function's own generic start, made an optimised build of 500
    /// functions take 8.4 s instead of 6.5 (`benches/README.md`, compile time).
    #[inline(never)]
    fn start_under_current(
        site: &'static CallSite,
        origin: Origin,
        record: &mut dyn FnMut(&mut Recorder<'_>),
    ) -> Self {
        Self::start_under_current_inlined(site, origin, record)
    }

    /// [`Self::start_under_current`], inlined where a synchronous call's span starts, so that
    /// path makes no more calls than it did when this was generic.
    #[inline(always)]
    fn start_under_current_inlined(
        site: &'static CallSite,
        origin: Origin,
        record: &mut dyn FnMut(&mut Recorder<'_>),
    ) -> Self {
        Context::map_current(|parent| Self::start_enabled(site, parent, origin, None, record))
    }

    /// Starts the span of `site` under an explicit parent and with links, both computed only
    /// when a provider is installed; the arguments as in [`Self::start_call`].
    #[inline(always)]
    pub fn start_with<A>(
        site: &'static CallSite,
        parent: impl FnOnce() -> Context,
        links: impl FnOnce() -> Vec<Link>,
        capture: impl FnOnce() -> A,
        record: impl FnOnce(&mut Recorder<'_>, &A),
    ) -> Self {
        if !installed::is_enabled() {
            return Self::DISABLED;
        }
        Self::start_with_recorded(site, parent, links, &capture(), record)
    }

    /// [`Self::start_with`] for a synchronous call, its span made current until the returned
    /// guard drops: started and attached in one call out of line, as [`Self::start_call`].
    #[inline(always)]
    pub fn start_call_with<A>(
        site: &'static CallSite,
        parent: impl FnOnce() -> Context,
        links: impl FnOnce() -> Vec<Link>,
        capture: impl FnOnce() -> A,
        record: impl FnOnce(&mut Recorder<'_>, &A),
    ) -> Entered {
        if !installed::is_enabled() {
            return Entered::DISABLED;
        }
        Self::start_call_with_recorded(site, parent, links, &capture(), record)
    }

    #[cold]
    #[inline(never)]
    fn start_call_with_recorded<A>(
        site: &'static CallSite,
        parent: impl FnOnce() -> Context,
        links: impl FnOnce() -> Vec<Link>,
        captured: &A,
        record: impl FnOnce(&mut Recorder<'_>, &A),
    ) -> Entered {
        Self::start_with_recorded(site, parent, links, captured, record).enter()
    }

    #[cold]
    #[inline(never)]
    fn start_with_recorded<A>(
        site: &'static CallSite,
        parent: impl FnOnce() -> Context,
        links: impl FnOnce() -> Vec<Link>,
        captured: &A,
        record: impl FnOnce(&mut Recorder<'_>, &A),
    ) -> Self {
        Self::start_enabled(
            site,
            &parent(),
            Origin::ExplicitParent,
            Some(&mut links()),
            &mut record_once(captured, &mut Some(record)),
        )
    }

    /// Starts the span; `record` runs only if it is recording. Not generic, so each
    /// instrumented function adds no copy of it. `links` by reference (`None`: no links), for
    /// the same reason as `record` in [`Self::start_recorded`].
    #[inline(never)]
    fn start_enabled(
        site: &'static CallSite,
        parent: &Context,
        origin: Origin,
        links: Option<&mut Vec<Link>>,
        record: &mut dyn FnMut(&mut Recorder<'_>),
    ) -> Self {
        // The common unsampled case (a child of a request that arrived not sampled) is known
        // from the parent alone, without reading the installed pipeline.
        let start = if installed::follows_parent() && start::inheritable(parent, origin) {
            Some(Start::Inherited)
        } else {
            installed::with_installed(|installed| match &installed.own {
                Some(own) => start::own(site, parent, origin, links, record, own),
                None => start::built(site, parent, links, record, &installed.tracer),
            })
        };
        let started = match start {
            Some(Start::Own(started)) => Some(started),
            // A future polled elsewhere brings its parent's context along.
            Some(Start::Inherited) if matches!(origin, Origin::Future) => {
                Some(Start::boxed(Recording::No, || parent.clone()))
            }
            // A synchronous call runs under the current context already; so does an `async
            // fn`'s first poll, which brings it along only if that poll does not finish the
            // future (`Self::inherit_current`). `None`: nothing is installed.
            Some(Start::Inherited) | None => None,
        };
        Self {
            started: ManuallyDrop::new(started),
        }
    }

    /// Whether the span records attributes and events.
    #[inline(always)]
    pub fn is_recording(&self) -> bool {
        self.started
            .as_ref()
            .is_some_and(|started| started.recording != Recording::No)
    }

    /// Runs `record` on the span if it records, and returns what `record` returned: on the
    /// span in its own context, or, while that context is lent to the attachment of a call
    /// or poll, in the thread's current context if that holds the span ([`lent`]).
    /// `record` may then run with the thread's context stack borrowed: it must not attach a
    /// context, nor run the application's code, which might (format what it records before).
    pub(crate) fn on_recording<R>(&self, record: impl FnOnce(&SpanRef<'_>) -> R) -> Option<R> {
        let started = self.started.as_ref()?;
        match started.recording {
            Recording::No => None,
            Recording::Sdk | Recording::Own => Some(record(&started.cx.span())),
            Recording::Lent => lent::with_span(started.lent, record),
        }
    }

    /// Makes the span current on this thread until the returned guard drops.
    #[inline(always)]
    fn enter(mut self) -> Entered {
        let attached = ManuallyDrop::new(self.attach_for_call());
        Entered {
            span: self,
            attached,
        }
    }

    /// [`Self::attach`] for a synchronous call, which attaches its context once, for the
    /// whole call ([`Started::context_to_attach`]).
    #[inline(always)]
    fn attach_for_call(&mut self) -> Option<ContextGuard> {
        let started = self.started.as_mut()?;
        Some(started.context_to_attach().attach())
    }

    /// Brings the current context along as the span's, for an `async fn`'s future whose
    /// span added nothing to it and whose first poll did not finish it: later polls may run
    /// elsewhere. Called right after that poll, which has left the context it ran under
    /// current again.
    #[inline(always)]
    pub(crate) fn inherit_current(&mut self) {
        if self.started.is_none() && installed::is_enabled() {
            self.hold_current();
        }
    }

    #[cold]
    #[inline(never)]
    fn hold_current(&mut self) {
        // The thread-local read stays outside `Start::boxed`'s closure, which must not panic.
        let started =
            Context::map_current(|current| Start::boxed(Recording::No, || current.clone()));
        *self.started = Some(started);
    }

    /// Attaches the span's context for one poll of its future, lent to the attachment
    /// ([`Started::context_to_attach`]; an SDK span's is cloned), and [`Self::take_back_lent`]
    /// takes it back if the poll suspends: a poll that finishes the future then costs no
    /// shared count's increment and decrement (17 ns of a dropped root's `async fn` on an
    /// Intel host, `benches/README.md`).
    ///
    /// The attachment is out of line: inlined into every future's poll, it left the poll of
    /// a future without a span 0.3 ns slower (the same instructions, laid out otherwise).
    #[inline(always)]
    pub(crate) fn attach_for_poll(&mut self) -> Option<ContextGuard> {
        if self.started.is_some() {
            self.attach_started_for_poll()
        } else {
            None
        }
    }

    /// [`Self::attach_for_poll`]'s out-of-line half, called once a span started.
    #[inline(never)]
    fn attach_started_for_poll(&mut self) -> Option<ContextGuard> {
        let started = self.started.as_mut()?;
        Some(started.context_to_attach().attach())
    }

    /// Takes back the context lent to a poll's attachment ([`Self::attach_for_poll`]),
    /// after a poll that suspended the future and before that attachment ends: the context
    /// current then is the one lent, as the poll has detached whatever it attached. (A
    /// future that keeps a context attached over its suspension, a `ContextGuard` held
    /// across an `.await`, which OpenTelemetry warns against, hands that context on instead;
    /// see [`Started::take_back_lent_span`] for a span that records.) Does nothing for an
    /// SDK span, which lent nothing, or a span that has ended.
    #[inline(always)]
    pub(crate) fn take_back_lent(&mut self) {
        if let Some(started) = self.started.as_mut() {
            match started.recording {
                Recording::No => started.cx = Context::current(),
                Recording::Lent => started.take_back_lent_span(),
                Recording::Own | Recording::Sdk => {}
            }
        }
    }

    /// Makes the span current until the returned guard drops, without ending it then: for
    /// the setup code of a function returning a future, which runs before the future does
    /// (so before any poll has borrowed the span's context, [`Started::context_to_attach`]).
    #[inline(always)]
    pub fn attach(&self) -> Option<ContextGuard> {
        self.started
            .as_ref()
            .map(|started| started.cx.clone().attach())
    }

    /// Records the panic unwinding through this span.
    pub(crate) fn record_panic(&self) {
        outcome::record_failure(self, outcome::Failure::of_current_panic);
    }

    /// Adds the `cancelled` event of a future dropped before completion.
    pub(crate) fn record_cancelled(&self) {
        self.on_recording(|span| span.add_event(outcome::CANCELLED_EVENT, Vec::new()));
    }

    /// Ends the span now; later calls do nothing.
    #[inline(always)]
    pub(crate) fn end(&mut self) {
        if self.started.is_some() {
            self.end_started();
        }
    }

    #[inline(never)]
    fn end_started(&mut self) {
        // Dropping the taken `Started` ends the span; `None` is left, which needs no drop.
        drop(self.started.take());
    }

    /// Whether a span was started (a provider was installed).
    #[inline(always)]
    pub(crate) fn is_started(&self) -> bool {
        self.started.is_some()
    }
}

/// `record` as the span's start takes it, a `dyn FnMut` that runs it at most once: the start
/// is not generic, so each instrumented function adds no copy of it.
#[inline(always)]
fn record_once<'a, A, R>(
    captured: &'a A,
    record: &'a mut Option<R>,
) -> impl FnMut(&mut Recorder<'_>) + 'a
where
    R: FnOnce(&mut Recorder<'_>, &A),
{
    move |recorder| {
        if let Some(record) = record.take() {
            record(recorder, captured);
        }
    }
}

impl Drop for ActiveSpan {
    #[inline(always)]
    fn drop(&mut self) {
        self.end();
    }
}

/// A call's span made current by [`ActiveSpan::start_call`]: restores the previous context
/// and ends the span when dropped, recording a panic if the drop happens while unwinding.
#[doc(hidden)]
#[derive(Debug)]
pub struct Entered {
    span: ActiveSpan,
    // Taken out in `finish`, after the span ended, so the span ends while still current.
    attached: ManuallyDrop<Option<ContextGuard>>,
}

impl Entered {
    const DISABLED: Self = Self {
        span: ActiveSpan::DISABLED,
        attached: ManuallyDrop::new(None),
    };

    /// The span of the call.
    #[inline(always)]
    pub fn span(&self) -> &ActiveSpan {
        &self.span
    }
}

impl Drop for Entered {
    #[inline(always)]
    fn drop(&mut self) {
        // Attached exactly when a span started.
        if self.attached.is_some() {
            self.finish();
        }
    }
}

impl Entered {
    #[inline(never)]
    fn finish(&mut self) {
        if std::thread::panicking() {
            self.span.record_panic();
        }
        self.span.end();
        drop(self.attached.take());
    }
}
