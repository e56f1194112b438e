//! Starting a `#[traced]` span on the installed tracer.
//!
//! With `traced`'s own pipeline ([`crate::Config::install`]) the span is sampled first. An
//! unsampled span under an unsampled parent that records nothing adds nothing at all: the
//! parent's context already carries the trace and the decision its children follow (no
//! allocation, no context attached, no arguments evaluated, and with the SDK's parent-based
//! sampler no sampler call). Any other unsampled span is only a span context in the
//! OpenTelemetry context (no span, one allocation). A sampled one is a [`LeanSpan`], its
//! attributes inline in its record, ended into the pipeline's processors. With a provider
//! installed by hand, the SDK samples and builds, and the arguments are recorded afterwards
//! when the span records.

use opentelemetry::Context;
use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{Link, SpanContext, SpanId, TraceContextExt, TraceFlags, Tracer};
use opentelemetry_sdk::trace::SamplingDecision;

use super::ids;
use super::in_place::filled;
use super::lean::{Attributes, LeanSpan, SpanStart};
use super::recorded::RecordedAttribute;
use super::{Origin, Recorder, Recording, Started};
use crate::callsite::CallSite;
use crate::installed::OwnSpans;

/// What starting a span gave: one word and a tag, returned in registers (a whole context,
/// moved through the installed-tracer closures, cost store-forwarding stalls).
pub(super) enum Start {
    /// A context carrying the new span, and whether the span records.
    Own(Box<Started>),
    /// Nothing of its own: the span samples out under a current parent that sampled out too
    /// (and does not record), with the same trace state. Children started during the call
    /// see the parent, which carries the same trace and decision; outgoing headers name the
    /// parent as theirs, which is never exported either way. Also where telemetry is
    /// suppressed (the pipeline's own work): the call stays in the suppressed context.
    Inherited,
}

impl Start {
    /// The context `cx` makes, written straight into a box allocated first. Anything
    /// built on the stack and then moved into the box is read back in wider loads than it
    /// was written with, a store-forwarding stall (`perf annotate`): the empty context the
    /// box used to be made with cost about 3 ns an unsampled span, the context returned
    /// onto the stack 4 more. [`never_unwinding`] lets the compiler hand the box to `cx`
    /// as the place to return its context in.
    #[inline(always)]
    fn own(recording: Recording, cx: impl FnOnce() -> Context) -> Self {
        Self::Own(Self::boxed(recording, cx))
    }

    /// The box of [`Self::own`], also made for a future that brings its parent's context along.
    #[inline(always)]
    pub(super) fn boxed(recording: Recording, cx: impl FnOnce() -> Context) -> Box<Started> {
        filled(
            Box::new_uninit(),
            Started {
                cx: never_unwinding(cx),
                recording,
                lent: SpanId::INVALID,
            },
        )
    }
}

/// Samples with the pipeline's sampler, then builds a recording span only when it says so.
pub(super) fn own(
    site: &'static CallSite,
    parent: &Context,
    origin: Origin,
    links: Option<&mut Vec<Link>>,
    record_arguments: &mut dyn FnMut(&mut Recorder<'_>),
    own: &OwnSpans,
) -> Start {
    // The pipeline's own work (an exporter's requests) records nothing; its context stays.
    if parent.is_telemetry_suppressed() {
        return Start::Inherited;
    }
    let sampler = &own.sampler;
    let parent_span = parent.span();
    let parent_context = parent_span.span_context();
    let inheritable = inheritable(parent, origin);
    // The SDK's parent-based sampler would drop it and keep the parent's trace state: no
    // need to ask. (`ActiveSpan` checks this first, from `installed::follows_parent`; here
    // for a pipeline installed while the span started.)
    if inheritable && sampler.follows_parent() {
        return Start::Inherited;
    }
    let (trace_id, span_id) = ids::ids_under(parent_context);
    let code = site.code_attributes();
    let links_slice = links.as_deref().map_or(&[][..], Vec::as_slice);
    let ask_sampler = || {
        let (name, kind) = (site.name(), site.kind());
        sampler.sampler.should_sample(
            Some(parent),
            trace_id,
            name,
            kind,
            code.attributes(),
            links_slice,
        )
    };
    let (decision, trace_state, mut sampler_attributes) =
        sampler.sample(parent, parent_context, trace_id, ask_sampler);
    if decision == SamplingDecision::Drop {
        if inheritable && trace_state == *parent_context.trace_state() {
            return Start::Inherited;
        }
        let span_context =
            SpanContext::new(trace_id, span_id, TraceFlags::default(), false, trace_state);
        // A context holding just the span context (the OpenTelemetry API's non-recording
        // span, despite the method's name: the context stays local): children see an
        // unsampled parent in this trace, as with an SDK span, without building one.
        return Start::own(Recording::No, || {
            parent.with_remote_span_context(span_context)
        });
    }
    let sampled = decision == SamplingDecision::RecordAndSample;
    let start = SpanStart {
        trace_id,
        span_id,
        trace_flags: parent_context.trace_flags().with_sampled(sampled),
        trace_state,
        parent: parent_context,
        kind: site.kind().clone(),
        name: site.name(),
        code,
        links,
        limits: own.sink.limits,
        sampler_attributes: &mut sampler_attributes,
    };
    let span = LeanSpan::start(start, record_arguments);
    Start::own(Recording::Own, || parent.with_span(span))
}

/// Whether a span starting from `origin` under `parent` adds nothing to it when its sampler
/// follows the parent: the parent [`sampled_out`], and current (an explicit parent need not
/// be the current context: the span needs its own then).
#[inline(always)]
pub(super) fn inheritable(parent: &Context, origin: Origin) -> bool {
    !matches!(origin, Origin::ExplicitParent) && sampled_out(parent)
}

/// Whether the span in `parent` is valid, not sampled and not recording: a trace left
/// unsampled, whose decision the context carries to everything started under it.
#[inline(always)]
pub(crate) fn sampled_out(parent: &Context) -> bool {
    let parent_span = parent.span();
    let parent_context = parent_span.span_context();
    parent_context.is_valid() && !parent_context.is_sampled() && !parent_span.is_recording()
}

/// Lets the SDK sample and build the span, then records the arguments if it records.
pub(super) fn built(
    site: &'static CallSite,
    parent: &Context,
    links: Option<&mut Vec<Link>>,
    record: &mut dyn FnMut(&mut Recorder<'_>),
    tracer: &BoxedTracer,
) -> Start {
    let mut builder = site.span_builder();
    if let Some(links) = links.filter(|links| !links.is_empty()) {
        builder = builder.with_links(std::mem::take(links));
    }
    let cx = parent.with_span(tracer.build_with_context(builder, parent));
    let span = cx.span();
    let recording = span.is_recording();
    if recording {
        let mut attributes = Attributes::new();
        let mut recorder = Recorder::new(&mut attributes);
        record(&mut recorder);
        if let Some(name) = recorder.into_name() {
            span.update_name(name);
        }
        let attributes = attributes.into_iter();
        span.set_attributes(attributes.map(RecordedAttribute::into_key_value));
    }
    let recording = if recording {
        Recording::Sdk
    } else {
        Recording::No
    };
    Start::own(recording, || cx)
}

/// Calls `make`, which must not panic: a panic aborts the process instead of unwinding.
///
/// LLVM writes a call's result straight into its destination (rather than into a
/// temporary it then copies) only when the destination could not be seen half-written by
/// the code an unwinding call runs; `extern "C"` functions cannot unwind (a panic in one
/// aborts), which it knows. The functions made to run here only allocate, and a failed
/// allocation aborts anyway.
#[inline(never)]
extern "C" fn never_unwinding<T>(make: impl FnOnce() -> T) -> T {
    make()
}
