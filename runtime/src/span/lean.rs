//! The span `#[traced]` builds for a sampled call with `traced`'s own pipeline, and the
//! pipeline's tracers build for the OpenTelemetry API ([`super::tracer`]): an
//! OpenTelemetry [`Span`] implemented here rather than by the SDK tracer.
//!
//! The SDK tracer would sample a second time, draw its own ids, clone itself (a shared
//! reference count every span touches) and copy its scope into every span; this span holds
//! only what is exported, keeps the provider's span limits, and ends straight into the
//! processors of the installed pipeline ([`crate::pipeline::sink`]), the same ones the SDK's
//! spans end in. The OpenTelemetry API sees it like any span: in the context, as the parent
//! of the spans it starts, with attributes, events, links and status.
//!
//! Its attributes, short text values included ([`super::recorded`]), are kept inline in its
//! [`SpanRecord`], and it becomes [`SpanData`] only where a processor needs it: the batch
//! processor queues the record itself, and on its export thread the exporter converts it,
//! or reads it as it is (the OTLP exporter writes protobuf straight from it). The
//! application's thread then allocates no vector the export thread frees, which matters:
//! with glibc's allocator, memory allocated on one thread and freed on another makes both
//! fight over the first thread's arena lock (a quarter of a sampled call's time went to that
//! futex before). Recycling the records through the export thread instead was tried and is
//! slower: a record coming back from the other core is cold in this core's cache.

use std::borrow::Cow;
use std::mem;
use std::time::SystemTime;

#[cfg(feature = "otlp")]
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::{
    Event, Link, Span, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLimits, SpanLinks};
use smallvec::SmallVec;

use super::Recorder;
use super::in_place::filled;
use super::lent;
use super::record_box;
use super::recorded::RecordedAttribute;
use super::scope::SpanScope;
use crate::callsite::CodeAttributes;
use crate::clock::{self, EndMarker, Timestamp};
use crate::installed;

/// How many attributes a span keeps without allocating, besides its call site's `code.*`
/// ones: arguments, fields, and attributes set by hand.
const INLINE_ATTRIBUTES: usize = 5;

/// A span's attributes, inline up to [`INLINE_ATTRIBUTES`] (and short text inline in them).
pub(crate) type Attributes = SmallVec<[RecordedAttribute; INLINE_ATTRIBUTES]>;

/// Everything a span records, until a processor makes it [`SpanData`] or an exporter
/// reads it directly (the OTLP protobuf encoder).
#[derive(Clone, Debug)]
pub(crate) struct SpanRecord {
    pub(crate) span_context: SpanContext,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_span_is_remote: bool,
    pub(crate) kind: SpanKind,
    pub(crate) name: Cow<'static, str>,
    /// Read from [`crate::clock`], made wall-clock time when exported.
    pub(crate) start_time: Timestamp,
    pub(crate) end_time: Timestamp,
    /// The call site's `code.*` attributes, the first ones exported: referred to, not
    /// copied, until the span is exported (the OTLP exporter copies their protobuf, written
    /// once per call site).
    pub(crate) code: Option<&'static CodeAttributes>,
    pub(crate) attributes: Attributes,
    pub(crate) dropped_attributes_count: u32,
    pub(crate) events: SpanEvents,
    pub(crate) links: SpanLinks,
    pub(crate) status: Status,
    /// The scope of the tracer that started it, or `traced`'s own.
    pub(crate) scope: SpanScope,
}

impl SpanRecord {
    fn attribute_count(&self) -> usize {
        self.code.map_or(0, |code| code.attributes().len()) + self.attributes.len()
    }

    /// Moves the call site's attributes into [`Self::attributes`], at its start, so that
    /// they can be cut or replaced like any other.
    pub(crate) fn own_code_attributes(&mut self) {
        if let Some(code) = self.code.take() {
            let code = code
                .attributes()
                .iter()
                .cloned()
                .map(RecordedAttribute::from);
            self.attributes.insert_many(0, code);
        }
    }

    /// Keeps the first `limit` attributes, the call site's first, and counts the others.
    fn limit_attributes(&mut self, mut limit: usize) {
        let code = self.code.map_or(0, |code| code.attributes().len());
        if limit >= code {
            limit -= code;
        } else {
            // A limit below the call site's own attributes: they are cut like any other.
            self.own_code_attributes();
        }
        self.dropped_attributes_count = count(self.attributes.len().saturating_sub(limit));
        self.attributes.truncate(limit);
    }

    /// The instrumentation scope it is exported under.
    #[cfg(feature = "otlp")]
    pub(crate) fn scope(&self) -> &InstrumentationScope {
        self.scope.get()
    }

    /// Whether the span is sampled (exported), not only recorded.
    pub(crate) fn is_sampled(&self) -> bool {
        self.span_context.is_sampled()
    }

    /// The call site's attributes, then the others.
    fn exported_attributes(&mut self) -> Vec<KeyValue> {
        let code = self
            .code
            .map_or(&[][..], |code| code.attributes().as_slice());
        let mut attributes = Vec::with_capacity(code.len() + self.attributes.len());
        attributes.extend(code.iter().map(clone_static));
        let recorded = self.attributes.drain(..);
        attributes.extend(recorded.map(RecordedAttribute::into_key_value));
        attributes
    }

    /// The span as exporters take it.
    pub(crate) fn into_span_data(mut self) -> SpanData {
        self.take_span_data()
    }

    /// The span as exporters take it, its contents moved out: what is left owns nothing
    /// (the batch processor's queue, where the record stays, drops it afterwards).
    pub(crate) fn take_span_data(&mut self) -> SpanData {
        // First: the scope comes back through memory, and copying it into place as soon as
        // it is written reads it in wider loads than it was written with (a stall).
        let instrumentation_scope = mem::replace(&mut self.scope, SpanScope::Traced).into_owned();
        let (start_time, end_time) = clock::span_times(self.start_time, self.end_time);
        SpanData {
            attributes: self.exported_attributes(),
            span_context: mem::replace(&mut self.span_context, SpanContext::NONE),
            parent_span_id: self.parent_span_id,
            parent_span_is_remote: self.parent_span_is_remote,
            span_kind: self.kind.clone(),
            name: mem::take(&mut self.name),
            start_time,
            end_time,
            dropped_attributes_count: self.dropped_attributes_count,
            events: mem::take(&mut self.events),
            links: mem::take(&mut self.links),
            status: mem::take(&mut self.status),
            instrumentation_scope,
        }
    }
}

#[cfg(test)]
impl SpanRecord {
    /// A record named `name` with `span_context`, no attributes, ended when it started.
    pub(crate) fn empty(name: &'static str, span_context: SpanContext) -> Self {
        Self {
            span_context,
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            kind: SpanKind::Internal,
            name: Cow::Borrowed(name),
            start_time: Timestamp::Wall(SystemTime::UNIX_EPOCH),
            end_time: Timestamp::Wall(SystemTime::UNIX_EPOCH),
            code: None,
            attributes: Attributes::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            scope: SpanScope::Traced,
        }
    }
}

/// A copy of `attribute`, which lives as long as the program (a call site's `code.*`
/// attributes): its text is referred to, not copied.
///
/// Built from its parts where it is kept, rather than through `KeyValue::clone`, whose
/// out-of-line `Value::clone` returned the value through memory, read back at once in wider
/// loads (`perf annotate`: 9 % of the export thread; three alternating throughput runs: the
/// export thread 229–231 → 205–208 ns a span, one producer).
#[inline(always)]
fn clone_static(attribute: &'static KeyValue) -> KeyValue {
    let value = match &attribute.value {
        Value::String(text) => Value::String(StringValue::from(text.as_str())),
        Value::I64(number) => Value::I64(*number),
        other => other.clone(),
    };
    KeyValue::new(Key::from_static_str(attribute.key.as_str()), value)
}

/// How a span starts: everything known before it starts, but its attributes.
///
/// The span context comes in its parts, put together where the record keeps it: a whole
/// `SpanContext` built first and moved here was read back in wider loads than it was
/// written with (a store-forwarding stall, by `perf annotate`). The links and the sampler's
/// attributes are borrowed for the same reason: two vectors moved in (almost always empty)
/// were read back that way too, half of `LeanSpan::start`'s samples and 10–15 ns of a
/// sampled call (alternating runs).
pub(crate) struct SpanStart<'a> {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) trace_flags: TraceFlags,
    pub(crate) trace_state: TraceState,
    pub(crate) parent: &'a SpanContext,
    pub(crate) kind: SpanKind,
    pub(crate) name: &'static str,
    pub(crate) code: &'static CodeAttributes,
    /// Taken only if there are any.
    pub(crate) links: Option<&'a mut Vec<Link>>,
    pub(crate) limits: SpanLimits,
    /// Recorded after the arguments, as the SDK records them.
    pub(crate) sampler_attributes: &'a mut Vec<KeyValue>,
}

/// How a span the OpenTelemetry API or an integration asked for starts: everything but its
/// attributes, sampled already ([`super::tracer`]).
pub(crate) struct ApiStart<'a> {
    pub(crate) span_context: SpanContext,
    /// The parent's span context; an invalid one makes a root.
    pub(crate) parent: &'a SpanContext,
    pub(crate) kind: SpanKind,
    pub(crate) name: Cow<'static, str>,
    /// The time the application gave, else now. The API's tracers read [`clock::now`]
    /// (the counter costs a third of the system clock): the API then ends the span when its
    /// last context drops ([`LeanSpan`]'s `Drop`, on the same clock) or through
    /// `SpanRef::end`, at a time it reads from the system clock ([`clock::span_times`]
    /// keeps the two in order). The integrations, generic, read the system clock (see
    /// [`clock::now`] for why).
    pub(crate) start_time: Timestamp,
    pub(crate) events: Vec<Event>,
    pub(crate) links: Vec<Link>,
    pub(crate) scope: SpanScope,
    pub(crate) limits: SpanLimits,
}

/// A recording span of `traced`'s pipeline; ending it (or dropping it unended) hands it to
/// the installed pipeline's processors.
#[derive(Debug)]
pub(crate) struct LeanSpan {
    /// Also in the record; kept here for after the span ended.
    span_context: SpanContext,
    /// Boxed, so that handing the ended span on moves a pointer. `None` once ended.
    record: Option<Box<SpanRecord>>,
    limits: SpanLimits,
}

impl LeanSpan {
    /// Starts the span now with the attributes `record` adds (and the name it gives, if
    /// any), keeping what `limits` allow of them and of the links.
    ///
    /// The record is built empty in its box ([`filled`]: whatever calls out is computed
    /// first; `SpanContext::new` is a plain constructor, inlined, so the span context is put
    /// together there from its parts), and `record` fills it there: built on the stack and
    /// moved, its 528 bytes were copied four times (17 % of a sampled call on the
    /// application's thread, by `perf`); built on the stack and boxed, once (7–11 ns).
    ///
    /// Inlined into its one caller, `start::own`: returned from a call, the span (written in
    /// 8-byte stores) was read back at once in 16-byte loads to move it into the closure that
    /// puts it in a context, a store-forwarding stall (22 % of `start::own` by `perf
    /// annotate`; eight alternating runs: 197–207 → 190–193 ns a sampled call).
    #[inline(always)]
    pub(crate) fn start(start: SpanStart<'_>, record: &mut dyn FnMut(&mut Recorder<'_>)) -> Self {
        let SpanStart {
            trace_id,
            span_id,
            trace_flags,
            trace_state,
            parent,
            kind,
            name,
            code,
            links,
            limits,
            sampler_attributes,
        } = start;
        let parent_span_id = parent.span_id();
        let parent_span_is_remote = parent.is_valid() && parent.is_remote();
        let mut span = filled(
            record_box::new(),
            SpanRecord {
                span_context: SpanContext::new(trace_id, span_id, trace_flags, false, trace_state),
                parent_span_id,
                parent_span_is_remote,
                kind,
                name: Cow::Borrowed(name),
                start_time: Timestamp::Wall(SystemTime::UNIX_EPOCH),
                end_time: Timestamp::Wall(SystemTime::UNIX_EPOCH),
                code: Some(code),
                attributes: Attributes::new(),
                dropped_attributes_count: 0,
                events: SpanEvents::default(),
                links: SpanLinks::default(),
                status: Status::Unset,
                scope: SpanScope::Traced,
            },
        );
        if let Some(links) = links {
            span.links = limited_links(std::mem::take(links), &limits);
        }
        let mut recorder = Recorder::new(&mut span.attributes);
        record(&mut recorder);
        for attribute in sampler_attributes.drain(..) {
            recorder.record_attribute(attribute);
        }
        if let Some(name) = recorder.into_name() {
            span.name = Cow::Owned(name);
        }
        span.limit_attributes(limits.max_attributes_per_span as usize);
        let start_time = clock::now();
        span.start_time = start_time;
        span.end_time = start_time;
        Self {
            span_context: span.span_context.clone(),
            record: Some(span),
            limits,
        }
    }

    /// Starts the span the OpenTelemetry API (or an integration) asked for, as the SDK
    /// would build it: the attributes `record` writes (the sampler's, which the SDK records
    /// after the others, last), events and links kept within the limits. Inlined into its two
    /// callers, which then build no `ApiStart` to hand over: out of line, the API's sampled
    /// spans measured 12–15 ns slower (alternating runs of `otel_api/sampled`).
    #[inline(always)]
    pub(crate) fn started(start: ApiStart<'_>, record: impl FnOnce(&mut Attributes)) -> Self {
        let ApiStart {
            span_context,
            parent,
            kind,
            name,
            start_time,
            events,
            links,
            scope,
            limits,
        } = start;
        let events = limited_events(events, &limits);
        let links = limited_links(links, &limits);
        // An invalid parent (none, or one the API made invalid) makes a root.
        let (parent_span_id, parent_span_is_remote) = if parent.is_valid() {
            (parent.span_id(), parent.is_remote())
        } else {
            (SpanId::INVALID, false)
        };
        let recorded_context = span_context.clone();
        let mut span = filled(
            record_box::new(),
            SpanRecord {
                span_context: recorded_context,
                parent_span_id,
                parent_span_is_remote,
                kind,
                name,
                start_time,
                end_time: start_time,
                code: None,
                attributes: Attributes::new(),
                dropped_attributes_count: 0,
                events,
                links,
                status: Status::Unset,
                scope,
            },
        );
        record(&mut span.attributes);
        span.limit_attributes(limits.max_attributes_per_span as usize);
        Self {
            span_context,
            record: Some(span),
            limits,
        }
    }

    /// The span's record, taken: the span then ends nowhere (tests read what it recorded).
    #[cfg(all(test, any(feature = "http-server", feature = "reqwest")))]
    pub(crate) fn into_record(mut self) -> Option<Box<SpanRecord>> {
        self.record.take()
    }

    /// A span that records nothing: what the OpenTelemetry API gets for a span sampled
    /// out, or where telemetry is suppressed (`span_context` empty then).
    pub(crate) fn not_recording(span_context: SpanContext, limits: SpanLimits) -> Self {
        Self {
            span_context,
            record: None,
            limits,
        }
    }

    /// Hands the ended span to the pipeline installed now; with none (after shutdown) it
    /// is dropped, as the SDK drops spans ending after its provider shut down.
    #[inline(always)]
    pub(super) fn hand_on(record: Box<SpanRecord>) {
        installed::with_installed(move |installed| {
            if let Some(own) = &installed.own {
                own.sink.end(record);
            }
        });
    }
}

/// [`RecordedAttribute::push_given`] out of line, for an attribute set through the API on a
/// started span: inlined into `LeanSpan::set_attribute`, a sampled API call setting three
/// measured 20–25 ns slower, where the builder's attributes, in a loop, gain about as much
/// from it inlined (alternating runs of `otel_api/sampled`, sync and async).
#[inline(never)]
fn push_set_attribute(attributes: &mut Attributes, attribute: KeyValue) {
    RecordedAttribute::push_given(attributes, attribute);
}

/// Cuts `items` to `limit`, returning how many were cut.
fn truncate<T>(items: &mut Vec<T>, limit: u32) -> u32 {
    let limit = limit as usize;
    let dropped = items.len().saturating_sub(limit);
    items.truncate(limit);
    count(dropped)
}

fn count(dropped: usize) -> u32 {
    u32::try_from(dropped).unwrap_or(u32::MAX)
}

/// `events` within `limits`. Most spans start with none: no call then, and nothing to cut
/// (called for two empty vectors, 3 % of an API span's samples; `otel_api/sampled` 318–397
/// → 310–320 ns sync without the call).
#[inline(always)]
fn limited_events(events: Vec<Event>, limits: &SpanLimits) -> SpanEvents {
    if events.is_empty() {
        SpanEvents::default()
    } else {
        cut_events(events, limits)
    }
}

fn cut_events(mut events: Vec<Event>, limits: &SpanLimits) -> SpanEvents {
    let mut kept = SpanEvents::default();
    kept.dropped_count = truncate(&mut events, limits.max_events_per_span);
    for event in &mut events {
        event.dropped_attributes_count +=
            truncate(&mut event.attributes, limits.max_attributes_per_event);
    }
    kept.events = events;
    kept
}

/// `links` within `limits`, without a call when there are none (see [`limited_events`]).
#[inline(always)]
fn limited_links(links: Vec<Link>, limits: &SpanLimits) -> SpanLinks {
    if links.is_empty() {
        SpanLinks::default()
    } else {
        cut_links(links, limits)
    }
}

fn cut_links(mut links: Vec<Link>, limits: &SpanLimits) -> SpanLinks {
    let mut kept = SpanLinks::default();
    kept.dropped_count = truncate(&mut links, limits.max_links_per_span);
    for link in &mut links {
        link.dropped_attributes_count +=
            truncate(&mut link.attributes, limits.max_attributes_per_link);
    }
    kept.links = links;
    kept
}

impl Span for LeanSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        mut attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        let Some(record) = &mut self.record else {
            return;
        };
        if record.events.events.len() < self.limits.max_events_per_span as usize {
            let dropped = truncate(&mut attributes, self.limits.max_attributes_per_event);
            let event = Event::new(name, timestamp, attributes, dropped);
            record.events.events.push(event);
        } else {
            record.events.dropped_count += 1;
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        let Some(record) = &mut self.record else {
            return;
        };
        if record.attribute_count() < self.limits.max_attributes_per_span as usize {
            push_set_attribute(&mut record.attributes, attribute);
        } else {
            record.dropped_attributes_count += 1;
        }
    }

    fn set_status(&mut self, status: Status) {
        // Ok > Error > Unset: a status is only ever raised.
        if let Some(record) = &mut self.record {
            if status > record.status {
                record.status = status;
            }
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(record) = &mut self.record {
            record.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        let Some(record) = &mut self.record else {
            return;
        };
        if record.links.links.len() < self.limits.max_links_per_span as usize {
            let dropped = truncate(&mut attributes, self.limits.max_attributes_per_link);
            record
                .links
                .links
                .push(Link::new(span_context, attributes, dropped));
        } else {
            record.links.dropped_count += 1;
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        let Some(mut record) = self.record.take() else {
            return;
        };
        // `#[traced]` ends its spans with a marker: the time is read here, from the span's
        // clock, rather than from the system clock by the OpenTelemetry API. A lent span's
        // marker asks for the record back (`lent::end`, which holds the context stack).
        let marker = clock::marker_of(timestamp);
        record.end_time = match marker {
            Some(_) => clock::now(),
            None => Timestamp::Wall(timestamp),
        };
        if marker == Some(EndMarker::NowHandedBack) {
            lent::hand_back(record);
        } else {
            Self::hand_on(record);
        }
    }
}

impl Drop for LeanSpan {
    /// A span dropped with its last context ends then, as the SDK's do, at a time read
    /// from the span's clock: the OpenTelemetry API's `Tracer::in_span` ends its spans this
    /// way, and the system clock costs three times the counter.
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.end_time = clock::now();
            Self::hand_on(record);
        }
    }
}
