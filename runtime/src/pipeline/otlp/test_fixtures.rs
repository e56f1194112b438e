//! What the encoders' tests (`protobuf`, `json`, `queued_tests`) build and read.

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

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

/// A scope with a name only.
pub(super) fn scope(name: &'static str) -> InstrumentationScope {
    InstrumentationScope::builder(name).build()
}

/// A sampled span of one trace, its span id `id`, with one attribute, under `scope`.
pub(super) fn span(id: u64, scope: InstrumentationScope) -> SpanData {
    let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789 + id);
    SpanData {
        span_context: context(
            0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c,
            id,
            TraceFlags::SAMPLED,
            false,
            "",
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Borrowed("checkout"),
        start_time: start,
        end_time: start + Duration::from_micros(250),
        attributes: vec![KeyValue::new("order.items", 3_i64)],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: scope,
    }
}

/// Every field and value kind the encoder writes, with defaults and non-defaults.
pub(super) fn varied_batch() -> Vec<SpanData> {
    let traced_scope = InstrumentationScope::builder("traced")
        .with_version("0.1.0")
        .with_schema_url("https://opentelemetry.io/schemas/1.37.0")
        .with_attributes([KeyValue::new("scope.kind", "library")])
        .build();
    let mut full = span(7, traced_scope.clone());
    full.span_context = context(
        u128::MAX - 5,
        0xb7ad_6b71_6920_3331,
        TraceFlags::SAMPLED,
        false,
        "vendor=abc,other=x-1",
    );
    full.parent_span_id = SpanId::from(0x00f0_67aa_0ba9_02b7);
    full.parent_span_is_remote = true;
    full.span_kind = SpanKind::Server;
    full.name = Cow::Owned("GET /users/{id}".repeat(12));
    full.attributes = vec![
        KeyValue::new("text", "ada"),
        KeyValue::new("empty", ""),
        KeyValue::new("long", "x".repeat(300)),
        KeyValue::new("yes", true),
        KeyValue::new("no", false),
        KeyValue::new("zero", 0_i64),
        KeyValue::new("negative", -42_i64),
        KeyValue::new("max", i64::MAX),
        KeyValue::new("pi", 3.25_f64),
        KeyValue::new("float_zero", 0.0_f64),
        KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
        KeyValue::new("ints", Value::Array(Array::I64(vec![1, -1, 0]))),
        KeyValue::new("floats", Value::Array(Array::F64(vec![0.5, -2.0]))),
        KeyValue::new(
            "strings",
            Value::Array(Array::String(vec![
                StringValue::from("a"),
                StringValue::from(""),
            ])),
        ),
        KeyValue::new("no_items", Value::Array(Array::I64(Vec::new()))),
    ];
    full.dropped_attributes_count = 2;
    full.events.events = vec![
        Event::new(
            "exception",
            full.start_time,
            vec![KeyValue::new("exception.type", "io")],
            1,
        ),
        Event::new("", UNIX_EPOCH, Vec::new(), 0),
    ];
    full.events.dropped_count = 3;
    full.links.links = vec![
        Link::new(
            context(9, 10, TraceFlags::NOT_SAMPLED, true, "k=v"),
            vec![KeyValue::new("link.n", 1_i64)],
            4,
        ),
        Link::new(
            context(11, 12, TraceFlags::SAMPLED, false, ""),
            Vec::new(),
            0,
        ),
    ];
    full.links.dropped_count = 5;
    full.status = Status::error("upstream timed out");

    let mut ok = span(8, scope("sdk-library"));
    ok.status = Status::Ok;
    ok.span_kind = SpanKind::Client;
    let mut before_epoch = span(9, traced_scope.clone());
    before_epoch.start_time = UNIX_EPOCH - Duration::from_secs(1);
    before_epoch.name = Cow::Borrowed("");
    before_epoch.span_kind = SpanKind::Producer;
    let mut consumer = span(10, scope("sdk-library"));
    consumer.span_kind = SpanKind::Consumer;
    consumer.attributes.clear();
    vec![full, ok, before_epoch, consumer, span(11, traced_scope)]
}

/// A resource with a service name, a number and a schema URL.
pub(super) fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name("shop")
        .with_attribute(KeyValue::new("host.cores", 2_i64))
        .with_schema_url([], "https://opentelemetry.io/schemas/1.26.0")
        .build()
}
