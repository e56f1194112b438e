//! The installed pipeline end to end, with an exporter of the test's own: `#[traced]` spans
//! and OpenTelemetry-API spans go through the same batch processor, as one tree.

use std::sync::{Arc, Mutex};

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
    let kept = Keep::default();
    let otel = traced::Config::defaults()
        .with_service_name("pipeline-test")
        .with_exporters([])
        .with_span_exporter(kept.clone())
        .install();
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
