//! How many `#[traced]` spans per second the real pipeline carries: producer threads call an
//! instrumented three-argument function as fast as they can (or at a fixed rate), every span
//! sampled, through the batch processor into an exporter that counts and discards. Prints
//! spans/s offered and exported, and how many the pipeline dropped. See `README.md`.
//!
//! Runs: 1 and 2 producers unpaced, then 2 producers paced to `BENCH_THROUGHPUT_RATE` spans/s
//! in all (default 1 000 000). Each lasts `BENCH_THROUGHPUT_SECS` seconds (default 2).
//! The same calls made through the OpenTelemetry API's global tracer, which is the
//! pipeline's (`API` rows, unpaced), and through the raw SDK's tracer and its own
//! `BatchSpanProcessor` (`SDK` rows, the three runs).
//! Then the same three through the real OTLP exporter (`http/protobuf`, what `traced::init()`
//! builds with `OTEL_TRACES_EXPORTER=otlp`) into a local endpoint that reads each request
//! and answers 200 ([`http_sink`]): the export thread's cost per span with encoding and HTTP;
//! and one producer through `http/protobuf` with gzip and through `http/json` into the same
//! endpoint, and (built with `--features otlp-grpc`) through the gRPC exporter, without and
//! with gzip, into a local gRPC endpoint ([`grpc_sink`]), and to one 2 ms away with one and
//! four exports in flight.
//! Then one producer through the OTLP exporter to an endpoint that answers each request
//! `BENCH_THROUGHPUT_LATENCY_MS` after it arrived (default 2, a collector a network round
//! trip away), with one export at a time (the default) and with
//! `OTEL_BSP_MAX_CONCURRENT_EXPORTS` at 4.
//! `BENCH_THROUGHPUT_COLLECTOR_DOWN=<secs>` adds a run through `traced::Config`'s OTLP
//! exporter aimed at a closed port, paced the same, printing the process RSS every 5 s
//! (over the protocol `OTEL_EXPORTER_OTLP_PROTOCOL` names, `http/protobuf` by default).
//! `BENCH_THROUGHPUT_ONLY=<row>` runs only the rows that start so (`paced 1.00 M/s`,
//! `OTLP unpaced | 2`).

#[cfg(feature = "otlp-grpc")]
#[path = "common/grpc_sink.rs"]
mod grpc_sink;
#[path = "common/http_sink.rs"]
mod http_sink;
#[path = "common/pipeline.rs"]
mod pipeline;
#[path = "common/settings.rs"]
mod settings;
#[path = "common/threads.rs"]
mod threads;
// For the OpenTelemetry API's calls the overhead bench measures (`with_otel_sdk`).
#[allow(dead_code)]
#[path = "overhead/subjects.rs"]
mod subjects;

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider;
use traced::{ExporterKind, OtlpCompression, OtlpProtocol, OtlpSettings};

#[traced::traced]
#[inline(never)]
fn work(id: u64, name: &str, flag: bool) -> u64 {
    black_box(id) ^ black_box(name.len() as u64) ^ u64::from(black_box(flag))
}

/// Calls between two looks at the clock (and the stop flag).
const CHUNK: u64 = 100;

/// The call each producer makes: `work` with its call number.
fn traced_call(id: u64) -> u64 {
    work(id, black_box("ada"), black_box(true))
}

/// Calls `call` (with the call's number) until `stop`, at most `rate` calls/s (`None`: as
/// fast as it can), adding the calls made to `progress` as it goes; returns the number of
/// calls.
fn produce(
    stop: &AtomicBool,
    progress: &AtomicU64,
    rate: Option<f64>,
    call: impl Fn(u64) -> u64,
) -> u64 {
    let start = Instant::now();
    let mut calls = 0u64;
    while !stop.load(Ordering::Relaxed) {
        for i in 0..CHUNK {
            black_box(call(black_box(calls + i)));
        }
        calls += CHUNK;
        progress.fetch_add(CHUNK, Ordering::Relaxed);
        if let Some(rate) = rate {
            // Ahead of schedule: wait until the schedule catches up with the calls made.
            let due = Duration::from_secs_f64(calls as f64 / rate);
            let elapsed = start.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
    calls
}

/// Runs `producers` threads making `call`s for `duration`; returns the calls made in all.
fn run_producers(
    producers: usize,
    duration: Duration,
    rate: Option<f64>,
    call: impl Fn(u64) -> u64 + Sync,
) -> u64 {
    let stop = AtomicBool::new(false);
    let progress = AtomicU64::new(0);
    let rate = rate.map(|rate| rate / producers as f64);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..producers)
            .map(|_| scope.spawn(|| produce(&stop, &progress, rate, &call)))
            .collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or(0))
            .sum()
    })
}

/// The resident set size of this process in MiB (Linux), if readable.
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn per_second(count: u64, duration: Duration) -> String {
    format!("{:.3} M/s", count as f64 / duration.as_secs_f64() / 1e6)
}

/// What the export thread spent per span it exported, its share of a core, and how much of
/// the run it spent runnable but waiting for a CPU (the scheduler's share, not its own cost).
fn export_cost(
    times_before: &HashMap<String, threads::ThreadTimes>,
    exported: u64,
    duration: Duration,
) -> String {
    match threads::spent(times_before, &threads::times_of(threads::EXPORT_THREADS)) {
        Some(spent) => {
            let (running, waiting) = (spent.running as f64, spent.waiting as f64);
            let run = duration.as_nanos() as f64;
            format!(
                "{:.0} ns/span, {:.0} % of a core, {:.0} % waiting",
                running / exported.max(1) as f64,
                100.0 * running / run,
                100.0 * waiting / run,
            )
        }
        None => "–".to_owned(),
    }
}

/// What a run offered, exported while the producers ran, and the export thread's cost.
struct Measured {
    offered: u64,
    exported_in_window: u64,
    export_cost: String,
}

/// Runs the producers (calling `#[traced]` `work`) through the installed pipeline, then
/// disables `traced`; `exported_so_far` reads the exported count, given the offered one,
/// before that.
fn run_measured(
    producers: usize,
    duration: Duration,
    rate: Option<f64>,
    exported_so_far: impl FnOnce(u64) -> u64,
) -> Measured {
    run_measured_calls(producers, duration, rate, traced_call, exported_so_far)
}

/// [`run_measured`] for any `call`.
fn run_measured_calls(
    producers: usize,
    duration: Duration,
    rate: Option<f64>,
    call: impl Fn(u64) -> u64 + Sync,
    exported_so_far: impl FnOnce(u64) -> u64,
) -> Measured {
    let export_times_before = threads::times_of(threads::EXPORT_THREADS);
    let offered = run_producers(producers, duration, rate, call);
    let exported_in_window = exported_so_far(offered);
    let export_cost = export_cost(&export_times_before, exported_in_window, duration);
    traced::disable();
    Measured {
        offered,
        exported_in_window,
        export_cost,
    }
}

/// Prints one table row.
fn print_row(label: &str, producers: usize, duration: Duration, run: &Measured, dropped: u64) {
    println!(
        "| {label} | {producers} | {} | {} | {dropped} | {:.1} % | {} | {} |",
        per_second(run.offered, duration),
        per_second(run.exported_in_window, duration),
        100.0 * dropped as f64 / run.offered.max(1) as f64,
        rss_mib().map_or("–".to_owned(), |rss| format!("{rss:.1} MiB")),
        run.export_cost,
    );
}

/// Whether the run of this row is asked for: every run, or those whose row starts with
/// `BENCH_THROUGHPUT_ONLY` written as the table writes it (`OTLP unpaced | 1`: one row;
/// `OTLP`: every OTLP row), to measure or profile one row alone.
fn selected(label: &str, producers: usize) -> bool {
    std::env::var("BENCH_THROUGHPUT_ONLY").map_or(true, |only| {
        format!("{label} | {producers}").starts_with(&only)
    })
}

/// One run through the discarding pipeline, printed as a table row.
fn through_pipeline(label: &str, producers: usize, duration: Duration, rate: Option<f64>) {
    if selected(label, producers) {
        let pipeline = pipeline::install_pipeline(None);
        print_pipeline_run(label, producers, duration, rate, pipeline, traced_call);
    }
}

/// One run of the same calls through the OpenTelemetry API's global tracer, which is the
/// installed pipeline's own (what a library instrumented with the API gets), printed as a
/// table row.
fn through_api(label: &str, producers: usize, duration: Duration, rate: Option<f64>) {
    if selected(label, producers) {
        let pipeline = pipeline::install_pipeline(None);
        let tracer = opentelemetry::global::tracer("throughput");
        let api_call = |id| subjects::with_otel_sdk(&tracer, id, black_box("ada"), black_box(true));
        print_pipeline_run(label, producers, duration, rate, pipeline, api_call);
    }
}

/// One run of the raw SDK's calls through its own `BatchSpanProcessor` (the specification's
/// default sizes, or `OTEL_BSP_*`) into the same discarding exporter, printed as a table row:
/// the peer the pipeline's rows compare with.
fn through_sdk(label: &str, producers: usize, duration: Duration, rate: Option<f64>) {
    if selected(label, producers) {
        let pipeline = pipeline::build_pipeline(pipeline::sampled());
        let tracer = pipeline.provider.tracer("throughput");
        let sdk_call = |id| subjects::with_otel_sdk(&tracer, id, black_box("ada"), black_box(true));
        print_pipeline_run(label, producers, duration, rate, pipeline, sdk_call);
    }
}

/// Runs the producers' `call`s through `pipeline` and prints the row.
fn print_pipeline_run(
    label: &str,
    producers: usize,
    duration: Duration,
    rate: Option<f64>,
    pipeline: pipeline::Pipeline,
    call: impl Fn(u64) -> u64 + Sync,
) {
    let run = run_measured_calls(producers, duration, rate, call, |_| pipeline.exported());
    // Shutting down flushes what is still queued; what never reaches the exporter then is
    // what the full queue dropped.
    let dropped = run.offered.saturating_sub(pipeline.shutdown());
    print_row(label, producers, duration, &run, dropped);
}

/// One producer to a collector `latency` away (`settings`), with one export at a time and
/// with four at once: two table rows, labelled from `label`.
fn through_far_collector(
    label: &str,
    latency: Duration,
    duration: Duration,
    settings: OtlpSettings,
) {
    let away = format!("{label} {:.1} ms away", latency.as_secs_f64() * 1e3);
    let one = format!("{away}, 1 export");
    through_otlp(&one, 1, duration, None, settings.clone(), 1);
    let four = format!("{away}, 4 at once");
    through_otlp(&four, 1, duration, None, settings, 4);
}

/// The exporter's settings for `endpoint` and `protocol`, the rest the defaults.
fn otlp(endpoint: &str, protocol: OtlpProtocol) -> OtlpSettings {
    OtlpSettings {
        endpoint: endpoint.to_owned(),
        protocol,
        ..OtlpSettings::default()
    }
}

/// `settings` with gzip compression.
fn gzipped(settings: OtlpSettings) -> OtlpSettings {
    OtlpSettings {
        compression: OtlpCompression::Gzip,
        ..settings
    }
}

/// One run through the OTLP exporter with `settings`, at most `concurrent_exports` at
/// once, printed as a table row.
fn through_otlp(
    label: &str,
    producers: usize,
    duration: Duration,
    rate: Option<f64>,
    settings: OtlpSettings,
    concurrent_exports: usize,
) {
    if !selected(label, producers) {
        return;
    }
    let otel = traced::Config::defaults()
        .with_exporters([ExporterKind::Otlp])
        .with_otlp(settings)
        .with_max_concurrent_exports(concurrent_exports)
        .install();
    // Dropped so far counts the queued spans too: the rest were sent, but for the batch
    // the export thread holds (at most a queue's worth, against millions).
    let run = run_measured(producers, duration, rate, |offered| {
        offered.saturating_sub(otel.dropped_spans())
    });
    // Flushed, the queue holds nothing: what is counted then was dropped.
    if let Some(Err(err)) = otel.provider().map(|provider| provider.force_flush()) {
        eprintln!("flush failed: {err}");
    }
    let dropped = otel.dropped_spans();
    if let Err(err) = otel.shutdown() {
        eprintln!("pipeline shutdown failed: {err}");
    }
    print_row(label, producers, duration, &run, dropped);
}

/// Spans through the real OTLP exporter to a port nobody listens on, paced at `rate`:
/// prints the RSS every 5 s (it must stay flat: the queue is bounded) and the dropped count.
fn collector_down(duration: Duration, rate: f64) {
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(address) => address.port(),
        Err(err) => {
            eprintln!("cannot find a free port: {err}");
            return;
        }
    };
    // The protocol `OTEL_EXPORTER_OTLP_PROTOCOL` names, `http/protobuf` by default.
    let protocol = match std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
        Ok("grpc") => OtlpProtocol::Grpc,
        Ok("http/json") => OtlpProtocol::HttpJson,
        _ => OtlpProtocol::HttpProtobuf,
    };
    let otel = traced::Config::defaults()
        .with_exporters([ExporterKind::Otlp])
        .with_otlp(otlp(
            &format!("http://127.0.0.1:{port}/v1/traces"),
            protocol,
        ))
        .install();
    println!(
        "\nCollector down (OTLP {protocol:?} to 127.0.0.1:{port}, nobody listening), {rate:.0} \
         spans/s:"
    );
    println!("\n| after | RSS | offered so far |");
    println!("|---:|---:|---:|");
    let stop = AtomicBool::new(false);
    let progress = AtomicU64::new(0);
    let offered = std::thread::scope(|scope| {
        let producer = scope.spawn(|| produce(&stop, &progress, Some(rate), traced_call));
        let start = Instant::now();
        while start.elapsed() < duration {
            std::thread::sleep(Duration::from_secs(5).min(duration));
            println!(
                "| {:.0} s | {} | {:.1} M |",
                start.elapsed().as_secs_f64(),
                rss_mib().map_or("–".to_owned(), |rss| format!("{rss:.1} MiB")),
                progress.load(Ordering::Relaxed) as f64 / 1e6,
            );
        }
        stop.store(true, Ordering::Relaxed);
        producer.join().unwrap_or(0)
    });
    println!(
        "\noffered {offered}, dropped so far (the guard's count) {}",
        otel.dropped_spans()
    );
    // Shutting down would retry the unreachable collector until the export timeout.
    traced::disable();
    std::mem::forget(otel);
}

fn main() {
    // Under `cargo test --benches`, only check that the pipeline runs, briefly.
    let benching = settings::benching();
    let secs = if benching {
        settings::env_number("BENCH_THROUGHPUT_SECS", 2.0)
    } else {
        0.05
    };
    let duration = Duration::from_secs_f64(secs);
    let rate = settings::env_number("BENCH_THROUGHPUT_RATE", 1_000_000.0);

    println!(
        "Throughput of #[traced] spans (3 attributes, all sampled) through the batch processor \
         into a discarding exporter, {secs} s per run, OTEL_BSP_MAX_QUEUE_SIZE={}:\n",
        std::env::var("OTEL_BSP_MAX_QUEUE_SIZE").unwrap_or_else(|_| "2048 (default)".into()),
    );
    println!(
        "| run | producers | offered | exported | dropped | dropped % | RSS after | export thread |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    through_pipeline("unpaced", 1, duration, None);
    through_pipeline("unpaced", 2, duration, None);
    let paced = format!("paced {:.2} M/s", rate / 1e6);
    through_pipeline(&paced, 2, duration, Some(rate));
    through_api("API unpaced", 1, duration, None);
    through_api("API unpaced", 2, duration, None);
    through_sdk("SDK unpaced", 1, duration, None);
    through_sdk("SDK unpaced", 2, duration, None);
    through_sdk(&format!("SDK {paced}"), 2, duration, Some(rate));
    match http_sink::HttpSink::start() {
        Ok(sink) => {
            let protobuf = otlp(&sink.endpoint, OtlpProtocol::HttpProtobuf);
            through_otlp("OTLP unpaced", 1, duration, None, protobuf.clone(), 1);
            through_otlp("OTLP unpaced", 2, duration, None, protobuf.clone(), 1);
            let label = format!("OTLP paced {:.2} M/s", rate / 1e6);
            through_otlp(&label, 2, duration, Some(rate), protobuf.clone(), 1);
            let gzip = gzipped(protobuf);
            through_otlp("OTLP gzip unpaced", 1, duration, None, gzip, 1);
            let json = otlp(&sink.endpoint, OtlpProtocol::HttpJson);
            through_otlp("OTLP http/json unpaced", 1, duration, None, json, 1);
            let (requests, bytes) = sink.received();
            println!(
                "\nThe OTLP endpoint received {requests} requests, {:.1} MB of request bodies.",
                bytes as f64 / 1e6
            );
        }
        Err(err) => eprintln!("cannot start the local OTLP endpoint: {err}"),
    }
    let latency =
        Duration::from_secs_f64(settings::env_number("BENCH_THROUGHPUT_LATENCY_MS", 2.0) / 1e3);
    match http_sink::HttpSink::start_with_delay(latency) {
        Ok(sink) => {
            let protobuf = otlp(&sink.endpoint, OtlpProtocol::HttpProtobuf);
            through_far_collector("OTLP", latency, duration, protobuf);
        }
        Err(err) => eprintln!("cannot start the delayed OTLP endpoint: {err}"),
    }
    #[cfg(feature = "otlp-grpc")]
    match grpc_sink::GrpcSink::start() {
        Ok(sink) => {
            let grpc = otlp(&sink.endpoint, OtlpProtocol::Grpc);
            through_otlp("OTLP grpc unpaced", 1, duration, None, grpc.clone(), 1);
            through_otlp(
                "OTLP grpc gzip unpaced",
                1,
                duration,
                None,
                gzipped(grpc),
                1,
            );
            println!(
                "\nThe OTLP/gRPC endpoint received {} requests.",
                sink.received()
            );
        }
        Err(err) => eprintln!("cannot start the local OTLP/gRPC endpoint: {err}"),
    }
    #[cfg(feature = "otlp-grpc")]
    match grpc_sink::GrpcSink::start_with_delay(latency) {
        Ok(sink) => {
            let grpc = otlp(&sink.endpoint, OtlpProtocol::Grpc);
            through_far_collector("OTLP grpc", latency, duration, grpc);
        }
        Err(err) => eprintln!("cannot start the delayed OTLP/gRPC endpoint: {err}"),
    }

    if let Ok(value) = std::env::var("BENCH_THROUGHPUT_COLLECTOR_DOWN") {
        match value.trim().parse::<f64>() {
            Ok(secs) if benching => collector_down(Duration::from_secs_f64(secs), rate),
            Ok(_) => {}
            Err(_) => eprintln!("BENCH_THROUGHPUT_COLLECTOR_DOWN={value:?} is not a number"),
        }
    }
}
