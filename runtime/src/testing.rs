//! Testing instrumented code: capture the spans a closure or future finishes, then assert on
//! them as a tree. Feature `testing`.
//!
//! Every capture runs under its own trace (a fresh remote parent), so tests running in
//! parallel in one process see only their own spans.
//!
//! # Example
//!
//! ```
//! use traced::testing;
//!
//! #[traced::traced]
//! fn child(n: i64) -> i64 { n * 2 }
//!
//! #[traced::traced]
//! fn parent() -> i64 { child(21) }
//!
//! let (answer, spans) = testing::capture(parent);
//! assert_eq!(answer, 42);
//! let child = spans.one("child");
//! assert_eq!(spans.parent_of(child).map(|p| p.name.as_ref()), Some("parent"));
//! assert_eq!(testing::attribute(child, "n"), Some(&traced::opentelemetry::Value::I64(21)));
//! ```

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    SdkTracerProvider, SpanData, SpanExporter, SpanLimits, SpanProcessor,
};

use crate::config::default_sampler;
use crate::installed;
use crate::pipeline::sink::{EndedSpanProcessor, SinkBuilder};

/// Keeps finished spans in memory: use it as a span processor (synchronous, no executor
/// involved, so spans may end anywhere, even inside another executor's `block_on`) or as an
/// exporter behind any processor.
///
/// # Example
///
/// ```
/// use traced::opentelemetry_sdk::trace::SdkTracerProvider;
/// use traced::testing::InMemoryExporter;
///
/// let exporter = InMemoryExporter::default();
/// let provider = SdkTracerProvider::builder().with_span_processor(exporter.clone()).build();
/// # let _ = provider;
/// assert!(exporter.finished_spans().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryExporter {
    spans: Arc<Mutex<Vec<SpanData>>>,
}

impl InMemoryExporter {
    /// Every span exported so far.
    ///
    /// # Example
    ///
    /// ```
    /// let spans = traced::testing::InMemoryExporter::default().finished_spans();
    /// assert!(spans.is_empty());
    /// ```
    pub fn finished_spans(&self) -> Vec<SpanData> {
        self.lock().clone()
    }

    /// Removes and returns the spans of one trace.
    fn take_trace(&self, trace_id: TraceId) -> Vec<SpanData> {
        let mut spans = self.lock();
        let (taken, kept) = spans
            .drain(..)
            .partition(|span| span.span_context.trace_id() == trace_id);
        *spans = kept;
        taken
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SpanData>> {
        self.spans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SpanExporter for InMemoryExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.lock().extend(batch);
        Ok(())
    }
}

impl SpanProcessor for InMemoryExporter {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.lock().push(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        Ok(())
    }
}

impl EndedSpanProcessor for InMemoryExporter {}

/// Installs (once per process) a provider exporting synchronously into memory, and returns
/// its exporter. Every `capture` uses it.
///
/// # Example
///
/// ```
/// let exporter = traced::testing::install();
/// assert!(traced::is_enabled());
/// # let _ = exporter;
/// ```
pub fn install() -> &'static InMemoryExporter {
    static EXPORTER: OnceLock<InMemoryExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemoryExporter::default();
        // Built as `traced::init()` builds its pipeline, so tests run the same path.
        let sampler = default_sampler();
        let resource = Resource::builder().build();
        let mut sink = SinkBuilder::new(resource.clone());
        let provider = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(sampler.sampler.clone())
            .with_span_processor(sink.share(exporter.clone()))
            .build();
        let sink = sink.build(SpanLimits::default());
        installed::set_pipeline_provider(provider, sampler, sink);
        exporter
    })
}

/// Runs `f` under a fresh sampled trace and returns its result with the spans it finished.
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn work() {}
///
/// let ((), spans) = traced::testing::capture(work);
/// assert_eq!(spans.names(), ["work"]);
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Spans) {
    capture_with_flags(TraceFlags::SAMPLED, f)
}

/// Like [`capture`], under a trace whose remote parent is *not* sampled: with the default
/// parent-based sampler nothing inside records.
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn work() {}
///
/// let ((), spans) = traced::testing::capture_unsampled(work);
/// assert!(spans.is_empty());
/// ```
pub fn capture_unsampled<R>(f: impl FnOnce() -> R) -> (R, Spans) {
    capture_with_flags(TraceFlags::NOT_SAMPLED, f)
}

fn capture_with_flags<R>(flags: TraceFlags, f: impl FnOnce() -> R) -> (R, Spans) {
    let exporter = install();
    let (cx, trace_id) = fresh_parent(flags);
    let result = {
        let _attached = cx.attach();
        f()
    };
    (result, Spans::new(exporter.take_trace(trace_id)))
}

/// Awaits `future` under a fresh sampled trace and returns its output with the spans it
/// finished.
///
/// # Example
///
/// ```
/// #[traced::traced]
/// async fn fetch() -> u8 { 7 }
///
/// let (value, spans) = futures::executor::block_on(traced::testing::capture_future(fetch()));
/// assert_eq!(value, 7);
/// assert_eq!(spans.names(), ["fetch"]);
/// ```
pub async fn capture_future<F: Future>(future: F) -> (F::Output, Spans) {
    let exporter = install();
    let (cx, trace_id) = fresh_parent(TraceFlags::SAMPLED);
    let output = future.with_context(cx).await;
    (output, Spans::new(exporter.take_trace(trace_id)))
}

/// A context whose span is a remote parent with a new random trace id.
fn fresh_parent(flags: TraceFlags) -> (Context, TraceId) {
    let mut bytes = [0u8; 24];
    fill_random(&mut bytes);
    let [t @ .., s0, s1, s2, s3, s4, s5, s6, s7] = bytes;
    let trace_id = TraceId::from_bytes(t);
    let span_id = SpanId::from_bytes([s0, s1, s2, s3, s4, s5, s6, s7]);
    let parent = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
    (Context::new().with_remote_span_context(parent), trace_id)
}

/// Random enough to keep concurrent captures apart: a hash of time, a counter and the
/// thread, through the standard library's randomly keyed hasher.
fn fill_random(bytes: &mut [u8]) {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    for chunk in bytes.chunks_mut(8) {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let word = hasher.finish().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

/// The spans one capture finished, in the order they ended.
#[derive(Debug)]
pub struct Spans {
    spans: Vec<SpanData>,
}

impl Spans {
    fn new(spans: Vec<SpanData>) -> Self {
        Self { spans }
    }

    /// Whether no span finished.
    ///
    /// # Example
    ///
    /// ```
    /// let ((), spans) = traced::testing::capture(|| ());
    /// assert!(spans.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// All spans, in the order they ended.
    ///
    /// # Example
    ///
    /// ```
    /// let ((), spans) = traced::testing::capture(|| ());
    /// assert_eq!(spans.all().len(), 0);
    /// ```
    pub fn all(&self) -> &[SpanData] {
        &self.spans
    }

    /// The span names, in the order the spans ended.
    ///
    /// # Example
    ///
    /// ```
    /// let ((), spans) = traced::testing::capture(|| ());
    /// assert!(spans.names().is_empty());
    /// ```
    pub fn names(&self) -> Vec<&str> {
        self.spans.iter().map(|span| span.name.as_ref()).collect()
    }

    /// Every span named `name`.
    ///
    /// # Example
    ///
    /// ```
    /// let ((), spans) = traced::testing::capture(|| ());
    /// assert!(spans.named("missing").is_empty());
    /// ```
    pub fn named(&self, name: &str) -> Vec<&SpanData> {
        self.spans.iter().filter(|span| span.name == name).collect()
    }

    /// The one span named `name`.
    ///
    /// # Panics
    ///
    /// When there is no such span or more than one, with the tree in the message.
    ///
    /// # Example
    ///
    /// ```
    /// #[traced::traced]
    /// fn work() {}
    /// let ((), spans) = traced::testing::capture(work);
    /// assert_eq!(spans.one("work").name, "work");
    /// ```
    pub fn one(&self, name: &str) -> &SpanData {
        match self.named(name).as_slice() {
            [span] => span,
            found => panic!(
                "expected one span named {name:?}, found {}:\n{}",
                found.len(),
                self.tree()
            ),
        }
    }

    /// The parent of `span` among the captured spans; `None` for the capture's top level.
    ///
    /// # Example
    ///
    /// ```
    /// #[traced::traced]
    /// fn work() {}
    /// let ((), spans) = traced::testing::capture(work);
    /// assert!(spans.parent_of(spans.one("work")).is_none());
    /// ```
    pub fn parent_of(&self, span: &SpanData) -> Option<&SpanData> {
        self.spans
            .iter()
            .find(|candidate| candidate.span_context.span_id() == span.parent_span_id)
    }

    /// The children of `span`, in the order they ended.
    ///
    /// # Example
    ///
    /// ```
    /// #[traced::traced]
    /// fn work() {}
    /// let ((), spans) = traced::testing::capture(work);
    /// assert!(spans.children_of(spans.one("work")).is_empty());
    /// ```
    pub fn children_of(&self, span: &SpanData) -> Vec<&SpanData> {
        let id = span.span_context.span_id();
        self.spans
            .iter()
            .filter(|child| child.parent_span_id == id)
            .collect()
    }

    /// The spans whose parent is not among the captured ones.
    ///
    /// # Example
    ///
    /// ```
    /// #[traced::traced]
    /// fn work() {}
    /// let ((), spans) = traced::testing::capture(work);
    /// assert_eq!(spans.roots().len(), 1);
    /// ```
    pub fn roots(&self) -> Vec<&SpanData> {
        self.spans
            .iter()
            .filter(|span| self.parent_of(span).is_none())
            .collect()
    }

    /// An indented outline of the tree (names and start order), for failure messages.
    ///
    /// # Example
    ///
    /// ```
    /// #[traced::traced]
    /// fn work() {}
    /// let ((), spans) = traced::testing::capture(work);
    /// assert_eq!(spans.tree(), "work\n");
    /// ```
    pub fn tree(&self) -> String {
        let mut out = String::new();
        let mut roots = self.roots();
        roots.sort_by_key(|span| span.start_time);
        for root in roots {
            self.outline(root, 0, &mut out);
        }
        out
    }

    fn outline(&self, span: &SpanData, depth: usize, out: &mut String) {
        out.push_str(&"  ".repeat(depth));
        out.push_str(&span.name);
        out.push('\n');
        let mut children = self.children_of(span);
        children.sort_by_key(|child| child.start_time);
        for child in children {
            self.outline(child, depth + 1, out);
        }
    }
}

/// The value of attribute `key` on `span`.
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn work(n: u8) {}
/// let ((), spans) = traced::testing::capture(|| work(3));
/// assert_eq!(traced::testing::attribute(spans.one("work"), "n"), Some(&traced::opentelemetry::Value::I64(3)));
/// ```
pub fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The events of `span` named `name`, with their attributes as `(key, value)` lookups.
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn work() { traced::current_span().add_event("step", []); }
/// let ((), spans) = traced::testing::capture(work);
/// assert_eq!(traced::testing::events(spans.one("work"), "step").len(), 1);
/// ```
pub fn events<'a>(span: &'a SpanData, name: &str) -> Vec<&'a opentelemetry::trace::Event> {
    span.events
        .iter()
        .filter(|event| event.name == name)
        .collect()
}

/// The value of attribute `key` on `event`.
///
/// # Example
///
/// ```
/// use traced::KeyValue;
/// #[traced::traced]
/// fn work() { traced::current_span().add_event("step", [KeyValue::new("n", 1)]); }
/// let ((), spans) = traced::testing::capture(work);
/// let step = traced::testing::events(spans.one("work"), "step")[0];
/// assert_eq!(traced::testing::event_attribute(step, "n"), Some(&traced::opentelemetry::Value::I64(1)));
/// ```
pub fn event_attribute<'a>(event: &'a opentelemetry::trace::Event, key: &str) -> Option<&'a Value> {
    event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}
