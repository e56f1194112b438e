//! What `#[traced]` costs per call: the same three-argument function without
//! instrumentation, instrumented with no provider installed, and instrumented with an SDK
//! provider that samples every span (or none) and exports to nowhere. See `README.md`.
//!
//! The provider is process-global, so the benchmarks run in three phases, in this order:
//! nothing installed, a sampling provider installed, a non-sampling provider installed.

// `criterion_group!` and `criterion_main!` generate undocumented public items.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};

/// An exporter that discards every batch, so the figures hold no I/O.
#[derive(Debug)]
struct DiscardExporter;

impl SpanExporter for DiscardExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(black_box(batch));
        Ok(())
    }
}

/// A provider batching into [`DiscardExporter`], with the given sampler or the default
/// (parent-based always-on).
fn provider(sampler: Option<Sampler>) -> SdkTracerProvider {
    let processor = BatchSpanProcessor::builder(DiscardExporter).build();
    let builder = SdkTracerProvider::builder().with_span_processor(processor);
    match sampler {
        Some(sampler) => builder.with_sampler(sampler).build(),
        None => builder.build(),
    }
}

// Both shapes are `#[inline(never)]` so every variant pays for one real call.

#[inline(never)]
fn plain(id: u64, name: &str, flag: bool) -> u64 {
    black_box(id) ^ black_box(name.len() as u64) ^ u64::from(black_box(flag))
}

#[traced::traced]
#[inline(never)]
fn instrumented(id: u64, name: &str, flag: bool) -> u64 {
    black_box(id) ^ black_box(name.len() as u64) ^ u64::from(black_box(flag))
}

#[inline(never)]
async fn plain_async(id: u64, name: &str, flag: bool) -> u64 {
    std::future::ready(()).await;
    black_box(id) ^ black_box(name.len() as u64) ^ u64::from(black_box(flag))
}

#[traced::traced]
#[inline(never)]
async fn instrumented_async(id: u64, name: &str, flag: bool) -> u64 {
    std::future::ready(()).await;
    black_box(id) ^ black_box(name.len() as u64) ^ u64::from(black_box(flag))
}

/// Polls `future` to completion with a no-op waker: no executor cost in the figures.
#[inline(always)]
fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Benchmarks the sync and async instrumented functions under the label `traced/<state>`.
fn bench_traced(c: &mut Criterion, state: &str) {
    let mut group = c.benchmark_group("sync");
    group.bench_function(BenchmarkId::new("traced", state), |b| {
        b.iter(|| instrumented(black_box(42), black_box("ada"), black_box(true)));
    });
    group.finish();

    let mut group = c.benchmark_group("async");
    group.bench_function(BenchmarkId::new("traced", state), |b| {
        b.iter(|| {
            run(instrumented_async(
                black_box(42),
                black_box("ada"),
                black_box(true),
            ))
        });
    });
    group.finish();
}

fn overhead(c: &mut Criterion) {
    // Phase 1: nothing installed.
    traced::disable();

    let mut group = c.benchmark_group("sync");
    group.bench_function("plain", |b| {
        b.iter(|| plain(black_box(42), black_box("ada"), black_box(true)))
    });
    group.finish();

    let mut group = c.benchmark_group("async");
    group.bench_function("plain", |b| {
        b.iter(|| {
            run(plain_async(
                black_box(42),
                black_box("ada"),
                black_box(true),
            ))
        });
    });
    group.finish();

    bench_traced(c, "no_provider");

    // Phase 2: every span sampled (default sampler, no parent) and batched to nowhere.
    let sampled = provider(None);
    traced::set_tracer_provider(sampled.clone());
    bench_traced(c, "sampled");

    // Phase 3: no span sampled. Installing replaces the sampled provider everywhere.
    let unsampled = provider(Some(Sampler::AlwaysOff));
    traced::set_tracer_provider(unsampled.clone());
    bench_traced(c, "unsampled");

    traced::disable();
    for provider in [sampled, unsampled] {
        if let Err(err) = provider.shutdown() {
            eprintln!("provider shutdown failed: {err}");
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = overhead
}
criterion_main!(benches);
