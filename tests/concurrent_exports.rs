//! `OTEL_BSP_MAX_CONCURRENT_EXPORTS`: `traced::init()`'s OTLP exporter sends that many
//! batches at once to a real receiver, and one at a time without it. Each case runs an
//! `#[ignore]`d child test of this binary with real `OTEL_*` variables, exporting to a
//! receiver in this process that holds every request until the test has counted how many
//! arrived at once.

mod support;

use std::process::{Child, Stdio};
use std::time::Duration;

use support::otlp_receiver::{HttpReceiver, Recorder};
use traced::traced;

/// The longest any wait lasts.
const WAIT: Duration = Duration::from_secs(10);

/// Spans the child ends, in batches of [`BATCH`].
const SPANS: usize = 6;
const BATCH: &str = "2";

#[traced]
fn handle(request: u64) -> u64 {
    request * 2
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_ends_six_spans() {
    let _otel = traced::init();
    for request in 0..SPANS as u64 {
        assert_eq!(handle(request), request * 2);
    }
    // Dropping the guard flushes: it returns once every export has been answered.
}

/// Starts the child with `vars` (and every other `OTEL_` and `HT_` variable removed).
fn spawn_child(vars: &[(&str, &str)]) -> Child {
    support::child::child_test("child_ends_six_spans")
        .envs(vars.iter().copied())
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", BATCH)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Holds the receiver's answers while the child exports, waits for `expected` requests in
/// progress at once, checks no more arrive, then lets everything through; returns the most
/// requests that were ever in progress at once.
fn run(recorder: &Recorder, vars: &[(&str, &str)], expected: usize) -> usize {
    run_inspecting(recorder, vars, expected, |_| {})
}

/// [`run`], calling `inspect` with the child while its requests are held.
fn run_inspecting(
    recorder: &Recorder,
    vars: &[(&str, &str)],
    expected: usize,
    inspect: impl FnOnce(&Child),
) -> usize {
    recorder.hold();
    let child = spawn_child(vars);
    let in_progress = recorder.wait_for_in_progress(expected, WAIT);
    // Room for a request beyond the limit to arrive, if the limit did not hold.
    std::thread::sleep(Duration::from_millis(200));
    let after_a_while = recorder.wait_for_in_progress(expected, Duration::ZERO);
    inspect(&child);
    recorder.release();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed: {stderr}");
    assert!(!stderr.contains("dropped"), "nothing dropped: {stderr}");
    assert_eq!(in_progress, expected, "in progress at once");
    assert_eq!(after_a_while, expected, "and no more");
    let spans = recorder.spans();
    assert_eq!(spans.len(), SPANS, "every span delivered once");
    let mut names: Vec<_> = spans.iter().map(|span| span.name.as_str()).collect();
    names.dedup();
    assert_eq!(names, ["handle"]);
    recorder.most_in_progress()
}

#[test]
fn http_sends_as_many_batches_at_once_as_configured() {
    let receiver = HttpReceiver::start();
    let url = receiver.url();
    let vars = [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.as_str()),
        ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "3"),
    ];
    assert_eq!(run(receiver.recorder(), &vars, 3), 3);
}

/// The export thread and each sender thread ask for a short time slice, so that on a busy
/// machine they run as soon as a batch is ready or an answer arrives; the application's
/// threads keep the one they had.
#[cfg(target_os = "linux")]
#[test]
fn export_threads_ask_for_a_short_time_slice() {
    use support::scheduling::{PIPELINE_SLICE_NANOS, kernel_keeps_custom_slices, thread_slices};

    let receiver = HttpReceiver::start();
    let url = receiver.url();
    let vars = [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.as_str()),
        ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "2"),
    ];
    let mut threads = Vec::new();
    run_inspecting(receiver.recorder(), &vars, 2, |child| {
        threads = thread_slices(child.id());
    });
    let (pipeline, application): (Vec<_>, Vec<_>) = threads
        .iter()
        .partition(|(name, _)| name.starts_with("traced-"));
    let mut names: Vec<_> = pipeline.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    // Thread names are cut to 15 bytes.
    assert_eq!(
        names,
        ["traced-batch-ex", "traced-export-s", "traced-export-s"],
        "{threads:?}"
    );
    assert!(!application.is_empty());
    if kernel_keeps_custom_slices() {
        for (name, slice) in &pipeline {
            assert_eq!(*slice, PIPELINE_SLICE_NANOS, "{name}");
        }
    }
    for (name, slice) in &application {
        assert_ne!(*slice, PIPELINE_SLICE_NANOS, "{name} keeps its own");
    }
}

#[test]
fn http_sends_one_batch_at_a_time_by_default() {
    let receiver = HttpReceiver::start();
    let url = receiver.url();
    let vars = [("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.as_str())];
    assert_eq!(run(receiver.recorder(), &vars, 1), 1);
}

#[test]
fn http_gzip_batches_are_compressed_and_sent_concurrently() {
    let receiver = HttpReceiver::start();
    let url = receiver.url();
    let vars = [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.as_str()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "2"),
    ];
    assert_eq!(run(receiver.recorder(), &vars, 2), 2);
    let exports = receiver.recorder().exports();
    assert!(
        exports
            .iter()
            .all(|export| export.header("content-encoding") == Some("gzip"))
    );
}

#[cfg(feature = "otlp-grpc")]
#[test]
fn grpc_sends_as_many_batches_at_once_as_configured() {
    let receiver = support::otlp_receiver::GrpcReceiver::start();
    let url = receiver.url();
    let vars = [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.as_str()),
        ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "3"),
    ];
    assert_eq!(run(receiver.recorder(), &vars, 3), 3);
}
