//! What tracing costs a service per request, with everything a service usually instruments
//! at once: an axum route behind the tracing layer, whose handler awaits an instrumented
//! `async fn` that suspends once (as one waiting on a database does), calls an instrumented
//! function of three arguments, and asks another service through an instrumented `async fn`
//! and the instrumented HTTP client, answered in process. No socket on either side, so the
//! figures hold no I/O. Variants:
//!
//! - `plain`: the same route, functions and client with no instrumentation;
//! - `traced/no_provider`: `traced::http::TraceLayer`, `#[traced]` functions and
//!   `traced::http::reqwest::TracingMiddleware`, no pipeline installed;
//! - `traced/sampled`: the same with `traced`'s pipeline installed (its default sampler), the
//!   request arriving without a `traceparent`: five spans a request (the server's, three
//!   functions', the client's);
//! - `traced/unsampled_child`: the request's caller did not sample it (`traceparent` flags
//!   `00`): no span, the caller's `traceparent` passed on to the other service;
//! - `traced/unsampled`: no `traceparent`, under `parentbased_traceidratio` with a ratio of
//!   0: the request's span dropped at its root, the other service told so;
//! - `tracing/no_subscriber`: the usual peers, tower-http's `TraceLayer`,
//!   `#[tracing::instrument]` and reqwest-tracing's middleware, with no subscriber;
//! - `tracing/otel_sampled`: the same with tracing-opentelemetry onto the SDK's batch
//!   processor, every span sampled.
//!
//! Both pipelines export into a counting, discarding exporter. See `README.md`.

#[path = "common/answer.rs"]
mod answer;
#[path = "common/orders.rs"]
mod orders;
#[path = "common/pipeline.rs"]
mod pipeline;
#[path = "common/poll.rs"]
mod poll;
#[path = "common/serve.rs"]
mod serve;

use std::hint::black_box;

use axum::body::Body;
use criterion::Criterion;
use http::{Request, header};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::Sampler;
use tracing_subscriber::layer::SubscriberExt as _;

use answer::client;
use orders::{plain, routes, with_traced, with_tracing};
use pipeline::{build_pipeline, install_configured, install_pipeline, sampled};
use serve::{UNSAMPLED_PARENT, arrived, serve};

/// The request, as it arrives (with `traceparent` when given).
fn request(traceparent: Option<&'static str>) -> Request<Body> {
    let builder = Request::get("/orders/42")
        .header(header::HOST, "orders.example.com:8080")
        .header(header::USER_AGENT, "checkout/2.3.0")
        .header(header::ACCEPT, "application/json");
    arrived(builder, traceparent)
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("service");

    let mut plain = routes(plain::order, client(None::<answer::Answer>));
    let expected = serve(&mut plain, request(None));
    group.bench_function("plain", |b| {
        b.iter(|| black_box(serve(&mut plain, request(None))));
    });

    // Before any pipeline is installed.
    let middleware = traced::http::reqwest::TracingMiddleware::new();
    let mut traced =
        routes(with_traced::order, client(Some(middleware))).layer(traced::http::TraceLayer::new());
    assert_eq!(serve(&mut traced, request(None)), expected);
    group.bench_function("traced/no_provider", |b| {
        b.iter(|| black_box(serve(&mut traced, request(None))));
    });

    // The peers, first without a subscriber, then with one scoped to this thread, so that
    // `traced`'s runs below see none.
    let middleware = reqwest_tracing::TracingMiddleware::default();
    let mut peers = routes(with_tracing::order, client(Some(middleware)))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    assert_eq!(serve(&mut peers, request(None)), expected);
    group.bench_function("tracing/no_subscriber", |b| {
        b.iter(|| black_box(serve(&mut peers, request(None))));
    });
    {
        let peer = build_pipeline(sampled());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(peer.provider.tracer("peers")));
        tracing::subscriber::with_default(subscriber, || {
            assert_eq!(
                peer.spans_exported_by(|| serve(&mut peers, request(None))),
                5
            );
            group.bench_function("tracing/otel_sampled", |b| {
                b.iter(|| black_box(serve(&mut peers, request(None))));
            });
        });
        peer.shutdown_reporting("tracing/otel_sampled");
    }

    // Also installs the global propagator `traced::init()` does (`tracecontext,baggage`).
    let pipeline = install_pipeline(None);
    assert_eq!(
        pipeline.spans_exported_by(|| serve(&mut traced, request(None))),
        5
    );
    let unsampled_child = || serve(&mut traced, request(Some(UNSAMPLED_PARENT)));
    assert_eq!(pipeline.spans_exported_by(unsampled_child), 0);
    for (name, traceparent) in [
        ("traced/sampled", None),
        ("traced/unsampled_child", Some(UNSAMPLED_PARENT)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(serve(&mut traced, request(traceparent))));
        });
    }
    pipeline.shutdown_reporting("traced");
    // `parentbased_traceidratio` with a ratio of 0: the request starts a trace, which the
    // ratio drops, as it drops most of them where a fraction is kept.
    let pipeline = install_configured(|config| {
        config.with_parent_based_sampler(Sampler::TraceIdRatioBased(0.0))
    });
    group.bench_function("traced/unsampled", |b| {
        b.iter(|| black_box(serve(&mut traced, request(None))));
    });
    pipeline.shutdown_reporting("traced/unsampled");
    group.finish();
    criterion.final_summary();
}
