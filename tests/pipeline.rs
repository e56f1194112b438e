//! The installed pipeline end to end, with an exporter of the test's own: `#[traced]` spans
//! and OpenTelemetry-API spans go through the same batch processor, as one tree.

#[path = "support/kept.rs"]
mod kept;
#[path = "support/suspend.rs"]
mod suspend;

use opentelemetry::trace::{TraceContextExt, Tracer};

use kept::{install, remote};
use suspend::suspend_once;

#[traced::traced]
fn checkout(items: u32, customer: &str, express: bool) -> u32 {
    let tracer = opentelemetry::global::tracer("native-library");
    tracer.in_span("native child", |cx| {
        cx.span()
            .set_attribute(opentelemetry::KeyValue::new("native", true));
    });
    items * 2 + u32::from(express) + customer.len() as u32
}

#[test]
fn traced_and_native_spans_share_the_batch_pipeline() {
    let (_installing, otel, kept) = install(|config| config.with_service_name("pipeline-test"));
    assert_eq!(checkout(3, "ada", true), 10);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let parent = spans.iter().find(|span| span.name == "checkout").unwrap();
    let child = spans
        .iter()
        .find(|span| span.name == "native child")
        .unwrap();
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id()
    );
    let value = |key: &str| {
        parent
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(value("items"), Some(3_i64.into()));
    assert_eq!(value("customer"), Some("ada".into()));
    assert_eq!(value("express"), Some(true.into()));
    assert_eq!(
        value("code.function.name"),
        Some("pipeline::checkout".into())
    );
    assert!(parent.start_time <= child.start_time && child.end_time <= parent.end_time);
}

#[traced::traced]
fn root_call(index: u32) -> u32 {
    index
}

#[test]
fn a_ratio_sampler_decides_on_the_trace_id_the_span_is_exported_with() {
    use opentelemetry::trace::{SpanKind, TraceId};
    use opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample};

    let ratio = Sampler::TraceIdRatioBased(0.5);
    let (_installing, otel, kept) = install(|config| config.with_sampler(ratio.clone()));
    for index in 0..400 {
        root_call(index);
    }
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    // About half, each a root whose own trace id the ratio sampler accepts: the decision
    // made before the span was built is the one its exported trace id gives.
    assert!(
        (100..300).contains(&spans.len()),
        "{} of 400 sampled",
        spans.len()
    );
    let decide = |trace_id: TraceId| {
        ratio
            .should_sample(None, trace_id, "root_call", &SpanKind::Internal, &[], &[])
            .decision
    };
    for span in spans.iter() {
        assert_eq!(
            decide(span.span_context.trace_id()),
            SamplingDecision::RecordAndSample
        );
    }
}

#[test]
fn a_parent_based_ratio_sampler_drops_roots_by_ratio_and_follows_parents() {
    use opentelemetry::trace::{SpanContext, TraceFlags};
    use opentelemetry_sdk::trace::Sampler;

    let root = Sampler::TraceIdRatioBased(0.0);
    let (_installing, otel, kept) = install(|config| config.with_parent_based_sampler(root));
    // Roots: the ratio's, 0 here, drops every one.
    for index in 0..50 {
        root_call(index);
    }
    // Under a parent: the parent's decision, whatever the ratio says of its trace.
    let under = |id: u64, flags: TraceFlags| {
        let parent = SpanContext::new(
            remote(id).trace_id(),
            remote(id).span_id(),
            flags,
            true,
            Default::default(),
        );
        let cx = opentelemetry::Context::new().with_remote_span_context(parent);
        let _attached = cx.attach();
        root_call(0)
    };
    under(11, TraceFlags::SAMPLED);
    under(12, TraceFlags::NOT_SAMPLED);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(spans[0].span_context.trace_id(), remote(11).trace_id());
    assert_eq!(spans[0].parent_span_id, remote(11).span_id());
}

/// Its arguments as attributes: the query too long to be inline in the span's record.
#[traced::traced]
fn run_query(query: &str, user: &str, limit: u32) -> usize {
    query.len() + user.len() + limit as usize
}

/// Named for its argument: a name made for each span.
#[traced::traced(name = "query {table}")]
fn query_table(table: &str) -> usize {
    table.len()
}

/// Six arguments, one more than a record holds inline, the first two texts too long to be
/// inline either.
#[traced::traced]
#[allow(clippy::too_many_arguments)]
fn six_arguments(url: &str, agent: String, a: u8, b: u8, c: u8, d: u8) -> usize {
    url.len() + agent.len() + usize::from(a + b + c + d)
}

#[test]
fn long_text_arguments_and_made_names_reach_the_exporter_as_recorded() {
    use opentelemetry::Value;

    let query = "SELECT id, name FROM users WHERE tier = $1 AND active";
    let url = "https://api.example.com/v1/users/7f3c2a9e-1b4d-4e8a-9c6f-2d5b8e0a1c3f";
    let agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36";
    let (_installing, otel, kept) = install(|config| config);
    for _ in 0..3 {
        run_query(query, "ada", 10);
        six_arguments(url, agent.to_owned(), 1, 2, 3, 4);
        query_table("users");
    }
    otel.shutdown().unwrap();

    let mut spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 9, "{spans:#?}");
    let named = spans
        .iter()
        .filter(|span| span.name == "query users")
        .count();
    assert_eq!(named, 3, "the names made for the spans");
    spans.retain(|span| span.name != "query users");
    let value = |span: &opentelemetry_sdk::trace::SpanData, key: &str| {
        let found = span.attributes.iter().find(|kv| kv.key.as_str() == key);
        found.map(|kv| kv.value.clone())
    };
    for span in spans.iter() {
        if span.name == "run_query" {
            assert_eq!(value(span, "query"), Some(Value::from(query)));
            assert_eq!(value(span, "user"), Some(Value::from("ada")));
            assert_eq!(value(span, "limit"), Some(Value::I64(10)));
        } else {
            assert_eq!(span.name, "six_arguments");
            assert_eq!(value(span, "url"), Some(Value::from(url)));
            assert_eq!(value(span, "agent"), Some(Value::from(agent)));
            assert_eq!(value(span, "d"), Some(Value::I64(4)));
        }
    }
}

/// Fails with an I/O error caused by another.
#[traced::traced]
fn failing_write(bytes: usize) -> Result<usize, std::io::Error> {
    let cause = std::io::Error::other("quota exceeded");
    Err(std::io::Error::new(
        std::io::ErrorKind::StorageFull,
        format!("writing {bytes} bytes: {cause}"),
    ))
}

#[test]
fn an_error_reaches_the_exporter_as_status_and_exception_event() {
    use opentelemetry::Value;
    use opentelemetry::trace::Status;

    let (_installing, otel, kept) = install(|config| config);
    for bytes in [10, 20] {
        assert!(failing_write(bytes).is_err());
    }
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    for (span, bytes) in spans.iter().zip([10, 20]) {
        let message = format!("writing {bytes} bytes: quota exceeded");
        assert_eq!(span.status, Status::error(message.clone()));
        let events = &span.events.events;
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0].name, "exception");
        let value = |key: &str| {
            let found = events[0]
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == key);
            found.map(|kv| kv.value.clone())
        };
        assert_eq!(value("exception.message"), Some(Value::from(message)));
        assert!(value("exception.stacktrace").is_some());
        assert!(value("exception.type").is_some());
    }
}

/// Drops the spans named `skipped_step`, and samples the others as the default sampler does.
#[derive(Clone, Debug)]
struct SkipByName;

impl opentelemetry_sdk::trace::ShouldSample for SkipByName {
    fn should_sample(
        &self,
        parent: Option<&opentelemetry::Context>,
        trace_id: opentelemetry::trace::TraceId,
        name: &str,
        kind: &opentelemetry::trace::SpanKind,
        attributes: &[opentelemetry::KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult};
        if name == "skipped_step" {
            return SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: Default::default(),
            };
        }
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
            .should_sample(parent, trace_id, name, kind, attributes, links)
    }
}

type SpanContexts = (
    opentelemetry::trace::SpanContext,
    opentelemetry::trace::SpanContext,
);

/// Its own span context, the dropped step's and its native child's, and its own again after
/// the step returned.
#[traced::traced]
fn sampled_step() -> (opentelemetry::trace::SpanContext, SpanContexts, bool) {
    let own = traced::current_span().span_context();
    let step = skipped_step();
    let current_again = traced::current_span().span_context() == own;
    (own, step, current_again)
}

#[traced::traced]
fn skipped_step() -> SpanContexts {
    let native = opentelemetry::global::tracer("native-library")
        .in_span("native child", |cx| cx.span().span_context().clone());
    (traced::current_span().span_context(), native)
}

#[test]
fn a_span_dropped_under_a_sampled_parent_has_an_unsampled_context_its_children_follow() {
    let (_installing, otel, kept) = install(|config| config.with_sampler(SkipByName));
    let (parent, (skipped, native), parent_current_again) = sampled_step();
    otel.shutdown().unwrap();

    // The parent is sampled, so the dropped span cannot lean on its context: it gets a span
    // context of its own, in the same trace, not sampled, which its children inherit.
    assert!(parent.is_sampled());
    assert!(skipped.is_valid() && !skipped.is_sampled() && !skipped.is_remote());
    assert_eq!(skipped.trace_id(), parent.trace_id());
    assert_ne!(skipped.span_id(), parent.span_id());
    assert!(native.is_valid() && !native.is_sampled());
    assert_eq!(native.trace_id(), parent.trace_id());
    assert!(parent_current_again);
    let spans = kept.0.lock().unwrap();
    let names: Vec<_> = spans.iter().map(|span| span.name.as_ref()).collect();
    assert_eq!(names, ["sampled_step"]);
}

/// A step of a request that arrived not sampled; returns its own span context.
#[traced::traced]
fn under_an_unsampled_request() -> opentelemetry::trace::SpanContext {
    traced::current_span().span_context()
}

/// Runs [`under_an_unsampled_request`] with an unsampled remote parent current.
fn call_under_an_unsampled_request() -> (
    opentelemetry::trace::SpanContext,
    opentelemetry::trace::SpanContext,
) {
    let parent = opentelemetry::trace::SpanContext::new(
        remote(7).trace_id(),
        remote(7).span_id(),
        opentelemetry::trace::TraceFlags::NOT_SAMPLED,
        true,
        Default::default(),
    );
    let cx = opentelemetry::Context::new().with_remote_span_context(parent.clone());
    let _attached = cx.attach();
    (parent, under_an_unsampled_request())
}

#[test]
fn under_an_unsampled_parent_only_a_sampler_that_follows_it_adds_nothing() {
    use opentelemetry_sdk::trace::Sampler;

    // The default sampler (parent-based): the call adds nothing, the parent stays current.
    let (installing, otel, kept) = install(|config| config);
    let (parent, own) = call_under_an_unsampled_request();
    otel.shutdown().unwrap();
    drop(installing);
    assert_eq!(own, parent);
    assert!(kept.0.lock().unwrap().is_empty());

    // One that ignores the parent decides for itself: here a sampled child in the same
    // trace, exported.
    let (_installing, otel, kept) = install(|config| config.with_sampler(Sampler::AlwaysOn));
    let (parent, own) = call_under_an_unsampled_request();
    otel.shutdown().unwrap();
    assert!(own.is_sampled() && own.span_id() != parent.span_id());
    assert_eq!(own.trace_id(), parent.trace_id());
    let spans = kept.0.lock().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].parent_span_id, parent.span_id());
}

/// Its own span context, returned or as its error.
#[traced::traced]
fn dropped_root(fail: bool) -> Result<opentelemetry::trace::SpanContext, String> {
    let own = traced::current_span().span_context();
    if fail {
        return Err(format!("{:?}", own.span_id()));
    }
    Ok(own)
}

/// Panics with its own span context.
#[traced::traced]
fn dropped_root_panicking() {
    std::panic::panic_any(traced::current_span().span_context());
}

#[test]
fn a_root_the_sampler_drops_is_current_for_its_call_only_however_the_call_ends() {
    use opentelemetry::trace::SpanContext;
    use opentelemetry_sdk::trace::Sampler;

    let (_installing, otel, kept) = install(|config| config.with_sampler(Sampler::AlwaysOff));
    let returned = dropped_root(false).unwrap();
    let after_return = traced::current_span().span_context();
    let failed = dropped_root(true).unwrap_err();
    let after_error = traced::current_span().span_context();
    let panicked = std::panic::catch_unwind(dropped_root_panicking)
        .unwrap_err()
        .downcast::<SpanContext>()
        .unwrap();
    let after_panic = traced::current_span().span_context();
    otel.shutdown().unwrap();

    // During the call: a span context of its own, a new trace, not sampled.
    for own in [&returned, &*panicked] {
        assert!(own.is_valid() && !own.is_sampled() && !own.is_remote());
    }
    assert_ne!(returned.trace_id(), panicked.trace_id());
    assert_ne!(
        failed,
        format!("{:?}", opentelemetry::trace::SpanId::INVALID)
    );
    // After it, returned, failed or unwound: nothing current, nothing exported.
    for after in [after_return, after_error, after_panic] {
        assert_eq!(after, SpanContext::empty_context());
    }
    assert!(kept.0.lock().unwrap().is_empty());
}

/// Its own span context before its suspension and after it, and that of an
/// OpenTelemetry-API span started after it.
#[traced::traced]
async fn dropped_async_root() -> [opentelemetry::trace::SpanContext; 3] {
    let before = traced::current_span().span_context();
    suspend_once().await;
    let after = traced::current_span().span_context();
    let native = opentelemetry::global::tracer("native-library")
        .in_span("native child", |cx| cx.span().span_context().clone());
    [before, after, native]
}

#[test]
fn a_dropped_roots_future_keeps_its_span_context_wherever_it_resumes() {
    use std::future::Future as _;
    use std::task::{Context, Waker};

    use opentelemetry::trace::SpanContext;
    use opentelemetry_sdk::trace::Sampler;

    let (_installing, otel, kept) = install(|config| config.with_sampler(Sampler::AlwaysOff));
    let mut future = Box::pin(dropped_async_root());
    let first = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(first.is_pending());
    // Between polls its context is not current here,
    assert_eq!(
        traced::current_span().span_context(),
        SpanContext::empty_context()
    );
    // and the rest runs on another thread, under its own span context still.
    let [before, after, native] = std::thread::spawn(move || futures::executor::block_on(future))
        .join()
        .unwrap();
    otel.shutdown().unwrap();

    assert!(before.is_valid() && !before.is_sampled());
    assert_eq!(after, before);
    // A child of it: the same trace, the same decision, an id of its own.
    assert_eq!(native.trace_id(), before.trace_id());
    assert!(!native.is_sampled() && native.span_id() != before.span_id());
    assert!(kept.0.lock().unwrap().is_empty());
}

#[traced::traced(links = sources)]
fn limited(first: u32, second: u32, third: u32, sources: &[opentelemetry::trace::SpanContext]) {
    let span = traced::current_span();
    span.set_attribute("late", first + second + third);
    for index in 0..5 {
        span.add_event(
            format!("event {index}"),
            [
                opentelemetry::KeyValue::new("i", index),
                opentelemetry::KeyValue::new("j", index),
            ],
        );
    }
}

#[test]
fn span_limits_cut_traced_spans_and_count_what_they_cut() {
    use opentelemetry_sdk::trace::SpanLimits;

    let limits = SpanLimits {
        max_attributes_per_span: 5,
        max_events_per_span: 2,
        max_attributes_per_event: 1,
        max_links_per_span: 1,
        ..SpanLimits::default()
    };
    let (_installing, otel, kept) = install(|config| config.with_span_limits(limits));
    limited(1, 2, 3, &[remote(1), remote(2), remote(3)]);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    let span = spans.iter().find(|span| span.name == "limited").unwrap();
    // Three `code.*` attributes, four arguments and one set by hand: the first five kept.
    assert_eq!(
        attribute_keys(span),
        [
            "code.function.name",
            "code.file.path",
            "code.line.number",
            "first",
            "second"
        ]
    );
    assert_eq!(span.dropped_attributes_count, 3);
    assert_eq!(span.events.len(), 2);
    assert_eq!(span.events.dropped_count, 3);
    assert_eq!(span.events[0].attributes.len(), 1);
    assert_eq!(span.events[0].dropped_attributes_count, 1);
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.links.dropped_count, 2);
}

fn attribute_keys(span: &opentelemetry_sdk::trace::SpanData) -> Vec<&str> {
    span.attributes.iter().map(|kv| kv.key.as_str()).collect()
}

#[test]
fn an_attribute_limit_below_the_code_attributes_cuts_them_too() {
    use opentelemetry_sdk::trace::SpanLimits;

    let limits = SpanLimits {
        max_attributes_per_span: 2,
        ..SpanLimits::default()
    };
    let (_installing, otel, kept) = install(|config| config.with_span_limits(limits));
    limited(1, 2, 3, &[]);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    let span = spans.iter().find(|span| span.name == "limited").unwrap();
    assert_eq!(
        attribute_keys(span),
        ["code.function.name", "code.file.path"]
    );
    // The third `code.*` one, four arguments and the one set by hand.
    assert_eq!(span.dropped_attributes_count, 6);
}

/// Records `recorded_only` without sampling it; samples every other span, adding an
/// attribute of its own.
#[derive(Clone, Debug)]
struct Tagging;

impl opentelemetry_sdk::trace::ShouldSample for Tagging {
    fn should_sample(
        &self,
        _parent: Option<&opentelemetry::Context>,
        _trace_id: opentelemetry::trace::TraceId,
        name: &str,
        _kind: &opentelemetry::trace::SpanKind,
        _attributes: &[opentelemetry::KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult};
        let (decision, attributes) = if name == "recorded_only" {
            (SamplingDecision::RecordOnly, Vec::new())
        } else {
            let tag = opentelemetry::KeyValue::new("sampler.tag", "kept");
            (SamplingDecision::RecordAndSample, vec![tag])
        };
        SamplingResult {
            decision,
            attributes,
            trace_state: Default::default(),
        }
    }
}

#[traced::traced]
fn tagged() -> (bool, opentelemetry::trace::SpanContext) {
    recorded_only()
}

#[traced::traced]
fn recorded_only() -> (bool, opentelemetry::trace::SpanContext) {
    let span = traced::current_span();
    (span.is_recording(), span.span_context())
}

#[test]
fn the_samplers_attributes_are_kept_and_a_recorded_only_span_is_not_exported() {
    let (_installing, otel, kept) = install(|config| config.with_sampler(Tagging));
    let (recording, recorded_only) = tagged();
    otel.shutdown().unwrap();

    assert!(recording, "a RecordOnly span records");
    assert!(recorded_only.is_valid() && !recorded_only.is_sampled());
    let spans = kept.0.lock().unwrap();
    let names: Vec<_> = spans.iter().map(|span| span.name.as_ref()).collect();
    assert_eq!(names, ["tagged"]);
    let tag = spans[0]
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "sampler.tag");
    assert_eq!(tag.map(|kv| kv.value.as_str()), Some("kept".into()));
}

#[test]
fn nothing_is_recorded_where_telemetry_is_suppressed() {
    let (_installing, otel, kept) = install(|config| config);
    let (recording, span_context) = {
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        recorded_only()
    };
    assert!(!recording);
    assert!(!span_context.is_valid());
    recorded_only();
    otel.shutdown().unwrap();
    assert_eq!(
        kept.0.lock().unwrap().len(),
        1,
        "only the unsuppressed call"
    );
}

/// Whether a span started after a suspension records.
#[traced::traced]
async fn recorded_after_suspension() -> bool {
    suspend_once().await;
    recorded_only().0
}

#[test]
fn a_future_first_polled_where_telemetry_is_suppressed_stays_suppressed_when_resumed() {
    use std::future::Future as _;
    use std::task::{Context, Waker};

    let (_installing, otel, kept) = install(|config| config);
    let mut future = Box::pin(recorded_after_suspension());
    {
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        let poll = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(poll.is_pending());
    }
    // Resumed outside the suppressed scope: the future brought its context along.
    let recording = futures::executor::block_on(future);
    otel.shutdown().unwrap();
    assert!(!recording);
    assert!(kept.0.lock().unwrap().is_empty());
}

#[traced::traced]
fn wait(millis: u64) {
    std::thread::sleep(std::time::Duration::from_millis(millis));
}

#[traced::traced]
fn ended_early(at: std::time::SystemTime) {
    use opentelemetry::trace::TraceContextExt as _;
    opentelemetry::Context::current()
        .span()
        .end_with_timestamp(at);
}

#[test]
fn spans_are_timed_by_the_system_clock_and_keep_an_end_time_given_them() {
    use std::time::{Duration, SystemTime};

    let (_installing, otel, kept) = install(|config| config);
    let before = SystemTime::now();
    wait(20);
    let after = SystemTime::now();
    let given = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    ended_early(given);
    otel.shutdown().unwrap();

    let spans = kept.0.lock().unwrap();
    let waited = spans.iter().find(|span| span.name == "wait").unwrap();
    // The counter's conversion is within tens of nanoseconds of the system clock.
    let slack = Duration::from_micros(1);
    assert!(waited.start_time + slack >= before, "{waited:?} {before:?}");
    assert!(waited.end_time <= after + slack, "{waited:?} {after:?}");
    let took = waited.end_time.duration_since(waited.start_time).unwrap();
    let around = after.duration_since(before).unwrap();
    assert!(
        took >= Duration::from_millis(20) && took <= around + slack,
        "{took:?}"
    );

    let early = spans
        .iter()
        .find(|span| span.name == "ended_early")
        .unwrap();
    assert_eq!(
        early.end_time, given,
        "ended through the API, not at the call's end"
    );
}
