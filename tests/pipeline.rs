//! The installed pipeline end to end, with an exporter of the test's own: `#[traced]` spans
//! and OpenTelemetry-API spans go through the same batch processor, as one tree.

use std::sync::{Arc, Mutex, MutexGuard};

/// The pipeline is process-wide: the tests here install it one at a time.
static PIPELINE: Mutex<()> = Mutex::new(());

use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Keeps what it is handed.
#[derive(Clone, Debug, Default)]
struct Keep(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Keep {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// Installs the pipeline, `configure`d, exporting only into a [`Keep`]; the other tests wait
/// until the returned lock guard drops.
fn install(
    configure: impl FnOnce(traced::Config) -> traced::Config,
) -> (MutexGuard<'static, ()>, traced::OtelGuard, Keep) {
    let installing = PIPELINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let kept = Keep::default();
    let otel = configure(traced::Config::defaults().with_exporters([]))
        .with_span_exporter(kept.clone())
        .install();
    (installing, otel, kept)
}

#[traced::traced]
fn checkout(items: u32, customer: &str, express: bool) -> u32 {
    let tracer = opentelemetry::global::tracer("native-library");
    tracer.in_span("native child", |cx| {
        cx.span()
            .set_attribute(opentelemetry::KeyValue::new("native", true));
    });
    items * 2 + u32::from(express) + customer.len() as u32
}

#[test]
fn traced_and_native_spans_share_the_batch_pipeline() {
    let (_installing, otel, kept) = install(|config| config.with_service_name("pipeline-test"));
    assert_eq!(checkout(3, "ada", true), 10);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let parent = spans.iter().find(|span| span.name == "checkout").unwrap();
    let child = spans
        .iter()
        .find(|span| span.name == "native child")
        .unwrap();
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id()
    );
    let value = |key: &str| {
        parent
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(value("items"), Some(3_i64.into()));
    assert_eq!(value("customer"), Some("ada".into()));
    assert_eq!(value("express"), Some(true.into()));
    assert_eq!(
        value("code.function.name"),
        Some("pipeline::checkout".into())
    );
    assert!(parent.start_time <= child.start_time && child.end_time <= parent.end_time);
}

#[traced::traced]
fn root_call(index: u32) -> u32 {
    index
}

#[test]
fn a_ratio_sampler_decides_on_the_trace_id_the_span_is_exported_with() {
    use opentelemetry::trace::{SpanKind, TraceId};
    use opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample};

    let ratio = Sampler::TraceIdRatioBased(0.5);
    let (_installing, otel, kept) = install(|config| config.with_sampler(ratio.clone()));
    for index in 0..400 {
        root_call(index);
    }
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    // About half, each a root whose own trace id the ratio sampler accepts: the decision
    // made before the span was built is the one its exported trace id gives.
    assert!(
        (100..300).contains(&spans.len()),
        "{} of 400 sampled",
        spans.len()
    );
    let decide = |trace_id: TraceId| {
        ratio
            .should_sample(None, trace_id, "root_call", &SpanKind::Internal, &[], &[])
            .decision
    };
    for span in spans.iter() {
        assert_eq!(
            decide(span.span_context.trace_id()),
            SamplingDecision::RecordAndSample
        );
    }
}

/// Drops the spans named `skipped_step`, and samples the others as the default sampler does.
#[derive(Clone, Debug)]
struct SkipByName;

impl opentelemetry_sdk::trace::ShouldSample for SkipByName {
    fn should_sample(
        &self,
        parent: Option<&opentelemetry::Context>,
        trace_id: opentelemetry::trace::TraceId,
        name: &str,
        kind: &opentelemetry::trace::SpanKind,
        attributes: &[opentelemetry::KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult};
        if name == "skipped_step" {
            return SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: Default::default(),
            };
        }
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
            .should_sample(parent, trace_id, name, kind, attributes, links)
    }
}

type SpanContexts = (
    opentelemetry::trace::SpanContext,
    opentelemetry::trace::SpanContext,
);

#[traced::traced]
fn sampled_step() -> (opentelemetry::trace::SpanContext, SpanContexts) {
    (traced::current_span().span_context(), skipped_step())
}

#[traced::traced]
fn skipped_step() -> SpanContexts {
    let native = opentelemetry::global::tracer("native-library")
        .in_span("native child", |cx| cx.span().span_context().clone());
    (traced::current_span().span_context(), native)
}

#[test]
fn a_span_dropped_under_a_sampled_parent_has_an_unsampled_context_its_children_follow() {
    let (_installing, otel, kept) = install(|config| config.with_sampler(SkipByName));
    let (parent, (skipped, native)) = sampled_step();
    otel.shutdown().unwrap();

    // The parent is sampled, so the dropped span cannot lean on its context: it gets a span
    // context of its own, in the same trace, not sampled, which its children inherit.
    assert!(parent.is_sampled());
    assert!(skipped.is_valid() && !skipped.is_sampled() && !skipped.is_remote());
    assert_eq!(skipped.trace_id(), parent.trace_id());
    assert_ne!(skipped.span_id(), parent.span_id());
    assert!(native.is_valid() && !native.is_sampled());
    assert_eq!(native.trace_id(), parent.trace_id());
    let spans = kept.0.lock().unwrap();
    let names: Vec<_> = spans.iter().map(|span| span.name.as_ref()).collect();
    assert_eq!(names, ["sampled_step"]);
}
