//! The `console` exporter: each span as the JSON document Python's `ConsoleSpanExporter`
//! prints, so tooling and habits built on `opentelemetry-instrument --traces_exporter
//! console` carry over.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceState};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::{Map, Value as Json, json};

/// Writes finished spans as Python-compatible JSON, one document per span, to standard
/// output or any writer.
///
/// # Example
///
/// ```
/// use traced::opentelemetry_sdk::trace::SdkTracerProvider;
/// use traced::ConsoleExporter;
///
/// let provider = SdkTracerProvider::builder()
///     .with_simple_exporter(ConsoleExporter::stdout())
///     .build();
/// # let _ = provider.shutdown();
/// ```
pub struct ConsoleExporter {
    out: Mutex<Box<dyn Write + Send>>,
    resource: Json,
}

impl fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleExporter").finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// An exporter printing to standard output.
    ///
    /// # Example
    ///
    /// ```
    /// let exporter = traced::ConsoleExporter::stdout();
    /// # let _ = exporter;
    /// ```
    pub fn stdout() -> Self {
        Self::to_writer(io::stdout())
    }

    /// An exporter writing to `out`, e.g. a file or a buffer in a test.
    ///
    /// # Example
    ///
    /// ```
    /// let exporter = traced::ConsoleExporter::to_writer(std::io::stderr());
    /// # let _ = exporter;
    /// ```
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        Self {
            out: Mutex::new(Box::new(out)),
            resource: resource_json(&Resource::builder_empty().build()),
        }
    }
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut text = Vec::new();
        for span in &batch {
            write_pretty(&mut text, &span_json(span, &self.resource))
                .map_err(|err| OTelSdkError::InternalFailure(err.to_string()))?;
            text.push(b'\n');
        }
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        out.write_all(&text)
            .and_then(|()| out.flush())
            .map_err(|err| OTelSdkError::InternalFailure(format!("console exporter: {err}")))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource_json(resource);
    }
}

/// Python's `json.dumps(indent=4)` layout.
fn write_pretty(out: &mut Vec<u8>, value: &Json) -> serde_json::Result<()> {
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(out, formatter);
    serde::Serialize::serialize(value, &mut serializer)
}

/// One span as Python's `ReadableSpan.to_json()` lays it out.
pub(crate) fn span_json(span: &SpanData, resource: &Json) -> Json {
    let parent_id = if span.parent_span_id == SpanId::INVALID {
        Json::Null
    } else {
        Json::String(format!("0x{}", span.parent_span_id))
    };
    json!({
        "name": span.name,
        "context": context_json(&span.span_context),
        "kind": kind_name(&span.span_kind),
        "parent_id": parent_id,
        "start_time": timestamp(span.start_time),
        "end_time": timestamp(span.end_time),
        "status": status_json(&span.status),
        "attributes": attributes_json(&span.attributes),
        "events": span.events.iter().map(|event| json!({
            "name": event.name,
            "timestamp": timestamp(event.timestamp),
            "attributes": attributes_json(&event.attributes),
        })).collect::<Vec<_>>(),
        "links": span.links.iter().map(|link| json!({
            "context": context_json(&link.span_context),
            "attributes": attributes_json(&link.attributes),
        })).collect::<Vec<_>>(),
        "resource": resource,
    })
}

fn context_json(context: &SpanContext) -> Json {
    json!({
        "trace_id": format!("0x{}", context.trace_id()),
        "span_id": format!("0x{}", context.span_id()),
        "trace_state": trace_state_repr(context.trace_state()),
    })
}

/// Python's `repr(TraceState)`: `[]`, or `['{key=k, value=v}', ...]`.
fn trace_state_repr(state: &TraceState) -> String {
    let header = state.header();
    let pairs: Vec<String> = header
        .split(',')
        .filter_map(|member| member.split_once('='))
        .map(|(key, value)| format!("'{{key={key}, value={value}}}'"))
        .collect();
    format!("[{}]", pairs.join(", "))
}

fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "SpanKind.CLIENT",
        SpanKind::Server => "SpanKind.SERVER",
        SpanKind::Producer => "SpanKind.PRODUCER",
        SpanKind::Consumer => "SpanKind.CONSUMER",
        SpanKind::Internal => "SpanKind.INTERNAL",
    }
}

fn status_json(status: &Status) -> Json {
    match status {
        Status::Unset => json!({ "status_code": "UNSET" }),
        Status::Ok => json!({ "status_code": "OK" }),
        Status::Error { description } => {
            json!({ "status_code": "ERROR", "description": description })
        }
    }
}

/// Microsecond ISO 8601 in UTC, as Python prints it.
fn timestamp(time: SystemTime) -> String {
    humantime::format_rfc3339_micros(time).to_string()
}

fn attributes_json<'a>(attributes: impl IntoIterator<Item = &'a KeyValue>) -> Json {
    let map: Map<String, Json> = attributes
        .into_iter()
        .map(|kv| (kv.key.as_str().to_owned(), value_json(&kv.value)))
        .collect();
    Json::Object(map)
}

fn resource_json(resource: &Resource) -> Json {
    // The SDK keeps the resource in a hash map: sorted, the output is the same every run.
    let mut attributes: Vec<_> = resource.iter().collect();
    attributes.sort_by(|(a, _), (b, _)| a.as_str().cmp(b.as_str()));
    let map: Map<String, Json> = attributes
        .into_iter()
        .map(|(key, value)| (key.as_str().to_owned(), value_json(value)))
        .collect();
    json!({
        "attributes": map,
        "schema_url": resource.schema_url().unwrap_or_default(),
    })
}

/// Numbers as numbers, arrays as lists: the typed values, not their strings.
pub(crate) fn value_json(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::I64(i) => Json::from(*i),
        Value::F64(f) => Json::from(*f),
        Value::String(s) => Json::String(s.as_str().to_owned()),
        Value::Array(Array::Bool(items)) => Json::from(items.clone()),
        Value::Array(Array::I64(items)) => Json::from(items.clone()),
        Value::Array(Array::F64(items)) => Json::from(items.clone()),
        Value::Array(Array::String(items)) => Json::Array(
            items
                .iter()
                .map(|s| Json::String(s.as_str().to_owned()))
                .collect(),
        ),
        // Value types added by later OpenTelemetry releases print as their text.
        #[allow(unreachable_patterns)]
        other => Json::String(other.to_string()),
    }
}
