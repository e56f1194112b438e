//! The reference examples, run as a user runs them: each server example is started as its own
//! process on a free port, the `client` example (another process) calls it, and both print
//! their spans with the `console` exporter in Python's JSON, which is parsed here.
//!
//! What is proved: the three server variants (by hand, `TraceLayer::from_env()`, the layer
//! configured in code) give the same `SERVER` span, with typed attributes, whose parent is
//! the client's `CLIENT` span in the other process; the programmatic server's excluded URL
//! gets no span; `hello_service`'s two services share one trace through `traceparent`, with
//! custom attributes and events, and its failing endpoint records the exception.
//!
//! The examples are built by `cargo build` with the README's features (a no-op after
//! `cargo test --workspace --all-features`, which builds them already), so a test never runs
//! a stale binary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

/// Every example the tests run.
const EXAMPLES: [&str; 5] = [
    "server_manual",
    "server_automatic",
    "server_programmatic",
    "client",
    "hello_service",
];

/// A safety net against a hung example, not a timing assertion: the examples export every
/// 50 ms, so a span that has not come within this long is not coming.
const OUTPUT_DEADLINE: Duration = Duration::from_secs(60);

/// The attributes of the `GET /server_request` span, every server variant alike.
const REQUEST_SPAN_KEYS: [&str; 11] = [
    "http.request.method",
    "url.path",
    "url.query",
    "url.scheme",
    "http.route",
    "server.address",
    "server.port",
    "client.address",
    "client.port",
    "network.protocol.version",
    "http.response.status_code",
];

// ---------------------------------------------------------------------------------------
// Building and running the examples.

/// The path of the example binary `name`, built once for the whole test run.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<HashMap<String, PathBuf>, String>> = OnceLock::new();
    let built = BUILT.get_or_init(build_examples);
    match built {
        Ok(paths) => paths
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("cargo built no example `{name}`")),
        Err(error) => panic!("building the examples failed:\n{error}"),
    }
}

/// `cargo build` of the examples, with the features and profile of the README's test
/// command; cargo's JSON messages say where each executable is.
fn build_examples() -> Result<HashMap<String, PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut command = Command::new(cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--workspace", "--all-features"])
        .arg("--message-format=json-render-diagnostics");
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    for name in EXAMPLES {
        command.args(["--example", name]);
    }
    let output = command.output().map_err(|err| err.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let mut paths = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let is_example = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.contains(&json!("example")));
        if let (true, Some(name), Some(path)) = (
            is_example,
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) {
            paths.insert(name.to_owned(), PathBuf::from(path));
        }
    }
    Ok(paths)
}

/// The example's environment: the test's own `OTEL_*`/`HT_*` variables removed, spans
/// printed as Python's JSON and exported every 50 ms, ports chosen by the system.
fn example_command(name: &str) -> Command {
    let mut command = Command::new(example(name));
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("OTEL_") || key_text.starts_with("HT_") {
            command.env_remove(&key);
        }
    }
    command
        .env("OTEL_TRACES_EXPORTER", "console")
        .env("OTEL_RUST_CONSOLE_FORMAT", "json")
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .env("PORT", "0")
        .env("USER_SERVICE_PORT", "0");
    command
}

/// What an example prints on standard output: lines of text, and the console exporter's
/// span documents (a `{` line to a `}` line).
#[derive(Debug)]
enum Output {
    Line(String),
    Span(Value),
}

/// Splits an example's standard output into text lines and span documents.
struct OutputParser {
    document: Option<String>,
}

impl OutputParser {
    fn new() -> Self {
        Self { document: None }
    }

    /// Takes one line; returns an item when one is complete.
    fn line(&mut self, line: &str) -> Option<Output> {
        match &mut self.document {
            None if line == "{" => {
                self.document = Some(String::from("{\n"));
                None
            }
            None => Some(Output::Line(line.to_owned())),
            Some(document) => {
                document.push_str(line);
                document.push('\n');
                if line != "}" {
                    return None;
                }
                let document = self.document.take().unwrap_or_default();
                let span = serde_json::from_str(&document)
                    .unwrap_or_else(|err| panic!("a span document ({err}):\n{document}"));
                Some(Output::Span(span))
            }
        }
    }

    fn parse(text: &str) -> Vec<Output> {
        let mut parser = Self::new();
        text.lines().filter_map(|line| parser.line(line)).collect()
    }
}

/// A server example running in the background; killed when dropped.
struct Server {
    name: &'static str,
    child: Child,
    output: Receiver<Output>,
    stderr: Arc<Mutex<String>>,
    /// Every span printed so far, in order.
    spans: Vec<Value>,
}

impl Server {
    fn start(name: &'static str) -> Self {
        let mut child = example_command(name)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {name}: {err}"));
        let (sender, output) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut parser = OutputParser::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(item) = parser.line(&line) {
                    if sender.send(item).is_err() {
                        break;
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 1024];
            while let Ok(read @ 1..) = pipe.read(&mut buffer) {
                if let Ok(mut text) = collected.lock() {
                    text.push_str(&String::from_utf8_lossy(&buffer[..read]));
                }
            }
        });
        Self {
            name,
            child,
            output,
            stderr,
            spans: Vec::new(),
        }
    }

    /// The next thing the server printed.
    fn next(&mut self) -> Output {
        match self.output.recv_timeout(OUTPUT_DEADLINE) {
            Ok(item) => item,
            Err(RecvTimeoutError::Timeout) => panic!(
                "{} printed nothing more within {OUTPUT_DEADLINE:?}; stderr:\n{}",
                self.name,
                self.stderr()
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "{} closed its output (exited: {:?}); stderr:\n{}",
                self.name,
                self.child.try_wait(),
                self.stderr()
            ),
        }
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    /// The address printed after `{prefix} listening on http://` (e.g. `127.0.0.1:41234`).
    fn address(&mut self, prefix: &str) -> String {
        let start = format!("{prefix}listening on http://");
        loop {
            if let Output::Line(line) = self.next()
                && let Some(address) = line.strip_prefix(&start)
            {
                return address.to_owned();
            }
        }
    }

    /// Waits for the span named `name`; every span before it is kept in `self.spans`.
    fn span_named(&mut self, name: &str) -> Value {
        loop {
            if let Output::Span(span) = self.next() {
                self.spans.push(span.clone());
                if span["name"] == name {
                    return span;
                }
            }
        }
    }

    /// The span named `name` among those already printed.
    fn seen(&self, name: &str) -> &Value {
        self.spans
            .iter()
            .find(|span| span["name"] == name)
            .unwrap_or_else(|| panic!("{} printed no span {name}: {:#?}", self.name, self.spans))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the `client` example against `port` with `param`; its spans, after checking that it
/// printed the server's answer.
fn run_client(port: &str, param: &str) -> Vec<Value> {
    let output = example_command("client")
        .env("PORT", port)
        .arg(param)
        .output()
        .expect("the client runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the client succeeds:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines = Vec::new();
    let mut spans = Vec::new();
    for item in OutputParser::parse(&stdout) {
        match item {
            Output::Line(line) => lines.push(line),
            Output::Span(span) => spans.push(span),
        }
    }
    assert_eq!(lines, ["served"], "the client prints the server's answer");
    spans
}

// ---------------------------------------------------------------------------------------
// Assertions on spans.

fn span_id(span: &Value) -> &str {
    span["context"]["span_id"].as_str().expect("a span id")
}

fn trace_id(span: &Value) -> &str {
    span["context"]["trace_id"].as_str().expect("a trace id")
}

/// Asserts that `child`'s parent is `parent`, in the same trace.
fn assert_child_of(child: &Value, parent: &Value) {
    assert_eq!(trace_id(child), trace_id(parent), "one trace: {child:#}");
    assert_eq!(child["parent_id"], span_id(parent), "parent: {child:#}");
}

/// The span of the given kind (`SpanKind.CLIENT`, ...) among `spans`.
fn of_kind<'s>(spans: &'s [Value], kind: &str) -> &'s Value {
    let matching: Vec<&Value> = spans.iter().filter(|span| span["kind"] == kind).collect();
    assert_eq!(matching.len(), 1, "one {kind} span: {spans:#?}");
    matching[0]
}

/// The `GET /server_request` span every server variant produces for the client's request:
/// its name, kind, status and attributes with their JSON types.
fn assert_request_span(span: &Value, address: &str) {
    assert_eq!(span["name"], "GET /server_request");
    assert_eq!(span["kind"], "SpanKind.SERVER");
    assert_eq!(
        span["status"]["status_code"], "UNSET",
        "not an error: {span:#}"
    );
    let attributes = span["attributes"].as_object().expect("attributes");
    let mut keys: Vec<&str> = attributes.keys().map(String::as_str).collect();
    // A User-Agent header is recorded when the client sends one; nothing else may differ.
    keys.retain(|key| *key != "user_agent.original");
    assert_eq!(
        keys, REQUEST_SPAN_KEYS,
        "the attributes, in order: {span:#}"
    );
    let (host, port) = address.rsplit_once(':').expect("host:port");
    let port: u64 = port.parse().expect("a port");
    assert_eq!(attributes["http.request.method"], "GET");
    assert_eq!(attributes["url.path"], "/server_request");
    assert_eq!(attributes["url.query"], "param=testing");
    assert_eq!(attributes["url.scheme"], "http");
    assert_eq!(attributes["http.route"], "/server_request");
    assert_eq!(attributes["server.address"], host);
    assert_eq!(attributes["server.port"], port, "a number");
    assert_eq!(attributes["client.address"], "127.0.0.1");
    assert!(
        attributes["client.port"].as_u64().is_some_and(|p| p > 0),
        "a number"
    );
    assert_eq!(attributes["network.protocol.version"], "1.1");
    assert_eq!(attributes["http.response.status_code"], 200, "a number");
    if let Some(agent) = attributes.get("user_agent.original") {
        assert!(agent.is_string(), "{agent}");
    }
}

/// Starts the server example `name`; it and the address it listens on.
fn start(name: &'static str) -> (Server, String) {
    let mut server = Server::start(name);
    let address = server.address("");
    (server, address)
}

/// Runs the client against `server` and checks the cross-process trace: the client's
/// `CLIENT` span (a child of its `client` span) is the parent of the server's
/// `GET /server_request` span, which is returned.
fn client_calls(server: &mut Server, address: &str) -> Value {
    let port = address.rsplit_once(':').map_or("", |(_, port)| port);
    let client_spans = run_client(port, "testing");

    let client = client_spans
        .iter()
        .find(|span| span["name"] == "client")
        .unwrap_or_else(|| panic!("the client's span: {client_spans:#?}"));
    assert_eq!(client["attributes"]["param"], "testing");
    let request = of_kind(&client_spans, "SpanKind.CLIENT");
    assert_child_of(request, client);

    let served = server.span_named("GET /server_request");
    assert_request_span(&served, address);
    assert_child_of(&served, request);
    served
}

/// A GET with an optional `traceparent`; the status and body.
fn get(url: &str, traceparent: Option<&str>) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(url);
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    })
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn manual_server_span_is_a_child_of_the_client_span() {
    let (mut server, address) = start("server_manual");
    client_calls(&mut server, &address);
    assert_eq!(
        server.spans.len(),
        1,
        "one span, by hand: {:#?}",
        server.spans
    );
}

#[test]
fn automatic_server_span_is_the_manual_one_with_the_traced_helper_under_it() {
    let (mut server, address) = start("server_automatic");
    let served = client_calls(&mut server, &address);
    let helper = server.seen("print_param");
    assert_child_of(helper, &served);
    assert_eq!(helper["kind"], "SpanKind.INTERNAL");
    assert_eq!(helper["attributes"]["param"], "testing");
}

#[test]
fn programmatic_server_traces_the_request_but_not_the_excluded_url() {
    let (mut server, address) = start("server_programmatic");
    let health = get(&format!("http://{address}/health"), None);
    assert_eq!(health, (200, "ok".to_owned()));

    // A span for /health would have ended before its response was sent, so it would be
    // printed before the span of the client's later request: every span printed up to that
    // one is in `server.spans`.
    client_calls(&mut server, &address);
    assert_eq!(
        server.spans.len(),
        1,
        "only the request's: {:#?}",
        server.spans
    );
}

/// The `exception` events of `span`.
fn exceptions(span: &Value) -> Vec<&Value> {
    span["events"]
        .as_array()
        .map(|events| events.iter().filter(|e| e["name"] == "exception").collect())
        .unwrap_or_default()
}

/// A `traceparent` for a caller of hello_service: trace `trace`, parent span `span`, sampled.
fn traceparent(trace: &str, span: &str) -> String {
    format!("00-{trace}-{span}-01")
}

#[test]
fn hello_service_calls_the_user_service_in_one_trace() {
    let mut server = Server::start("hello_service");
    let address = server.address("hello service ");
    let (trace, caller) = ("5b8aa5a2d2c872e8321cf37308d69df2", "051581bf3cb55c13");
    let answer = get(
        &format!("http://{address}/hello/ada"),
        Some(&traceparent(trace, caller)),
    );
    assert_eq!(answer, (200, "Hello, Ada Lovelace!\n".to_owned()));

    // The hello service's span ends last: every span of the trace has been printed then.
    let hello = server.span_named("GET /hello/{name}");
    assert_eq!(hello["kind"], "SpanKind.SERVER");
    assert_eq!(trace_id(&hello), format!("0x{trace}"), "the caller's trace");
    assert_eq!(
        hello["parent_id"],
        format!("0x{caller}"),
        "the caller's span"
    );
    assert_eq!(hello["attributes"]["http.route"], "/hello/{name}");
    assert_eq!(hello["attributes"]["http.response.status_code"], 200);
    // Set through traced::current_span() in the handler.
    assert_eq!(hello["attributes"]["user.name"], "ada");
    let events: Vec<&Value> = hello["events"].as_array().expect("events").iter().collect();
    assert_eq!(events.len(), 1, "{hello:#}");
    assert_eq!(
        events[0]["name"],
        "the user profile has been loaded from the user service"
    );

    // hello → CLIENT call → the user service's SERVER span → its #[traced] lookup.
    let call = of_kind(&server.spans, "SpanKind.CLIENT");
    assert_child_of(call, &hello);
    assert_eq!(call["attributes"]["http.request.method"], "GET");
    assert_eq!(call["attributes"]["http.response.status_code"], 200);
    let user = server.seen("GET /user/{name}");
    assert_eq!(user["kind"], "SpanKind.SERVER");
    assert_child_of(user, call);
    assert_eq!(user["attributes"]["url.path"], "/user/ada");
    let lookup = server.seen("find_user");
    assert_child_of(lookup, user);
    assert_eq!(lookup["attributes"]["name"], "ada");
    assert_eq!(lookup["attributes"]["return"], "Ada Lovelace");
    let greeting = server.seen("render_greeting");
    assert_child_of(greeting, &hello);
    assert_eq!(greeting["status"]["status_code"], "UNSET");
    assert_eq!(server.spans.len(), 5, "{:#?}", server.spans);
}

#[test]
fn hello_service_failure_records_the_exception() {
    let mut server = Server::start("hello_service");
    let address = server.address("hello service ");
    let answer = get(&format!("http://{address}/fail/ada"), None);
    assert_eq!(answer, (500, "Failure injection\n".to_owned()));

    let failed = server.span_named("GET /fail/{name}");
    assert_eq!(failed["kind"], "SpanKind.SERVER");
    assert_eq!(failed["parent_id"], Value::Null, "a new trace");
    assert_eq!(
        failed["status"]["status_code"], "ERROR",
        "a 500: {failed:#}"
    );
    assert_eq!(failed["attributes"]["http.response.status_code"], 500);
    let greeting = server.seen("render_greeting");
    assert_child_of(greeting, &failed);
    assert_eq!(greeting["status"]["status_code"], "ERROR");
    assert_eq!(greeting["status"]["description"], "Failure injection");
    assert_eq!(greeting["attributes"]["inject_failure"], true);
    // The #[traced] function's Err, and the handler's record_error on the request's span.
    for span in [greeting, &failed] {
        let exceptions = exceptions(span);
        assert_eq!(exceptions.len(), 1, "{span:#}");
        let attributes = &exceptions[0]["attributes"];
        assert_eq!(attributes["exception.message"], "Failure injection");
        assert!(
            attributes["exception.type"]
                .as_str()
                .is_some_and(|t| t.ends_with("FailureInjection")),
            "{attributes:#}"
        );
    }
}
