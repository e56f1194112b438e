//! Spans straight to OTLP protobuf bytes: the `ExportTraceServiceRequest` written field by
//! field from the exporter's [`SpanData`], or from `#[traced]` spans' records as the batch
//! processor queued them, without building opentelemetry-proto's message structs first.
//!
//! Those structs cost a `String` per attribute key and string value, a `Vec` per id and
//! per attribute list, and their drop: building and encoding them ran at ≈ 1.1 M spans/s, so
//! one export thread could not keep up with the pipeline. The bytes are the ones prost
//! writes for the same request (fields in field-number order, the same defaults left out, the
//! same minimal lengths), so `tests` compares them byte for byte.
//!
//! A nested message's length comes before it but is only known after it: one byte is
//! reserved, and a message of 128 bytes or more (most spans, and every enclosing message)
//! has its body moved up to fit the longer length, one copy of the body.

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use crate::clock;
use crate::pipeline::export::Queued;
use crate::span::lean::SpanRecord;
use crate::span::recorded::ValueRef;

/// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LENGTH_DELIMITED: u32 = 2;
const FIXED32: u32 = 5;

/// `SpanFlags`: the span's context says whether its parent is remote, and whether it is.
const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const CONTEXT_IS_REMOTE: u32 = 0x200;

/// The encoded `ExportTraceServiceRequest` for `batch`, one `ResourceSpans` under the
/// resource (`resource`: its `Resource` message, already encoded; `resource_schema_url`),
/// the spans grouped by instrumentation scope in the order each scope first appears.
pub(super) fn request(batch: &[SpanData], resource: &[u8], resource_schema_url: &str) -> Vec<u8> {
    encode(batch, resource, resource_schema_url)
}

/// The same for spans as the batch processor queued them, `#[traced]` ones written from
/// their records: the bytes are those of [`request`] for the same spans made [`SpanData`].
pub(super) fn request_queued(
    batch: &[Queued],
    resource: &[u8],
    resource_schema_url: &str,
) -> Vec<u8> {
    encode(batch, resource, resource_schema_url)
}

/// A span the encoder writes.
trait EncodedSpan {
    fn scope(&self) -> &InstrumentationScope;

    /// The fields of its `Span` message.
    fn write(&self, writer: &mut Writer);
}

impl EncodedSpan for SpanData {
    fn scope(&self) -> &InstrumentationScope {
        &self.instrumentation_scope
    }

    fn write(&self, writer: &mut Writer) {
        let fields = SpanFields {
            context: &self.span_context,
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            name: &self.name,
            kind: &self.span_kind,
            start_time: clock::unix_nanos(self.start_time),
            end_time: clock::unix_nanos(self.end_time),
            dropped_attributes_count: self.dropped_attributes_count,
            events: &self.events,
            links: &self.links,
            status: &self.status,
        };
        write_span(writer, &fields, |writer| {
            write_attributes(writer, 9, &self.attributes);
        });
    }
}

impl EncodedSpan for SpanRecord {
    fn scope(&self) -> &InstrumentationScope {
        SpanRecord::scope(self)
    }

    fn write(&self, writer: &mut Writer) {
        let (start_time, end_time) = clock::span_unix_nanos(self.start_time, self.end_time);
        let fields = SpanFields {
            context: &self.span_context,
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            name: &self.name,
            kind: &self.kind,
            start_time,
            end_time,
            dropped_attributes_count: self.dropped_attributes_count,
            events: &self.events,
            links: &self.links,
            status: &self.status,
        };
        write_span(writer, &fields, |writer| {
            // The call site's attributes first, as `SpanRecord::into_span_data` puts them:
            // the same bytes in each of its spans, written once.
            if let Some(code) = self.code {
                writer.raw(code.span_protobuf(span_attributes));
            }
            for attribute in &self.attributes {
                writer.message(9, |writer| {
                    writer.string(1, attribute.key().as_str());
                    writer.message(2, |writer| match attribute.value() {
                        ValueRef::Value(value) => write_any_value(writer, value),
                        ValueRef::Text(text) => writer.string_always(1, text),
                    });
                });
            }
        });
    }
}

impl EncodedSpan for Queued {
    fn scope(&self) -> &InstrumentationScope {
        Queued::scope(self)
    }

    fn write(&self, writer: &mut Writer) {
        match self {
            Queued::Traced(record) => record.write(writer),
            Queued::Sdk(data) => data.write(writer),
        }
    }
}

fn encode<S: EncodedSpan>(batch: &[S], resource: &[u8], resource_schema_url: &str) -> Vec<u8> {
    let mut writer = Writer::with_capacity(resource.len() + batch.len() * 256);
    // Most spans take 128 bytes to 16 KiB, a two-byte length; each span's guess is the last
    // one's length.
    let mut span_length_bytes = 2;
    // ExportTraceServiceRequest.resource_spans
    writer.message_sized(1, expected_length_bytes(batch.len()), |writer| {
        // ResourceSpans.resource
        writer.bytes_always(1, resource);
        for (scope, spans) in group_by_scope(batch) {
            // ResourceSpans.scope_spans
            writer.message_sized(2, expected_length_bytes(spans.len()), |writer| {
                writer.message(1, |writer| write_scope(writer, scope));
                for span in spans {
                    span_length_bytes =
                        writer.message_sized(2, span_length_bytes, |writer| span.write(writer));
                }
                writer.string(3, scope.schema_url().unwrap_or_default());
            });
        }
        writer.string(3, resource_schema_url);
    });
    writer.into_bytes()
}

/// The bytes the length of a message holding `spans` spans most likely takes: spans are
/// rarely below 128 bytes each.
fn expected_length_bytes(spans: usize) -> usize {
    varint_length(spans.saturating_mul(128) as u64)
}

/// The spans of each scope, scopes in the order they first appear. A batch holds one or a
/// few scopes, so they are compared in a list rather than hashed.
fn group_by_scope<S: EncodedSpan>(batch: &[S]) -> Vec<(&InstrumentationScope, Vec<&S>)> {
    let mut groups: Vec<(&InstrumentationScope, Vec<&S>)> = Vec::new();
    for span in batch {
        let scope = span.scope();
        // The same scope is most often the same value, or a clone of it.
        let known = groups
            .iter_mut()
            .find(|(known, _)| same_scope(known, scope));
        match known {
            Some((_, spans)) => spans.push(span),
            None => groups.push((scope, vec![span])),
        }
    }
    groups
}

/// Whether `a` and `b` are the same scope. Each `SpanData` holds a clone of its tracer's
/// scope, whose texts are mostly `&'static str`: a clone's texts are the same bytes, so
/// where they are settles most comparisons without reading them (the texts' comparison was
/// 6 % of encoding a batch of `SpanData`); attributes in the same order are equal too.
fn same_scope(a: &InstrumentationScope, b: &InstrumentationScope) -> bool {
    std::ptr::eq(a, b) || (shared_texts(a, b) && a.attributes().eq(b.attributes())) || a == b
}

/// Whether the name, version and schema URL of `a` are those of `b`, the same bytes.
fn shared_texts(a: &InstrumentationScope, b: &InstrumentationScope) -> bool {
    let same = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => std::ptr::eq(a, b),
        (None, None) => true,
        _ => false,
    };
    same(Some(a.name()), Some(b.name()))
        && same(a.version(), b.version())
        && same(a.schema_url(), b.schema_url())
}

/// `InstrumentationScope`.
fn write_scope(writer: &mut Writer, scope: &InstrumentationScope) {
    writer.string(1, scope.name());
    writer.string(2, scope.version().unwrap_or_default());
    write_attributes(writer, 3, scope.attributes());
}

/// A span's fields but its attributes, borrowed from whatever holds them.
struct SpanFields<'a> {
    context: &'a SpanContext,
    parent_span_id: SpanId,
    parent_span_is_remote: bool,
    name: &'a str,
    kind: &'a SpanKind,
    /// Nanoseconds since 1970.
    start_time: u64,
    end_time: u64,
    dropped_attributes_count: u32,
    events: &'a SpanEvents,
    links: &'a SpanLinks,
    status: &'a Status,
}

/// `Span`, its fields in the order prost writes them: by field number, so `flags` (16)
/// comes last although the schema declares it after `parent_span_id`. `attributes` writes
/// field 9.
fn write_span(writer: &mut Writer, span: &SpanFields<'_>, attributes: impl FnOnce(&mut Writer)) {
    let context = span.context;
    write_identity(writer, context);
    if span.parent_span_id != SpanId::INVALID {
        writer.bytes(4, &span.parent_span_id.to_bytes());
    }
    writer.string(5, span.name);
    writer.varint_field(6, kind_number(span.kind));
    writer.fixed64(7, span.start_time);
    writer.fixed64(8, span.end_time);
    attributes(writer);
    writer.varint_field(10, u64::from(span.dropped_attributes_count));
    for event in span.events.iter() {
        writer.message(11, |writer| {
            writer.fixed64(1, clock::unix_nanos(event.timestamp));
            writer.string(2, &event.name);
            write_attributes(writer, 3, &event.attributes);
            writer.varint_field(4, u64::from(event.dropped_attributes_count));
        });
    }
    writer.varint_field(12, u64::from(span.events.dropped_count));
    for link in span.links.iter() {
        writer.message(13, |writer| {
            let context = &link.span_context;
            write_identity(writer, context);
            write_attributes(writer, 4, &link.attributes);
            writer.varint_field(5, u64::from(link.dropped_attributes_count));
            writer.fixed32(6, flags(context, context.is_remote()));
        });
    }
    writer.varint_field(14, u64::from(span.links.dropped_count));
    // Always present, as opentelemetry-proto sets it.
    writer.message(15, |writer| {
        let (message, code) = match span.status {
            Status::Unset => ("", 0),
            Status::Ok => ("", 1),
            Status::Error { description } => (description.as_ref(), 2),
        };
        writer.string(2, message);
        writer.varint_field(3, code);
    });
    writer.fixed32(16, flags(context, span.parent_span_is_remote));
}

/// Fields 1–3 of a `Span` and of a `Link` alike: trace id, span id, trace state.
fn write_identity(writer: &mut Writer, context: &SpanContext) {
    writer.bytes(1, &context.trace_id().to_bytes());
    writer.bytes(2, &context.span_id().to_bytes());
    writer.string(3, &context.trace_state().header());
}

/// The span's trace flags plus whether its parent (a link: the linked span) is remote.
fn flags(context: &SpanContext, remote: bool) -> u32 {
    let remote = if remote { CONTEXT_IS_REMOTE } else { 0 };
    u32::from(context.trace_flags().to_u8()) | CONTEXT_HAS_IS_REMOTE | remote
}

/// `Span.SpanKind`.
fn kind_number(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// `attributes` as a `Span`'s field 9, the bytes [`write_attributes`] writes there.
fn span_attributes(attributes: &[KeyValue]) -> Vec<u8> {
    let mut writer = Writer::with_capacity(attributes.len() * 48);
    write_attributes(&mut writer, 9, attributes);
    writer.into_bytes()
}

/// A repeated `KeyValue` field.
fn write_attributes<'a>(
    writer: &mut Writer,
    field: u32,
    attributes: impl IntoIterator<Item = &'a KeyValue>,
) {
    for attribute in attributes {
        writer.message(field, |writer| write_key_value(writer, attribute));
    }
}

/// `KeyValue`: the key, then the value, which is always present.
fn write_key_value(writer: &mut Writer, attribute: &KeyValue) {
    writer.string(1, attribute.key.as_str());
    writer.message(2, |writer| write_any_value(writer, &attribute.value));
}

/// The fields of an `AnyValue`: one member of its `oneof`, written even when it is the
/// type's default (a `false`, a `0`, an empty string).
fn write_any_value(writer: &mut Writer, value: &Value) {
    match value {
        Value::String(text) => writer.string_always(1, text.as_str()),
        Value::Bool(flag) => writer.varint_always(2, u64::from(*flag)),
        // int64 on the wire: the two's complement bits as a varint.
        Value::I64(number) => writer.varint_always(3, *number as u64),
        Value::F64(number) => writer.double_always(4, *number),
        Value::Array(array) => writer.message(5, |writer| write_array(writer, array)),
        // A kind of value added to the API after this was written: its text.
        other => writer.string_always(1, &other.to_string()),
    }
}

/// `ArrayValue`: each element an `AnyValue`.
fn write_array(writer: &mut Writer, array: &Array) {
    match array {
        Array::Bool(flags) => {
            for flag in flags {
                writer.message(1, |writer| writer.varint_always(2, u64::from(*flag)));
            }
        }
        Array::I64(numbers) => {
            for number in numbers {
                writer.message(1, |writer| writer.varint_always(3, *number as u64));
            }
        }
        Array::F64(numbers) => {
            for number in numbers {
                writer.message(1, |writer| writer.double_always(4, *number));
            }
        }
        Array::String(texts) => {
            for text in texts {
                writer.message(1, |writer| writer.string_always(1, text.as_str()));
            }
        }
        // An array kind added to the API after this was written: its text, as one string.
        other => {
            let text = other.to_string();
            writer.message(1, |writer| writer.string_always(1, &text));
        }
    }
}

/// Appends protobuf fields to a buffer. The plain field methods leave out a field holding
/// its type's default, as proto3 does; the `_always` ones write it anyway (`oneof` members
/// and present sub-messages).
struct Writer {
    buffer: Vec<u8>,
}

impl Writer {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            buffer: Vec::with_capacity(capacity),
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        self.buffer
    }

    /// Bytes already encoded: whole fields.
    fn raw(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    fn varint(&mut self, value: u64) {
        self.buffer.extend(varint_bytes(value));
    }

    fn key(&mut self, field: u32, wire_type: u32) {
        self.varint(u64::from((field << 3) | wire_type));
    }

    fn varint_field(&mut self, field: u32, value: u64) {
        if value != 0 {
            self.varint_always(field, value);
        }
    }

    fn varint_always(&mut self, field: u32, value: u64) {
        self.key(field, VARINT);
        self.varint(value);
    }

    fn fixed32(&mut self, field: u32, value: u32) {
        if value != 0 {
            self.key(field, FIXED32);
            self.buffer.extend_from_slice(&value.to_le_bytes());
        }
    }

    fn fixed64(&mut self, field: u32, value: u64) {
        if value != 0 {
            self.key(field, FIXED64);
            self.buffer.extend_from_slice(&value.to_le_bytes());
        }
    }

    fn double_always(&mut self, field: u32, value: f64) {
        self.key(field, FIXED64);
        self.buffer
            .extend_from_slice(&value.to_bits().to_le_bytes());
    }

    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.bytes_always(field, bytes);
        }
    }

    fn bytes_always(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, LENGTH_DELIMITED);
        self.varint(bytes.len() as u64);
        self.buffer.extend_from_slice(bytes);
    }

    fn string(&mut self, field: u32, text: &str) {
        self.bytes(field, text.as_bytes());
    }

    fn string_always(&mut self, field: u32, text: &str) {
        self.bytes_always(field, text.as_bytes());
    }

    /// A sub-message field: `body` writes its fields. For a body under 128 bytes: a longer
    /// one is moved up to make room for its length ([`Self::message_sized`]).
    fn message(&mut self, field: u32, body: impl FnOnce(&mut Self)) {
        self.message_sized(field, 1, body);
    }

    /// A sub-message field whose length is expected to take `length_bytes` bytes: the body
    /// is written after that many, so a right guess moves nothing, where a wrong one moves
    /// the body to fit its length (the whole request, for the outermost message: 13 % of
    /// the encoding time went to such moves when every message guessed one byte). Returns
    /// the bytes the length took. The bytes are the same whatever the guess.
    fn message_sized(
        &mut self,
        field: u32,
        length_bytes: usize,
        body: impl FnOnce(&mut Self),
    ) -> usize {
        self.key(field, LENGTH_DELIMITED);
        let length_at = self.buffer.len();
        let start = length_at + length_bytes;
        self.buffer.resize(start, 0);
        body(self);
        let length = (self.buffer.len() - start) as u64;
        let needed = varint_length(length);
        if needed == length_bytes {
            for (slot, byte) in self.buffer[length_at..start]
                .iter_mut()
                .zip(varint_bytes(length))
            {
                *slot = byte;
            }
        } else {
            self.buffer.splice(length_at..start, varint_bytes(length));
        }
        needed
    }
}

/// How many bytes `value` takes as a protobuf varint.
fn varint_length(value: u64) -> usize {
    let bits = u64::BITS - (value | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// `value` as a protobuf varint: seven bits a byte, low first, the high bit set on all
/// but the last.
fn varint_bytes(mut value: u64) -> impl Iterator<Item = u8> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            None
        } else if value >= 0x80 {
            let byte = (value as u8) | 0x80;
            value >>= 7;
            Some(byte)
        } else {
            done = true;
            Some(value as u8)
        }
    })
}

/// The scope names of a decoded request's first resource, in order: how the tests see the
/// grouping by scope.
#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::{Duration, UNIX_EPOCH};

    use opentelemetry::trace::{Event, Link, TraceFlags};
    use opentelemetry::{InstrumentationScope, StringValue};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use prost::Message;

    use super::*;
    use crate::pipeline::otlp::encoding::{self, RequestResource};
    use crate::pipeline::otlp::test_fixtures::{context, scope_names};

    fn scope(name: &'static str) -> InstrumentationScope {
        InstrumentationScope::builder(name).build()
    }

    fn span(id: u64, scope: InstrumentationScope) -> SpanData {
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
    fn varied_batch() -> Vec<SpanData> {
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

    fn resource() -> Resource {
        Resource::builder_empty()
            .with_service_name("shop")
            .with_attribute(KeyValue::new("host.cores", 2_i64))
            .with_schema_url([], "https://opentelemetry.io/schemas/1.26.0")
            .build()
    }

    /// Ours, and what opentelemetry-proto and prost make of `batch`, under one resource (a
    /// `Resource` lists its attributes in its hash map's order, which differs between two
    /// built alike).
    fn ours_and_reference(batch: Vec<SpanData>, resource: &Resource) -> (Vec<u8>, Vec<u8>) {
        let resource = RequestResource::new(resource);
        let ours = encoding::protobuf(&batch, &resource);
        (ours, encoding::request(batch, &resource).encode_to_vec())
    }

    #[test]
    fn the_bytes_are_prosts_for_every_field_and_value_kind() {
        let (ours, reference) = ours_and_reference(varied_batch(), &resource());
        assert_eq!(ours, reference);
        // And they decode: two scopes, in the order they first appeared.
        let decoded = ExportTraceServiceRequest::decode(ours.as_slice()).unwrap();
        let scopes = &decoded.resource_spans[0].scope_spans;
        assert_eq!(scope_names(&decoded), ["traced", "sdk-library"]);
        assert_eq!(scopes[0].spans.len(), 3);
        assert_eq!(scopes[0].spans[0].attributes.len(), 15);
    }

    #[test]
    fn spans_are_grouped_by_equal_scopes_wherever_their_texts_are() {
        let owned = |name: &str| {
            InstrumentationScope::builder(name.to_owned())
                .with_version("1.0".to_owned())
                .build()
        };
        let with = |attributes: [(&'static str, i64); 2]| {
            InstrumentationScope::builder("db")
                .with_attributes(attributes.map(|(key, value)| KeyValue::new(key, value)))
                .build()
        };
        let batch = vec![
            span(1, owned("http")),
            span(2, with([("a", 1), ("b", 2)])),
            // Equal to the first, its texts elsewhere.
            span(3, owned("http")),
            // Equal to the second: the same attributes in another order.
            span(4, with([("b", 2), ("a", 1)])),
            // The same texts as the second, another attribute value: a scope of its own.
            span(5, with([("a", 1), ("b", 3)])),
        ];
        let body = encoding::protobuf(&batch, &RequestResource::new(&resource()));
        let decoded = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        assert_eq!(scope_names(&decoded), ["http", "db", "db"]);
        let span_ids: Vec<Vec<u8>> = decoded.resource_spans[0]
            .scope_spans
            .iter()
            .map(|scope| {
                let ids = scope.spans.iter().map(|span| span.span_id[7]);
                ids.collect()
            })
            .collect();
        assert_eq!(span_ids, [vec![1, 3], vec![2, 4], vec![5]]);
    }

    #[test]
    fn a_batch_of_real_size_is_prosts_too() {
        // Messages longer than 127 bytes at every level: spans, scope, resource spans.
        let batch: Vec<SpanData> = (1..=512).map(|id| span(id, scope("traced"))).collect();
        let (ours, reference) = ours_and_reference(batch, &resource());
        assert_eq!(ours, reference);
        let (ours, reference) = ours_and_reference(Vec::new(), &Resource::builder_empty().build());
        assert_eq!(ours, reference);
    }

    #[test]
    fn lengths_of_every_size_class_are_minimal_varints_whatever_the_guess() {
        let lengths = [
            0, 1, 127, 128, 129, 16_383, 16_384, 70_000, 2_097_151, 2_097_152,
        ];
        for length in lengths {
            let mut expected = Vec::new();
            prost::encoding::bytes::encode(1, &vec![7u8; length], &mut expected);
            let expected_length_bytes = expected.len() - 1 - length;
            for guess in 1..=4 {
                let mut writer = Writer::with_capacity(0);
                let length_bytes = writer.message_sized(1, guess, |writer| {
                    writer.buffer.extend(std::iter::repeat_n(7u8, length))
                });
                assert_eq!(length_bytes, expected_length_bytes, "length {length}");
                assert_eq!(
                    writer.into_bytes(),
                    expected,
                    "length {length}, guess {guess}"
                );
            }
        }
    }

    #[test]
    fn varint_lengths_are_those_written() {
        for value in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            assert_eq!(varint_length(value), varint_bytes(value).count(), "{value}");
        }
    }
}
