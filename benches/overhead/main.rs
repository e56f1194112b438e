//! What instrumentation costs per call, `#[traced]` side by side with its peers, in one run:
//! the same three-argument function plain (async also with its poll a real call,
//! `plain/poll_called`), with `#[traced]` (no provider, SDK disabled,
//! unsampled, sampled), with tracing's `#[instrument]` (no subscriber, tracing-opentelemetry
//! unsampled and sampled), with the raw OpenTelemetry SDK (no provider, unsampled, sampled)
//! — "unsampled" twice: a root the sampler drops, and a child of a request whose
//! `traceparent` said "not sampled" (`unsampled_child`), the common case when a service
//! samples a fraction of its traces —
//! and with fastrace (no reporter, a discarding reporter with and without properties); each
//! sync and async. Plus `plain/spaced` and `traced/sampled_spaced`: work between the calls,
//! so that the export thread sleeps between batches; `traced/sampled_long_text`: a text
//! argument too long to be inline in the span's record; `traced/sampled_err`: the call
//! returns an error, recorded as an exception event (`traced/sampled_err_chain`: an error
//! wrapping two causes); `traced/sampled_set_attribute` and
//! `traced/sampled_event`: the call adds an attribute or an event to its span through
//! `traced::current_span()`. See `README.md`.
//!
//! The OpenTelemetry global provider, `#[traced]`'s provider, tracing's global subscriber
//! and fastrace's reporter are process-global and some can be set only once, so the
//! benchmarks run in phases, in this order: nothing installed; `#[traced]` disabled through
//! its configuration; `#[traced]` pipelines; raw-SDK providers; tracing's subscriber;
//! fastrace's reporter. The end prints a Markdown table of the medians and the targets.

#[path = "../common/pipeline.rs"]
mod pipeline;
#[path = "../common/poll.rs"]
mod poll;
mod report;
mod subjects;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Bencher, Criterion};
use opentelemetry::trace::{
    Link, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    TracerProvider as _,
};
use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::trace::{RandomIdGenerator, Sampler, SamplingResult, ShouldSample};
use tracing_subscriber::layer::SubscriberExt as _;

use pipeline::{Pipeline, build_pipeline, install_pipeline, sampled, unsampled};
use poll::{run, run_poll_called};
use subjects::*;

/// The arguments of every call, through `black_box` so nothing is folded.
macro_rules! call {
    ($f:expr $(, $extra:expr)*) => {
        $f($($extra,)* black_box(42), black_box("ada"), black_box(true))
    };
}

/// A text argument too long to be kept inline in a span's record (as a query, a URL or a
/// UUID is), for `traced/sampled_long_text`.
const LONG_TEXT: &str = "SELECT id, name FROM users WHERE tier = $1 AND active";

/// fastrace records child spans of a root span set as the thread's local parent (a call
/// with no local parent records nothing). Each root here holds this many calls, so its own
/// cost is spread over them, as in a request handler with many instrumented calls.
const FASTRACE_CALLS_PER_ROOT: u64 = 100;

/// Times `call` inside fastrace root spans of [`FASTRACE_CALLS_PER_ROOT`] calls each.
fn in_fastrace_roots(b: &mut Bencher, mut call: impl FnMut() -> u64) {
    b.iter_custom(|iters| {
        let start = Instant::now();
        let mut left = iters;
        while left > 0 {
            let calls = left.min(FASTRACE_CALLS_PER_ROOT);
            let root = fastrace::Span::root("root", fastrace::collector::SpanContext::random());
            let guard = root.set_local_parent();
            for _ in 0..calls {
                black_box(call());
            }
            drop(guard);
            drop(root);
            left -= calls;
        }
        start.elapsed()
    });
}

/// The context of a request that arrived with a `traceparent` saying "not sampled": what
/// most instrumented calls run under when a service samples a fraction of its traces.
fn unsampled_request() -> opentelemetry::Context {
    let parent = SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::NOT_SAMPLED,
        true,
        TraceState::NONE,
    );
    opentelemetry::Context::new().with_remote_span_context(parent)
}

/// Runs `measure` with [`unsampled_request`] as the current context: calls inside are its
/// children, which a parent-based sampler drops.
fn in_unsampled_trace(measure: impl FnOnce()) {
    let _request = unsampled_request().attach();
    measure();
}

/// Runs `measure` inside an entered tracing span whose OpenTelemetry parent is
/// [`unsampled_request`], as tracing-opentelemetry's propagation sets it up.
fn in_unsampled_tracing_span(measure: impl FnOnce()) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let request = tracing::info_span!("request");
    let _ = request.set_parent(unsampled_request());
    let _entered = request.enter();
    measure();
}

/// Runs `measure` on `pipeline` and prints how many of the spans it ended the full queue
/// dropped: those skip the copy into the queue, so a row measured partly on them says so.
/// (Back to back, sampled spans end about as fast as the export thread takes them.)
fn counting_drops(pipeline: &Pipeline, label: &str, measure: impl FnOnce()) {
    let flushed = |pipeline: &Pipeline| {
        if let Err(err) = pipeline.provider.force_flush() {
            eprintln!("flush failed: {err}");
        }
        (pipeline.exported(), pipeline.dropped())
    };
    let (exported_before, dropped_before) = flushed(pipeline);
    measure();
    let (exported, dropped) = flushed(pipeline);
    let (exported, dropped) = (exported - exported_before, dropped - dropped_before);
    let ended = exported + dropped;
    if ended > 0 {
        println!(
            "{label}: {dropped} of {ended} spans dropped by the full queue ({:.1} %)",
            100.0 * dropped as f64 / ended as f64
        );
    }
}

/// Registers the benchmarks and remembers which ran, for the report.
struct Suite<'a> {
    criterion: &'a mut Criterion,
    ran: Vec<&'static str>,
}

impl Suite<'_> {
    /// Benchmarks one variant as `sync/<label>` and `async/<label>`.
    fn bench(
        &mut self,
        label: &'static str,
        mut sync: impl FnMut(&mut Bencher),
        mut asynchronous: impl FnMut(&mut Bencher),
    ) {
        self.criterion
            .benchmark_group(report::SYNC)
            .bench_function(label, &mut sync);
        self.criterion
            .benchmark_group(report::ASYNC)
            .bench_function(label, &mut asynchronous);
        self.ran.push(label);
    }

    /// Benchmarks `<shape>/<label>` alone: a variant of one shape only (`report::SYNC` or
    /// `report::ASYNC`).
    fn bench_one(
        &mut self,
        shape: &'static str,
        label: &'static str,
        mut routine: impl FnMut(&mut Bencher),
    ) {
        self.criterion
            .benchmark_group(shape)
            .bench_function(label, &mut routine);
        self.ran.push(label);
    }

    /// Benchmarks `suspending/<label>`: the async shape with an `.await` that suspends once.
    fn bench_suspending(&mut self, label: &'static str, mut suspending: impl FnMut(&mut Bencher)) {
        self.criterion
            .benchmark_group(report::SUSPENDING)
            .bench_function(label, &mut suspending);
    }
}

/// A sampler that samples like the default one while `on` is set and like `AlwaysOff`
/// otherwise: tracing's global subscriber can be set only once, so the sampled and unsampled
/// tracing-opentelemetry phases share one tracer and flip this. Costs one relaxed load.
#[derive(Debug, Clone)]
struct Switch {
    on: Arc<AtomicBool>,
    sampled: Sampler,
    unsampled: Sampler,
}

impl ShouldSample for Switch {
    fn should_sample(
        &self,
        parent: Option<&opentelemetry::Context>,
        trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let sampler = if self.on.load(Ordering::Relaxed) {
            &self.sampled
        } else {
            &self.unsampled
        };
        sampler.should_sample(parent, trace_id, name, kind, attributes, links)
    }
}

fn overhead(suite: &mut Suite<'_>) {
    // Phase 1: nothing installed anywhere.
    traced::disable();
    suite.bench(
        "plain",
        |b| b.iter(|| call!(plain)),
        |b| b.iter(|| run(call!(plain_async::<{ copy::PLAIN }>))),
    );
    suite.bench_one(report::SYNC, "plain/spaced", |b| {
        b.iter(|| call!(plain) ^ between_calls())
    });
    suite.bench_suspending("plain", |b| {
        b.iter(|| run(call!(plain_suspending::<{ copy::PLAIN }>)))
    });
    suite.bench_one(report::ASYNC, "plain/poll_called", |b| {
        b.iter(|| run_poll_called(call!(plain_async::<{ copy::POLL_CALLED }>)))
    });
    suite.bench(
        "traced/no_provider",
        |b| b.iter(|| call!(with_traced)),
        |b| b.iter(|| run(call!(with_traced_async::<{ copy::NO_PROVIDER }>))),
    );
    suite.bench_suspending("traced/no_provider", |b| {
        b.iter(|| run(call!(with_traced_suspending::<{ copy::NO_PROVIDER }>)))
    });
    // The global tracer with no provider installed: OpenTelemetry's no-op.
    let noop = global::tracer("bench");
    suite.bench(
        "otel_sdk/no_provider",
        |b| b.iter(|| call!(with_otel_sdk, &noop)),
        |b| {
            b.iter(|| {
                run(call!(
                    with_otel_sdk_async::<{ copy::NO_PROVIDER }, _>,
                    &noop
                ))
            })
        },
    );
    // What an unsampled root and a sampled span cost in the OpenTelemetry API alone (sync:
    // an `async fn` would attach its context on every poll, as `#[traced]` does its own way).
    let ids = RandomIdGenerator::default();
    suite.bench_one(report::SYNC, "otel_api/context_only", |b| {
        b.iter(|| call!(with_context_only, &ids))
    });
    suite.bench_one(report::SYNC, "otel_api/recording_only", |b| {
        b.iter(|| call!(with_recording_only, &ids))
    });
    suite.bench(
        "tracing/no_subscriber",
        |b| b.iter(|| call!(with_tracing)),
        |b| b.iter(|| run(call!(with_tracing_async::<{ copy::NO_PROVIDER }>))),
    );
    suite.bench(
        "fastrace/no_reporter",
        |b| in_fastrace_roots(b, || call!(with_fastrace)),
        |b| {
            in_fastrace_roots(b, || {
                run(call!(with_fastrace_async::<{ copy::NO_PROVIDER }>))
            })
        },
    );

    // Phase 2: what a user gets with OTEL_SDK_DISABLED=true (`Config::from_env()` reads it
    // into the same setting `disabled(true)` sets): nothing installed, the guard inert.
    let guard = traced::Config::from_env().disabled(true).install();
    assert!(!traced::is_enabled(), "a disabled SDK installed a provider");
    suite.bench(
        "traced/sdk_disabled",
        |b| b.iter(|| call!(with_traced)),
        |b| b.iter(|| run(call!(with_traced_async::<{ copy::SDK_DISABLED }>))),
    );
    drop(guard);

    // Phase 3: `#[traced]` through the real batching pipeline, sampling nothing, then all.
    let pipeline = install_pipeline(Some(unsampled()));
    suite.bench(
        "traced/unsampled",
        |b| b.iter(|| call!(with_traced)),
        |b| b.iter(|| run(call!(with_traced_async::<{ copy::UNSAMPLED }>))),
    );
    suite.bench_suspending("traced/unsampled", |b| {
        b.iter(|| run(call!(with_traced_suspending::<{ copy::UNSAMPLED }>)))
    });
    traced::disable();
    pipeline.shutdown();

    let pipeline = install_pipeline(None);
    suite.bench(
        "traced/unsampled_child",
        |b| in_unsampled_trace(|| b.iter(|| call!(with_traced))),
        |b| {
            in_unsampled_trace(|| {
                b.iter(|| run(call!(with_traced_async::<{ copy::UNSAMPLED_CHILD }>)))
            })
        },
    );
    suite.bench_suspending("traced/unsampled_child", |b| {
        in_unsampled_trace(|| {
            b.iter(|| run(call!(with_traced_suspending::<{ copy::UNSAMPLED_CHILD }>)))
        })
    });
    counting_drops(&pipeline, "traced/sampled", || {
        suite.bench(
            "traced/sampled",
            |b| b.iter(|| call!(with_traced)),
            |b| b.iter(|| run(call!(with_traced_async::<{ copy::SAMPLED }>))),
        );
    });
    suite.bench_suspending("traced/sampled", |b| {
        b.iter(|| run(call!(with_traced_suspending::<{ copy::SAMPLED }>)))
    });
    counting_drops(&pipeline, "traced/sampled_err", || {
        suite.bench_one(report::SYNC, "traced/sampled_err", |b| {
            b.iter(|| with_traced_err(black_box(42), black_box("ada"), black_box(true)).is_ok())
        });
    });
    counting_drops(&pipeline, "traced/sampled_err_chain", || {
        suite.bench_one(report::SYNC, "traced/sampled_err_chain", |b| {
            b.iter(|| {
                let result =
                    with_traced_err_chain(black_box(42), black_box("ada"), black_box(true));
                result.is_ok()
            })
        });
    });
    counting_drops(&pipeline, "traced/sampled_set_attribute", || {
        suite.bench_one(report::SYNC, "traced/sampled_set_attribute", |b| {
            b.iter(|| call!(with_traced_set_attribute))
        });
    });
    counting_drops(&pipeline, "traced/sampled_event", || {
        suite.bench_one(report::SYNC, "traced/sampled_event", |b| {
            b.iter(|| call!(with_traced_event))
        });
    });
    counting_drops(&pipeline, "traced/sampled_long_text", || {
        suite.bench_one(report::SYNC, "traced/sampled_long_text", |b| {
            b.iter(|| with_traced(black_box(42), black_box(LONG_TEXT), black_box(true)))
        });
    });
    counting_drops(&pipeline, "traced/sampled_spaced", || {
        suite.bench_one(report::SYNC, "traced/sampled_spaced", |b| {
            b.iter(|| call!(with_traced) ^ between_calls())
        });
    });
    // The OpenTelemetry API's spans on the same pipeline, what a library instrumented with
    // the API costs there: the global tracer is the pipeline's own.
    let api = global::tracer("bench");
    suite.bench(
        "otel_api/sampled",
        |b| b.iter(|| call!(with_otel_sdk, &api)),
        |b| b.iter(|| run(call!(with_otel_sdk_async::<{ copy::API }, _>, &api))),
    );
    traced::disable();
    pipeline.shutdown();

    // The sampled span's whole life on the application's thread without its hand-off to the
    // export thread: `OTEL_TRACES_EXPORTER=none` (spans sampled for their ids, exported
    // nowhere), where a span is built, recorded and ended into no processor. What
    // `traced/sampled` costs more is the queueing, which varies with where the export
    // thread runs: this row varies less, for measuring the span itself. (It measures the
    // span only as long as `traced` builds spans no processor takes; were that skipped, this
    // row would measure what `traced/unsampled` does.)
    let guard = traced::Config::from_env().with_exporters([]).install();
    assert!(traced::is_enabled(), "no exporter disabled the pipeline");
    suite.bench(
        "traced/no_exporter",
        |b| b.iter(|| call!(with_traced)),
        |b| b.iter(|| run(call!(with_traced_async::<{ copy::NO_EXPORTER }>))),
    );
    traced::disable();
    drop(guard);

    // Phase 4: the raw SDK, with the same pipeline, its tracers taken directly.
    bench_sdk::<{ copy::UNSAMPLED }>(suite, "otel_sdk/unsampled", unsampled());
    bench_sdk::<{ copy::SAMPLED }>(suite, "otel_sdk/sampled", sampled());
    let pipeline = build_pipeline(sampled());
    let tracer = pipeline.provider.tracer("bench");
    suite.bench(
        "otel_sdk/unsampled_child",
        |b| in_unsampled_trace(|| b.iter(|| call!(with_otel_sdk, &tracer))),
        |b| {
            in_unsampled_trace(|| {
                b.iter(|| {
                    run(call!(
                        with_otel_sdk_async::<{ copy::UNSAMPLED_CHILD }, _>,
                        &tracer
                    ))
                })
            })
        },
    );
    pipeline.shutdown();

    // Phase 5: tracing's registry with the tracing-opentelemetry layer, its default
    // settings, into the same pipeline; set once for the process.
    let on = Arc::new(AtomicBool::new(false));
    let pipeline = build_pipeline(Switch {
        on: Arc::clone(&on),
        sampled: sampled(),
        unsampled: unsampled(),
    });
    let layer = tracing_opentelemetry::layer().with_tracer(pipeline.provider.tracer("bench"));
    let subscriber = tracing_subscriber::registry().with(layer);
    if let Err(err) = tracing::subscriber::set_global_default(subscriber) {
        eprintln!("cannot set tracing's global subscriber: {err}");
    }
    suite.bench(
        "tracing/otel_unsampled",
        |b| b.iter(|| call!(with_tracing)),
        |b| b.iter(|| run(call!(with_tracing_async::<{ copy::UNSAMPLED }>))),
    );
    on.store(true, Ordering::Relaxed);
    suite.bench(
        "tracing/otel_unsampled_child",
        |b| in_unsampled_tracing_span(|| b.iter(|| call!(with_tracing))),
        |b| {
            in_unsampled_tracing_span(|| {
                b.iter(|| run(call!(with_tracing_async::<{ copy::UNSAMPLED_CHILD }>)))
            })
        },
    );
    suite.bench(
        "tracing/otel_sampled",
        |b| b.iter(|| call!(with_tracing)),
        |b| b.iter(|| run(call!(with_tracing_async::<{ copy::SAMPLED }>))),
    );
    on.store(false, Ordering::Relaxed);
    pipeline.shutdown();

    // Phase 6: fastrace with a reporter that throws every batch away (set once).
    fastrace::set_reporter(DiscardReporter, fastrace::collector::Config::default());
    suite.bench(
        "fastrace/sampled",
        |b| in_fastrace_roots(b, || call!(with_fastrace)),
        |b| in_fastrace_roots(b, || run(call!(with_fastrace_async::<{ copy::SAMPLED }>))),
    );
    suite.bench(
        "fastrace/sampled_bare",
        |b| in_fastrace_roots(b, || call!(with_fastrace_bare)),
        |b| {
            in_fastrace_roots(b, || {
                run(call!(with_fastrace_bare_async::<{ copy::SAMPLED }>))
            })
        },
    );
    fastrace::flush();
}

/// The raw SDK's variant `label`: a tracer of a pipeline sampling with `sampler`, its async
/// shape polling the copy `COPY`.
fn bench_sdk<const COPY: u8>(
    suite: &mut Suite<'_>,
    label: &'static str,
    sampler: impl ShouldSample + 'static,
) {
    let pipeline = build_pipeline(sampler);
    let tracer = pipeline.provider.tracer("bench");
    suite.bench(
        label,
        |b| b.iter(|| call!(with_otel_sdk, &tracer)),
        |b| b.iter(|| run(call!(with_otel_sdk_async::<COPY, _>, &tracer))),
    );
    pipeline.shutdown();
}

/// fastrace's side of the discarding exporter.
struct DiscardReporter;

impl fastrace::collector::Reporter for DiscardReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        drop(black_box(spans));
    }
}

fn main() {
    let started = SystemTime::now();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut suite = Suite {
        criterion: &mut criterion,
        ran: Vec::new(),
    };
    overhead(&mut suite);
    let ran = suite.ran;
    criterion.final_summary();
    report::print(&ran, started);
}
