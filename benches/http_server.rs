//! What tracing costs an HTTP server per request: one axum router answering
//! `GET /users/{id}`, called in process (no socket, so the figures hold no I/O) with the
//! request a server typically receives (`Host`, `User-Agent`, the peer address, a query), its
//! response body read to the end. Variants:
//!
//! - `plain`: the router alone;
//! - `traced/no_provider`: behind `traced::http::TraceLayer`, no pipeline installed;
//! - `traced/sampled`: the same with `traced`'s pipeline installed (its default sampler,
//!   parent-based always-on), a request with no `traceparent`: a sampled root;
//! - `traced/sampled_child`: a `traceparent` saying "sampled": a child of the caller's span;
//! - `traced/unsampled_child`: a `traceparent` saying "not sampled", the common case when
//!   the service's callers sample a fraction of their traces;
//! - `traced/unsampled`: no `traceparent`, under the sampler of a service that starts its
//!   traces and keeps a fraction of them (`parentbased_traceidratio`), for a request that
//!   falls outside that fraction (ratio 0 here): what nearly every request costs at the edge;
//! - `tower_http/no_subscriber`: the usual peer, tower-http's `TraceLayer::new_for_http()`,
//!   with no tracing subscriber;
//! - `tower_http/otel_sampled`: the same with tracing-opentelemetry onto the SDK's batch
//!   processor, every span sampled (it reads no `traceparent`: a root span).
//!
//! Both pipelines export into a counting, discarding exporter. Then a request's W3C
//! `traceparent` read by `traced`'s propagator and by the SDK's (`extract_traceparent/*`),
//! what every traced request does first. See `README.md`.

#[path = "common/pipeline.rs"]
mod pipeline;
#[path = "common/poll.rs"]
mod poll;
#[path = "common/serve.rs"]
mod serve;

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use criterion::Criterion;
use http::{Request, header};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::Sampler;
use tracing_subscriber::layer::SubscriberExt as _;

use pipeline::{build_pipeline, install_configured, install_pipeline, sampled};
use serve::{SAMPLED_PARENT, UNSAMPLED_PARENT, arrived, serve};

/// The handler: a small JSON body built from the path parameter.
async fn user(Path(id): Path<u64>) -> String {
    format!("{{\"id\":{id},\"name\":\"ada\"}}")
}

fn routes() -> Router {
    Router::new().route("/users/{id}", get(user))
}

/// The request, as it arrives (with `traceparent` when given).
fn request(traceparent: Option<&'static str>) -> Request<Body> {
    let builder = Request::get("/users/42?page=2")
        .header(header::HOST, "api.example.com:8080")
        .header(header::USER_AGENT, "curl/8.5.0")
        .header(header::ACCEPT, "*/*");
    arrived(builder, traceparent)
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("http_server");

    let mut plain = routes();
    group.bench_function("plain", |b| {
        b.iter(|| black_box(serve(&mut plain, request(None))))
    });

    // Before any pipeline is installed.
    let mut traced = routes().layer(traced::http::TraceLayer::new());
    group.bench_function("traced/no_provider", |b| {
        b.iter(|| black_box(serve(&mut traced, request(None))));
    });

    // The peer, first without a subscriber, then with one scoped to this thread, so that
    // `traced`'s runs below see none.
    let mut tower_http = routes().layer(tower_http::trace::TraceLayer::new_for_http());
    group.bench_function("tower_http/no_subscriber", |b| {
        b.iter(|| black_box(serve(&mut tower_http, request(None))));
    });
    {
        let peer = build_pipeline(sampled());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(peer.provider.tracer("tower_http")));
        tracing::subscriber::with_default(subscriber, || {
            group.bench_function("tower_http/otel_sampled", |b| {
                b.iter(|| black_box(serve(&mut tower_http, request(None))));
            });
        });
        peer.shutdown_reporting("tower_http/otel_sampled");
    }

    // Also installs the global propagator `traced::init()` does (`tracecontext,baggage`).
    let pipeline = install_pipeline(None);
    for (name, traceparent) in [
        ("traced/sampled", None),
        ("traced/sampled_child", Some(SAMPLED_PARENT)),
        ("traced/unsampled_child", Some(UNSAMPLED_PARENT)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(serve(&mut traced, request(traceparent))));
        });
    }
    pipeline.shutdown_reporting("traced");
    // `parentbased_traceidratio` with a ratio of 0: the request starts a trace, asks the ratio
    // sampler, which drops it, as it drops most of them where a fraction is kept.
    let pipeline = install_configured(|config| {
        config.with_parent_based_sampler(Sampler::TraceIdRatioBased(0.0))
    });
    group.bench_function("traced/unsampled", |b| {
        b.iter(|| black_box(serve(&mut traced, request(None))));
    });
    pipeline.shutdown_reporting("traced/unsampled");
    group.finish();
    extraction(&mut criterion);
    criterion.final_summary();
}

/// A sampled `traceparent` (and no `tracestate`, which both read with the API's
/// `TraceState::from_str`), read by each propagator.
fn extraction(criterion: &mut Criterion) {
    let headers =
        std::collections::HashMap::from([("traceparent".to_owned(), SAMPLED_PARENT.to_owned())]);
    let mut group = criterion.benchmark_group("extract_traceparent");
    let propagators: [(&str, Box<dyn TextMapPropagator>); 2] = [
        ("traced", Box::new(traced::TraceContextPropagator::new())),
        ("opentelemetry_sdk", Box::new(TraceContextPropagator::new())),
    ];
    for (name, propagator) in &propagators {
        assert!(
            propagator
                .extract(&headers)
                .span()
                .span_context()
                .is_sampled()
        );
        group.bench_function(*name, |b| {
            b.iter(|| propagator.extract(black_box(&headers)))
        });
    }
    group.finish();
}
