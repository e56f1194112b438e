//! `Err` returns: status Error, `error.type`, and an `exception` event with type, message and
//! the `source()` chain — through aliases, boxes, anyhow, and `Display`/`Debug`-only errors.

use std::error::Error;
use std::fmt;
use std::io;

use opentelemetry::Value;
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;
use traced::testing::{attribute, capture, event_attribute, events};
use traced::traced;

/// The one `exception` event's (type, message, stacktrace).
fn exception(span: &SpanData) -> (String, String, String) {
    let recorded = events(span, "exception");
    assert_eq!(
        recorded.len(),
        1,
        "exactly one exception event: {:?}",
        span.events
    );
    let text = |key| match event_attribute(recorded[0], key) {
        Some(Value::String(text)) => text.as_str().to_owned(),
        other => panic!("{key} should be a string, got {other:?}"),
    };
    (
        text("exception.type"),
        text("exception.message"),
        text("exception.stacktrace"),
    )
}

fn error_description(span: &SpanData) -> String {
    match &span.status {
        Status::Error { description } => description.to_string(),
        other => panic!("expected status Error, got {other:?}"),
    }
}

#[derive(Debug)]
struct ConfigError {
    source: io::Error,
}
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("loading config")
    }
}
impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(Debug)]
struct Outer(ConfigError);
impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("starting service")
    }
}
impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[traced]
fn start_service() -> Result<(), Outer> {
    Err(Outer(ConfigError {
        source: io::Error::new(io::ErrorKind::PermissionDenied, "permission denied"),
    }))
}

#[test]
fn a_std_error_records_type_message_and_source_chain() {
    let (result, spans) = capture(start_service);
    assert!(result.is_err(), "the error is returned unchanged");
    let span = spans.one("start_service");
    assert_eq!(error_description(span), "starting service");
    let (ty, message, stacktrace) = exception(span);
    assert_eq!(ty, "errors::Outer");
    assert_eq!(message, "starting service");
    assert_eq!(
        stacktrace,
        "starting service\n\nCaused by:\n    0: loading config\n    1: permission denied"
    );
    assert_eq!(
        attribute(span, "error.type"),
        Some(&Value::from("errors::Outer"))
    );
}

#[traced]
fn read_config(path: &str) -> io::Result<String> {
    std::fs::read_to_string(path)
}

#[test]
fn a_type_alias_of_result_is_seen_through() {
    let (result, spans) = capture(|| read_config("/nonexistent/traced/config.toml"));
    let err = result.expect_err("the file does not exist");
    let (ty, message, _) = exception(spans.one("read_config"));
    assert_eq!(ty, "std::io::error::Error");
    assert_eq!(message, err.to_string());
}

#[traced]
fn boxed(fail: bool) -> Result<u8, Box<dyn Error + Send + Sync>> {
    if fail {
        Err(Box::new(ConfigError {
            source: io::Error::other("disk gone"),
        }))
    } else {
        Ok(1)
    }
}

#[traced]
fn boxed_local() -> Result<(), Box<dyn Error>> {
    Err("plain message".into())
}

#[test]
fn boxed_dyn_errors_keep_message_and_chain() {
    let (_, spans) = capture(|| boxed(true));
    let (ty, message, stacktrace) = exception(spans.one("boxed"));
    assert!(
        ty.starts_with("alloc::boxed::Box<dyn core::error::Error"),
        "{ty}"
    );
    assert_eq!(message, "loading config");
    assert_eq!(stacktrace, "loading config\n\nCaused by:\n    0: disk gone");

    let (_, spans) = capture(boxed_local);
    let (_, message, _) = exception(spans.one("boxed_local"));
    assert_eq!(message, "plain message");
}

#[test]
fn an_ok_value_leaves_the_status_unset() {
    let (result, spans) = capture(|| boxed(false));
    assert_eq!(result.ok(), Some(1));
    let span = spans.one("boxed");
    assert_eq!(span.status, Status::Unset);
    assert!(events(span, "exception").is_empty());
    assert_eq!(attribute(span, "error.type"), None);
}

#[traced]
fn with_anyhow() -> anyhow::Result<()> {
    let inner = Err::<(), _>(io::Error::other("socket closed"));
    anyhow::Context::context(inner, "sending request")?;
    Ok(())
}

#[test]
fn anyhow_errors_record_their_context_chain() {
    let (_, spans) = capture(with_anyhow);
    let span = spans.one("with_anyhow");
    let (ty, message, stacktrace) = exception(span);
    assert_eq!(ty, "anyhow::Error");
    assert_eq!(message, "sending request");
    assert_eq!(
        stacktrace,
        "sending request\n\nCaused by:\n    0: socket closed"
    );
    assert_eq!(error_description(span), "sending request");
}

struct OnlyDisplay;
impl fmt::Display for OnlyDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("shown, not an Error")
    }
}

#[derive(Debug)]
#[allow(dead_code)]
enum OnlyDebug {
    Timeout { after_ms: u32 },
}

struct Nothing;

#[traced]
fn display_error() -> Result<(), OnlyDisplay> {
    Err(OnlyDisplay)
}

#[traced]
fn debug_error() -> Result<(), OnlyDebug> {
    Err(OnlyDebug::Timeout { after_ms: 30 })
}

#[traced]
fn opaque_error() -> Result<(), Nothing> {
    Err(Nothing)
}

#[test]
fn display_only_and_debug_only_errors_are_recorded_with_their_text() {
    let (_, spans) = capture(display_error);
    let (ty, message, _) = exception(spans.one("display_error"));
    assert_eq!(
        (ty.as_str(), message.as_str()),
        ("errors::OnlyDisplay", "shown, not an Error")
    );

    let (_, spans) = capture(debug_error);
    let span = spans.one("debug_error");
    let (ty, message, _) = exception(span);
    assert_eq!(
        (ty.as_str(), message.as_str()),
        ("errors::OnlyDebug", "Timeout { after_ms: 30 }")
    );
    assert_eq!(error_description(span), "Timeout { after_ms: 30 }");
}

#[test]
fn an_error_with_no_formatting_is_not_recorded_and_still_compiles() {
    let (result, spans) = capture(opaque_error);
    assert!(result.is_err());
    let span = spans.one("opaque_error");
    assert!(events(span, "exception").is_empty());
    assert_eq!(span.status, Status::Unset);
}

#[traced(err = false)]
fn expected_miss(key: &str) -> Result<String, io::Error> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("{key} not cached"),
    ))
}

#[test]
fn err_false_leaves_an_expected_err_alone() {
    let (_, spans) = capture(|| expected_miss("user:1"));
    let span = spans.one("expected_miss");
    assert_eq!(span.status, Status::Unset);
    assert!(events(span, "exception").is_empty());
}

#[derive(Debug)]
struct ParseFailure(std::num::ParseIntError);
impl fmt::Display for ParseFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad port: {}", self.0)
    }
}
impl Error for ParseFailure {}
impl From<std::num::ParseIntError> for ParseFailure {
    fn from(value: std::num::ParseIntError) -> Self {
        Self(value)
    }
}

#[traced]
fn question_mark(text: &str) -> Result<u16, ParseFailure> {
    let port: u16 = text.parse()?;
    if port == 0 {
        // An explicit early `return`, not only `?`.
        return Err(ParseFailure("".parse::<u16>().unwrap_err()));
    }
    Ok(port)
}

#[test]
fn early_returns_and_question_marks_pass_through_the_outcome() {
    let (result, spans) = capture(|| question_mark("http"));
    assert!(result.is_err());
    let (_, message, _) = exception(spans.one("question_mark"));
    assert!(message.starts_with("bad port: "), "{message}");

    let (result, spans) = capture(|| question_mark("0"));
    assert!(result.is_err());
    assert_eq!(
        exception(spans.one("question_mark")).0,
        "errors::ParseFailure"
    );

    let (result, spans) = capture(|| question_mark("443"));
    assert_eq!(result.ok(), Some(443));
    assert_eq!(spans.one("question_mark").status, Status::Unset);
}

#[test]
fn record_error_on_the_current_span_matches_err_recording() {
    #[traced]
    fn manual() {
        let err = ConfigError {
            source: io::Error::other("nope"),
        };
        traced::current_span().record_error(&err);
    }
    let ((), spans) = capture(manual);
    let span = spans.one("manual");
    let (ty, message, stacktrace) = exception(span);
    assert_eq!(ty, "errors::ConfigError");
    assert_eq!(message, "loading config");
    assert_eq!(stacktrace, "loading config\n\nCaused by:\n    0: nope");
    assert_eq!(error_description(span), "loading config");
}
