//! What tracing costs an HTTP client per request: one `GET` through a reqwest-middleware
//! client whose last middleware answers it in process (no socket, so the figures hold no
//! I/O), with the headers a client typically sends, its answer's status read. Variants:
//!
//! - `plain`: the client with the answering middleware alone;
//! - `traced/no_provider`: behind `traced::http::reqwest::TracingMiddleware`, no pipeline
//!   installed;
//! - `traced/sampled`: the same with `traced`'s pipeline installed (its default sampler), a
//!   request sent outside any span: a sampled root;
//! - `traced/sampled_child`: sent under a sampled caller's span (a request the service
//!   received, sampled by its caller): the commonest traced outgoing request;
//! - `traced/unsampled_child`: sent under a caller's span that is not sampled: no span, only
//!   the `traceparent` written;
//! - `traced/unsampled`: sent outside any span under `parentbased_traceidratio`, which drops
//!   it (ratio 0);
//! - `reqwest_tracing/no_subscriber`: the usual peer, reqwest-tracing's middleware, with no
//!   tracing subscriber;
//! - `reqwest_tracing/otel_sampled`: the same with tracing-opentelemetry onto the SDK's batch
//!   processor, every span sampled. reqwest-tracing 0.7 writes no `traceparent` for
//!   OpenTelemetry 0.33 (its propagation features stop at 0.32), so it does less than
//!   `traced` does here.
//!
//! Both pipelines export into a counting, discarding exporter. See `README.md`.

#[path = "common/answer.rs"]
mod answer;
#[path = "common/pipeline.rs"]
mod pipeline;
#[path = "common/poll.rs"]
mod poll;

use std::hint::black_box;

use criterion::Criterion;
use http::header;
use opentelemetry::Context;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::trace::Sampler;
use reqwest_middleware::ClientWithMiddleware;
use tracing_subscriber::layer::SubscriberExt as _;

use answer::{Answer, client};
use pipeline::{build_pipeline, install_configured, install_pipeline, sampled};
use poll::run;

/// The URL requested: a path with an id and a query, as a service calls another.
const URL: &str = "http://users.internal:8080/users/42?fields=name";

/// One request through `client`; returns the answer's status code.
fn send(client: &ClientWithMiddleware) -> u16 {
    let request = client
        .get(URL)
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, "orders/1.4.2");
    let response = run(request.send()).expect("the request is answered");
    response.status().as_u16()
}

/// A caller's span, as a server extracts it from a request it received.
fn caller(flags: TraceFlags) -> Context {
    let span = SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        flags,
        true,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(span)
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("http_client");

    let plain = client(None::<Answer>);
    group.bench_function("plain", |b| b.iter(|| black_box(send(&plain))));

    // Before any pipeline is installed.
    let traced = client(Some(traced::http::reqwest::TracingMiddleware::new()));
    group.bench_function("traced/no_provider", |b| {
        b.iter(|| black_box(send(&traced)))
    });

    // The peer, first without a subscriber, then with one scoped to this thread, so that
    // `traced`'s runs below see none.
    let peer_client = client(Some(reqwest_tracing::TracingMiddleware::default()));
    group.bench_function("reqwest_tracing/no_subscriber", |b| {
        b.iter(|| black_box(send(&peer_client)));
    });
    {
        let peer = build_pipeline(sampled());
        let tracer = peer.provider.tracer("reqwest_tracing");
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        tracing::subscriber::with_default(subscriber, || {
            group.bench_function("reqwest_tracing/otel_sampled", |b| {
                b.iter(|| black_box(send(&peer_client)));
            });
        });
        peer.shutdown_reporting("reqwest_tracing/otel_sampled");
    }

    // Also installs the global propagator `traced::init()` does (`tracecontext,baggage`).
    let pipeline = install_pipeline(None);
    for (name, parent) in [
        ("traced/sampled", Context::new()),
        ("traced/sampled_child", caller(TraceFlags::SAMPLED)),
        ("traced/unsampled_child", caller(TraceFlags::NOT_SAMPLED)),
    ] {
        let _attached = parent.attach();
        group.bench_function(name, |b| b.iter(|| black_box(send(&traced))));
    }
    pipeline.shutdown_reporting("traced");
    // `parentbased_traceidratio` with a ratio of 0: a request sent outside any span starts
    // a trace, which the ratio drops.
    let pipeline = install_configured(|config| {
        config.with_parent_based_sampler(Sampler::TraceIdRatioBased(0.0))
    });
    group.bench_function("traced/unsampled", |b| b.iter(|| black_box(send(&traced))));
    pipeline.shutdown_reporting("traced/unsampled");
    group.finish();
    criterion.final_summary();
}
