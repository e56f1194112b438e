//! Spans straight to OTLP JSON (the `http/json` protocol): the `ExportTraceServiceRequest`
//! written field by field from the exporter's [`SpanData`], or from `#[traced]` spans'
//! records as the batch processor queued them, as [`super::protobuf`] writes protobuf.
//!
//! Going through opentelemetry-proto's message structs and serde_json (a `String` per key
//! and text, a `Vec` and a hex `String` per id, and the records made [`SpanData`] first)
//! cost the export thread 2.4–2.7 µs a span, capping an `http/json` exporter at 0.4 M
//! spans/s; written directly, 0.34 µs (`benches/README.md`, the encoding section).
//!
//! The JSON is the protobuf JSON mapping as OTLP specifies it: lowerCamelCase field names,
//! trace and span ids as hex (not base64), enums as numbers, 64-bit integers as decimal
//! strings, a double that is not finite as `"NaN"`, `"Infinity"` or `"-Infinity"`. Fields
//! holding their type's default are left out, as the mapping allows, except where the
//! protobuf writes them too: `oneof` members (an attribute's `""`, `0` or `false`) and the
//! span's status.
//!
//! [`SpanData`]: opentelemetry_sdk::trace::SpanData

use std::fmt::Write as _;

use opentelemetry::trace::{SpanContext, SpanId};
use opentelemetry::{Array, InstrumentationScope, Key, KeyValue, Value};
use opentelemetry_sdk::Resource;

use super::spans::{
    ExportedSpan, SpanAttributes, SpanFields, flags, group_by_scope, kind_number, status_parts,
};
use crate::clock;
use crate::span::recorded::ValueRef;

/// The `Resource` object of `resource` and the comma after it, as [`request`] puts it in
/// every request (written once for all of them).
pub(super) fn resource(resource: &Resource) -> Vec<u8> {
    let mut json = Json::with_capacity(64 * resource.len());
    json.object(|json| {
        json.array_field("attributes", |json| {
            for (key, value) in resource.iter() {
                json.object(|json| write_key_value(json, key, value));
            }
        });
    });
    json.buffer
}

/// The JSON `ExportTraceServiceRequest` for `batch`, one `resourceSpans` under the resource
/// (`resource`: its `Resource` member's value, already written by [`resource`];
/// `resource_schema_url`), the spans grouped by instrumentation scope in the order each
/// scope first appears. The same spans give the same bytes whatever holds them.
pub(super) fn request<S: ExportedSpan>(
    batch: &[S],
    resource: &[u8],
    resource_schema_url: &str,
) -> Vec<u8> {
    let mut json = Json::with_capacity(resource.len() + batch.len() * 640);
    json.object(|json| {
        json.array_field("resourceSpans", |json| {
            json.object(|json| {
                json.key("resource");
                json.raw(resource);
                json.array_field("scopeSpans", |json| {
                    for (scope, spans) in group_by_scope(batch) {
                        json.object(|json| {
                            json.object_field("scope", |json| write_scope(json, scope));
                            json.array_field("spans", |json| {
                                for span in spans {
                                    json.object(|json| {
                                        write_span(json, &span.fields(), span.attributes());
                                    });
                                }
                            });
                            json.string_field("schemaUrl", scope.schema_url().unwrap_or_default());
                        });
                    }
                });
                json.string_field("schemaUrl", resource_schema_url);
            });
        });
    });
    json.into_bytes()
}

/// `InstrumentationScope`.
fn write_scope(json: &mut Json, scope: &InstrumentationScope) {
    json.string_field("name", scope.name());
    json.string_field("version", scope.version().unwrap_or_default());
    write_attributes(json, "attributes", scope.attributes());
}

/// `Span`, its fields in the order the schema declares them.
fn write_span(json: &mut Json, span: &SpanFields<'_>, attributes: SpanAttributes<'_>) {
    let context = span.context;
    write_identity(json, context);
    if span.parent_span_id != SpanId::INVALID {
        json.hex_field("parentSpanId", span.parent_span_id.to_bytes());
    }
    json.number_field(
        "flags",
        u64::from(flags(context, span.parent_span_is_remote)),
    );
    json.string_field("name", span.name);
    json.number_field("kind", kind_number(span.kind));
    json.quoted_number_field("startTimeUnixNano", span.start_time);
    json.quoted_number_field("endTimeUnixNano", span.end_time);
    json.array_field("attributes", |json| match attributes {
        SpanAttributes::Listed(attributes) => {
            for attribute in attributes {
                json.object(|json| write_key_value(json, &attribute.key, &attribute.value));
            }
        }
        SpanAttributes::Recorded { code, recorded } => {
            // The same bytes in each of the call site's spans, written once.
            if let Some(code) = code {
                json.raw(code.span_json(attribute_members));
            }
            for attribute in recorded {
                json.object(|json| {
                    json.string_always("key", attribute.key().as_str());
                    json.object_field("value", |json| match attribute.value() {
                        ValueRef::Value(value) => write_any_value(json, value),
                        ValueRef::Text(text) => json.string_always("stringValue", text),
                    });
                });
            }
        }
    });
    json.number_field(
        "droppedAttributesCount",
        u64::from(span.dropped_attributes_count),
    );
    if !span.events.is_empty() {
        json.array_field("events", |json| {
            for event in span.events.iter() {
                json.object(|json| {
                    json.quoted_number_field("timeUnixNano", clock::unix_nanos(event.timestamp));
                    json.string_field("name", &event.name);
                    write_attributes(json, "attributes", &event.attributes);
                    json.number_field(
                        "droppedAttributesCount",
                        u64::from(event.dropped_attributes_count),
                    );
                });
            }
        });
    }
    json.number_field("droppedEventsCount", u64::from(span.events.dropped_count));
    if !span.links.is_empty() {
        json.array_field("links", |json| {
            for link in span.links.iter() {
                json.object(|json| {
                    let context = &link.span_context;
                    write_identity(json, context);
                    write_attributes(json, "attributes", &link.attributes);
                    json.number_field(
                        "droppedAttributesCount",
                        u64::from(link.dropped_attributes_count),
                    );
                    json.number_field("flags", u64::from(flags(context, context.is_remote())));
                });
            }
        });
    }
    json.number_field("droppedLinksCount", u64::from(span.links.dropped_count));
    // Always present, as in the protobuf.
    json.object_field("status", |json| {
        let (code, message) = status_parts(span.status);
        json.string_field("message", message);
        json.number_field("code", code);
    });
}

/// The trace id, span id and trace state of a `Span` and of a `Link` alike.
fn write_identity(json: &mut Json, context: &SpanContext) {
    json.hex_field("traceId", context.trace_id().to_bytes());
    json.hex_field("spanId", context.span_id().to_bytes());
    json.string_field("traceState", &context.trace_state().header());
}

/// `attributes` as members of a span's `attributes` array, each followed by its comma, as
/// [`write_span`] writes them.
fn attribute_members(attributes: &[KeyValue]) -> Vec<u8> {
    let mut json = Json::with_capacity(attributes.len() * 64);
    for attribute in attributes {
        json.object(|json| write_key_value(json, &attribute.key, &attribute.value));
    }
    json.buffer
}

/// A repeated `KeyValue` field, left out when there is none.
fn write_attributes<'a>(
    json: &mut Json,
    field: &str,
    attributes: impl IntoIterator<Item = &'a KeyValue>,
) {
    let mut attributes = attributes.into_iter().peekable();
    if attributes.peek().is_some() {
        json.array_field(field, |json| {
            for attribute in attributes {
                json.object(|json| write_key_value(json, &attribute.key, &attribute.value));
            }
        });
    }
}

/// The fields of a `KeyValue`: the key, then the value, which is always present.
fn write_key_value(json: &mut Json, key: &Key, value: &Value) {
    json.string_always("key", key.as_str());
    json.object_field("value", |json| write_any_value(json, value));
}

/// The field of an `AnyValue`: one member of its `oneof`, written even when it is the
/// type's default (a `false`, a `0`, an empty string).
fn write_any_value(json: &mut Json, value: &Value) {
    match value {
        Value::String(text) => json.string_always("stringValue", text.as_str()),
        Value::Bool(flag) => json.bool_always("boolValue", *flag),
        Value::I64(number) => json.int64_always("intValue", *number),
        Value::F64(number) => json.double_always("doubleValue", *number),
        Value::Array(array) => json.object_field("arrayValue", |json| write_array(json, array)),
        // A kind of value added to the API after this was written: its text.
        other => json.string_always("stringValue", &other.to_string()),
    }
}

/// The field of an `ArrayValue`: each element an `AnyValue`.
fn write_array(json: &mut Json, array: &Array) {
    json.array_field("values", |json| match array {
        Array::Bool(flags) => {
            for flag in flags {
                json.object(|json| json.bool_always("boolValue", *flag));
            }
        }
        Array::I64(numbers) => {
            for number in numbers {
                json.object(|json| json.int64_always("intValue", *number));
            }
        }
        Array::F64(numbers) => {
            for number in numbers {
                json.object(|json| json.double_always("doubleValue", *number));
            }
        }
        Array::String(texts) => {
            for text in texts {
                json.object(|json| json.string_always("stringValue", text.as_str()));
            }
        }
        // An array kind added to the API after this was written: its text, as one string.
        other => {
            let text = other.to_string();
            json.object(|json| json.string_always("stringValue", &text));
        }
    });
}

/// Appends JSON to a buffer. Every value is followed by a comma, and closing an object or
/// an array replaces the comma of its last member (if it has one): no member has to know
/// whether another came before it. The field methods leave out a field holding its type's
/// default; the `_always` ones write it anyway. The field methods are inlined where they are
/// called, each with its member's name a literal, which then takes a few moves to write
/// rather than a call to `memmove` (`otlp_encoding/json`, six alternating runs: 150–158 →
/// 137–145 µs a batch).
struct Json {
    buffer: Vec<u8>,
}

impl Json {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            buffer: Vec::with_capacity(capacity),
        }
    }

    /// The JSON written: one value, without the comma after it.
    fn into_bytes(mut self) -> Vec<u8> {
        if self.buffer.last() == Some(&b',') {
            self.buffer.pop();
        }
        self.buffer
    }

    /// JSON already written by this writer, with the comma after each value.
    fn raw(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    fn comma(&mut self) {
        self.buffer.push(b',');
    }

    /// A member's name (a field of the schema: nothing to escape in it).
    #[inline(always)]
    fn key(&mut self, name: &str) {
        self.buffer.push(b'"');
        self.buffer.extend_from_slice(name.as_bytes());
        self.buffer.extend_from_slice(b"\":");
    }

    /// An object, as a value: `body` writes its members.
    fn object(&mut self, body: impl FnOnce(&mut Self)) {
        self.buffer.push(b'{');
        body(self);
        self.close(b'}');
    }

    #[inline(always)]
    fn object_field(&mut self, name: &str, body: impl FnOnce(&mut Self)) {
        self.key(name);
        self.object(body);
    }

    /// An array member: `body` writes its values.
    #[inline(always)]
    fn array_field(&mut self, name: &str, body: impl FnOnce(&mut Self)) {
        self.key(name);
        self.buffer.push(b'[');
        body(self);
        self.close(b']');
    }

    /// Ends an object or an array in place of its last member's comma.
    fn close(&mut self, bracket: u8) {
        match self.buffer.last_mut() {
            Some(last) if *last == b',' => *last = bracket,
            _ => self.buffer.push(bracket),
        }
        self.comma();
    }

    #[inline(always)]
    fn string_field(&mut self, name: &str, text: &str) {
        if !text.is_empty() {
            self.string_always(name, text);
        }
    }

    #[inline(always)]
    fn string_always(&mut self, name: &str, text: &str) {
        self.key(name);
        self.string(text);
        self.comma();
    }

    /// A JSON string: `"`, `\` and control characters escaped, the rest as it is (UTF-8).
    fn string(&mut self, text: &str) {
        self.buffer.push(b'"');
        let mut rest = text.as_bytes();
        while let Some(at) = first_to_escape(rest) {
            self.buffer.extend_from_slice(&rest[..at]);
            self.escape(rest[at]);
            rest = &rest[at + 1..];
        }
        self.buffer.extend_from_slice(rest);
        self.buffer.push(b'"');
    }

    /// The escape sequence of a byte a JSON string cannot hold as it is.
    #[cold]
    fn escape(&mut self, byte: u8) {
        let short = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            _ => {
                let [high, low] = hex_digits(byte);
                self.buffer
                    .extend_from_slice(&[b'\\', b'u', b'0', b'0', high, low]);
                return;
            }
        };
        self.buffer.extend_from_slice(&[b'\\', short]);
    }

    /// An id as a string of lowercase hex digits.
    #[inline(always)]
    fn hex_field<const BYTES: usize>(&mut self, name: &str, bytes: [u8; BYTES]) {
        self.key(name);
        self.buffer.push(b'"');
        let digits = bytes.map(hex_digits);
        self.buffer.extend_from_slice(digits.as_flattened());
        self.buffer.extend_from_slice(b"\",");
    }

    /// A 32-bit integer or an enum: a JSON number.
    #[inline(always)]
    fn number_field(&mut self, name: &str, value: u64) {
        if value != 0 {
            self.key(name);
            self.decimal(value);
            self.comma();
        }
    }

    /// A 64-bit unsigned integer: a decimal string, as the mapping writes them.
    #[inline(always)]
    fn quoted_number_field(&mut self, name: &str, value: u64) {
        if value != 0 {
            self.key(name);
            self.buffer.push(b'"');
            self.decimal(value);
            self.buffer.extend_from_slice(b"\",");
        }
    }

    /// A 64-bit signed integer: a decimal string.
    #[inline(always)]
    fn int64_always(&mut self, name: &str, value: i64) {
        self.key(name);
        self.buffer.push(b'"');
        if value < 0 {
            self.buffer.push(b'-');
        }
        self.decimal(value.unsigned_abs());
        self.buffer.extend_from_slice(b"\",");
    }

    #[inline(always)]
    fn bool_always(&mut self, name: &str, value: bool) {
        self.key(name);
        let text: &[u8] = if value { b"true," } else { b"false," };
        self.buffer.extend_from_slice(text);
    }

    /// A double: a JSON number, or the mapping's string for one that is not finite.
    fn double_always(&mut self, name: &str, value: f64) {
        self.key(name);
        if value.is_finite() {
            // `Debug` writes the shortest digits that read back as the same value, with an
            // exponent where plain digits would run long (`1e300`): a valid JSON number.
            let mut text = String::new();
            // Writing to a `String` does not fail.
            let _ = write!(text, "{value:?}");
            self.buffer.extend_from_slice(text.as_bytes());
        } else if value.is_nan() {
            self.buffer.extend_from_slice(b"\"NaN\"");
        } else if value > 0.0 {
            self.buffer.extend_from_slice(b"\"Infinity\"");
        } else {
            self.buffer.extend_from_slice(b"\"-Infinity\"");
        }
        self.comma();
    }

    /// `value`'s decimal digits, two at a time (most numbers written are 19-digit times).
    fn decimal(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        while value >= 100 {
            let pair = usize::from((value % 100) as u8) * 2;
            value /= 100;
            start -= 2;
            digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if value >= 10 {
            let pair = usize::from(value as u8) * 2;
            start -= 2;
            digits[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            start -= 1;
            digits[start] = b'0' + value as u8;
        }
        self.buffer.extend_from_slice(&digits[start..]);
    }
}

/// `00` to `99`.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Where the first byte of `bytes` that a JSON string must escape is: `"`, `\` or a control
/// character. Eight bytes are tested at once (each test below sets the high bit of the
/// lowest byte that passes it, and perhaps of bytes above that one, never below), as most
/// texts have nothing to escape: a byte at a time, this was a fifth of the encoding.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGH_BITS;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // Below 0x20: the subtraction borrows into the high bit of a byte that was clear.
        let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH_BITS;
        let quote = has_zero_byte(word ^ (ONES * u64::from(b'"')));
        let backslash = has_zero_byte(word ^ (ONES * u64::from(b'\\')));
        let found = control | quote | backslash;
        if found != 0 {
            // Little-endian: the lowest bits are the first byte.
            return Some(offset + found.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let mut rest = chunks.remainder().iter();
    let at = rest.position(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\');
    at.map(|at| offset + at)
}

/// The two lowercase hex digits of `byte`.
fn hex_digits(byte: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [
        DIGITS[usize::from(byte >> 4)],
        DIGITS[usize::from(byte & 0x0f)],
    ]
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::Status;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
    use opentelemetry_sdk::trace::SpanData;
    use serde_json::Value as JsonValue;

    use super::*;
    use crate::pipeline::otlp::encoding::{self, RequestResource};
    use crate::pipeline::otlp::test_fixtures::{resource, scope, scope_names, span, varied_batch};

    /// Ours, parsed as opentelemetry-proto reads OTLP JSON, and the message it builds from
    /// the same spans, under one resource.
    fn ours_and_reference(
        batch: Vec<SpanData>,
    ) -> (
        Vec<u8>,
        ExportTraceServiceRequest,
        ExportTraceServiceRequest,
    ) {
        let resource = RequestResource::new(&resource());
        let ours = encoding::json(&batch, &resource);
        let decoded = serde_json::from_slice(&ours).unwrap_or_else(|err| {
            panic!("{err}: {}", String::from_utf8_lossy(&ours));
        });
        (ours, decoded, encoding::request(batch, &resource))
    }

    /// A span with these attributes.
    fn span_with(attributes: Vec<KeyValue>) -> SpanData {
        let mut span = span(1, scope("traced"));
        span.attributes = attributes;
        span
    }

    /// The attributes of the first span of a JSON body, as JSON.
    fn first_span_attributes(body: &[u8]) -> Vec<JsonValue> {
        let body: JsonValue = serde_json::from_slice(body).unwrap();
        let span = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        span["attributes"].as_array().unwrap().clone()
    }

    #[test]
    fn every_field_and_value_kind_reads_back_as_opentelemetry_protos_message() {
        let (_, decoded, reference) = ours_and_reference(varied_batch());
        assert_eq!(decoded, reference);
        assert_eq!(scope_names(&decoded), ["traced", "sdk-library"]);
        let spans = &decoded.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].attributes.len(), 15);
        assert_eq!(spans[0].links.len(), 2);
    }

    #[test]
    fn a_batch_of_real_size_reads_back_too() {
        let batch: Vec<SpanData> = (1..=512).map(|id| span(id, scope("traced"))).collect();
        let (_, decoded, reference) = ours_and_reference(batch);
        assert_eq!(decoded, reference);
        let (ours, decoded, reference) = ours_and_reference(Vec::new());
        assert_eq!(decoded, reference);
        assert!(ours.starts_with(br#"{"resourceSpans":[{"resource":{"attributes":["#));
    }

    #[test]
    fn ids_are_hex_enums_numbers_and_64_bit_integers_strings() {
        let (ours, _, _) = ours_and_reference(varied_batch());
        let body: JsonValue = serde_json::from_slice(&ours).unwrap();
        let span = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "fffffffffffffffffffffffffffffffa");
        assert_eq!(span["spanId"], "b7ad6b7169203331");
        assert_eq!(span["parentSpanId"], "00f067aa0ba902b7");
        assert_eq!(span["traceState"], "vendor=abc,other=x-1");
        // Sampled, the parent's remoteness known, and remote.
        assert_eq!(span["flags"], 0x301);
        assert_eq!(span["kind"], 2);
        assert_eq!(span["startTimeUnixNano"], "1700000000123456796");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(
            span["events"][1]["name"],
            JsonValue::Null,
            "left out when empty"
        );
        assert_eq!(span["links"][0]["flags"], 0x300);
        let attribute = |key: &str| {
            let attributes = span["attributes"].as_array().unwrap();
            let found = attributes.iter().find(|kv| kv["key"] == key).unwrap();
            found["value"].clone()
        };
        assert_eq!(
            attribute("max"),
            serde_json::json!({"intValue": "9223372036854775807"})
        );
        assert_eq!(attribute("zero"), serde_json::json!({"intValue": "0"}));
        assert_eq!(attribute("empty"), serde_json::json!({"stringValue": ""}));
        assert_eq!(attribute("no"), serde_json::json!({"boolValue": false}));
        assert_eq!(
            attribute("ints"),
            serde_json::json!({"arrayValue": {"values": [
                {"intValue": "1"}, {"intValue": "-1"}, {"intValue": "0"}
            ]}})
        );
        // A span whose fields all hold their defaults writes none of them.
        let defaults = &body["resourceSpans"][0]["scopeSpans"][1]["spans"][0];
        for left_out in [
            "parentSpanId",
            "traceState",
            "droppedAttributesCount",
            "events",
        ] {
            assert_eq!(defaults[left_out], JsonValue::Null, "{left_out}");
        }
    }

    #[test]
    fn texts_are_escaped_and_read_back_unchanged() {
        let texts = [
            "plain",
            "quote \" and backslash \\",
            "line\nfeed\rreturn\ttab",
            "\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}",
            "naïve café ☕ \u{2028} 𝄞",
            "</script>",
        ];
        let attributes = texts
            .iter()
            .map(|text| KeyValue::new(Key::from(format!("key {text}")), text.to_string()))
            .collect();
        let mut span = span_with(attributes);
        span.name = "GET \"/\"\n".into();
        span.status = Status::error("\\ failed \u{1b}[31m");
        let (ours, decoded, reference) = ours_and_reference(vec![span]);
        assert_eq!(decoded, reference);
        let text = String::from_utf8(ours).unwrap();
        assert!(
            text.contains(r#""stringValue":"\u0000\u0001\b\f\u001f"#),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn doubles_read_back_exactly_and_those_not_finite_are_the_mappings_strings() {
        let finite = [
            0.0,
            -0.0,
            0.1,
            -2.5,
            1e300,
            1e-7,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ];
        let numbers = finite.iter().map(|number| KeyValue::new("n", *number));
        let not_finite = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        let others = not_finite.iter().map(|number| KeyValue::new("n", *number));
        let span = span_with(numbers.chain(others).collect());
        let resource = RequestResource::new(&resource());
        let body = encoding::json(&[span], &resource);
        let attributes = first_span_attributes(&body);
        for (expected, attribute) in finite.iter().zip(&attributes) {
            let read = attribute["value"]["doubleValue"].as_f64().unwrap();
            assert_eq!(read.to_bits(), expected.to_bits(), "{expected:?}");
        }
        let strings: Vec<&str> = attributes[finite.len()..]
            .iter()
            .map(|attribute| attribute["value"]["doubleValue"].as_str().unwrap())
            .collect();
        assert_eq!(strings, ["NaN", "Infinity", "-Infinity"]);
    }

    #[test]
    fn the_extreme_integers_read_back() {
        let span = span_with(vec![
            KeyValue::new("min", i64::MIN),
            KeyValue::new("max", i64::MAX),
            KeyValue::new("minus one", -1_i64),
        ]);
        let (_, decoded, reference) = ours_and_reference(vec![span]);
        assert_eq!(decoded, reference);
        let attributes = &decoded.resource_spans[0].scope_spans[0].spans[0].attributes;
        let value = attributes[0]
            .value
            .as_ref()
            .and_then(|value| value.value.as_ref());
        assert_eq!(value, Some(&AnyValue::IntValue(i64::MIN)));
    }

    #[test]
    fn the_first_byte_to_escape_is_found_wherever_it_is() {
        let needs_escape = |byte: u8| byte < 0x20 || byte == b'"' || byte == b'\\';
        // Fillers that need no escape, next to bytes that do and bytes that nearly do (a
        // borrow or a flipped bit away).
        let fillers = [
            b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ];
        let probes = [
            0x00, 0x01, 0x1f, b'"', b'\\', b' ', b'!', b'#', 0x7f, 0xa2, 0xdc,
        ];
        for length in 0..=20 {
            for filler in fillers {
                let plain = vec![filler; length];
                assert_eq!(first_to_escape(&plain), None, "{plain:?}");
                for at in 0..length {
                    for probe in probes {
                        let mut bytes = plain.clone();
                        bytes[at] = probe;
                        // A second one after it must not hide the first.
                        if at + 1 < length {
                            bytes[at + 1] = b'"';
                        }
                        let expected = bytes.iter().position(|&byte| needs_escape(byte));
                        assert_eq!(first_to_escape(&bytes), expected, "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn decimals_are_those_of_to_string() {
        let mut values = vec![0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, u64::MAX];
        values.extend((0..64).map(|shift| 1_u64 << shift));
        values.extend((1..20).map(|power| 10_u64.pow(power) - 1));
        values.push(1_700_000_000_123_456_789);
        for value in values {
            let mut json = Json::with_capacity(20);
            json.decimal(value);
            assert_eq!(json.into_bytes(), value.to_string().into_bytes());
        }
    }
}
