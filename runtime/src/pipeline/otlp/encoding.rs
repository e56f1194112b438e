//! From finished spans to OTLP bytes: protobuf ([`super::protobuf`]) and JSON
//! ([`super::json`]) written directly from the SDK's `SpanData` or the batch processor's
//! queued spans, gzip, and reading the collector's answers (partial success, error status).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
#[cfg(test)]
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::resource::v1::Resource as ResourceMessage;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
#[cfg(test)]
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
#[cfg(test)]
use opentelemetry_sdk::trace::SpanData;
use prost::Message;

use super::spans::ExportedSpan;
use super::{json, protobuf};

/// The resource every request carries, in the forms requests are built from, made once
/// (when the provider hands the exporter its resource) rather than per request.
#[derive(Debug)]
pub(super) struct RequestResource {
    /// The encoded `Resource` message, for protobuf.
    message: Vec<u8>,
    /// The `Resource` object, for JSON.
    json: Vec<u8>,
    schema_url: String,
    /// For opentelemetry-proto's message structs, which the tests compare with.
    #[cfg(test)]
    attributes: ResourceAttributesWithSchema,
}

impl RequestResource {
    pub(super) fn new(resource: &Resource) -> Self {
        let attributes = ResourceAttributesWithSchema::from(resource);
        let message = ResourceMessage {
            attributes: attributes.attributes.0.clone(),
            dropped_attributes_count: 0,
            entity_refs: Vec::new(),
        }
        .encode_to_vec();
        let schema_url = attributes.schema_url.clone().unwrap_or_default();
        Self {
            message,
            json: json::resource(resource),
            schema_url,
            #[cfg(test)]
            attributes,
        }
    }
}

/// The request message for one batch, grouped by instrumentation scope under the one
/// resource, as opentelemetry-proto builds it: what the encoders' bytes are compared with.
#[cfg(test)]
pub(super) fn request(
    batch: Vec<SpanData>,
    resource: &RequestResource,
) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(batch, &resource.attributes),
    }
}

/// The protobuf body of the request for one batch, written directly from the spans.
pub(super) fn protobuf<S: ExportedSpan>(batch: &[S], resource: &RequestResource) -> Vec<u8> {
    protobuf::request(batch, &resource.message, &resource.schema_url)
}

/// The JSON body: the protobuf JSON mapping as OTLP specifies it (lowerCamelCase fields,
/// hex trace and span ids, enums as integers, 64-bit integers as strings).
pub(super) fn json<S: ExportedSpan>(batch: &[S], resource: &RequestResource) -> Vec<u8> {
    json::request(batch, &resource.json, &resource.schema_url)
}

/// The gzip level of every request (`http/protobuf`, `http/json`, `grpc`): 2 rather than
/// zlib's default 6, which other SDKs keep. Measured with flate2's zlib-rs backend on
/// batches of 512 spans (`benches/README.md`), level 6 costs 1.3–2.6 µs a span, more than
/// everything else the pipeline does for it, and so caps one export thread at 0.4–0.8 M
/// spans/s; level 2 takes a third to a half of that for bodies 5–9 % larger (still a sixth
/// of the protobuf). The export thread's time is the application's CPU; a collector nearby
/// takes the bytes.
const GZIP_LEVEL: u32 = 2;

/// gzip-compresses a body.
pub(super) fn gzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let level = Compression::new(GZIP_LEVEL);
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|err| format!("cannot gzip the request: {err}"))
}

/// How many spans the collector said it rejected in a successful response, with its
/// message. A body that does not decode counts as full success, as the specification says
/// a client must not fail on an unexpected success body.
pub(super) fn rejected_spans(body: &[u8], is_json: bool) -> Option<(u64, String)> {
    if body.is_empty() {
        return None;
    }
    if is_json {
        return json_partial_success(body);
    }
    partial_success(&ExportTraceServiceResponse::decode(body).ok()?)
}

/// The rejected count and message of a decoded response, when it reports any.
pub(super) fn partial_success(response: &ExportTraceServiceResponse) -> Option<(u64, String)> {
    let partial = response.partial_success.as_ref()?;
    reported(partial.rejected_spans, &partial.error_message)
}

/// The partial success of a JSON answer, read field by field: opentelemetry-proto's serde
/// takes `rejectedSpans` only as a number, where the protobuf JSON mapping (and so the
/// Collector) writes a 64-bit integer as a string, and the mapping's parsers accept the
/// fields' proto names too.
fn json_partial_success(body: &[u8]) -> Option<(u64, String)> {
    use serde_json::Value;

    let answer: Value = serde_json::from_slice(body).ok()?;
    let field = |object: &'_ Value, json_name: &str, proto_name: &str| {
        let value = object.get(json_name).or_else(|| object.get(proto_name));
        value.filter(|value| !value.is_null()).cloned()
    };
    let partial = field(&answer, "partialSuccess", "partial_success")?;
    let rejected = match field(&partial, "rejectedSpans", "rejected_spans") {
        Some(Value::String(digits)) => digits.trim().parse().ok()?,
        Some(Value::Number(number)) => number.as_i64()?,
        Some(_) => return None,
        None => 0,
    };
    let message = field(&partial, "errorMessage", "error_message");
    let message = message.as_ref().and_then(Value::as_str).unwrap_or_default();
    reported(rejected, message)
}

/// `(rejected, message)` when the answer reports anything (a negative count as none).
fn reported(rejected: i64, message: &str) -> Option<(u64, String)> {
    let rejected = u64::try_from(rejected).unwrap_or(0);
    (rejected > 0 || !message.is_empty()).then(|| (rejected, message.to_owned()))
}

/// `google.rpc.Status`: the body of an OTLP/HTTP error response and the details of a gRPC
/// status.
#[derive(Clone, PartialEq, Message)]
pub(super) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub(super) code: i32,
    #[prost(string, tag = "2")]
    pub(super) message: String,
    #[prost(message, repeated, tag = "3")]
    pub(super) details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
pub(super) struct Any {
    #[prost(string, tag = "1")]
    pub(super) type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub(super) value: Vec<u8>,
}

/// The longest piece of a collector's error message quoted in our errors.
const MAX_MESSAGE: usize = 200;

/// The message of an OTLP/HTTP error body (a `google.rpc.Status`, protobuf or JSON), cut to
/// a readable length.
pub(super) fn error_message(body: &[u8], is_json: bool) -> Option<String> {
    let message = if is_json {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        value.get("message")?.as_str()?.to_owned()
    } else {
        RpcStatus::decode(body).ok()?.message
    };
    let message = message.trim();
    if message.is_empty() {
        return None;
    }
    Some(truncate(message, MAX_MESSAGE))
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(super) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::borrow::Cow;
    use std::time::SystemTime;

    fn span() -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
                SpanId::from_hex("b7ad6b7169203331").unwrap(),
                TraceFlags::SAMPLED,
                false,
                Default::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: Cow::Borrowed("checkout"),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: vec![KeyValue::new("order.items", 3_i64)],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    fn resource() -> RequestResource {
        RequestResource::new(
            &Resource::builder_empty()
                .with_attribute(KeyValue::new("service.name", "shop"))
                .build(),
        )
    }

    #[test]
    fn protobuf_round_trips_typed_attributes() {
        let body = protobuf(&[span()], &resource());
        let decoded = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
        let span = &decoded.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.name, "checkout");
        let value = span.attributes[0].value.as_ref().unwrap().value.as_ref();
        assert_eq!(value, Some(&Value::IntValue(3)));
    }

    #[test]
    fn json_uses_hex_ids_and_the_protobuf_mapping() {
        let body = json(&[span()], &resource());
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(
            text.contains(r#""traceId":"0af7651916cd43dd8448eb211c80319c""#),
            "{text}"
        );
        assert!(text.contains(r#""spanId":"b7ad6b7169203331""#), "{text}");
        assert!(text.contains(r#""intValue":"3""#), "{text}");
        assert!(text.contains(r#""kind":2"#), "{text}");
        assert!(text.contains(r#""resourceSpans""#), "{text}");
        let decoded: ExportTraceServiceRequest = serde_json::from_slice(&body).unwrap();
        let span = &decoded.resource_spans[0].scope_spans[0].spans[0];
        let value = span.attributes[0].value.as_ref().unwrap().value.as_ref();
        assert_eq!(value, Some(&Value::IntValue(3)));
    }

    #[test]
    fn gzip_round_trips() {
        let body = b"hello hello hello hello".repeat(10);
        let compressed = gzip(&body).unwrap();
        assert!(compressed.len() < body.len());
        let mut decoder = flate2::read::GzDecoder::new(compressed.as_slice());
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut decoder, &mut out).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn partial_success_is_read_from_either_encoding() {
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 2,
                error_message: "too old".into(),
            }),
        };
        let expected = Some((2, "too old".to_owned()));
        assert_eq!(rejected_spans(&response.encode_to_vec(), false), expected);
        let json = serde_json::to_vec(&response).unwrap();
        assert_eq!(rejected_spans(&json, true), expected);
        assert_eq!(rejected_spans(b"", false), None);
        assert_eq!(rejected_spans(b"{}", true), None);
        // The protobuf JSON mapping writes int64 as a string (the Collector does), and its
        // parsers take the proto field names too.
        let as_mapped = br#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}}"#;
        assert_eq!(rejected_spans(as_mapped, true), expected);
        let proto_names = br#"{"partial_success":{"rejected_spans":2,"error_message":"too old"}}"#;
        assert_eq!(rejected_spans(proto_names, true), expected);
        let message_only = br#"{"partialSuccess":{"errorMessage":"slow down"}}"#;
        assert_eq!(
            rejected_spans(message_only, true),
            Some((0, "slow down".into()))
        );
        assert_eq!(rejected_spans(br#"{"partialSuccess":{}}"#, true), None);
        assert_eq!(rejected_spans(br#"{"partialSuccess":null}"#, true), None);
        let not_a_count = br#"{"partialSuccess":{"rejectedSpans":"many"}}"#;
        assert_eq!(rejected_spans(not_a_count, true), None);
        assert_eq!(rejected_spans(b"<html>", true), None);
        assert_eq!(rejected_spans(b"not protobuf \xff", false), None);
    }

    #[test]
    fn error_messages_are_read_and_cut() {
        let status = RpcStatus {
            code: 3,
            message: "bad span".into(),
            details: vec![],
        };
        assert_eq!(
            error_message(&status.encode_to_vec(), false).as_deref(),
            Some("bad span")
        );
        assert_eq!(
            error_message(br#"{"code":3,"message":"bad json"}"#, true).as_deref(),
            Some("bad json")
        );
        assert_eq!(error_message(b"<html>", true), None);
        let long = "x".repeat(500);
        assert_eq!(truncate(&long, 10), format!("{}…", "x".repeat(10)));
    }
}
