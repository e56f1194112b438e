//! `traced::init()` as a user runs it: a real process with real `OTEL_*` variables. Each case
//! re-runs this test binary with the variables set, selecting an `#[ignore]`d child test that
//! calls `init()`, and reads what the child printed.

#[path = "support/child.rs"]
mod child;

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value as Json;
use traced::traced;

use child::child_test;

#[traced]
fn greet(name: &str) -> usize {
    name.len()
}

/// Runs child test `name` with `vars` set (and every other OTEL_ variable removed).
fn run_child(name: &str, vars: &[(&str, &str)]) -> Output {
    let mut command = child_test(name);
    command.envs(vars.iter().copied());
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "child {name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs child test `name` with `yaml` as its `OTEL_CONFIG_FILE` (a file of its own, removed
/// after), and `vars`.
fn run_child_with_config_file(name: &str, yaml: &str, vars: &[(&str, &str)]) -> Output {
    // Tests run at once: each file gets its own number.
    static FILES: AtomicUsize = AtomicUsize::new(0);
    let number = FILES.fetch_add(1, Ordering::Relaxed);
    let file_name = format!("traced-init-{}-{number}.yaml", std::process::id());
    let path = std::env::temp_dir().join(file_name);
    std::fs::write(&path, yaml).unwrap();
    let file = path.to_string_lossy().into_owned();
    let mut vars = vars.to_vec();
    vars.push(("OTEL_CONFIG_FILE", &file));
    let output = run_child(name, &vars);
    let _ = std::fs::remove_file(&path);
    output
}

/// The JSON documents in the child's output, skipping the test harness's own lines.
fn printed_spans(output: &Output) -> Vec<Json> {
    let text = String::from_utf8_lossy(&output.stdout);
    let mut documents = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        // A document starts on a line of its own, or after the harness's "test name ... ".
        let line = match &current {
            None if line.ends_with('{') && (line == "{" || line.ends_with(" ... {")) => {
                current = Some(String::new());
                "{"
            }
            _ => line,
        };
        if let Some(document) = &mut current {
            document.push_str(line);
            document.push('\n');
            if line == "}" {
                documents.push(serde_json::from_str(document).unwrap());
                current = None;
            }
        }
    }
    documents
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_init_and_greet() {
    let _otel = traced::init();
    assert_eq!(greet("ada"), 3);
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_reports_state() {
    let otel = traced::init();
    println!("enabled={}", traced::is_enabled());
    assert_eq!(greet("grace"), 5);
    let mut headers = std::collections::HashMap::new();
    #[traced]
    fn inject(headers: &mut std::collections::HashMap<String, String>) {
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.inject(headers));
    }
    inject(&mut headers);
    let mut names: Vec<_> = headers.keys().cloned().collect();
    names.sort();
    println!("headers={}", names.join(","));
    drop(otel);
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_flushes_twice() {
    let otel = traced::init();
    let provider = otel.provider().expect("a pipeline is installed");
    for flush in ["first", "second"] {
        assert_eq!(greet("ada"), 3);
        // Failed exports are counted; the flush itself completes.
        let _ = provider.force_flush();
        eprintln!("{flush} flush done");
    }
    drop(otel);
}

/// An exporter given in code that refuses its first `refusals` exports.
#[derive(Debug)]
struct Refusing {
    refusals: AtomicUsize,
}

impl Refusing {
    fn first(refusals: usize) -> Self {
        Self {
            refusals: AtomicUsize::new(refusals),
        }
    }
}

impl opentelemetry_sdk::trace::SpanExporter for Refusing {
    async fn export(
        &self,
        _batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        let refuse = self
            .refusals
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            });
        match refuse {
            Ok(_) => Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
                "the archive refused the batch".to_owned(),
            )),
            Err(_) => Ok(()),
        }
    }
}

/// Installs `exporter` alone, ends three spans, flushes, and prints the count of dropped
/// spans, then three more and flushes again.
fn export_twice_to(exporter: Refusing) {
    let otel = traced::Config::from_env()
        .with_exporters([])
        .with_span_exporter(exporter)
        .install();
    let provider = otel.provider().expect("a pipeline is installed");
    for flush in ["first", "second"] {
        for _ in 0..3 {
            assert_eq!(greet("ada"), 3);
        }
        let _ = provider.force_flush();
        eprintln!("{flush} flush done");
        println!("dropped after the {flush} flush={}", otel.dropped_spans());
    }
    drop(otel);
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_exports_to_a_refusing_exporter() {
    export_twice_to(Refusing::first(usize::MAX));
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_exports_to_an_exporter_refusing_once() {
    export_twice_to(Refusing::first(1));
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_inside_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let otel = traced::init();
        #[traced]
        async fn handler(id: u32) -> u32 {
            tokio::task::yield_now().await;
            id
        }
        assert_eq!(handler(9).await, 9);
        // Shut down on the runtime's only thread: must neither panic nor deadlock.
        otel.shutdown().unwrap();
    });
    println!("finished");
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_many_spans() {
    let _otel = traced::init();
    #[traced]
    fn tick(n: u32) -> u32 {
        n
    }
    for n in 0..200 {
        tick(n);
    }
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child_programmatic_override() {
    let _otel = traced::Config::from_env()
        .with_service_name("from-code")
        .install();
    greet("grace");
}

#[test]
fn console_exporter_prints_the_span_with_the_service_name_on_shutdown() {
    let output = run_child(
        "child_init_and_greet",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_SERVICE_NAME", "checkout"),
        ],
    );
    let spans = printed_spans(&output);
    assert_eq!(
        spans.len(),
        1,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(spans[0]["name"], "greet");
    assert_eq!(spans[0]["attributes"]["name"], "ada");
    assert_eq!(
        spans[0]["resource"]["attributes"]["service.name"],
        "checkout"
    );
    assert_eq!(
        spans[0]["resource"]["attributes"]["telemetry.sdk.language"],
        "rust"
    );
}

#[test]
fn none_exports_nothing() {
    let output = run_child("child_init_and_greet", &[("OTEL_TRACES_EXPORTER", "none")]);
    assert!(printed_spans(&output).is_empty());
    assert!(!String::from_utf8_lossy(&output.stderr).contains("traced: warning"));
}

#[test]
fn an_unknown_exporter_warns_once_names_it_and_keeps_the_others() {
    let output = run_child(
        "child_init_and_greet",
        &[("OTEL_TRACES_EXPORTER", "zipkin-v9,console")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("traced: warning").count(), 1, "{stderr}");
    assert!(
        stderr.contains("OTEL_TRACES_EXPORTER") && stderr.contains("zipkin-v9"),
        "{stderr}"
    );
    assert_eq!(printed_spans(&output).len(), 1, "console still exports");
}

#[test]
fn code_overrides_the_environment() {
    let output = run_child(
        "child_programmatic_override",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_SERVICE_NAME", "from-env"),
        ],
    );
    let spans = printed_spans(&output);
    assert_eq!(
        spans[0]["resource"]["attributes"]["service.name"],
        "from-code"
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn has_line(output: &Output, expected: &str) -> bool {
    stdout(output).lines().any(|line| line == expected)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn sdk_disabled_installs_nothing() {
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_SDK_DISABLED", "TRUE"),
            ("OTEL_TRACES_EXPORTER", "console"),
        ],
    );
    assert!(
        stdout(&output).contains("enabled=false"),
        "{}",
        stdout(&output)
    );
    assert!(printed_spans(&output).is_empty());
}

#[test]
fn otel_propagators_choose_the_injected_headers() {
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_PROPAGATORS", "b3multi,jaeger,b3multi"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
    assert!(
        has_line(
            &output,
            "headers=uber-trace-id,x-b3-sampled,x-b3-spanid,x-b3-traceid"
        ),
        "{}",
        stdout(&output)
    );
    let output = run_child("child_reports_state", &[("OTEL_TRACES_EXPORTER", "none")]);
    assert!(
        has_line(&output, "headers=traceparent,tracestate"),
        "the default is tracecontext,baggage: {}",
        stdout(&output)
    );
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_PROPAGATORS", "none"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
    assert!(has_line(&output, "headers="), "{}", stdout(&output));
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_PROPAGATORS", "tracecontext,bogus"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
    assert!(
        has_line(&output, "headers=traceparent,tracestate"),
        "{}",
        stdout(&output)
    );
    let warnings = stderr(&output);
    assert!(
        warnings.contains("OTEL_PROPAGATORS") && warnings.contains("bogus"),
        "the warning names the variable and the value: {warnings}"
    );
}

#[test]
fn the_sampler_variables_decide_what_is_exported() {
    for (sampler, arg) in [
        ("always_off", None),
        ("TraceIdRatio", Some("0")),
        ("parentbased_traceidratio", Some("0.0")),
    ] {
        let mut vars = vec![
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_TRACES_SAMPLER", sampler),
        ];
        vars.extend(arg.map(|arg| ("OTEL_TRACES_SAMPLER_ARG", arg)));
        let output = run_child("child_reports_state", &vars);
        assert!(
            printed_spans(&output).is_empty(),
            "{sampler}: {}",
            stdout(&output)
        );
    }
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_TRACES_SAMPLER", "xray"),
        ],
    );
    assert_eq!(
        printed_spans(&output).len(),
        2,
        "an unsupported sampler falls back to parentbased_always_on"
    );
    assert!(
        stderr(&output).contains("OTEL_TRACES_SAMPLER"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_attribute_value_length_limit_cuts_strings() {
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3"),
        ],
    );
    let spans = printed_spans(&output);
    let greet = spans.iter().find(|span| span["name"] == "greet").unwrap();
    assert_eq!(greet["attributes"]["name"], "gra");
}

#[test]
fn the_tree_console_format_prints_one_tree_per_trace() {
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_RUST_CONSOLE_FORMAT", "tree"),
        ],
    );
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|line| line.starts_with("greet ") && line.ends_with("name=\"grace\"")),
        "{text}"
    );
    assert_eq!(
        text.matches("trace ").count(),
        2,
        "two traces, two trees: {text}"
    );
}

#[test]
fn bad_values_warn_once_and_fall_back() {
    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "banana"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=%ZZ"),
        ],
    );
    let stderr = stderr(&output);
    assert_eq!(
        stderr.matches("OTEL_BSP_MAX_QUEUE_SIZE").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("banana"));
    assert_eq!(
        stderr.matches("OTEL_RESOURCE_ATTRIBUTES").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        printed_spans(&output).len(),
        2,
        "the application and its exports go on"
    );

    let output = run_child(
        "child_reports_state",
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "banana"),
            ("OTEL_LOG_LEVEL", "none"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("traced:"),
        "OTEL_LOG_LEVEL=none silences traced"
    );
}

#[test]
fn works_and_shuts_down_inside_a_current_thread_runtime() {
    let output = run_child(
        "child_inside_a_current_thread_runtime",
        &[("OTEL_TRACES_EXPORTER", "console")],
    );
    assert!(stdout(&output).contains("finished"));
    assert_eq!(printed_spans(&output).len(), 1);
}

/// OTLP to port 9 on loopback, where nothing listens: connections are refused at once. The
/// header holds a secret no diagnostic may print.
const UNREACHABLE_COLLECTOR: &[(&str, &str)] = &[
    ("OTEL_TRACES_EXPORTER", "otlp"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "300"),
    (
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer%20s3cr3t",
    ),
];

#[test]
fn an_unreachable_collector_costs_only_dropped_spans_reported_at_shutdown() {
    let output = run_child("child_reports_state", UNREACHABLE_COLLECTOR);
    let stderr = stderr(&output);
    assert!(stdout(&output).contains("enabled=true"));
    assert!(stderr.contains("2 spans were dropped"), "{stderr}");
    assert!(
        !stderr.contains("s3cr3t"),
        "secrets never reach diagnostics: {stderr}"
    );
}

#[test]
fn failed_exports_are_printed_as_they_happen_at_most_once_a_minute() {
    let output = run_child("child_flushes_twice", UNREACHABLE_COLLECTOR);
    let stderr = stderr(&output);
    let lines: Vec<_> = stderr.lines().filter(|line| !line.is_empty()).collect();
    let position = |needle: &str| lines.iter().position(|line| line.contains(needle));
    let (Some(first), Some(second)) = (position("first flush done"), position("second flush done"))
    else {
        panic!("the child flushed twice: {stderr}");
    };
    let failure =
        "OTLP export of 1 span to http://127.0.0.1:9/v1/traces failed: cannot reach the collector";
    let printed: Vec<_> = lines[..first]
        .iter()
        .filter(|line| line.starts_with("traced: warning: "))
        .collect();
    assert_eq!(
        printed.len(),
        1,
        "the first failure, while it happens: {stderr}"
    );
    assert!(printed[0].contains(failure), "{stderr}");
    assert!(printed[0].contains("at most once a minute"), "{stderr}");
    assert_eq!(
        second,
        first + 1,
        "the second failure, within the minute, is not printed: {stderr}"
    );
    let shutdown = &lines[second + 1..];
    assert_eq!(shutdown.len(), 1, "one report at shutdown: {stderr}");
    assert!(
        shutdown[0].contains("2 spans were dropped: 2 by failed or rejected exports"),
        "{stderr}"
    );
    assert!(
        shutdown[0].contains(&format!("the latest failed export: {failure}")),
        "the failure not printed is in the report: {stderr}"
    );
    assert!(
        !stderr.contains("s3cr3t"),
        "secrets never reach diagnostics: {stderr}"
    );
}

#[test]
fn otel_config_file_configures_everything_and_wins_over_variables() {
    let output = run_child_with_config_file(
        "child_reports_state",
        r#"file_format: "0.3"
resource:
  attributes:
    - name: service.name
      value: ${FILE_SERVICE:-from-file}
tracer_provider:
  processors:
    - simple:
        exporter:
          console: {}
propagator:
  composite: [b3]
"#,
        &[
            ("OTEL_SERVICE_NAME", "ignored"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
    );
    let spans = printed_spans(&output);
    assert_eq!(spans.len(), 2, "{}", stderr(&output));
    assert_eq!(
        spans[0]["resource"]["attributes"]["service.name"],
        "from-file"
    );
    assert!(has_line(&output, "headers=b3"), "{}", stdout(&output));
}

#[test]
fn a_simple_processor_prints_its_failed_exports_too() {
    let output = run_child_with_config_file(
        "child_reports_state",
        r#"file_format: "0.3"
tracer_provider:
  processors:
    - simple:
        exporter:
          otlp_http:
            endpoint: http://127.0.0.1:9/v1/traces
            timeout: 300
"#,
        &[],
    );
    // Each span exported as it ends: the first failure printed, the second held back and
    // named at shutdown.
    assert_failure_printed_then_named_at_shutdown(
        &stderr(&output),
        "OTLP export of 1 span to http://127.0.0.1:9/v1/traces failed: cannot reach the collector",
        2,
    );
}

/// Asserts that `failure` is printed twice in `stderr`: when it first happened, and named at
/// shutdown as the latest, with `dropped` spans counted as lost by failed exports.
fn assert_failure_printed_then_named_at_shutdown(stderr: &str, failure: &str, dropped: u64) {
    let printed: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains(failure))
        .collect();
    assert_eq!(printed.len(), 2, "{stderr}");
    assert!(printed[0].contains("at most once a minute"), "{stderr}");
    let counted = format!(
        "{dropped} spans were dropped: {dropped} by failed or rejected exports; the latest"
    );
    assert!(printed[1].contains(&counted), "{stderr}");
}

#[test]
fn the_spans_an_exporter_given_in_code_fails_to_export_are_counted() {
    let output = run_child("child_exports_to_a_refusing_exporter", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("dropped after the first flush=3"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dropped after the second flush=6"),
        "{stdout}"
    );
    let stderr = stderr(&output);
    // The first failure printed, the second held back and named at shutdown.
    assert_failure_printed_then_named_at_shutdown(&stderr, "the archive refused the batch", 6);
    assert!(!stderr.contains("succeed again"), "{stderr}");
}

#[test]
fn exports_that_succeed_again_after_a_printed_failure_say_so() {
    let output = run_child("child_exports_to_an_exporter_refusing_once", &[]);
    let printed = stderr(&output);
    let lines: Vec<_> = printed.lines().collect();
    let position = |text: &str| lines.iter().position(|line| line.contains(text));
    let failed = position("the archive refused the batch").expect(&printed);
    let first_flush = position("first flush done").expect(&printed);
    let recovered = position("traced: info: exports succeed again, after 1 failed export over ")
        .expect(&printed);
    let second_flush = position("second flush done").expect(&printed);
    assert!(
        failed < first_flush && first_flush < recovered && recovered < second_flush,
        "{printed}"
    );
    assert!(
        printed.contains("3 spans were dropped: 3 by failed"),
        "{printed}"
    );

    let quiet = run_child(
        "child_exports_to_an_exporter_refusing_once",
        &[("OTEL_LOG_LEVEL", "warn")],
    );
    let quiet = stderr(&quiet);
    assert!(quiet.contains("the archive refused the batch"), "{quiet}");
    assert!(!quiet.contains("succeed again"), "{quiet}");
}

#[test]
fn spans_dropped_by_a_full_queue_are_printed_counted_and_reported_at_shutdown() {
    let output = run_child(
        "child_many_spans",
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "2"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1"),
        ],
    );
    let printed = printed_spans(&output).len();
    let stderr = stderr(&output);
    // "traced: warning: <count> spans were dropped: ..."
    let dropped: usize = stderr
        .lines()
        .find(|line| line.contains("spans were dropped"))
        .and_then(|line| line.strip_prefix("traced: warning: ")?.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("a dropped-spans report at shutdown: {stderr}"));
    assert!(
        dropped > 0,
        "a two-span queue cannot hold 200 spans ended in a burst"
    );
    assert_eq!(
        printed + dropped,
        200,
        "every span is either exported or counted: {stderr}"
    );
    let by_cause = format!("{dropped} spans were dropped: {dropped} by a full export queue");
    assert!(
        stderr.contains(&by_cause),
        "all to the full queue: {stderr}"
    );
    // Printed by the export thread after the turn that saw them, before shutdown: some or
    // all of those dropped, the rest only in the count.
    let full = "the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE=2): ";
    let overflows: Vec<_> = stderr.lines().filter(|line| line.contains(full)).collect();
    assert_eq!(overflows.len(), 1, "one line within the minute: {stderr}");
    let seen = overflows[0]
        .split_once(full)
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("a count of spans dropped: {stderr}"));
    assert!(
        (1..=dropped).contains(&seen),
        "{seen} of the {dropped} dropped: {stderr}"
    );
}
