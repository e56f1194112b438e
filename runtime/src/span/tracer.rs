//! The OpenTelemetry API's tracers on `traced`'s own pipeline: spans started through the API
//! (by a library instrumented with it, by `traced`'s HTTP integrations, by hand) are built
//! as `#[traced]`'s sampled spans are ([`LeanSpan`]), sampled by the pipeline's sampler and
//! ended straight into its processors, instead of by the SDK tracer, which builds
//! [`SpanData`](opentelemetry_sdk::trace::SpanData) on the application's thread.
//!
//! What the API sees is what the SDK gives: the same sampling (the provider's sampler, the
//! parent's trace and flags), the same ids, the span limits, and the tracer's
//! instrumentation scope on every span it exports.

#[cfg(any(feature = "http-server", feature = "reqwest"))]
use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::trace::{
    SpanBuilder, SpanContext, SpanKind, TraceContextExt, TraceFlags, TraceId,
};
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, SdkTracerProvider};

use super::ids;
#[cfg(any(feature = "http-server", feature = "reqwest"))]
use super::lean::Attributes;
use super::lean::{ApiStart, LeanSpan};
use super::recorded::RecordedAttribute;
use super::scope::SpanScope;
use crate::clock::{self, Timestamp};
use crate::installed::OwnSpans;

/// The provider `traced`'s pipeline installs globally: the SDK provider it was built as
/// (kept for its lifetime, as the global provider held it before), and its tracers.
#[derive(Debug)]
pub(crate) struct PipelineProvider {
    _sdk: SdkTracerProvider,
    own: Arc<OwnSpans>,
}

impl PipelineProvider {
    /// The provider of `sdk`'s pipeline, whose spans `own` samples and ends.
    pub(crate) fn new(sdk: SdkTracerProvider, own: Arc<OwnSpans>) -> Self {
        Self { _sdk: sdk, own }
    }
}

impl TracerProvider for PipelineProvider {
    type Tracer = PipelineTracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> PipelineTracer {
        PipelineTracer {
            scope: SpanScope::of(scope),
            own: Arc::clone(&self.own),
        }
    }
}

/// A tracer of [`PipelineProvider`].
#[derive(Debug)]
pub(crate) struct PipelineTracer {
    scope: SpanScope,
    own: Arc<OwnSpans>,
}

impl Tracer for PipelineTracer {
    type Span = LeanSpan;

    /// Builds the span as the SDK's tracer does (`opentelemetry_sdk` 0.33): nothing where
    /// telemetry is suppressed; a valid parent's trace, else a new one; the sampler asked
    /// with the builder's name, kind, attributes and links (the SDK's own samplers read
    /// without a call where their kind decides, as for `#[traced]`: `SamplerSetting::sample`).
    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> LeanSpan {
        let own = &*self.own;
        if parent_cx.is_telemetry_suppressed() {
            return LeanSpan::not_recording(SpanContext::empty_context(), own.sink.limits);
        }
        let parent_span = parent_cx.span();
        let parent = parent_span.span_context();
        let ask_sampler = |trace_id| {
            own.sampler.sampler.should_sample(
                Some(parent_cx),
                trace_id,
                &builder.name,
                builder.span_kind.as_ref().unwrap_or(&SpanKind::Internal),
                builder.attributes.as_deref().unwrap_or_default(),
                builder.links.as_deref().unwrap_or_default(),
            )
        };
        let (span_context, sampler_attributes) = match sample(own, parent_cx, parent, ask_sampler) {
            Sampled::Dropped(span_context) => {
                return LeanSpan::not_recording(span_context, own.sink.limits);
            }
            Sampled::Recorded(span_context, sampler_attributes) => {
                (span_context, sampler_attributes)
            }
        };
        let SpanBuilder {
            span_kind,
            name,
            start_time,
            attributes,
            events,
            links,
        } = builder;
        let start = ApiStart {
            span_context,
            parent,
            kind: span_kind.unwrap_or(SpanKind::Internal),
            name,
            start_time: start_time.map_or_else(clock::now, Timestamp::Wall),
            events: events.unwrap_or_default(),
            links: links.unwrap_or_default(),
            scope: self.scope.clone(),
            limits: own.sink.limits,
        };
        let attributes = attributes.unwrap_or_default();
        LeanSpan::started(start, |recorded| {
            // Room for all at once: past the inline ones, the list would grow (and copy)
            // twice for a dozen.
            recorded.reserve(attributes.len() + sampler_attributes.len());
            RecordedAttribute::extend_given(
                recorded,
                attributes.into_iter().chain(sampler_attributes),
            );
        })
    }
}

/// What the pipeline's sampler made of a span.
enum Sampled {
    /// Not recorded: the span context its children and outgoing requests see.
    Dropped(SpanContext),
    /// Recorded (and sampled, if its flags say so), with the sampler's attributes.
    Recorded(SpanContext, Vec<KeyValue>),
}

/// Samples a span under `parent_cx` (whose span's context is `parent`) as the SDK's tracer
/// does: a valid parent's trace, else a new one, a new span id, the parent's flags with the
/// decision. `ask` asks the sampler for the span of that trace, when its kind does not
/// decide ([`crate::config::SamplerSetting::sample`]). Inlined, so that what it makes is
/// not returned through memory.
#[inline(always)]
fn sample(
    own: &OwnSpans,
    parent_cx: &Context,
    parent: &SpanContext,
    ask: impl FnOnce(TraceId) -> SamplingResult,
) -> Sampled {
    let (trace_id, span_id) = ids::ids_under(parent);
    let (decision, trace_state, sampler_attributes) =
        own.sampler
            .sample(parent_cx, parent, trace_id, || ask(trace_id));
    let sampled = match decision {
        SamplingDecision::Drop => {
            let flags = TraceFlags::default();
            let span_context = SpanContext::new(trace_id, span_id, flags, false, trace_state);
            return Sampled::Dropped(span_context);
        }
        SamplingDecision::RecordOnly => false,
        SamplingDecision::RecordAndSample => true,
    };
    let parent_flags = if parent.is_valid() {
        parent.trace_flags()
    } else {
        TraceFlags::default()
    };
    let flags = parent_flags.with_sampled(sampled);
    let span_context = SpanContext::new(trace_id, span_id, flags, false, trace_state);
    Sampled::Recorded(span_context, sampler_attributes)
}

/// A span of one of `traced`'s integrations (an HTTP request's) on the pipeline
/// `own`, sampled as the API's tracers sample and built straight into its record: `record`
/// writes its attributes there, short text inline, rather than into `KeyValue`s copied
/// into the record afterwards. Only a sampler that may read them (one of the application's
/// own) is shown the span's name and its attributes as `KeyValue`s (`name` and
/// `key_values`, then what the record holds too); the SDK's read neither, so under them a
/// request sampled out costs neither (under `parentbased_traceidratio`, every request that
/// starts a trace is asked of the ratio sampler, and most are dropped). Started now, in
/// wall-clock time, as the API that ends it reads the time from the system clock.
#[cfg(any(feature = "http-server", feature = "reqwest"))]
pub(crate) fn start_integration_span(
    own: &OwnSpans,
    parent_cx: &Context,
    name: impl Fn() -> Cow<'static, str>,
    kind: SpanKind,
    key_values: impl FnOnce() -> Vec<KeyValue>,
    record: impl FnOnce(&mut Attributes),
) -> IntegrationSpan {
    if parent_cx.is_telemetry_suppressed() {
        return IntegrationSpan::NotRecording(SpanContext::empty_context());
    }
    let parent_span = parent_cx.span();
    let parent = parent_span.span_context();
    let sampler_reads = own.sampler.reads_name_and_attributes;
    let mut shown = None;
    let ask_sampler = |trace_id| {
        // The SDK's samplers read neither: they are given an empty name and no attributes.
        let (name, attributes) = if sampler_reads {
            (name(), key_values())
        } else {
            (Cow::Borrowed(""), Vec::new())
        };
        let result = own.sampler.sampler.should_sample(
            Some(parent_cx),
            trace_id,
            &name,
            &kind,
            &attributes,
            &[],
        );
        if sampler_reads {
            shown = Some((name, attributes));
        }
        result
    };
    let (span_context, sampler_attributes) = match sample(own, parent_cx, parent, ask_sampler) {
        Sampled::Dropped(span_context) => return IntegrationSpan::NotRecording(span_context),
        Sampled::Recorded(span_context, sampler_attributes) => (span_context, sampler_attributes),
    };
    let (name, asked) = match shown {
        Some((name, attributes)) => (name, Some(attributes)),
        None => (name(), None),
    };
    let start = ApiStart {
        span_context,
        parent,
        kind,
        name,
        start_time: Timestamp::Wall(opentelemetry::time::now()),
        events: Vec::new(),
        links: Vec::new(),
        scope: SpanScope::Traced,
        limits: own.sink.limits,
    };
    IntegrationSpan::Recording(LeanSpan::started(start, |recorded| {
        match asked {
            Some(attributes) => RecordedAttribute::extend_given(recorded, attributes),
            None => record(recorded),
        }
        RecordedAttribute::extend_given(recorded, sampler_attributes);
    }))
}

/// An integration's span as its sampler left it ([`start_integration_span`]).
#[cfg(any(feature = "http-server", feature = "reqwest"))]
#[derive(Debug)]
pub(crate) enum IntegrationSpan {
    /// Recorded (sampled, unless the sampler said record only).
    Recording(LeanSpan),
    /// Sampled out, or empty where telemetry is suppressed: only the span context that the
    /// request's children and outgoing headers see, as `#[traced]` keeps a root it drops.
    /// A [`LeanSpan`] that records nothing would be boxed in the context, behind the API's
    /// lock, which the server and its response future take each time they ask whether the
    /// span records (`benches/README.md`, HTTP server).
    NotRecording(SpanContext),
}

#[cfg(any(feature = "http-server", feature = "reqwest"))]
impl IntegrationSpan {
    /// `parent` with this span as its span.
    pub(crate) fn in_context(self, parent: &Context) -> Context {
        match self {
            Self::Recording(span) => parent.with_span(span),
            Self::NotRecording(span_context) => parent.with_remote_span_context(span_context),
        }
    }
}

#[cfg(test)]
#[cfg(any(feature = "http-server", feature = "reqwest"))]
mod tests {
    use std::cell::Cell;
    use std::sync::Mutex;

    use opentelemetry::trace::{SpanId, TraceState};
    use opentelemetry::{Key, Value};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::{Sampler, ShouldSample, SpanLimits};

    use super::*;
    use crate::config::{SamplerSetting, default_sampler};
    use crate::pipeline::sink::SinkBuilder;
    use crate::span::attribute_sink::AttributeSink;
    use crate::span::lean::SpanRecord;

    const TRACE: TraceId =
        TraceId::from_bytes(0x5b8e_fe2a_0c31_4f2a_9d2e_67c0_1a2b_3c4d_u128.to_be_bytes());
    const PARENT: SpanId = SpanId::from_bytes(0x0a0b_0c0d_0e0f_1011_u64.to_be_bytes());

    /// The pipeline's span making, sampled by `sampler`; nothing ends in it (the tests take
    /// each span's record).
    fn own(sampler: SamplerSetting) -> OwnSpans {
        let sink = SinkBuilder::new(Resource::builder().build()).build(SpanLimits::default());
        OwnSpans { sampler, sink }
    }

    /// A context whose span is a remote parent, sampled or not.
    fn remote_parent(sampled: bool) -> Context {
        let flags = TraceFlags::default().with_sampled(sampled);
        let parent = SpanContext::new(TRACE, PARENT, flags, true, TraceState::NONE);
        Context::new().with_remote_span_context(parent)
    }

    /// A request's attributes, as the HTTP server writes them.
    fn request(path: &str, sink: &mut impl AttributeSink) {
        sink.static_text("http.request.method", "GET");
        sink.text("url.path", path);
        sink.int("server.port", 8080);
    }

    fn key_values(path: &str) -> Vec<KeyValue> {
        let mut attributes = Vec::new();
        request(path, &mut attributes);
        attributes
    }

    /// The record of an integration's span, if it records.
    fn recorded(span: IntegrationSpan) -> Option<Box<SpanRecord>> {
        match span {
            IntegrationSpan::Recording(span) => span.into_record(),
            IntegrationSpan::NotRecording(_) => None,
        }
    }

    fn exported(record: &mut SpanRecord) -> Vec<KeyValue> {
        record
            .attributes
            .drain(..)
            .map(RecordedAttribute::into_key_value)
            .collect()
    }

    #[test]
    fn under_the_sdks_samplers_an_integration_span_writes_its_record_without_key_values() {
        let own = own(default_sampler());
        let parent = remote_parent(true);
        let asked = Cell::new(false);
        let span = start_integration_span(
            &own,
            &parent,
            || Cow::Borrowed("GET /users/{id}"),
            SpanKind::Server,
            || {
                asked.set(true);
                key_values("/users/7")
            },
            |recorded| request("/users/7", recorded),
        );
        assert!(!asked.get(), "the parent-based sampler needs no attributes");
        let mut record = recorded(span).expect("a sampled parent: recorded");
        let span_context = record.span_context.clone();
        assert_eq!(span_context.trace_id(), TRACE);
        assert!(span_context.is_sampled() && !span_context.is_remote());
        assert_eq!(record.span_context, span_context);
        assert_eq!(record.parent_span_id, PARENT);
        assert!(record.parent_span_is_remote);
        assert_eq!(record.kind, SpanKind::Server);
        assert_eq!(record.name, "GET /users/{id}");
        assert!(matches!(record.scope, SpanScope::Traced));
        assert_eq!(exported(&mut record), key_values("/users/7"));
    }

    /// Drops requests for `/health`, samples the others with an attribute of its own, and
    /// keeps the attributes it was shown.
    #[derive(Clone, Debug, Default)]
    struct SkipsHealthChecks {
        shown: Arc<Mutex<Vec<Vec<KeyValue>>>>,
    }

    impl ShouldSample for SkipsHealthChecks {
        fn should_sample(
            &self,
            parent: Option<&Context>,
            trace_id: TraceId,
            name: &str,
            kind: &SpanKind,
            attributes: &[KeyValue],
            links: &[opentelemetry::trace::Link],
        ) -> SamplingResult {
            let _ = (parent, trace_id, name, kind, links);
            self.shown.lock().unwrap().push(attributes.to_vec());
            let health = attributes.contains(&KeyValue::new("url.path", "/health"));
            SamplingResult {
                decision: if health {
                    SamplingDecision::Drop
                } else {
                    SamplingDecision::RecordAndSample
                },
                attributes: vec![KeyValue::new("sampler.rule", "not health")],
                trace_state: TraceState::NONE,
            }
        }
    }

    #[test]
    fn a_sampler_of_its_own_is_shown_the_attributes_and_the_record_holds_them_once() {
        let sampler = SkipsHealthChecks::default();
        let own = own(SamplerSetting::any(sampler.clone()));
        let start = |path: &'static str| {
            start_integration_span(
                &own,
                &Context::new(),
                || Cow::Borrowed("GET"),
                SpanKind::Server,
                || key_values(path),
                |_| panic!("the sampler's attributes are recorded, not written again"),
            )
        };

        let IntegrationSpan::NotRecording(health) = start("/health") else {
            panic!("the sampler drops health checks");
        };
        assert!(health.is_valid() && !health.is_sampled());

        let users = start("/users/7");
        let mut record = recorded(users).expect("sampled");
        assert_eq!(record.parent_span_id, SpanId::INVALID, "a root");
        let mut expected = key_values("/users/7");
        expected.push(KeyValue::new("sampler.rule", "not health"));
        assert_eq!(exported(&mut record), expected);
        let shown = sampler.shown.lock().unwrap();
        assert_eq!(*shown, [key_values("/health"), key_values("/users/7")]);
    }

    #[test]
    fn a_ratio_sampler_decides_without_the_attributes_and_the_limits_apply() {
        let own = OwnSpans {
            sampler: SamplerSetting::sdk(Sampler::TraceIdRatioBased(1.0)),
            sink: SinkBuilder::new(Resource::builder().build()).build(SpanLimits {
                max_attributes_per_span: 2,
                ..SpanLimits::default()
            }),
        };
        let span = start_integration_span(
            &own,
            &Context::new(),
            || Cow::Borrowed("GET"),
            SpanKind::Server,
            || key_values("/asked"),
            |recorded| request("/written", recorded),
        );
        let mut record = recorded(span).expect("ratio 1: sampled");
        assert_eq!(record.dropped_attributes_count, 1);
        let kept = exported(&mut record);
        assert_eq!(kept, key_values("/written")[..2]);
        assert_eq!(kept[1].value, Value::from("/written"));
        assert_eq!(kept[1].key, Key::from_static_str("url.path"));
    }

    #[test]
    fn a_root_the_ratio_sampler_drops_is_a_span_context_made_without_name_or_attributes() {
        let ratio = SamplerSetting::sdk(Sampler::TraceIdRatioBased(0.0));
        let own = own(SamplerSetting::parent_based(ratio));
        let span = start_integration_span(
            &own,
            &Context::new(),
            || panic!("the SDK's samplers read no name"),
            SpanKind::Server,
            || panic!("nor attributes"),
            |_| panic!("nothing recorded"),
        );
        let IntegrationSpan::NotRecording(span_context) = span else {
            panic!("ratio 0: dropped");
        };
        assert!(span_context.is_valid() && !span_context.is_sampled());
        assert!(!span_context.is_remote());
        let cx = IntegrationSpan::NotRecording(span_context.clone()).in_context(&Context::new());
        assert!(!cx.span().is_recording());
        assert_eq!(cx.span().span_context(), &span_context);
    }

    #[test]
    fn where_telemetry_is_suppressed_an_integration_span_is_nothing() {
        let own = own(default_sampler());
        let parent = remote_parent(true).with_telemetry_suppressed();
        let span = start_integration_span(
            &own,
            &parent,
            || Cow::Borrowed("GET"),
            SpanKind::Server,
            || panic!("not asked"),
            |_| panic!("not written"),
        );
        let IntegrationSpan::NotRecording(span_context) = span else {
            panic!("suppressed: nothing recorded");
        };
        assert!(!span_context.is_valid());
    }
}
