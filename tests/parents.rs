//! Remote parents (`context = arg`), explicit parents (`parent = ..`, `root`), links and
//! names built from arguments.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, Value, global};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use traced::testing::{attribute, capture};
use traced::traced;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{SPAN_ID}-01")
}

fn install_propagator() {
    global::set_text_map_propagator(TraceContextPropagator::new());
}

#[traced(kind = consumer, context = headers)]
fn consume_map(headers: &HashMap<String, String>, body: &str) -> usize {
    body.len()
}

#[traced(kind = server, context = headers)]
fn serve(headers: &http::HeaderMap) {}

#[traced(context = headers)]
fn owned_map(headers: HashMap<String, String>) {}

/// Message metadata of some queue client: any `Extractor` carries a parent.
struct Metadata(Vec<(String, String)>);
impl Extractor for Metadata {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}

#[traced(context = metadata)]
fn handle_message(metadata: &Metadata) {}

#[test]
fn context_extracts_the_remote_parent_from_maps_header_maps_and_any_extractor() {
    install_propagator();
    let map = HashMap::from([("traceparent".to_owned(), traceparent())]);
    let mut headers = http::HeaderMap::new();
    headers.insert("traceparent", traceparent().parse().unwrap());
    let metadata = Metadata(vec![("traceparent".to_owned(), traceparent())]);

    // Outside any capture: the only parent is the remote one in the carrier.
    let exporter = traced::testing::install();
    consume_map(&map, "hello");
    serve(&headers);
    owned_map(map.clone());
    handle_message(&metadata);
    let spans: Vec<_> = exporter
        .finished_spans()
        .into_iter()
        .filter(|span| span.span_context.trace_id() == TraceId::from_hex(TRACE_ID).unwrap())
        .collect();
    let names: Vec<&str> = spans.iter().map(|span| span.name.as_ref()).collect();
    for name in ["consume_map", "serve", "owned_map", "handle_message"] {
        let span = spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("{name} joined the trace: {names:?}"));
        assert_eq!(
            span.parent_span_id,
            SpanId::from_hex(SPAN_ID).unwrap(),
            "{name}"
        );
        assert!(span.parent_span_is_remote, "{name}");
        assert_eq!(
            attribute(span, "headers"),
            None,
            "{name}: the carrier is not recorded"
        );
    }
}

#[test]
fn a_carrier_without_a_parent_or_with_a_malformed_one_leaves_the_current_parent() {
    install_propagator();
    let broken = HashMap::from([("traceparent".to_owned(), "00-zz-not-a-trace".to_owned())]);
    let ((), spans) = capture(|| {
        consume_map(&HashMap::new(), "a");
        consume_map(&broken, "b");
    });
    assert_eq!(
        spans.named("consume_map").len(),
        2,
        "both joined the capture's trace, under its parent"
    );
}

#[traced(parent = parent)]
fn with_span_context(parent: SpanContext) {}

#[traced(parent = cx)]
fn with_context(cx: &Context) {}

#[traced(parent = None)]
fn detached() {}

#[traced(root)]
fn new_trace() {}

#[test]
fn explicit_parents_and_roots() {
    let remote = SpanContext::new(
        TraceId::from_hex(TRACE_ID).unwrap(),
        SpanId::from_hex(SPAN_ID).unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let exporter = traced::testing::install();
    let before = exporter.finished_spans().len();
    let ((), captured) = capture(|| {
        with_span_context(remote.clone());
        with_context(&Context::new().with_remote_span_context(remote.clone()));
        detached();
        new_trace();
    });
    assert!(
        captured.is_empty(),
        "none of them is in the capture's trace: {}",
        captured.tree()
    );
    let all = exporter.finished_spans();
    let fresh: Vec<_> = all[before.min(all.len())..].iter().collect();
    let find = |name: &str| {
        fresh
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    for name in ["with_span_context", "with_context"] {
        assert_eq!(
            find(name).parent_span_id,
            SpanId::from_hex(SPAN_ID).unwrap(),
            "{name}"
        );
    }
    for name in ["detached", "new_trace"] {
        assert_eq!(
            find(name).parent_span_id,
            SpanId::INVALID,
            "{name} starts a trace"
        );
    }
}

#[traced(links = sources)]
fn merge(sources: &[SpanContext]) {}

#[traced(links = sources.iter().filter(|source| source.is_sampled()))]
fn merge_sampled(sources: Vec<SpanContext>) {}

#[test]
fn links_point_at_other_traces() {
    let source = SpanContext::new(
        TraceId::from_hex(TRACE_ID).unwrap(),
        SpanId::from_hex(SPAN_ID).unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let ((), spans) = capture(|| {
        merge(&[source.clone(), SpanContext::empty_context()]);
        merge_sampled(vec![source.clone()]);
    });
    let links = &spans.one("merge").links;
    assert_eq!(links.len(), 1, "invalid span contexts are not linked");
    assert_eq!(links.links[0].span_context, source);
    let links = &spans.one("merge_sampled").links;
    assert_eq!(links.len(), 1, "an iterator works too");
    assert!(
        attribute(spans.one("merge_sampled"), "sources").is_some(),
        "the argument is still recorded"
    );
}

#[traced(name = "GET /users/{id}")]
fn get_user(id: u64) -> u64 {
    id
}

#[traced(name = "literal {{braces}}")]
fn braces() {}

#[test]
fn names_can_be_built_from_arguments() {
    let (_, spans) = capture(|| {
        get_user(42);
        braces();
    });
    assert_eq!(spans.names(), ["GET /users/42", "literal {{braces}}"]);
    assert_eq!(
        attribute(spans.one("GET /users/42"), "id"),
        Some(&Value::I64(42))
    );
}

#[test]
fn a_name_template_is_not_formatted_for_an_unsampled_span() {
    struct Loud;
    impl std::fmt::Display for Loud {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("formatted an unsampled name")
        }
    }
    #[traced(name = "job {job}", skip(job))]
    fn run(job: Loud) {}
    let ((), spans) = traced::testing::capture_unsampled(|| run(Loud));
    assert!(spans.is_empty());
}

#[test]
fn the_propagator_round_trips_our_spans() {
    install_propagator();
    let ((), spans) = capture(|| {
        #[traced]
        fn producer() -> HashMap<String, String> {
            let mut carrier = HashMap::new();
            TraceContextPropagator::new().inject_context(&Context::current(), &mut carrier);
            carrier
        }
        let carrier = producer();
        consume_map(&carrier, "payload");
    });
    let producer = spans.one("producer");
    let consumer = spans.one("consume_map");
    assert_eq!(consumer.parent_span_id, producer.span_context.span_id());
}
