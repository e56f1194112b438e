//! The OTLP exporter against a real receiver in the test process: every protocol delivers
//! typed attributes, gzip, headers, mutual TLS, retries, a collector that is down or slow.

mod support;

use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use traced::{DroppedSpans, OtlpCompression, OtlpExporter, OtlpProtocol, OtlpSettings};

use support::otlp_receiver::{
    HttpReceiver, Pki, Recorder, Reply, attribute, resource_attribute, spans_of,
};

/// The longest any test waits for the receiver.
const WAIT: Duration = Duration::from_secs(5);

fn settings(endpoint: String, protocol: OtlpProtocol) -> OtlpSettings {
    OtlpSettings {
        endpoint,
        protocol,
        timeout: Duration::from_secs(4),
        ..OtlpSettings::default()
    }
}

/// What the pipeline reported for one run.
struct Run {
    flushed: OTelSdkResult,
    elapsed: Duration,
    dropped: DroppedSpans,
}

/// Builds the standard pipeline around the exporter, records a parent span with typed
/// attributes and a child, flushes and shuts down.
fn run(settings: &OtlpSettings) -> Run {
    let exporter = OtlpExporter::new(settings).expect("exporter");
    let dropped = exporter.dropped_counter();
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("shop").build())
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .build();
    let tracer = provider.tracer("t");
    tracer.in_span("checkout", |cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new("order.items", 3_i64));
        span.set_attribute(KeyValue::new("order.total", 9.5));
        span.set_attribute(KeyValue::new("order.gift", true));
        span.set_attribute(KeyValue::new("order.id", "A-17"));
        tracer.in_span("charge", |_| {});
    });
    let start = Instant::now();
    let flushed = provider.force_flush();
    let elapsed = start.elapsed();
    let _ = provider.shutdown();
    Run {
        flushed,
        elapsed,
        dropped,
    }
}

fn find<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:?}"))
}

/// The two spans arrived once, with typed attributes, the parent link and the resource.
fn assert_delivered(recorder: &Recorder) {
    let exports = recorder.wait_for_exports(1, WAIT);
    assert_eq!(exports.len(), 1, "one export expected");
    let spans = spans_of(&exports[0].request);
    assert_eq!(spans.len(), 2, "{spans:?}");
    let checkout = find(&spans, "checkout");
    let charge = find(&spans, "charge");
    assert_eq!(
        attribute(checkout, "order.items"),
        Some(&Value::IntValue(3))
    );
    assert_eq!(
        attribute(checkout, "order.total"),
        Some(&Value::DoubleValue(9.5))
    );
    assert_eq!(
        attribute(checkout, "order.gift"),
        Some(&Value::BoolValue(true))
    );
    assert_eq!(
        attribute(checkout, "order.id"),
        Some(&Value::StringValue("A-17".into()))
    );
    assert_eq!(charge.parent_span_id, checkout.span_id);
    assert_eq!(charge.trace_id, checkout.trace_id);
    assert_eq!(checkout.trace_id.len(), 16);
    assert_eq!(
        resource_attribute(&exports[0].request, "service.name"),
        Some(&Value::StringValue("shop".into()))
    );
}

fn assert_ok(run: &Run) {
    assert!(run.flushed.is_ok(), "flush failed: {:?}", run.flushed);
    assert_eq!(run.dropped.get(), 0);
}

#[test]
fn http_protobuf_delivers_typed_attributes() {
    let receiver = HttpReceiver::start();
    let run = run(&settings(receiver.url(), OtlpProtocol::HttpProtobuf));
    assert_ok(&run);
    assert_delivered(receiver.recorder());
    let export = &receiver.recorder().exports()[0];
    assert_eq!(export.path, "/v1/traces");
    assert_eq!(
        export.header("content-type"),
        Some("application/x-protobuf")
    );
    assert_eq!(export.header("content-encoding"), None);
    assert!(
        export
            .header("user-agent")
            .is_some_and(|agent| agent.starts_with("OTel-OTLP-Exporter-Rust")),
        "{:?}",
        export.header("user-agent")
    );
}

#[test]
fn http_json_delivers_typed_attributes_with_hex_ids() {
    let receiver = HttpReceiver::start();
    let run = run(&settings(receiver.url(), OtlpProtocol::HttpJson));
    assert_ok(&run);
    assert_delivered(receiver.recorder());
    let export = &receiver.recorder().exports()[0];
    assert_eq!(export.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&export.body).expect("JSON body");
    let span = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    let trace_id = span["traceId"].as_str().expect("traceId is a string");
    assert_eq!(trace_id.len(), 32);
    assert!(
        trace_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{trace_id}"
    );
    assert_eq!(span["spanId"].as_str().map(str::len), Some(16));
}

#[test]
fn http_protobuf_gzip() {
    let receiver = HttpReceiver::start();
    let mut settings = settings(receiver.url(), OtlpProtocol::HttpProtobuf);
    settings.compression = OtlpCompression::Gzip;
    assert_ok(&run(&settings));
    assert_delivered(receiver.recorder());
    let export = &receiver.recorder().exports()[0];
    assert_eq!(export.header("content-encoding"), Some("gzip"));
}

#[test]
fn http_json_gzip() {
    let receiver = HttpReceiver::start();
    let mut settings = settings(receiver.url(), OtlpProtocol::HttpJson);
    settings.compression = OtlpCompression::Gzip;
    assert_ok(&run(&settings));
    assert_delivered(receiver.recorder());
    let export = &receiver.recorder().exports()[0];
    assert_eq!(export.header("content-encoding"), Some("gzip"));
    assert_eq!(export.header("content-type"), Some("application/json"));
}

/// The collector accepts the export but rejects one of its two spans: the export succeeds
/// and the rejected span is counted as dropped.
fn assert_partial_success_counted(recorder: &Recorder, run: &Run) {
    assert!(run.flushed.is_ok(), "flush failed: {:?}", run.flushed);
    assert_delivered(recorder);
    assert_eq!(run.dropped.get(), 1);
}

#[test]
fn http_partial_success_counts_the_rejected_spans() {
    for protocol in [OtlpProtocol::HttpProtobuf, OtlpProtocol::HttpJson] {
        let receiver = HttpReceiver::start();
        receiver.recorder().script([Reply::Partial {
            rejected: 1,
            message: "span too old",
        }]);
        let run = run(&settings(receiver.url(), protocol));
        assert_partial_success_counted(receiver.recorder(), &run);
    }
}

#[test]
fn http_custom_headers_arrive() {
    let receiver = HttpReceiver::start();
    let mut settings = settings(receiver.url(), OtlpProtocol::HttpProtobuf);
    settings.headers = vec![
        ("x-api-key".into(), "secret value".into()),
        ("X-Tenant".into(), "shop=1".into()),
    ];
    assert_ok(&run(&settings));
    assert_delivered(receiver.recorder());
    let export = &receiver.recorder().exports()[0];
    assert_eq!(export.header("x-api-key"), Some("secret value"));
    assert_eq!(export.header("x-tenant"), Some("shop=1"));
}

#[test]
fn http_mutual_tls_with_a_trusted_ca_file() {
    let pki = Pki::generate();
    let receiver = HttpReceiver::start_tls(pki.server_config_requiring_client_certs());
    let mut settings = settings(receiver.url(), OtlpProtocol::HttpProtobuf);
    settings.certificate = Some(pki.ca_path());
    settings.client_certificate = Some(pki.client_cert_path());
    settings.client_key = Some(pki.client_key_path());
    assert_ok(&run(&settings));
    assert_delivered(receiver.recorder());
}

#[test]
fn http_tls_without_the_client_certificate_is_refused_and_counted() {
    let pki = Pki::generate();
    let receiver = HttpReceiver::start_tls(pki.server_config_requiring_client_certs());
    let mut settings = settings(receiver.url(), OtlpProtocol::HttpProtobuf);
    settings.certificate = Some(pki.ca_path());
    settings.timeout = Duration::from_secs(2);
    let run = run(&settings);
    assert!(run.flushed.is_err());
    assert_eq!(run.dropped.get(), 2);
    assert!(receiver.recorder().exports().is_empty());
}

#[test]
fn http_tls_with_an_untrusted_server_fails() {
    let pki = Pki::generate();
    let receiver = HttpReceiver::start_tls(pki.server_config_requiring_client_certs());
    // The built-in roots do not know the test CA.
    let mut settings = settings(receiver.url(), OtlpProtocol::HttpProtobuf);
    settings.client_certificate = Some(pki.client_cert_path());
    settings.client_key = Some(pki.client_key_path());
    let run = run(&settings);
    assert!(run.flushed.is_err());
    assert_eq!(run.dropped.get(), 2);
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
}

#[test]
fn http_retries_after_503_honouring_retry_after() {
    let receiver = HttpReceiver::start();
    receiver.recorder().script([Reply::Http {
        status: 503,
        retry_after: Some(1),
    }]);
    let run = run(&settings(receiver.url(), OtlpProtocol::HttpProtobuf));
    assert_ok(&run);
    assert_delivered(receiver.recorder());
    assert_eq!(receiver.recorder().requests(), 2);
    assert!(run.elapsed >= Duration::from_secs(1), "{:?}", run.elapsed);
}

#[test]
fn http_retries_429_502_504_with_backoff() {
    let receiver = HttpReceiver::start();
    receiver
        .recorder()
        .script([429, 502, 504].map(|status| Reply::Http {
            status,
            retry_after: None,
        }));
    let run = run(&settings(receiver.url(), OtlpProtocol::HttpJson));
    assert_ok(&run);
    assert_delivered(receiver.recorder());
    assert_eq!(receiver.recorder().requests(), 4);
}

#[test]
fn http_400_is_not_retried() {
    let receiver = HttpReceiver::start();
    receiver.recorder().script([Reply::Http {
        status: 400,
        retry_after: None,
    }]);
    let run = run(&settings(receiver.url(), OtlpProtocol::HttpProtobuf));
    let err = run.flushed.expect_err("a 400 fails the export").to_string();
    assert!(err.contains("400"), "{err}");
    assert_eq!(receiver.recorder().requests(), 1);
    assert_eq!(run.dropped.get(), 2);
}

#[test]
fn http_collector_down_fails_within_the_timeout() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let mut settings = settings(
        format!("http://127.0.0.1:{port}/v1/traces"),
        OtlpProtocol::HttpProtobuf,
    );
    settings.timeout = Duration::from_millis(800);
    let run = run(&settings);
    let err = run.flushed.expect_err("nobody listens").to_string();
    assert!(err.contains("collector"), "{err}");
    assert_eq!(run.dropped.get(), 2);
    assert!(
        run.elapsed < Duration::from_millis(2500),
        "{:?}",
        run.elapsed
    );
}

#[test]
fn http_slow_collector_exceeds_the_timeout() {
    let receiver = HttpReceiver::start();
    receiver
        .recorder()
        .script([Reply::Stall(Duration::from_secs(4))]);
    let mut settings = settings(receiver.url(), OtlpProtocol::HttpProtobuf);
    settings.timeout = Duration::from_millis(500);
    let run = run(&settings);
    let err = run.flushed.expect_err("too slow").to_string();
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(run.dropped.get(), 2);
    assert!(
        run.elapsed < Duration::from_millis(2500),
        "{:?}",
        run.elapsed
    );
}

#[test]
fn error_messages_never_show_header_values() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let mut settings = settings(
        format!("http://127.0.0.1:{port}/v1/traces"),
        OtlpProtocol::HttpProtobuf,
    );
    settings.timeout = Duration::from_millis(300);
    settings.headers = vec![("authorization".into(), "Bearer hunter2".into())];
    let run = run(&settings);
    let err = run.flushed.expect_err("nobody listens").to_string();
    assert!(!err.contains("hunter2"), "{err}");
}

/// Inside a current-thread tokio runtime: no "no reactor running" panic, no deadlock at
/// shutdown, for either transport.
#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    let receiver = HttpReceiver::start();
    let run = run(&settings(receiver.url(), OtlpProtocol::HttpProtobuf));
    assert_ok(&run);
    assert_delivered(receiver.recorder());
}

#[cfg(feature = "otlp-grpc")]
mod grpc {
    use super::*;
    use support::otlp_receiver::GrpcReceiver;

    #[test]
    fn grpc_delivers_typed_attributes() {
        let receiver = GrpcReceiver::start();
        assert_ok(&run(&settings(receiver.url(), OtlpProtocol::Grpc)));
        assert_delivered(receiver.recorder());
    }

    #[test]
    fn grpc_gzip_and_metadata() {
        let receiver = GrpcReceiver::start();
        let mut settings = settings(receiver.url(), OtlpProtocol::Grpc);
        settings.compression = OtlpCompression::Gzip;
        settings.headers = vec![("X-Api-Key".into(), "secret value".into())];
        assert_ok(&run(&settings));
        assert_delivered(receiver.recorder());
        let export = &receiver.recorder().exports()[0];
        assert_eq!(export.header("grpc-encoding"), Some("gzip"));
        assert_eq!(export.header("x-api-key"), Some("secret value"));
    }

    #[test]
    fn grpc_sends_its_deadline_and_keeps_the_headers_it_sets() {
        let receiver = GrpcReceiver::start();
        let mut settings = settings(receiver.url(), OtlpProtocol::Grpc);
        // Headers gRPC reserves, configured by mistake: the call's own win.
        settings.headers = vec![
            ("content-type".into(), "text/plain".into()),
            ("grpc-encoding".into(), "br".into()),
            ("x-tenant".into(), "shop".into()),
        ];
        assert_ok(&run(&settings));
        assert_delivered(receiver.recorder());
        let export = &receiver.recorder().exports()[0];
        assert_eq!(export.header("content-type"), Some("application/grpc"));
        assert_eq!(export.header("grpc-encoding"), None);
        assert_eq!(export.header("x-tenant"), Some("shop"));
        let deadline = export.header("grpc-timeout").expect("a grpc-timeout");
        let millis: u64 = deadline
            .strip_suffix('m')
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("{deadline}"));
        assert!(millis > 0 && millis <= 4000, "{deadline}");
    }

    /// The receiver answers gzip-compressed to a client that accepts it, as a Go collector
    /// answers a gzip request.
    #[test]
    fn grpc_partial_success_is_read_from_a_compressed_answer() {
        for compression in [OtlpCompression::Gzip, OtlpCompression::None] {
            let receiver = GrpcReceiver::start();
            receiver.recorder().script([Reply::Partial {
                rejected: 1,
                message: "span too old",
            }]);
            let mut settings = settings(receiver.url(), OtlpProtocol::Grpc);
            settings.compression = compression;
            let run = run(&settings);
            assert_partial_success_counted(receiver.recorder(), &run);
            let export = &receiver.recorder().exports()[0];
            assert_eq!(export.header("grpc-accept-encoding"), Some("gzip"));
        }
    }

    #[test]
    fn grpc_mutual_tls_with_a_trusted_ca_file() {
        let pki = Pki::generate();
        let receiver = GrpcReceiver::start_mutual_tls(&pki);
        let mut settings = settings(receiver.url(), OtlpProtocol::Grpc);
        settings.certificate = Some(pki.ca_path());
        settings.client_certificate = Some(pki.client_cert_path());
        settings.client_key = Some(pki.client_key_path());
        assert_ok(&run(&settings));
        assert_delivered(receiver.recorder());
    }

    #[test]
    fn grpc_insecure_applies_to_an_endpoint_without_scheme() {
        let receiver = GrpcReceiver::start();
        let address = receiver.url().replace("http://", "");
        let mut settings = settings(address, OtlpProtocol::Grpc);
        settings.insecure = true;
        assert_ok(&run(&settings));
        assert_delivered(receiver.recorder());
    }

    #[test]
    fn grpc_retries_after_unavailable() {
        let receiver = GrpcReceiver::start();
        receiver
            .recorder()
            .script([Reply::Grpc(tonic::Code::Unavailable)]);
        assert_ok(&run(&settings(receiver.url(), OtlpProtocol::Grpc)));
        assert_delivered(receiver.recorder());
        assert_eq!(receiver.recorder().requests(), 2);
    }

    #[test]
    fn grpc_invalid_argument_is_not_retried() {
        let receiver = GrpcReceiver::start();
        receiver
            .recorder()
            .script([Reply::Grpc(tonic::Code::InvalidArgument)]);
        let run = run(&settings(receiver.url(), OtlpProtocol::Grpc));
        assert!(run.flushed.is_err());
        assert_eq!(run.dropped.get(), 2);
        assert_eq!(receiver.recorder().requests(), 1);
    }

    #[test]
    fn grpc_collector_down_fails_within_the_timeout() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("address").port()
        };
        let mut settings = settings(format!("http://127.0.0.1:{port}"), OtlpProtocol::Grpc);
        settings.timeout = Duration::from_millis(800);
        let run = run(&settings);
        assert!(run.flushed.is_err());
        assert_eq!(run.dropped.get(), 2);
        assert!(
            run.elapsed < Duration::from_millis(2500),
            "{:?}",
            run.elapsed
        );
    }

    #[test]
    fn grpc_slow_collector_exceeds_the_timeout() {
        let receiver = GrpcReceiver::start();
        receiver
            .recorder()
            .script([Reply::Stall(Duration::from_secs(4))]);
        let mut settings = settings(receiver.url(), OtlpProtocol::Grpc);
        settings.timeout = Duration::from_millis(500);
        let run = run(&settings);
        // Either our own deadline fires, or the server's (from the grpc-timeout we send).
        let err = run.flushed.expect_err("too slow").to_string();
        assert!(
            err.contains("timed out") || err.contains("Timeout expired"),
            "{err}"
        );
        assert_eq!(run.dropped.get(), 2);
        assert!(
            run.elapsed < Duration::from_millis(2500),
            "{:?}",
            run.elapsed
        );
    }

    /// The exporter is built inside the user's current-thread runtime and exports run
    /// there too (a simple processor exports on the thread that ends the span).
    #[tokio::test(flavor = "current_thread")]
    async fn grpc_inside_a_current_thread_runtime() {
        let receiver = GrpcReceiver::start();
        assert_ok(&run(&settings(receiver.url(), OtlpProtocol::Grpc)));
        assert_delivered(receiver.recorder());

        let exporter =
            OtlpExporter::new(&settings(receiver.url(), OtlpProtocol::Grpc)).expect("exporter");
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .build();
        provider.tracer("t").in_span("simple", |_| {});
        tokio::task::yield_now().await;
        assert!(provider.shutdown().is_ok());
        let spans = receiver.recorder().spans();
        assert!(spans.iter().any(|span| span.name == "simple"), "{spans:?}");
    }
}
