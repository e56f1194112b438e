//! Starting a `#[traced]` span on the installed tracer.
//!
//! With the pipeline of [`crate::Config::install`] the span is sampled first: an unsampled
//! span is only a span context in the OpenTelemetry context (no SDK span, no arguments
//! evaluated, one allocation), and a sampled one is built by the SDK with all its
//! attributes in one vector, the decision handed over ([`crate::sampling::handoff`]). With a
//! provider installed by hand, the SDK samples and builds, and the arguments are recorded
//! afterwards when the span records.

use std::borrow::Cow;

use opentelemetry::Context;
use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{Link, SpanBuilder, SpanContext, TraceContextExt, TraceFlags, Tracer};
use opentelemetry_sdk::trace::{SamplingDecision, ShouldSample};

use super::Recorder;
use crate::callsite::CallSite;
use crate::sampling::{handoff, ids};

/// Room for the `code.*` attributes and a few arguments without growing.
const ATTRIBUTES_CAPACITY: usize = 8;

/// The context carrying the new span, and whether it records.
pub(super) type Started = (Context, bool);

/// Samples with `sampler`, then builds a recording span only when it says so.
pub(super) fn presampled(
    site: &'static CallSite,
    parent: &Context,
    links: Vec<Link>,
    record: &mut dyn FnMut(&mut Recorder),
    tracer: &BoxedTracer,
    sampler: &dyn ShouldSample,
) -> Started {
    let parent_span = parent.span();
    let parent_context = parent_span.span_context();
    // As the SDK does: a valid parent gives the trace, otherwise a new one starts.
    let trace_id = if parent_context.is_valid() {
        parent_context.trace_id()
    } else {
        ids::new_trace_id()
    };
    let code = site.code_attributes();
    let decision = sampler.should_sample(
        Some(parent),
        trace_id,
        site.name(),
        site.kind(),
        code,
        &links,
    );
    if decision.decision == SamplingDecision::Drop {
        let span_context = SpanContext::new(
            trace_id,
            ids::new_span_id(),
            TraceFlags::default(),
            false,
            decision.trace_state,
        );
        // A context holding just the span context (the OpenTelemetry API's non-recording
        // span, despite the method's name: the context stays local): children see an
        // unsampled parent in this trace, as with an SDK span, without building one.
        return (parent.with_remote_span_context(span_context), false);
    }
    let mut recorder = Recorder {
        attributes: Vec::with_capacity(ATTRIBUTES_CAPACITY),
        name: None,
    };
    recorder.attributes.extend_from_slice(code);
    record(&mut recorder);
    let name = recorder.name.map_or(Cow::Borrowed(site.name()), Cow::Owned);
    let mut builder = SpanBuilder::from_name(name)
        .with_kind(site.kind().clone())
        .with_attributes(recorder.attributes);
    if !links.is_empty() {
        builder = builder.with_links(links);
    }
    let span = handoff::build_decided(trace_id, decision, || {
        tracer.build_with_context(builder, parent)
    });
    let cx = parent.with_span(span);
    let recording = cx.span().is_recording();
    (cx, recording)
}

/// Lets the SDK sample and build the span, then records the arguments if it records.
pub(super) fn built(
    site: &'static CallSite,
    parent: &Context,
    links: Vec<Link>,
    record: &mut dyn FnMut(&mut Recorder),
    tracer: &BoxedTracer,
) -> Started {
    let mut builder = site.span_builder();
    if !links.is_empty() {
        builder = builder.with_links(links);
    }
    let cx = parent.with_span(tracer.build_with_context(builder, parent));
    let span = cx.span();
    let recording = span.is_recording();
    if recording {
        let mut recorder = Recorder::default();
        record(&mut recorder);
        if let Some(name) = recorder.name {
            span.update_name(name);
        }
        span.set_attributes(recorder.attributes);
    }
    (cx, recording)
}
