//! A sampler of the application's own that reads a span's attributes, as one dropping health
//! checks would.

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample, SpanData};
use traced::testing::InMemoryExporter;

/// The attribute it adds to every span it keeps.
pub const RULE: (&str, &str) = ("sampling.rule", "not a health check");

/// Drops every span whose attribute `key` is text ending in `/health`; samples the others,
/// saying so in [`RULE`].
#[derive(Clone, Debug)]
pub struct SkipsHealthChecks {
    pub key: &'static str,
}

impl ShouldSample for SkipsHealthChecks {
    fn should_sample(
        &self,
        parent: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let health = attributes
            .iter()
            .any(|kv| kv.key.as_str() == self.key && kv.value.as_str().ends_with("/health"));
        let trace_state = parent
            .map(|cx| cx.span().span_context().trace_state().clone())
            .unwrap_or_default();
        if health {
            return SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state,
            };
        }
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: vec![KeyValue::new(RULE.0, RULE.1)],
            trace_state,
        }
    }
}

/// Installs `traced`'s pipeline with [`SkipsHealthChecks`] reading `key`, exporting into
/// memory; returns what it exports into and the guard whose shutdown flushes it.
pub fn install_skipping_health_checks(key: &'static str) -> (InMemoryExporter, traced::OtelGuard) {
    let exporter = InMemoryExporter::default();
    let otel = traced::Config::defaults()
        .with_exporters([])
        .with_span_exporter(exporter.clone())
        .with_sampler(SkipsHealthChecks { key })
        .install();
    (exporter, otel)
}

/// Asserts that `span` holds each attribute once: shown to the sampler, then recorded as
/// they were shown, not written again.
pub fn assert_each_attribute_once(span: &SpanData) {
    let mut keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    let count = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), count, "{:?}", span.attributes);
}
