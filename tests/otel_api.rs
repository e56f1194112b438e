//! Spans started through the OpenTelemetry API's global tracers once `traced`'s pipeline is
//! installed (what a library instrumented with the API does): built by the pipeline's own
//! tracers, they keep everything the builder and the tracer gave them, follow the
//! pipeline's sampler and limits, and are exported under their tracer's scope beside the
//! `#[traced]` spans, to a real OTLP receiver too.

#[path = "support/kept.rs"]
mod kept;
mod support;

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, Link, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags,
    TraceId, TraceState, Tracer, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, global};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::{ScopeSpans, Span as ProtoSpan};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, SpanData, SpanLimits};
use traced::{ExporterKind, OtlpProtocol, OtlpSettings};

use kept::{install, remote};
use support::otlp_receiver::HttpReceiver;

/// The scope of a database library instrumented with the OpenTelemetry API.
fn library_scope() -> InstrumentationScope {
    InstrumentationScope::builder("native-db")
        .with_version("2.1.0")
        .with_schema_url("https://opentelemetry.io/schemas/1.30.0")
        .with_attributes([KeyValue::new("db.driver", "native")])
        .build()
}

/// What the library does for one query: a client span with everything a builder can give.
fn query(started: SystemTime) -> SpanContext {
    let tracer = global::tracer_provider().tracer_with_scope(library_scope());
    let event = Event::new(
        "connection acquired",
        started,
        vec![KeyValue::new("pool", 3)],
        0,
    );
    let span = tracer
        .span_builder("SELECT orders")
        .with_kind(SpanKind::Client)
        .with_start_time(started)
        .with_attributes([
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.response.returned_rows", 12_i64),
            KeyValue::new("db.query.cost", 1.5),
            KeyValue::new("db.cached", false),
        ])
        .with_events(vec![event])
        .with_links(vec![Link::with_context(remote(7))])
        .start(&tracer);
    let cx = Context::current_with_span(span);
    let span = cx.span();
    span.set_attribute(KeyValue::new("db.operation.name", "SELECT"));
    span.set_status(Status::error("timeout"));
    span.end();
    span.span_context().clone()
}

#[traced::traced]
fn load_orders(started: SystemTime) -> SpanContext {
    query(started)
}

fn find<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no {name} in {spans:#?}"))
}

fn value(span: &SpanData, key: &str) -> Option<opentelemetry::Value> {
    let attribute = span.attributes.iter().find(|kv| kv.key.as_str() == key);
    attribute.map(|kv| kv.value.clone())
}

#[test]
fn a_library_span_keeps_what_its_builder_gave_and_its_tracer_scope() {
    let (_installing, otel, kept) = install(|config| config);
    let started = SystemTime::now() - Duration::from_secs(2);
    let context = load_orders(started);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let parent = find(&spans, "load_orders");
    let span = find(&spans, "SELECT orders");
    assert_eq!(span.span_context, context);
    assert!(context.is_sampled());
    assert_eq!(span.parent_span_id, parent.span_context.span_id());
    assert_eq!(span.span_context.trace_id(), parent.span_context.trace_id());
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.start_time, started);
    assert!(span.end_time > started && span.end_time <= parent.end_time);
    assert_eq!(value(span, "db.system.name"), Some("postgresql".into()));
    assert_eq!(
        value(span, "db.response.returned_rows"),
        Some(12_i64.into())
    );
    assert_eq!(value(span, "db.query.cost"), Some(1.5.into()));
    assert_eq!(value(span, "db.cached"), Some(false.into()));
    assert_eq!(value(span, "db.operation.name"), Some("SELECT".into()));
    assert_eq!(span.status, Status::error("timeout"));
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "connection acquired");
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.links[0].span_context, remote(7));
    // The library's scope, all of it; the `#[traced]` span keeps `traced`'s.
    assert_eq!(span.instrumentation_scope, library_scope());
    assert_eq!(parent.instrumentation_scope.name(), "traced");
}

/// More tracer scopes than `traced` keeps for the life of the process (256): the first ones
/// kept, the others shared with their tracers. Each span, either way, is exported under
/// the scope of the tracer that started it, with the whole scope.
#[test]
fn tracers_named_without_bound_each_export_under_their_own_scope() {
    const TENANTS: usize = 300;
    let (_installing, otel, kept) = install(|config| config);
    let scope = |tenant: usize| {
        InstrumentationScope::builder(format!("tenant-{tenant}"))
            .with_version(format!("{tenant}.0.0"))
            .with_attributes([KeyValue::new("tenant", tenant as i64)])
            .build()
    };
    for round in 0..2 {
        for tenant in 0..TENANTS {
            let tracer = global::tracer_provider().tracer_with_scope(scope(tenant));
            tracer.in_span(format!("job {tenant} {round}"), |_| ());
        }
    }
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 2 * TENANTS);
    for span in spans.iter() {
        let tenant = span.name.split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(span.instrumentation_scope, scope(tenant), "{}", span.name);
    }
}

#[test]
fn library_spans_are_timed_by_the_system_clock_however_they_end() {
    let (_installing, otel, kept) = install(|config| config);
    let tracer = global::tracer("native-db");
    let slack = Duration::from_micros(1);
    let before = SystemTime::now();
    // Ended when its context drops, as `in_span` ends its spans.
    tracer.in_span("dropped", |_| std::thread::sleep(Duration::from_millis(20)));
    let between = SystemTime::now();
    // Ended through the API, which reads the end from the system clock.
    let cx = Context::current_with_span(tracer.start("ended"));
    std::thread::sleep(Duration::from_millis(20));
    cx.span().end();
    // Ended right away, many times: never before it started.
    for _ in 0..1_000 {
        tracer.start("short").end();
    }
    let after = SystemTime::now();
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    for (name, from, to) in [("dropped", before, between), ("ended", between, after)] {
        let span = find(&spans, name);
        assert!(span.start_time + slack >= from, "{name} {span:?}");
        assert!(span.end_time <= to + slack, "{name} {span:?}");
        let took = span.end_time.duration_since(span.start_time).unwrap();
        assert!(took >= Duration::from_millis(20), "{name} took {took:?}");
    }
    let short: Vec<_> = spans.iter().filter(|span| span.name == "short").collect();
    assert_eq!(short.len(), 1_000);
    for span in short {
        assert!(span.end_time >= span.start_time, "{span:?}");
    }
}

#[test]
fn library_spans_follow_the_pipelines_sampler() {
    let (_installing, otel, kept) = install(|config| config.with_sampler(Sampler::AlwaysOff));
    let tracer = global::tracer("native-db");
    let (context, recording) = tracer.in_span("unsampled", |cx| {
        let span = cx.span();
        (span.span_context().clone(), span.is_recording())
    });
    otel.shutdown().unwrap();

    // Sampled out as the SDK samples out: a valid context children and headers follow,
    // nothing recorded, nothing exported.
    assert!(!recording);
    assert!(context.is_valid());
    assert!(!context.is_sampled());
    assert!(kept.0.lock().unwrap().is_empty());
}

#[test]
fn library_spans_under_a_remote_parent_continue_its_trace_and_decision() {
    let (_installing, otel, kept) = install(|config| config);
    let tracer = global::tracer("native-db");
    let state = |entry: &str| entry.parse::<TraceState>().unwrap();
    let unsampled = SpanContext::new(
        TraceId::from(0xabc_u128),
        SpanId::from(0xdef_u64),
        TraceFlags::default(),
        true,
        state("vendor=unsampled"),
    );
    let sampled = SpanContext::new(
        TraceId::from(9_u128),
        SpanId::from(9_u64),
        TraceFlags::SAMPLED,
        true,
        state("vendor=sampled"),
    );
    let under = |parent: SpanContext| {
        let parent = Context::new().with_remote_span_context(parent);
        let span = tracer.start_with_context("handle", &parent);
        let child = span.span_context().clone();
        drop(span);
        child
    };
    let child_of_unsampled = under(unsampled.clone());
    let child_of_sampled = under(sampled.clone());
    otel.shutdown().unwrap();

    assert_eq!(child_of_unsampled.trace_id(), unsampled.trace_id());
    assert!(!child_of_unsampled.is_sampled());
    assert_eq!(child_of_sampled.trace_id(), sampled.trace_id());
    assert!(child_of_sampled.is_sampled());
    // The parent's trace state carries on, as the SDK's parent-based sampler keeps it.
    assert_eq!(child_of_unsampled.trace_state(), unsampled.trace_state());
    assert_eq!(child_of_sampled.trace_state(), sampled.trace_state());
    // Dropped without `end`, it ended then, as the SDK's spans do; only the sampled one.
    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(spans[0].span_context, child_of_sampled);
    assert_eq!(spans[0].parent_span_id, SpanId::from(9));
    assert!(spans[0].parent_span_is_remote);
}

/// Samples `recorded-query` as record-only; samples every other span, with an attribute
/// and a trace state of its own.
#[derive(Clone, Debug)]
struct Tagging;

impl opentelemetry_sdk::trace::ShouldSample for Tagging {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: TraceId,
        name: &str,
        _kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let tagged = name != "recorded-query";
        SamplingResult {
            decision: if tagged {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::RecordOnly
            },
            attributes: vec![KeyValue::new("sampler.tag", name.to_owned())],
            trace_state: "sampler=tagging".parse().unwrap(),
        }
    }
}

#[test]
fn library_spans_keep_what_a_custom_sampler_adds() {
    let (_installing, otel, kept) = install(|config| config.with_sampler(Tagging));
    let tracer = global::tracer("native-db");
    let started = |name: &'static str| {
        let span = tracer
            .span_builder(name)
            .with_attributes([KeyValue::new("db.system.name", "postgresql")])
            .start(&tracer);
        (span.span_context().clone(), span.is_recording())
    };
    let (tagged, tagged_recording) = started("tagged-query");
    let (recorded, recorded_recording) = started("recorded-query");
    otel.shutdown().unwrap();

    assert!(tagged_recording && tagged.is_sampled());
    assert!(recorded_recording && !recorded.is_sampled());
    for context in [&tagged, &recorded] {
        assert_eq!(context.trace_state().get("sampler"), Some("tagging"));
    }
    // Only the sampled one is exported, the sampler's attribute after the builder's.
    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(spans[0].span_context, tagged);
    let keys: Vec<_> = spans[0]
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(keys, ["db.system.name", "sampler.tag"]);
    assert_eq!(
        value(&spans[0], "sampler.tag"),
        Some(opentelemetry::Value::from("tagged-query"))
    );
}

#[test]
fn library_spans_keep_the_pipelines_span_limits() {
    let limits = SpanLimits {
        max_attributes_per_span: 2,
        max_events_per_span: 1,
        max_attributes_per_event: 1,
        max_links_per_span: 1,
        ..SpanLimits::default()
    };
    let (_installing, otel, kept) = install(|config| config.with_span_limits(limits));
    let tracer = global::tracer("native-db");
    let now = SystemTime::now();
    let events = (0..3).map(|index| {
        let attributes = vec![KeyValue::new("a", index), KeyValue::new("b", index)];
        Event::new("retry", now, attributes, 0)
    });
    let mut span = tracer
        .span_builder("limited")
        .with_attributes([KeyValue::new("one", 1), KeyValue::new("two", 2)])
        .with_events(events.collect())
        .with_links(vec![
            Link::with_context(remote(1)),
            Link::with_context(remote(2)),
        ])
        .start(&tracer);
    span.set_attribute(KeyValue::new("three", 3));
    drop(span);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    let span = find(&spans, "limited");
    let keys: Vec<_> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["one", "two"]);
    assert_eq!(span.dropped_attributes_count, 1);
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events.dropped_count, 2);
    assert_eq!(span.events[0].attributes.len(), 1);
    assert_eq!(span.events[0].dropped_attributes_count, 1);
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.links.dropped_count, 1);
}

#[test]
fn nothing_is_recorded_where_telemetry_is_suppressed() {
    let (_installing, otel, kept) = install(|config| config);
    let tracer = global::tracer("native-db");
    let (context, recording) = {
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        tracer.in_span("exporter request", |cx| {
            (cx.span().span_context().clone(), cx.span().is_recording())
        })
    };
    otel.shutdown().unwrap();

    assert!(!recording);
    assert!(!context.is_valid());
    assert!(kept.0.lock().unwrap().is_empty());
}

#[test]
fn a_real_receiver_gets_each_scope_with_its_own_spans() {
    // Each protocol's encoder writes the records of `#[traced]` and API spans directly.
    for protocol in [OtlpProtocol::HttpProtobuf, OtlpProtocol::HttpJson] {
        let receiver = HttpReceiver::start();
        let settings = OtlpSettings {
            endpoint: receiver.url(),
            protocol,
            ..OtlpSettings::default()
        };
        let (installing, otel, _kept) = install(|config| {
            config
                .with_exporters([ExporterKind::Otlp])
                .with_otlp(settings)
        });
        load_orders(SystemTime::now());
        otel.shutdown().unwrap();
        drop(installing);

        let exports = receiver.recorder().exports();
        let scopes: Vec<_> = exports
            .iter()
            .flat_map(|export| &export.request.resource_spans)
            .flat_map(|resource| &resource.scope_spans)
            .collect();
        let scope = |name: &str| {
            let found = scopes.iter().find(|scope| {
                let scope_name = scope.scope.as_ref().map(|scope| scope.name.as_str());
                scope_name == Some(name)
            });
            found.unwrap_or_else(|| panic!("{protocol:?}: no scope {name} in {scopes:#?}"))
        };
        let library = scope("native-db");
        let instrumentation = library.scope.as_ref().unwrap();
        assert_eq!(instrumentation.version, "2.1.0");
        assert_eq!(
            library.schema_url,
            "https://opentelemetry.io/schemas/1.30.0"
        );
        assert_eq!(instrumentation.attributes[0].key, "db.driver");
        assert_eq!(span_names(library), ["SELECT orders"]);
        let traced = scope("traced");
        assert_eq!(span_names(traced), ["load_orders"]);

        // Typed values, events, links and status arrive as they were given.
        let query = &library.spans[0];
        let value = |span: &ProtoSpan, key: &str| {
            let attribute = span.attributes.iter().find(|kv| kv.key == key);
            attribute.and_then(|kv| kv.value.as_ref()?.value.clone())
        };
        assert_eq!(
            value(query, "db.response.returned_rows"),
            Some(AnyValue::IntValue(12)),
            "{protocol:?}"
        );
        assert_eq!(
            value(query, "db.query.cost"),
            Some(AnyValue::DoubleValue(1.5))
        );
        assert_eq!(value(query, "db.cached"), Some(AnyValue::BoolValue(false)));
        assert_eq!(query.kind, 3, "client");
        assert_eq!(query.events[0].name, "connection acquired");
        assert_eq!(query.links[0].span_id, 7_u64.to_be_bytes());
        let status = query.status.as_ref().unwrap();
        assert_eq!((status.code, status.message.as_str()), (2, "timeout"));
        let load = &traced.spans[0];
        assert_eq!(query.parent_span_id, load.span_id, "{protocol:?}");
        assert_eq!(query.trace_id, load.trace_id);
        assert!(matches!(
            value(load, "code.line.number"),
            Some(AnyValue::IntValue(line)) if line > 0
        ));
    }
}

fn span_names(scope: &ScopeSpans) -> Vec<&str> {
    scope.spans.iter().map(|span| span.name.as_str()).collect()
}
