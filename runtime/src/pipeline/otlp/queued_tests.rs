//! `#[traced]` spans written from their records as the batch processor queued them give the
//! bytes the same spans give made [`SpanData`] and finished, in protobuf
//! ([`encoding::protobuf`], itself checked byte for byte against prost) and in JSON
//! ([`encoding::json`]): duplicate keys, the value length limit, and the call site's
//! attributes included. And the `SpanData` the batch processor makes of them, finishing the
//! record first, is what the SDK would export, which finishes `SpanData`.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags};
use opentelemetry::{Array, InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use prost::Message;

use super::encoding::{self, RequestResource};
use super::test_fixtures::{self, scope_names};
use crate::callsite::CodeAttributes;
use crate::clock::{self, Timestamp};
use crate::pipeline::export::{Queued, finished_span_data};
use crate::pipeline::finish;
use crate::span::lean::{Attributes, SpanRecord};
use crate::span::recorded::RecordedAttribute;

/// A call site's `code.*` attributes: one for all the records, as a call site's are shared
/// by its spans.
fn code() -> &'static CodeAttributes {
    static CODE: OnceLock<CodeAttributes> = OnceLock::new();
    CODE.get_or_init(|| {
        CodeAttributes::new([
            KeyValue::new("code.function.name", "shop::cart::checkout"),
            KeyValue::new("code.file.path", "src/cart.rs"),
            KeyValue::new("code.line.number", 42_i64),
        ])
    })
}

/// A sampled span context of the one trace.
fn context(span: u64, remote: bool, state: &str) -> SpanContext {
    let trace = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
    test_fixtures::context(trace, span, TraceFlags::SAMPLED, remote, state)
}

fn text(key: &'static str, text: &str) -> RecordedAttribute {
    RecordedAttribute::text(Key::from_static_str(key), text)
}

fn value(key: &'static str, value: impl Into<Value>) -> RecordedAttribute {
    RecordedAttribute::new(Key::from_static_str(key), value.into())
}

/// A `#[traced]` call's record: three arguments, inline text among them.
fn record(id: u64) -> SpanRecord {
    let start = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000 + id);
    let attributes: Attributes = [
        value("order.id", 1234_i64),
        text("user", "ada"),
        value("express", true),
    ]
    .into_iter()
    .collect();
    SpanRecord {
        parent_span_id: SpanId::from(7),
        start_time: start.into(),
        end_time: (start + Duration::from_micros(80)).into(),
        code: Some(code()),
        attributes,
        ..SpanRecord::empty("checkout", context(id, false, ""))
    }
}

/// Records taking every path the encoder and the finishing take differently.
fn records() -> Vec<SpanRecord> {
    // Timed as spans are, by the counter where the kernel keeps time with it.
    let mut plain = record(1);
    (plain.start_time, plain.end_time) = clock_times();

    // A key set twice (the later value wins at the first place), and a call site's key set
    // by hand (the call site's attributes are copied into the span to be replaced).
    let mut replaced = record(2);
    replaced.attributes.push(text("user", "grace"));
    replaced.attributes.push(value("code.line.number", 7_i64));

    // Long and multi-byte values, inline and not, strings in arrays, numbers.
    let mut long = record(3);
    long.attributes.push(text("note", "naïve café ☕"));
    // Recorded text too long to be inline: held on the heap, set aside by the batch queue.
    long.attributes
        .push(text("query", "SELECT naïve, café FROM menu WHERE ☕ > 1"));
    long.attributes.push(value("body", "x".repeat(200)));
    long.attributes.push(value(
        "tags",
        Value::Array(Array::String(vec!["alpha".into(), "b".into()])),
    ));
    long.attributes.push(value("ratio", 0.25_f64));

    // Everything else a span has: events, links, status, a new name, a remote parent.
    let mut full = record(4);
    full.span_context = context(4, false, "vendor=abc,other=x-1");
    full.parent_span_is_remote = true;
    full.kind = SpanKind::Client;
    full.name = Cow::Owned("GET /users/{id}".to_owned());
    full.dropped_attributes_count = 2;
    full.events.events.push(Event::new(
        "exception",
        full.start_time.system_time() + Duration::from_micros(3),
        vec![KeyValue::new("exception.message", "the disk is full")],
        1,
    ));
    full.events.dropped_count = 3;
    full.links.links.push(Link::new(
        context(99, true, "k=v"),
        vec![KeyValue::new("link.reason", "follows from")],
        0,
    ));
    full.links.dropped_count = 1;
    full.status = Status::error("upstream timed out");

    // A span whose call site's attributes are already its own (a low attribute limit).
    let mut owned = record(5);
    owned.own_code_attributes();
    owned.attributes.truncate(4);

    vec![plain, replaced, long, full, owned]
}

/// Two times read from the clock spans are timed with, the same at every call.
fn clock_times() -> (Timestamp, Timestamp) {
    static TIMES: OnceLock<(Timestamp, Timestamp)> = OnceLock::new();
    *TIMES.get_or_init(|| {
        clock::start();
        (clock::now(), clock::now())
    })
}

/// The records, with an OpenTelemetry API span between them: two scopes, the first
/// appearing again after the second.
fn queued() -> Vec<Queued> {
    let mut records = records().into_iter().map(Queued::Traced);
    let mut batch: Vec<Queued> = records.by_ref().take(2).collect();
    batch.push(Queued::Sdk(sdk_span()));
    batch.extend(records);
    batch
}

fn sdk_span() -> SpanData {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    SpanData {
        span_context: context(50, false, ""),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Server,
        name: Cow::Borrowed("GET /"),
        start_time: start,
        end_time: start + Duration::from_millis(1),
        attributes: vec![
            KeyValue::new("http.route", "/"),
            KeyValue::new("http.route", "/index"),
        ],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Ok,
        instrumentation_scope: InstrumentationScope::builder("axum").build(),
    }
}

fn resource() -> RequestResource {
    RequestResource::new(
        &Resource::builder_empty()
            .with_attribute(KeyValue::new("service.name", "checkout"))
            .build(),
    )
}

/// The queued spans as the SDK's processing would export them: each made `SpanData` as it
/// is, then finished.
fn finished_as_the_sdk_would(limit: Option<usize>) -> Vec<SpanData> {
    queued()
        .into_iter()
        .map(|span| {
            let mut data = match span {
                Queued::Traced(record) => record.into_span_data(),
                Queued::Sdk(data) => data,
            };
            finish::finish_span(&mut data, limit);
            data
        })
        .collect()
}

/// Protobuf written from the records, and through `SpanData` finished as the SDK's
/// processing would; the same for JSON.
fn both_ways(limit: Option<usize>) -> [(Vec<u8>, Vec<u8>); 2] {
    let resource = resource();
    let mut direct = queued();
    for span in &mut direct {
        span.finish(limit);
    }
    let via_span_data = finished_as_the_sdk_would(limit);
    [
        (
            encoding::protobuf(&direct, &resource),
            encoding::protobuf(&via_span_data, &resource),
        ),
        (
            encoding::json(&direct, &resource),
            encoding::json(&via_span_data, &resource),
        ),
    ]
}

fn int_value(attribute: &opentelemetry_proto::tonic::common::v1::KeyValue) -> Option<i64> {
    match attribute.value.as_ref()?.value.as_ref()? {
        AnyValue::IntValue(number) => Some(*number),
        _ => None,
    }
}

#[test]
fn records_are_written_as_their_span_data_would_be() {
    let [(direct, via_span_data), (json, json_via_span_data)] = both_ways(None);
    assert_eq!(direct, via_span_data);
    assert_eq!(
        String::from_utf8(json).unwrap(),
        String::from_utf8(json_via_span_data).unwrap()
    );
    let decoded = ExportTraceServiceRequest::decode(direct.as_slice()).unwrap();
    let scopes = &decoded.resource_spans[0].scope_spans;
    assert_eq!(scope_names(&decoded), ["traced", "axum"]);
    assert_eq!(scopes[0].spans.len(), 5);
    // The later value of a key wins; the call site's line replaced by hand.
    let replaced = &scopes[0].spans[1].attributes;
    let keys: Vec<_> = replaced.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "code.function.name",
            "code.file.path",
            "code.line.number",
            "order.id",
            "user",
            "express"
        ]
    );
    assert_eq!(int_value(&replaced[2]), Some(7));
    // One value per key in the API span too.
    assert_eq!(scopes[1].spans[0].attributes.len(), 1);
}

#[test]
fn exporters_of_span_data_get_the_spans_the_sdk_would_export() {
    // The batch processor finishes each record before making it `SpanData`; the SDK
    // finishes `SpanData`.
    for limit in [None, Some(0), Some(3), Some(12)] {
        assert_eq!(
            finished_span_data(&mut queued(), limit),
            finished_as_the_sdk_would(limit),
            "limit {limit:?}"
        );
    }
}

#[test]
fn a_call_sites_attributes_are_encoded_once_for_all_its_spans() {
    let batch: Vec<Queued> = (10..13).map(|id| Queued::Traced(record(id))).collect();
    let body = encoding::protobuf(&batch, &resource());
    let json = encoding::json(&batch, &resource());
    // Encoded by now: the call site answers without encoding them again.
    let encoded = code().span_protobuf(|_| panic!("encoded a second time"));
    let encoded_json = code().span_json(|_| panic!("encoded a second time"));
    for (body, encoded) in [(&body, encoded), (&json, encoded_json)] {
        let copies = body
            .windows(encoded.len())
            .filter(|bytes| *bytes == encoded);
        assert_eq!(copies.count(), 3, "the same bytes in each span");
    }
    let read_back: ExportTraceServiceRequest = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        read_back,
        ExportTraceServiceRequest::decode(body.as_slice()).unwrap()
    );

    let decoded = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
    let spans = &decoded.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans.len(), 3);
    for span in spans {
        let code: Vec<_> = span.attributes[..3]
            .iter()
            .map(|kv| {
                (
                    kv.key.as_str(),
                    kv.value.as_ref().and_then(|v| v.value.clone()),
                )
            })
            .collect();
        assert_eq!(
            code,
            [
                (
                    "code.function.name",
                    Some(AnyValue::StringValue("shop::cart::checkout".into()))
                ),
                (
                    "code.file.path",
                    Some(AnyValue::StringValue("src/cart.rs".into()))
                ),
                ("code.line.number", Some(AnyValue::IntValue(42))),
            ]
        );
        assert_eq!(span.attributes.len(), 6, "then the arguments");
    }
}

#[test]
fn the_value_length_limit_cuts_records_as_it_cuts_span_data() {
    for limit in [0, 3, 5, 12, 1000] {
        let [protobuf, json] = both_ways(Some(limit));
        assert_eq!(protobuf.0, protobuf.1, "protobuf, limit {limit}");
        assert_eq!(json.0, json.1, "JSON, limit {limit}");
    }
    // And it cut: the call site's file path among the rest.
    let [(direct, _), _] = both_ways(Some(3));
    let decoded = ExportTraceServiceRequest::decode(direct.as_slice()).unwrap();
    let span = &decoded.resource_spans[0].scope_spans[0].spans[2];
    let strings: Vec<String> = span
        .attributes
        .iter()
        .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::StringValue(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(strings, ["sho", "src", "ada", "naï", "SEL", "xxx"]);
}

#[test]
fn a_counted_start_and_an_end_read_from_the_system_clock_are_written_in_order() {
    // An OpenTelemetry API span: started on the counter, ended by `SpanRef::end` at a time
    // the API read from the system clock, which the conversion puts 100 ns before the start.
    let (start, _) = clock_times();
    let converted = start.system_time();
    let given_end = converted - Duration::from_nanos(100);
    let mut mixed = record(6);
    (mixed.start_time, mixed.end_time) = (start, Timestamp::Wall(given_end));

    let resource = resource();
    let direct = encoding::protobuf(&[Queued::Traced(mixed.clone())], &resource);
    let json = encoding::json(&[Queued::Traced(mixed.clone())], &resource);
    let via_span_data = finished_span_data(&mut [Queued::Traced(mixed)], None);
    assert_eq!(direct, encoding::protobuf(&via_span_data, &resource));
    assert_eq!(json, encoding::json(&via_span_data, &resource));

    let decoded = ExportTraceServiceRequest::decode(direct.as_slice()).unwrap();
    let span = &decoded.resource_spans[0].scope_spans[0].spans[0];
    let nanos =
        |time: std::time::SystemTime| time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    assert_eq!(span.start_time_unix_nano, nanos(converted));
    let expected_end = match start {
        // Within the conversion's error before the start: put at the start.
        Timestamp::Ticks(_) => converted,
        // Where the counter is not used, both times are the system clock's, kept as given.
        Timestamp::Wall(_) => given_end,
    };
    assert_eq!(span.end_time_unix_nano, nanos(expected_end));
}
