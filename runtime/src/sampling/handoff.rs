//! Handing a decision made before the span is built to the SDK that builds it.
//!
//! `#[traced]` samples first (so an unsampled span costs no SDK span and its arguments are
//! never evaluated), then asks the SDK tracer to build the sampled span. The SDK 0.33 always
//! draws its own trace id and calls its sampler again; the pipeline installed by
//! [`crate::Config::install`] therefore gives the provider a sampler and an id generator
//! that take the decision and the trace id `#[traced]` left for them on this thread, and
//! behave as the configured sampler and a random generator for every other span (those the
//! OpenTelemetry API starts).

use std::cell::Cell;

use opentelemetry::trace::{Link, SpanId, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SamplingResult, ShouldSample};

use super::ids;

thread_local! {
    /// The decision and trace id of the span about to be built on this thread.
    static HANDED: Cell<Option<(TraceId, SamplingResult)>> = const { Cell::new(None) };
}

/// Builds a span with `build` after leaving `trace_id` and `decision` for the provider's
/// [`Presampled`] sampler and [`HandedIds`] generator; whatever they did not take is
/// cleared afterwards, so it can never reach another span.
pub(crate) fn build_decided<S>(
    trace_id: TraceId,
    decision: SamplingResult,
    build: impl FnOnce() -> S,
) -> S {
    /// Clears what was handed over when the build returns or unwinds.
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            let _ = HANDED.try_with(Cell::take);
        }
    }
    HANDED.with(|handed| handed.set(Some((trace_id, decision))));
    let _clear = Clear;
    build()
}

/// The provider's sampler: the decision handed over for this span, or the configured
/// sampler's.
#[derive(Clone, Debug)]
pub(crate) struct Presampled {
    inner: Box<dyn ShouldSample>,
}

impl Presampled {
    pub(crate) fn new(inner: Box<dyn ShouldSample>) -> Self {
        Self { inner }
    }
}

impl ShouldSample for Presampled {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let handed = HANDED.with(|handed| {
            // Only a decision made for this very trace id applies.
            match handed.take() {
                Some((handed_id, decision)) if handed_id == trace_id => Some(decision),
                other => {
                    handed.set(other);
                    None
                }
            }
        });
        handed.unwrap_or_else(|| {
            self.inner
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
        })
    }
}

/// The provider's id generator: the trace id handed over for this span, or a random one.
#[derive(Debug, Default)]
pub(crate) struct HandedIds;

impl IdGenerator for HandedIds {
    fn new_trace_id(&self) -> TraceId {
        HANDED
            .with(|handed| {
                let current = handed.take();
                let id = current.as_ref().map(|(id, _)| *id);
                handed.set(current);
                id
            })
            .unwrap_or_else(ids::new_trace_id)
    }

    fn new_span_id(&self) -> SpanId {
        ids::new_span_id()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{TraceContextExt as _, Tracer, TracerProvider};
    use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SdkTracerProvider};

    use super::*;

    fn provider() -> SdkTracerProvider {
        SdkTracerProvider::builder()
            .with_sampler(Presampled::new(Box::new(Sampler::AlwaysOff)))
            .with_id_generator(HandedIds)
            .build()
    }

    fn sample() -> SamplingResult {
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }

    #[test]
    fn a_handed_decision_and_trace_id_are_used_once() {
        let tracer = provider().tracer("t");
        let trace_id = TraceId::from(0x42_u128);
        let span = build_decided(trace_id, sample(), || {
            tracer.build_with_context(tracer.span_builder("decided"), &Context::new())
        });
        assert!(span_is_sampled(&span));
        assert_eq!(span_trace_id(&span), trace_id);
        // The next span gets the configured sampler (always off) and a random id.
        let next = tracer.start("next");
        assert!(!span_is_sampled(&next));
        assert_ne!(span_trace_id(&next), trace_id);
    }

    #[test]
    fn a_decision_for_another_trace_is_not_taken() {
        let tracer = provider().tracer("t");
        let parent =
            Context::new().with_remote_span_context(opentelemetry::trace::SpanContext::new(
                TraceId::from(7_u128),
                SpanId::from(8_u64),
                opentelemetry::trace::TraceFlags::SAMPLED,
                true,
                Default::default(),
            ));
        // The parent's trace id wins over the handed one: the handed decision is not used.
        let span = build_decided(TraceId::from(0x42_u128), sample(), || {
            tracer.build_with_context(tracer.span_builder("child"), &parent)
        });
        assert!(!span_is_sampled(&span));
        assert_eq!(span_trace_id(&span), TraceId::from(7_u128));
    }

    fn span_is_sampled(span: &impl opentelemetry::trace::Span) -> bool {
        span.span_context().is_sampled()
    }

    fn span_trace_id(span: &impl opentelemetry::trace::Span) -> TraceId {
        span.span_context().trace_id()
    }

    #[test]
    fn nothing_is_left_behind_even_by_a_panicking_build() {
        let unwound = std::panic::catch_unwind(|| {
            build_decided(TraceId::from(2_u128), sample(), || panic!("in the build"))
        });
        assert!(unwound.is_err());
        assert!(HANDED.with(Cell::take).is_none());
    }

    #[test]
    fn nothing_is_left_behind() {
        build_decided(TraceId::from(1_u128), sample(), || ());
        assert!(HANDED.with(Cell::take).is_none());
    }
}
