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
//!
//! [`SpanData`]: opentelemetry_sdk::trace::SpanData

use opentelemetry::trace::{SpanContext, SpanId};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};

use super::spans::{
    ExportedSpan, SpanAttributes, SpanFields, flags, group_by_scope, kind_number, status_parts,
};
use crate::clock;
use crate::span::recorded::ValueRef;

/// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LENGTH_DELIMITED: u32 = 2;
const FIXED32: u32 = 5;

/// The encoded `ExportTraceServiceRequest` for `batch`, one `ResourceSpans` under the
/// resource (`resource`: its `Resource` message, already encoded; `resource_schema_url`),
/// the spans grouped by instrumentation scope in the order each scope first appears. The
/// same spans give the same bytes whatever holds them: `SpanData`, or the batch processor's
/// queue with `#[traced]` spans as their records.
pub(super) fn request<S: ExportedSpan>(
    batch: &[S],
    resource: &[u8],
    resource_schema_url: &str,
) -> Vec<u8> {
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
                    span_length_bytes = writer.message_sized(2, span_length_bytes, |writer| {
                        write_span(writer, &span.fields(), span.attributes());
                    });
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

/// `InstrumentationScope`.
fn write_scope(writer: &mut Writer, scope: &InstrumentationScope) {
    writer.string(1, scope.name());
    writer.string(2, scope.version().unwrap_or_default());
    write_attributes(writer, 3, scope.attributes());
}

/// `Span`, its fields in the order prost writes them: by field number, so `flags` (16)
/// comes last although the schema declares it after `parent_span_id`.
fn write_span(writer: &mut Writer, span: &SpanFields<'_>, attributes: SpanAttributes<'_>) {
    let context = span.context;
    write_identity(writer, context);
    if span.parent_span_id != SpanId::INVALID {
        writer.bytes(4, &span.parent_span_id.to_bytes());
    }
    writer.string(5, span.name);
    writer.varint_field(6, kind_number(span.kind));
    writer.fixed64(7, span.start_time);
    writer.fixed64(8, span.end_time);
    write_span_attributes(writer, attributes);
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
        let (code, message) = status_parts(span.status);
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

/// A span's attributes as its field 9.
fn write_span_attributes(writer: &mut Writer, attributes: SpanAttributes<'_>) {
    match attributes {
        SpanAttributes::Listed(attributes) => write_attributes(writer, 9, attributes),
        SpanAttributes::Recorded { code, recorded } => {
            // The same bytes in each of the call site's spans, written once.
            if let Some(code) = code {
                writer.raw(code.span_protobuf(span_attributes));
            }
            for attribute in recorded {
                writer.message(9, |writer| {
                    writer.string(1, attribute.key().as_str());
                    writer.message(2, |writer| match attribute.value() {
                        ValueRef::Value(value) => write_any_value(writer, value),
                        ValueRef::Text(text) => writer.string_always(1, text),
                    });
                });
            }
        }
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

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SpanData;
    use prost::Message;

    use super::*;
    use crate::pipeline::otlp::encoding::{self, RequestResource};
    use crate::pipeline::otlp::test_fixtures::{resource, scope, scope_names, span, varied_batch};

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
