//! The human-readable console view: one trace at a time, children indented under their
//! parents, with durations, status and the attributes that matter.
//!
//! ```text
//! trace 4af81288f0df9139e194237f46d5243d · orders
//! place_order SERVER 2.41ms order_id=42
//! ├─ publish PRODUCER 0.04ms order_id=42
//! └─ consume CONSUMER 2.20ms ✗ item 7 is out of stock  order_id=42
//!    └─ Warehouse::reserve 0.01ms ✗ item 7 is out of stock  item=7 quantity=9
//! ```
//!
//! Spans arrive as they end, children before parents. A trace is printed when its local
//! root ends (a span without a parent, or whose remote parent is not from this process);
//! spans that end after that (detached tasks) print on their own later.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_semantic_conventions::resource::SERVICE_NAME;

use super::console::value_json;

/// Spans of one trace kept while waiting for its root; past this a trace prints as it is.
const MAX_PENDING_SPANS: usize = 10_000;

/// Writes finished traces as indented trees, one trace at a time.
///
/// # Example
///
/// ```
/// use traced::opentelemetry_sdk::trace::SdkTracerProvider;
/// use traced::ConsoleTreeExporter;
///
/// let provider = SdkTracerProvider::builder()
///     .with_simple_exporter(ConsoleTreeExporter::to_writer(std::io::stderr()))
///     .build();
/// # let _ = provider.shutdown();
/// ```
pub struct ConsoleTreeExporter {
    state: Mutex<State>,
    service: String,
}

struct State {
    out: Box<dyn Write + Send>,
    pending: HashMap<TraceId, Vec<SpanData>>,
    pending_spans: usize,
}

impl fmt::Debug for ConsoleTreeExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleTreeExporter")
            .finish_non_exhaustive()
    }
}

impl ConsoleTreeExporter {
    /// Prints to standard output.
    ///
    /// # Example
    ///
    /// ```
    /// let exporter = traced::ConsoleTreeExporter::stdout();
    /// # let _ = exporter;
    /// ```
    pub fn stdout() -> Self {
        Self::to_writer(io::stdout())
    }

    /// Writes to `out`.
    ///
    /// # Example
    ///
    /// ```
    /// let exporter = traced::ConsoleTreeExporter::to_writer(Vec::new());
    /// # let _ = exporter;
    /// ```
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        let state = State {
            out: Box::new(out),
            pending: HashMap::new(),
            pending_spans: 0,
        };
        Self {
            state: Mutex::new(state),
            service: String::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SpanExporter for ConsoleTreeExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut state = self.lock();
        let mut text = String::new();
        for span in batch {
            let trace_id = span.span_context.trace_id();
            // A remote parent that ended here already (a producer in this process) is local.
            let parent_here = state.pending.get(&trace_id).is_some_and(|spans| {
                spans
                    .iter()
                    .any(|seen| seen.span_context.span_id() == span.parent_span_id)
            });
            let is_local_root = span.parent_span_id == SpanId::INVALID
                || (span.parent_span_is_remote && !parent_here);
            state.pending_spans += 1;
            state.pending.entry(trace_id).or_default().push(span);
            if is_local_root || state.pending_spans > MAX_PENDING_SPANS {
                if let Some(spans) = state.pending.remove(&trace_id) {
                    state.pending_spans -= spans.len();
                    render_trace(&mut text, trace_id, &self.service, spans);
                }
            }
        }
        write_out(&mut state, &text)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let mut state = self.lock();
        let mut text = String::new();
        let pending: Vec<_> = state.pending.drain().collect();
        state.pending_spans = 0;
        for (trace_id, spans) in pending {
            render_trace(&mut text, trace_id, &self.service, spans);
        }
        write_out(&mut state, &text)
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.service = resource
            .get(&SERVICE_NAME.into())
            .map(|name| name.to_string())
            .unwrap_or_default();
    }
}

fn write_out(state: &mut State, text: &str) -> OTelSdkResult {
    if text.is_empty() {
        return Ok(());
    }
    state
        .out
        .write_all(text.as_bytes())
        .and_then(|()| state.out.flush())
        .map_err(|err| OTelSdkError::InternalFailure(format!("console exporter: {err}")))
}

/// Appends one trace, roots first, children under their parents by start time.
fn render_trace(out: &mut String, trace_id: TraceId, service: &str, mut spans: Vec<SpanData>) {
    spans.sort_by_key(|span| span.start_time);
    let _ = writeln!(out, "trace {trace_id} · {service}");
    let ids: Vec<SpanId> = spans
        .iter()
        .map(|span| span.span_context.span_id())
        .collect();
    let roots = spans
        .iter()
        .filter(|span| !ids.contains(&span.parent_span_id));
    for root in roots {
        render_span(out, &spans, root, "", None);
    }
}

/// `last`: `None` for a root, else whether the span is its parent's last child.
fn render_span(
    out: &mut String,
    spans: &[SpanData],
    span: &SpanData,
    indent: &str,
    last: Option<bool>,
) {
    let (branch, child_indent) = match last {
        None => ("", String::new()),
        Some(true) => ("└─ ", format!("{indent}   ")),
        Some(false) => ("├─ ", format!("{indent}│  ")),
    };
    let _ = write!(out, "{indent}{branch}{}", span.name);
    if span.span_kind != SpanKind::Internal {
        let _ = write!(out, " {}", kind_label(&span.span_kind));
    }
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let _ = write!(out, " {:.2}ms", duration.as_secs_f64() * 1000.0);
    if let Status::Error { description } = &span.status {
        let _ = write!(out, " ✗ {description} ");
    }
    for KeyValue { key, value, .. } in span
        .attributes
        .iter()
        .filter(|kv| !kv.key.as_str().starts_with("code."))
    {
        let _ = write!(out, " {key}={}", value_json(value));
    }
    out.push('\n');
    let id = span.span_context.span_id();
    let children: Vec<&SpanData> = spans
        .iter()
        .filter(|child| child.parent_span_id == id)
        .collect();
    for (index, child) in children.iter().enumerate() {
        render_span(
            out,
            spans,
            child,
            &child_indent,
            Some(index + 1 == children.len()),
        );
    }
}

fn kind_label(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "CLIENT",
        SpanKind::Server => "SERVER",
        SpanKind::Producer => "PRODUCER",
        SpanKind::Consumer => "CONSUMER",
        SpanKind::Internal => "INTERNAL",
    }
}
