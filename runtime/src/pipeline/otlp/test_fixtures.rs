//! What the encoder's tests (`protobuf`, `queued_tests`) both build and read.

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// A span context; `state` is a trace state header (`k=v,k2=v2`, empty for none).
pub(super) fn context(
    trace: u128,
    span: u64,
    flags: TraceFlags,
    remote: bool,
    state: &str,
) -> SpanContext {
    let state = TraceState::from_key_value(
        state
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        flags,
        remote,
        state,
    )
}

/// The scope names of a decoded request's first resource, in order: how the tests see the
/// grouping by scope.
pub(super) fn scope_names(request: &ExportTraceServiceRequest) -> Vec<&str> {
    let scopes = request.resource_spans[0].scope_spans.iter();
    let scopes = scopes.map(|scope| scope.scope.as_ref().expect("every scope is written"));
    scopes.map(|scope| scope.name.as_str()).collect()
}
