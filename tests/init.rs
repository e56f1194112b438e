//! `traced::init()` as a user runs it: a real process with real `OTEL_*` variables. Each case
//! re-runs this test binary with the variables set, selecting an `#[ignore]`d child test that
//! calls `init()`, and reads what the child printed.

use std::process::{Command, Output};

use serde_json::Value as Json;
use traced::traced;

#[traced]
fn greet(name: &str) -> usize {
    name.len()
}

/// Runs child test `name` with `vars` set (and every other OTEL_ variable removed).
fn run_child(name: &str, vars: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new(exe);
    command.args([
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") {
            command.env_remove(key);
        }
    }
    command.envs(vars.iter().copied());
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "child {name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
