//! The OpenTelemetry API's tracers on `traced`'s own pipeline: spans started through the API
//! (by a library instrumented with it, by `traced`'s HTTP integrations, by hand) are built
//! as `#[traced]`'s sampled spans are ([`LeanSpan`]), sampled by the pipeline's sampler and
//! ended straight into its processors, instead of by the SDK tracer, which builds
//! [`SpanData`](opentelemetry_sdk::trace::SpanData) on the application's thread.
//!
//! What the API sees is what the SDK gives: the same sampling (the provider's sampler, the
//! parent's trace and flags), the same ids, the span limits, and the tracer's
//! instrumentation scope on every span it exports.

use std::sync::Arc;

use opentelemetry::trace::{SpanBuilder, SpanContext, SpanKind, TraceContextExt, TraceFlags};
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::{SamplingDecision, SdkTracerProvider};

use super::ids;
use super::lean::LeanSpan;
use super::scope::SpanScope;
use crate::installed::OwnSpans;

/// The provider `traced`'s pipeline installs globally: the SDK provider it was built as
/// (kept for its lifetime, as the global provider held it before), and its tracers.
#[derive(Debug)]
pub(crate) struct PipelineProvider {
    _sdk: SdkTracerProvider,
    own: Arc<OwnSpans>,
}

impl PipelineProvider {
    /// The provider of `sdk`'s pipeline, whose spans `own` samples and ends.
    pub(crate) fn new(sdk: SdkTracerProvider, own: Arc<OwnSpans>) -> Self {
        Self { _sdk: sdk, own }
    }
}

impl TracerProvider for PipelineProvider {
    type Tracer = PipelineTracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> PipelineTracer {
        PipelineTracer {
            scope: SpanScope::of(scope),
            own: Arc::clone(&self.own),
        }
    }
}

/// A tracer of [`PipelineProvider`].
#[derive(Debug)]
pub(crate) struct PipelineTracer {
    scope: SpanScope,
    own: Arc<OwnSpans>,
}

impl Tracer for PipelineTracer {
    type Span = LeanSpan;

    /// Builds the span as the SDK's tracer does (`opentelemetry_sdk` 0.33): nothing where
    /// telemetry is suppressed; a valid parent's trace, else a new one; the sampler asked
    /// with the builder's name, kind, attributes and links (the SDK's own samplers read
    /// without a call where their kind decides, as for `#[traced]`: `SamplerSetting::sample`).
    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> LeanSpan {
        let limits = self.own.sink.limits;
        if parent_cx.is_telemetry_suppressed() {
            return LeanSpan::not_recording(SpanContext::empty_context(), limits);
        }
        let parent_span = parent_cx.span();
        let empty = SpanContext::empty_context();
        let parent = Some(parent_span.span_context())
            .filter(|parent| parent.is_valid())
            .unwrap_or(&empty);
        let trace_id = ids::trace_id_under(parent);
        let sampler = &self.own.sampler;
        let ask_sampler = || {
            sampler.sampler.should_sample(
                Some(parent_cx),
                trace_id,
                &builder.name,
                builder.span_kind.as_ref().unwrap_or(&SpanKind::Internal),
                builder.attributes.as_deref().unwrap_or_default(),
                builder.links.as_deref().unwrap_or_default(),
            )
        };
        let (decision, trace_state, sampler_attributes) =
            sampler.sample(parent_cx, parent_span.span_context(), ask_sampler);
        let span_id = ids::new_span_id();
        let sampled = match decision {
            SamplingDecision::Drop => {
                let flags = TraceFlags::default();
                let span_context = SpanContext::new(trace_id, span_id, flags, false, trace_state);
                return LeanSpan::not_recording(span_context, limits);
            }
            SamplingDecision::RecordOnly => false,
            SamplingDecision::RecordAndSample => true,
        };
        let flags = parent.trace_flags().with_sampled(sampled);
        let span_context = SpanContext::new(trace_id, span_id, flags, false, trace_state);
        let scope = self.scope.clone();
        LeanSpan::from_builder(
            span_context,
            parent,
            builder,
            sampler_attributes,
            scope,
            limits,
        )
    }
}
