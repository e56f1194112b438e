//! The `console` exporter prints each span as the JSON document of Python's
//! `ConsoleSpanExporter`: 0x-prefixed ids, `SpanKind.X`, ISO times, typed attributes, events,
//! links and the resource.

use std::io::Write;
use std::sync::{Arc, Mutex};

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use serde_json::Value as Json;
use traced::{ConsoleExporter, traced};

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[traced(kind = server)]
fn handle(path: &str, attempt: u32) -> Result<(), std::io::Error> {
    traced::current_span().add_event("validated", [KeyValue::new("rules", 3)]);
    child(0.5);
    Err(std::io::Error::other("backend down"))
}

#[traced]
fn child(ratio: f64) {}

#[test]
fn spans_print_as_python_console_json() {
    let out = Captured::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("console-test")
                .build(),
        )
        .with_span_processor(
            BatchSpanProcessor::builder(ConsoleExporter::to_writer(out.clone())).build(),
        )
        .build();
    traced::set_tracer_provider(provider.clone());
    let _ = handle("/orders", 2);
    provider.force_flush().unwrap();

    let bytes = out.0.lock().unwrap().clone();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.starts_with("{\n    \"name\": \"child\",\n    \"context\": {\n"),
        "4-space indent, Python's key order:\n{text}"
    );
    let documents: Vec<Json> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Json>()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(documents.len(), 2, "one JSON document per span");
    let (child, handle) = (&documents[0], &documents[1]);

    let keys: Vec<&str> = handle
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "context",
            "kind",
            "parent_id",
            "start_time",
            "end_time",
            "status",
            "attributes",
            "events",
            "links",
            "resource"
        ]
    );
    assert_eq!(handle["name"], "handle");
    assert_eq!(handle["kind"], "SpanKind.SERVER");
    assert_eq!(child["kind"], "SpanKind.INTERNAL");
    assert_eq!(handle["parent_id"], Json::Null);

    let trace_id = handle["context"]["trace_id"].as_str().unwrap();
    let span_id = handle["context"]["span_id"].as_str().unwrap();
    assert!(
        trace_id.starts_with("0x") && trace_id.len() == 34,
        "{trace_id}"
    );
    assert!(
        span_id.starts_with("0x") && span_id.len() == 18,
        "{span_id}"
    );
    assert_eq!(handle["context"]["trace_state"], "[]");
    assert_eq!(child["context"]["trace_id"], trace_id);
    assert_eq!(child["parent_id"], span_id);

    let start = handle["start_time"].as_str().unwrap();
    assert_eq!(
        start.len(),
        "2020-05-07T14:39:52.906272Z".len(),
        "microsecond ISO time: {start}"
    );
    assert!(start.ends_with('Z') && start.as_bytes()[10] == b'T');
    assert!(handle["start_time"].as_str() <= handle["end_time"].as_str());

    assert_eq!(handle["status"]["status_code"], "ERROR");
    assert_eq!(handle["status"]["description"], "backend down");
    assert_eq!(
        child["status"],
        serde_json::json!({ "status_code": "UNSET" })
    );

    assert_eq!(handle["attributes"]["path"], "/orders");
    assert_eq!(
        handle["attributes"]["attempt"], 2,
        "numbers print as numbers"
    );
    assert_eq!(child["attributes"]["ratio"], 0.5);
    assert_eq!(
        handle["attributes"]["code.function.name"],
        "console::handle"
    );

    let events = handle["events"].as_array().unwrap();
    assert_eq!(events[0]["name"], "validated");
    assert_eq!(events[0]["attributes"]["rules"], 3);
    assert_eq!(events[1]["name"], "exception");
    assert_eq!(events[1]["attributes"]["exception.message"], "backend down");
    assert_eq!(handle["links"], serde_json::json!([]));

    assert_eq!(
        handle["resource"]["attributes"]["service.name"],
        "console-test"
    );
    assert_eq!(handle["resource"]["schema_url"], "");
    provider.shutdown().unwrap();
}

mod tree {
    use super::*;
    use opentelemetry::trace::{Status, TraceContextExt, Tracer, TracerProvider as _};
    use traced::ConsoleTreeExporter;

    #[test]
    fn the_tree_view_prints_one_trace_with_indented_children_status_and_attributes() {
        let out = Captured::default();
        let provider = SdkTracerProvider::builder()
            .with_resource(
                Resource::builder_empty()
                    .with_service_name("tree-test")
                    .build(),
            )
            .with_span_processor(
                BatchSpanProcessor::builder(ConsoleTreeExporter::to_writer(out.clone())).build(),
            )
            .build();
        let tracer = provider.tracer("test");
        tracer.in_span("checkout", |cx| {
            cx.span().set_attribute(KeyValue::new("cart.items", 3));
            tracer.in_span("reserve", |_| {});
            tracer.in_span("charge", |cx| {
                cx.span().set_status(Status::error("card declined"));
                tracer.in_span("card.api", |_| {});
            });
        });
        provider.force_flush().unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[0].starts_with("trace ") && lines[0].ends_with(" · tree-test"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("checkout ") && lines[1].ends_with("cart.items=3"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("├─ reserve "),
            "children in start order: {text}"
        );
        assert!(
            lines[3].starts_with("└─ charge ") && lines[3].contains("✗ card declined"),
            "{text}"
        );
        assert!(
            lines[4].starts_with("   └─ card.api "),
            "grandchildren indented: {text}"
        );
        assert!(lines[1].contains("ms"), "durations: {text}");
        provider.shutdown().unwrap();
    }
}
