//! Cross-cutting tests of the configuration: every variable with a bad value, precedence
//! between sources, `OTEL_CONFIG_FILE`, and the Hypertrace mapping. The environment is a
//! lookup table: no test touches the process environment.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::{Array, KeyValue, StringValue, Value};

use super::data_capture::{Capture, DataCapture};
use super::exporter::ExporterKind;
use super::otlp::{OtlpCompression, OtlpProtocol, OtlpSettings};
use super::settings::{ProcessorSettings, Settings};
use super::source::Warning;
use crate::diagnostics::LogLevel;

fn resolve(vars: &[(&str, &str)]) -> (Settings, Vec<Warning>) {
    let lookup = |name: &str| {
        vars.iter()
            .rev()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    };
    Settings::from_lookup(&lookup)
}

/// Resolves and asserts that nothing was warned about.
fn clean(vars: &[(&str, &str)]) -> Settings {
    let (settings, warnings) = resolve(vars);
    assert!(warnings.is_empty(), "unexpected warnings: {warnings:#?}");
    settings
}

fn sampler(settings: &Settings) -> String {
    format!("{:?}", settings.sampler.sampler)
}

/// A file under the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "traced-config-{}-{unique}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn batched(exporter: ExporterKind) -> ProcessorSettings {
    ProcessorSettings {
        exporter,
        batch: Some(Default::default()),
    }
}

#[test]
fn an_empty_environment_gives_the_specification_defaults() {
    let settings = clean(&[]);
    assert!(!settings.disabled);
    assert!(
        settings.service_name().starts_with("unknown_service:"),
        "{}",
        settings.service_name()
    );
    assert_eq!(settings.resource.len(), 1);
    assert_eq!(settings.processors, vec![batched(ExporterKind::Otlp)]);
    assert_eq!(settings.otlp, OtlpSettings::default());
    assert_eq!(settings.otlp.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(settings.propagators, vec!["tracecontext", "baggage"]);
    assert_eq!(sampler(&settings), "ParentBased(AlwaysOn)");
    assert_eq!(settings.limits, Default::default());
    assert_eq!(settings.log_level, LogLevel::Info);
    assert_eq!(settings.data_capture, DataCapture::default());
    assert_eq!(settings.batch.schedule_delay, Duration::from_millis(5000));
    assert_eq!(settings.batch.export_timeout, Duration::from_millis(30000));
    assert_eq!(settings.batch.max_queue_size, 2048);
    assert_eq!(settings.batch.max_export_batch_size, 512);
}

#[test]
fn blank_values_count_as_unset() {
    let settings = clean(&[
        ("OTEL_SERVICE_NAME", "  "),
        ("OTEL_TRACES_SAMPLER", ""),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", " "),
    ]);
    assert!(settings.service_name().starts_with("unknown_service:"));
    assert_eq!(sampler(&settings), "ParentBased(AlwaysOn)");
    assert_eq!(settings.otlp.endpoint, "http://localhost:4318/v1/traces");
}

#[test]
fn every_variable_set_to_a_valid_value_is_used() {
    let dir = TempFile::new("ca.pem", "pem");
    let key = TempFile::new("key.pem", "pem");
    let cert = TempFile::new("cert.pem", "pem");
    let settings = clean(&[
        ("OTEL_SDK_DISABLED", "TRUE"),
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod"),
        ("OTEL_TRACES_EXPORTER", "console,otlp"),
        ("OTEL_PROPAGATORS", "B3, tracecontext ,b3"),
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "200"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "300"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "30"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1000"),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "64"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "10"),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "11"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4317"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc%20def"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", dir.path()),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.path()),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert.path()),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ("OTEL_LOG_LEVEL", "debug"),
    ]);
    assert!(settings.disabled);
    assert_eq!(
        settings.resource,
        vec![
            KeyValue::new("service.name", "shop"),
            KeyValue::new("deployment.environment", "prod"),
        ]
    );
    let batch = super::batch::BatchSettings {
        schedule_delay: Duration::from_millis(100),
        export_timeout: Duration::from_millis(200),
        max_queue_size: 300,
        max_export_batch_size: 30,
        max_concurrent_exports: 1,
    };
    assert_eq!(settings.batch, batch);
    assert_eq!(
        settings.processors,
        vec![
            ProcessorSettings {
                exporter: ExporterKind::Console,
                batch: Some(batch)
            },
            ProcessorSettings {
                exporter: ExporterKind::Otlp,
                batch: Some(batch)
            },
        ]
    );
    assert_eq!(
        settings.exporters(),
        vec![ExporterKind::Console, ExporterKind::Otlp]
    );
    assert_eq!(settings.propagators, vec!["b3", "tracecontext"]);
    assert_eq!(sampler(&settings), "ParentBased(TraceIdRatioBased(0.5))");
    assert_eq!(settings.limits.attribute_value_length, Some(1000));
    assert_eq!(settings.limits.span.max_attributes_per_span, 64);
    assert_eq!(settings.limits.span.max_attributes_per_event, 64);
    assert_eq!(settings.limits.span.max_events_per_span, 10);
    assert_eq!(settings.limits.span.max_links_per_span, 11);
    assert_eq!(
        settings.otlp,
        OtlpSettings {
            endpoint: "https://collector:4317".to_owned(),
            protocol: OtlpProtocol::Grpc,
            headers: vec![("api-key".to_owned(), "abc def".to_owned())],
            timeout: Duration::from_millis(2500),
            compression: OtlpCompression::Gzip,
            certificate: Some(dir.0.clone()),
            client_key: Some(key.0.clone()),
            client_certificate: Some(cert.0.clone()),
            insecure: true,
        }
    );
    assert_eq!(settings.log_level, LogLevel::Debug);
}

/// One row: the variables, the one warned about, the bad value as it must appear in the
/// warning (`None`: a secret that must not appear), and a check of the fallback.
type Row = (
    &'static [(&'static str, &'static str)],
    &'static str,
    Option<&'static str>,
    fn(&Settings) -> bool,
);

const BAD_VALUES: &[Row] = &[
    (
        &[("OTEL_SDK_DISABLED", "yes")],
        "OTEL_SDK_DISABLED",
        Some("yes"),
        |s| !s.disabled,
    ),
    (
        &[("OTEL_RESOURCE_ATTRIBUTES", "team=a,zone=%zz")],
        "OTEL_RESOURCE_ATTRIBUTES",
        Some("team=a,zone=%zz"),
        |s| s.resource.len() == 1,
    ),
    (
        &[("OTEL_RESOURCE_ATTRIBUTES", "team=a,justakey")],
        "OTEL_RESOURCE_ATTRIBUTES",
        Some("justakey"),
        |s| s.resource.len() == 1,
    ),
    (
        &[("OTEL_TRACES_EXPORTER", "zipkin")],
        "OTEL_TRACES_EXPORTER",
        Some("zipkin"),
        |s| s.processors.is_empty(),
    ),
    (
        &[("OTEL_TRACES_EXPORTER", "console,jaeger")],
        "OTEL_TRACES_EXPORTER",
        Some("jaeger"),
        |s| s.exporters() == [ExporterKind::Console],
    ),
    (
        &[("OTEL_TRACES_SAMPLER", "sometimes")],
        "OTEL_TRACES_SAMPLER",
        Some("sometimes"),
        |s| sampler(s) == "ParentBased(AlwaysOn)",
    ),
    (
        &[("OTEL_TRACES_SAMPLER", "xray")],
        "OTEL_TRACES_SAMPLER",
        Some("xray"),
        |s| sampler(s) == "ParentBased(AlwaysOn)",
    ),
    (
        &[("OTEL_TRACES_SAMPLER", "jaeger_remote")],
        "OTEL_TRACES_SAMPLER",
        Some("jaeger_remote"),
        |s| sampler(s) == "ParentBased(AlwaysOn)",
    ),
    (
        &[("OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote")],
        "OTEL_TRACES_SAMPLER",
        Some("parentbased_jaeger_remote"),
        |s| sampler(s) == "ParentBased(AlwaysOn)",
    ),
    (
        &[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ],
        "OTEL_TRACES_SAMPLER_ARG",
        Some("1.5"),
        |s| sampler(s) == "TraceIdRatioBased(1.0)",
    ),
    (
        &[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "half"),
        ],
        "OTEL_TRACES_SAMPLER_ARG",
        Some("half"),
        |s| sampler(s) == "ParentBased(TraceIdRatioBased(1.0))",
    ),
    (
        &[("OTEL_BSP_SCHEDULE_DELAY", "5s")],
        "OTEL_BSP_SCHEDULE_DELAY",
        Some("5s"),
        |s| s.batch.schedule_delay == Duration::from_millis(5000),
    ),
    (
        &[("OTEL_BSP_EXPORT_TIMEOUT", "-1")],
        "OTEL_BSP_EXPORT_TIMEOUT",
        Some("-1"),
        |s| s.batch.export_timeout == Duration::from_millis(30000),
    ),
    (
        &[("OTEL_BSP_MAX_QUEUE_SIZE", "0")],
        "OTEL_BSP_MAX_QUEUE_SIZE",
        Some("0"),
        |s| s.batch.max_queue_size == 2048,
    ),
    (
        &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "many")],
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        Some("many"),
        |s| s.batch.max_export_batch_size == 512,
    ),
    (
        &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096")],
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        Some("4096"),
        |s| s.batch.max_export_batch_size == 2048,
    ),
    (
        &[("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "100")],
        "OTEL_BSP_MAX_CONCURRENT_EXPORTS",
        Some("100"),
        |s| s.batch.max_concurrent_exports == 1,
    ),
    (
        &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "long")],
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        Some("long"),
        |s| s.limits.attribute_value_length.is_none(),
    ),
    (
        &[("OTEL_ATTRIBUTE_COUNT_LIMIT", "-5")],
        "OTEL_ATTRIBUTE_COUNT_LIMIT",
        Some("-5"),
        |s| s.limits.span.max_attributes_per_span == 128,
    ),
    (
        &[("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1.5")],
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        Some("1.5"),
        |s| s.limits.attribute_value_length.is_none(),
    ),
    (
        &[("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "lots")],
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        Some("lots"),
        |s| s.limits.span.max_attributes_per_span == 128,
    ),
    (
        &[("OTEL_SPAN_EVENT_COUNT_LIMIT", "99999999999")],
        "OTEL_SPAN_EVENT_COUNT_LIMIT",
        Some("99999999999"),
        |s| s.limits.span.max_events_per_span == 128,
    ),
    (
        &[("OTEL_SPAN_LINK_COUNT_LIMIT", "x")],
        "OTEL_SPAN_LINK_COUNT_LIMIT",
        Some("x"),
        |s| s.limits.span.max_links_per_span == 128,
    ),
    (
        &[("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "x")],
        "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
        Some("x"),
        |s| s.limits.span.max_attributes_per_event == 128,
    ),
    (
        &[("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "x")],
        "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
        Some("x"),
        |s| s.limits.span.max_attributes_per_link == 128,
    ),
    (
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        Some("collector:4318"),
        |s| s.otlp.endpoint == "http://localhost:4318/v1/traces",
    ),
    (
        &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "not a url")],
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        Some("not a url"),
        |s| s.otlp.endpoint == "http://localhost:4318/v1/traces",
    ),
    (
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http")],
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        Some("http"),
        |s| s.otlp.protocol == OtlpProtocol::HttpProtobuf,
    ),
    (
        &[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift")],
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        Some("thrift"),
        |s| s.otlp.protocol == OtlpProtocol::HttpProtobuf,
    ),
    (
        &[("OTEL_EXPORTER_OTLP_HEADERS", "Bearer-s3cr3t-token")],
        "OTEL_EXPORTER_OTLP_HEADERS",
        None,
        |s| s.otlp.headers.is_empty(),
    ),
    (
        &[("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "ok=1,auth=s3cr3t%zz")],
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        None,
        |s| s.otlp.headers == [("ok".to_owned(), "1".to_owned())],
    ),
    (
        &[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")],
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        Some("10s"),
        |s| s.otlp.timeout == Duration::from_millis(10000),
    ),
    (
        &[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "soon")],
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        Some("soon"),
        |s| s.otlp.timeout == Duration::from_millis(10000),
    ),
    (
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")],
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        Some("zstd"),
        |s| s.otlp.compression == OtlpCompression::None,
    ),
    (
        &[("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "br")],
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        Some("br"),
        |s| s.otlp.compression == OtlpCompression::None,
    ),
    (
        &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")],
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        Some("/nonexistent/ca.pem"),
        |s| s.otlp.certificate.is_none(),
    ),
    (
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            "/nonexistent/ca.pem",
        )],
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        Some("/nonexistent/ca.pem"),
        |s| s.otlp.certificate.is_none(),
    ),
    (
        &[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/nonexistent/key.pem")],
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        Some("/nonexistent/key.pem"),
        |s| s.otlp.client_key.is_none(),
    ),
    (
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
            "/nonexistent/key.pem",
        )],
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
        Some("/nonexistent/key.pem"),
        |s| s.otlp.client_key.is_none(),
    ),
    (
        &[(
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            "/nonexistent/cert.pem",
        )],
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        Some("/nonexistent/cert.pem"),
        |s| s.otlp.client_certificate.is_none(),
    ),
    (
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
            "/nonexistent/cert.pem",
        )],
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
        Some("/nonexistent/cert.pem"),
        |s| s.otlp.client_certificate.is_none(),
    ),
    (
        &[("OTEL_EXPORTER_OTLP_INSECURE", "maybe")],
        "OTEL_EXPORTER_OTLP_INSECURE",
        Some("maybe"),
        |s| !s.otlp.insecure,
    ),
    (
        &[("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "1")],
        "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
        Some("1"),
        |s| !s.otlp.insecure,
    ),
    (
        &[("OTEL_LOG_LEVEL", "verbose")],
        "OTEL_LOG_LEVEL",
        Some("verbose"),
        |s| s.log_level == LogLevel::Info,
    ),
    (
        &[
            ("OTEL_CONFIG_FILE", "/nonexistent/otel.yaml"),
            ("OTEL_SERVICE_NAME", "env"),
        ],
        "OTEL_CONFIG_FILE",
        Some("/nonexistent/otel.yaml"),
        |s| s.service_name() == "env",
    ),
    (
        &[
            ("HT_CONFIG_FILE", "/nonexistent/ht.yaml"),
            ("HT_SERVICE_NAME", "ht"),
        ],
        "HT_CONFIG_FILE",
        Some("/nonexistent/ht.yaml"),
        |s| s.service_name() == "ht",
    ),
    (
        &[("HT_REPORTING_ENDPOINT", "::4317")],
        "HT_REPORTING_ENDPOINT",
        Some("::4317"),
        |s| s.otlp.endpoint == "http://localhost:4318/v1/traces",
    ),
    (
        &[("HT_REPORTING_SECURE", "yes")],
        "HT_REPORTING_SECURE",
        Some("yes"),
        |s| !s.otlp.insecure,
    ),
    (
        &[("HT_REPORTING_TRACE_REPORTER_TYPE", "JAEGER")],
        "HT_REPORTING_TRACE_REPORTER_TYPE",
        Some("JAEGER"),
        |s| s.exporters() == [ExporterKind::Otlp] && s.otlp.protocol == OtlpProtocol::Grpc,
    ),
    (
        &[("HT_TRACES_EXPORTER", "Zipkin")],
        "HT_TRACES_EXPORTER",
        Some("Zipkin"),
        |s| s.exporters() == [ExporterKind::Otlp] && s.otlp.protocol == OtlpProtocol::Grpc,
    ),
    (
        &[("HT_PROPAGATION_FORMATS", "XRAY,TRACECONTEXT")],
        "HT_PROPAGATION_FORMATS",
        Some("XRAY"),
        |s| s.propagators == ["tracecontext"],
    ),
    (&[("HT_ENABLED", "nope")], "HT_ENABLED", Some("nope"), |s| {
        !s.disabled
    }),
    (
        &[("HT_LOG_LEVEL", "loud")],
        "HT_LOG_LEVEL",
        Some("loud"),
        |s| s.log_level == LogLevel::Info,
    ),
    (
        &[("HT_ENABLE_CONSOLE_SPAN_EXPORTER", "on")],
        "HT_ENABLE_CONSOLE_SPAN_EXPORTER",
        Some("on"),
        |s| s.exporters() == [ExporterKind::Otlp],
    ),
    (
        &[("HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST", "off")],
        "HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST",
        Some("off"),
        |s| s.data_capture.http_headers.request,
    ),
    (
        &[("HT_DATA_CAPTURE_HTTP_HEADERS_RESPONSE", "off")],
        "HT_DATA_CAPTURE_HTTP_HEADERS_RESPONSE",
        Some("off"),
        |s| s.data_capture.http_headers.response,
    ),
    (
        &[("HT_DATA_CAPTURE_HTTP_BODY_REQUEST", "off")],
        "HT_DATA_CAPTURE_HTTP_BODY_REQUEST",
        Some("off"),
        |s| s.data_capture.http_body.request,
    ),
    (
        &[("HT_DATA_CAPTURE_HTTP_BODY_RESPONSE", "off")],
        "HT_DATA_CAPTURE_HTTP_BODY_RESPONSE",
        Some("off"),
        |s| s.data_capture.http_body.response,
    ),
    (
        &[("HT_DATA_CAPTURE_RPC_METADATA_REQUEST", "off")],
        "HT_DATA_CAPTURE_RPC_METADATA_REQUEST",
        Some("off"),
        |s| s.data_capture.rpc_metadata.request,
    ),
    (
        &[("HT_DATA_CAPTURE_RPC_METADATA_RESPONSE", "off")],
        "HT_DATA_CAPTURE_RPC_METADATA_RESPONSE",
        Some("off"),
        |s| s.data_capture.rpc_metadata.response,
    ),
    (
        &[("HT_DATA_CAPTURE_RPC_BODY_REQUEST", "off")],
        "HT_DATA_CAPTURE_RPC_BODY_REQUEST",
        Some("off"),
        |s| s.data_capture.rpc_body.request,
    ),
    (
        &[("HT_DATA_CAPTURE_RPC_BODY_RESPONSE", "off")],
        "HT_DATA_CAPTURE_RPC_BODY_RESPONSE",
        Some("off"),
        |s| s.data_capture.rpc_body.response,
    ),
    (
        &[("HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES", "128KiB")],
        "HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES",
        Some("128KiB"),
        |s| s.data_capture.body_max_size_bytes == 131_072,
    ),
];

#[test]
fn every_bad_value_gives_one_warning_naming_the_variable_and_a_fallback() {
    for (vars, variable, shown, check) in BAD_VALUES {
        let (settings, warnings) = resolve(vars);
        assert_eq!(
            warnings.len(),
            1,
            "{variable}: expected exactly one warning, got {warnings:#?}"
        );
        let warning = &warnings[0];
        assert_eq!(&warning.variable, variable, "{warning:#?}");
        assert!(
            warning.message.contains(variable),
            "{variable}: the message does not name the variable: {}",
            warning.message
        );
        assert!(
            warning.message.contains("using "),
            "{variable}: the message does not say what is used: {}",
            warning.message
        );
        match shown {
            Some(value) => assert!(
                warning.message.contains(value),
                "{variable}: the message does not show {value:?}: {}",
                warning.message
            ),
            None => {
                for (_, value) in vars.iter() {
                    for secret in ["s3cr3t", "Bearer"] {
                        if value.contains(secret) {
                            assert!(
                                !warning.message.contains(secret)
                                    && !warning.topic.contains(secret),
                                "{variable}: a secret leaked: {warning:#?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(
            check(&settings),
            "{variable}: wrong fallback: {settings:#?}"
        );
    }
}

#[test]
fn the_table_covers_every_variable_read() {
    let covered: Vec<&str> = BAD_VALUES
        .iter()
        .map(|(_, variable, _, _)| *variable)
        .collect();
    // Free-form values (names, lists of names, a token) have no invalid form.
    let free_form = [
        "OTEL_SERVICE_NAME",
        "OTEL_PROPAGATORS",
        "HT_SERVICE_NAME",
        "HT_REPORTING_TOKEN",
    ];
    let source = [
        include_str!("settings.rs"),
        include_str!("resource.rs"),
        include_str!("sampler.rs"),
        include_str!("limits.rs"),
        include_str!("batch.rs"),
        include_str!("otlp_env.rs"),
        include_str!("log_level.rs"),
        include_str!("file.rs"),
        include_str!("hypertrace.rs"),
        include_str!("mod.rs"),
    ]
    .concat();
    // Every string literal that is exactly a variable name.
    let mut missing: Vec<&str> = source
        .split('"')
        .filter(|piece| {
            (piece.starts_with("OTEL_") || piece.starts_with("HT_"))
                && piece.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
        .filter(|name| !covered.contains(name) && !free_form.contains(name))
        .collect();
    missing.dedup();
    assert!(missing.is_empty(), "no bad-value row for {missing:?}");
}

#[test]
fn otel_service_name_wins_over_the_resource_attribute() {
    let settings = clean(&[
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attributes,team=a",
        ),
        ("OTEL_SERVICE_NAME", "from-variable"),
    ]);
    assert_eq!(
        settings.resource,
        vec![
            KeyValue::new("service.name", "from-variable"),
            KeyValue::new("team", "a"),
        ]
    );
    let settings = clean(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes")]);
    assert_eq!(settings.service_name(), "from-attributes");
}

#[test]
fn resource_attributes_are_percent_decoded() {
    let settings = clean(&[(
        "OTEL_RESOURCE_ATTRIBUTES",
        "note=a%2Cb%3Dc, city = S%C3%A3o%20Paulo ",
    )]);
    assert_eq!(
        &settings.resource[1..],
        &[
            KeyValue::new("note", "a,b=c"),
            KeyValue::new("city", "S\u{e3}o Paulo"),
        ]
    );
    let (_, warnings) = resolve(&[("OTEL_RESOURCE_ATTRIBUTES", "bad=%C3%28")]);
    assert_eq!(warnings.len(), 1, "invalid UTF-8 after decoding");
}

#[test]
fn the_sdk_resource_has_the_telemetry_attributes_and_ours() {
    let settings = clean(&[("OTEL_SERVICE_NAME", "shop")]);
    let resource = settings.sdk_resource();
    assert_eq!(
        resource.get(&"service.name".into()),
        Some(Value::from("shop"))
    );
    assert_eq!(
        resource.get(&"telemetry.sdk.language".into()),
        Some(Value::from("rust"))
    );
}

#[test]
fn per_signal_otlp_variables_win_over_generic_ones() {
    let settings = clean(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://signal:4318/custom",
        ),
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=generic,b=generic"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=signal"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2000"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "false"),
        ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "true"),
    ]);
    assert_eq!(settings.otlp.protocol, OtlpProtocol::HttpProtobuf);
    // The per-signal endpoint is used as it is: no /v1/traces.
    assert_eq!(settings.otlp.endpoint, "http://signal:4318/custom");
    // The per-signal headers replace the generic list, they are not merged.
    assert_eq!(
        settings.otlp.headers,
        vec![("a".to_owned(), "signal".to_owned())]
    );
    assert_eq!(settings.otlp.timeout, Duration::from_millis(2000));
    assert_eq!(settings.otlp.compression, OtlpCompression::Gzip);
    assert!(settings.otlp.insecure);
}

#[test]
fn per_signal_tls_files_win_over_generic_ones() {
    let generic = TempFile::new("generic.pem", "pem");
    let signal = TempFile::new("signal.pem", "pem");
    let settings = clean(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", generic.path()),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", signal.path()),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", generic.path()),
        ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", signal.path()),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", generic.path()),
        (
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
            signal.path(),
        ),
    ]);
    assert_eq!(settings.otlp.certificate, Some(signal.0.clone()));
    assert_eq!(settings.otlp.client_key, Some(signal.0.clone()));
    assert_eq!(settings.otlp.client_certificate, Some(signal.0.clone()));
}

#[test]
fn a_client_key_without_a_certificate_is_not_used() {
    let key = TempFile::new("lonely-key.pem", "pem");
    let (settings, warnings) = resolve(&[("OTEL_EXPORTER_OTLP_CLIENT_KEY", key.path())]);
    assert_eq!(settings.otlp.client_key, None);
    assert_eq!(settings.otlp.client_certificate, None);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].variable, "OTEL_EXPORTER_OTLP_CLIENT_KEY");
    assert!(warnings[0].message.contains("client certificate"));
}

#[test]
fn the_generic_endpoint_gets_the_traces_path_for_http_only() {
    let endpoint = |vars: &[(&str, &str)]| clean(vars).otlp.endpoint;
    assert_eq!(
        endpoint(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]),
        "http://c:4318/v1/traces"
    );
    assert_eq!(
        endpoint(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c/otlp/")]),
        "https://c/otlp/v1/traces"
    );
    assert_eq!(
        endpoint(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]),
        "http://c:4317"
    );
    assert_eq!(
        endpoint(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ]),
        "http://c:4318"
    );
}

#[test]
fn the_default_endpoint_follows_the_protocol() {
    let endpoint = |protocol: &str| clean(&[("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)]).otlp;
    assert_eq!(endpoint("grpc").endpoint, "http://localhost:4317");
    assert_eq!(
        endpoint("http/json").endpoint,
        "http://localhost:4318/v1/traces"
    );
    let grpc = clean(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")]).otlp;
    assert_eq!(grpc.endpoint, "http://localhost:4317");
    assert_eq!(grpc.protocol, OtlpProtocol::Grpc);
}

#[test]
fn a_bare_grpc_host_gets_a_scheme_from_insecure() {
    let settings = clean(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ]);
    assert_eq!(settings.otlp.endpoint, "http://collector:4317");
    let settings = clean(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
    ]);
    assert_eq!(settings.otlp.endpoint, "https://collector:4317");
}

#[test]
fn headers_are_percent_decoded_and_bad_entries_skipped_without_their_values() {
    let (settings, warnings) = resolve(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "Authorization=Bearer%20t0k3n,x-tenant = acme ,broken-s3cr3t,k=%zzs3cr3t",
    )]);
    assert_eq!(
        settings.otlp.headers,
        vec![
            ("Authorization".to_owned(), "Bearer t0k3n".to_owned()),
            ("x-tenant".to_owned(), "acme".to_owned()),
        ]
    );
    assert_eq!(warnings.len(), 1);
    let message = &warnings[0].message;
    assert!(message.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{message}");
    assert!(message.contains("\"k\""), "the key is named: {message}");
    assert!(message.contains("entry 3"), "{message}");
    for secret in ["s3cr3t", "t0k3n", "Bearer"] {
        assert!(!message.contains(secret), "{message}");
        assert!(!warnings[0].topic.contains(secret));
    }
}

#[test]
fn sdk_disabled_is_case_insensitive() {
    assert!(clean(&[("OTEL_SDK_DISABLED", "True")]).disabled);
    assert!(!clean(&[("OTEL_SDK_DISABLED", "FALSE")]).disabled);
}

#[test]
fn the_exporter_list_accepts_none() {
    assert!(
        clean(&[("OTEL_TRACES_EXPORTER", "none")])
            .processors
            .is_empty()
    );
}

#[test]
fn log_levels_are_read_case_insensitively() {
    for (value, level) in [
        ("ERROR", LogLevel::Error),
        ("warn", LogLevel::Warn),
        ("Info", LogLevel::Info),
        ("debug", LogLevel::Debug),
        ("none", LogLevel::None),
    ] {
        assert_eq!(clean(&[("OTEL_LOG_LEVEL", value)]).log_level, level);
    }
}

// ---- Hypertrace ------------------------------------------------------------------------

#[test]
fn hypertrace_variables_map_onto_the_settings() {
    let settings = clean(&[
        ("HT_SERVICE_NAME", "ht-service"),
        ("HT_REPORTING_ENDPOINT", "http://api.traceable.ai:4317"),
        ("HT_REPORTING_SECURE", "true"),
        ("HT_REPORTING_TOKEN", "t0k3n"),
        ("HT_PROPAGATION_FORMATS", "B3,TRACECONTEXT"),
        ("HT_LOG_LEVEL", "warning"),
        ("HT_DATA_CAPTURE_HTTP_BODY_REQUEST", "false"),
        ("HT_DATA_CAPTURE_RPC_METADATA_RESPONSE", "FALSE"),
        ("HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES", "1024"),
    ]);
    assert_eq!(settings.service_name(), "ht-service");
    assert_eq!(settings.exporters(), vec![ExporterKind::Otlp]);
    // Hypertrace's OTLP reporter is gRPC; secure turns http:// into https://.
    assert_eq!(settings.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(settings.otlp.endpoint, "https://api.traceable.ai:4317");
    assert!(!settings.otlp.insecure);
    assert_eq!(
        settings.otlp.headers,
        vec![("traceableai-agent-token".to_owned(), "t0k3n".to_owned())]
    );
    assert_eq!(settings.propagators, vec!["b3multi", "tracecontext"]);
    assert_eq!(settings.log_level, LogLevel::Warn);
    assert_eq!(
        settings.data_capture,
        DataCapture {
            http_headers: Capture::both(true),
            http_body: Capture {
                request: false,
                response: true
            },
            rpc_metadata: Capture {
                request: true,
                response: false
            },
            rpc_body: Capture::both(true),
            body_max_size_bytes: 1024,
        }
    );
}

#[test]
fn hypertrace_insecure_reporting_is_plaintext_grpc() {
    let settings = clean(&[
        ("HT_REPORTING_ENDPOINT", "collector:4317"),
        ("HT_REPORTING_SECURE", "false"),
    ]);
    assert_eq!(settings.otlp.endpoint, "http://collector:4317");
    assert!(settings.otlp.insecure);
}

#[test]
fn hypertrace_reporter_types_choose_the_exporter() {
    let exporters = |value: &str| clean(&[("HT_REPORTING_TRACE_REPORTER_TYPE", value)]);
    let http = exporters("OTLP_HTTP");
    assert_eq!(http.exporters(), vec![ExporterKind::Otlp]);
    assert_eq!(http.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(http.otlp.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(
        exporters("LOGGING").exporters(),
        vec![ExporterKind::Console]
    );
    assert!(exporters("NONE").processors.is_empty());
    let console = clean(&[("HT_ENABLE_CONSOLE_SPAN_EXPORTER", "true")]);
    assert_eq!(
        console.processors,
        vec![ProcessorSettings {
            exporter: ExporterKind::Console,
            batch: None
        }]
    );
}

#[test]
fn ht_enabled_false_disables() {
    assert!(clean(&[("HT_ENABLED", "false")]).disabled);
    assert!(!clean(&[("HT_ENABLED", "true")]).disabled);
}

#[test]
fn otel_variables_win_over_hypertrace_ones() {
    let settings = clean(&[
        ("HT_SERVICE_NAME", "ht"),
        ("OTEL_SERVICE_NAME", "otel"),
        ("HT_REPORTING_ENDPOINT", "http://ht:4317"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("HT_REPORTING_TOKEN", "t0k3n"),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "traceableai-agent-token=mine,x=1",
        ),
        ("HT_TRACES_EXPORTER", "LOGGING"),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("HT_PROPAGATION_FORMATS", "B3"),
        ("OTEL_PROPAGATORS", "tracecontext"),
        ("HT_ENABLED", "false"),
        ("OTEL_SDK_DISABLED", "false"),
        ("HT_LOG_LEVEL", "debug"),
        ("OTEL_LOG_LEVEL", "error"),
        ("HT_REPORTING_SECURE", "false"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "false"),
    ]);
    assert_eq!(settings.service_name(), "otel");
    assert_eq!(settings.otlp.endpoint, "http://otel:4318/v1/traces");
    assert_eq!(settings.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(
        settings.otlp.headers,
        vec![
            ("traceableai-agent-token".to_owned(), "mine".to_owned()),
            ("x".to_owned(), "1".to_owned()),
        ]
    );
    assert_eq!(settings.exporters(), vec![ExporterKind::Otlp]);
    assert_eq!(settings.propagators, vec!["tracecontext"]);
    assert!(!settings.disabled);
    assert_eq!(settings.log_level, LogLevel::Error);
    assert!(!settings.otlp.insecure);
    // The token is still added when the OTEL headers do not carry one.
    let settings = clean(&[
        ("HT_REPORTING_TOKEN", "t0k3n"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x=1"),
    ]);
    assert_eq!(
        settings.otlp.headers,
        vec![
            ("x".to_owned(), "1".to_owned()),
            ("traceableai-agent-token".to_owned(), "t0k3n".to_owned()),
        ]
    );
    // OTEL_SERVICE_NAME aside, a service.name in OTEL_RESOURCE_ATTRIBUTES also wins.
    let settings = clean(&[
        ("HT_SERVICE_NAME", "ht"),
        ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attributes"),
    ]);
    assert_eq!(settings.service_name(), "attributes");
}

#[test]
fn hypertrace_config_file_is_read_and_variables_win_over_it() {
    let file = TempFile::new(
        "agent-config.yaml",
        "serviceName: from-file\n\
         reporting:\n  endpoint: http://collector:4318/v1/traces\n  secure: false\n  \
           token: file-t0k3n\n  trace_reporter_type: OTLP_HTTP\n\
         data_capture:\n  http_headers:\n    request: false\n  rpc_body:\n    response: false\n  \
           body_max_size_bytes: 64\n\
         propagation_formats: [TRACECONTEXT]\n\
         enabled: true\n\
         resource_attributes:\n  team: payments\n",
    );
    let settings = clean(&[("HT_CONFIG_FILE", file.path())]);
    assert_eq!(settings.service_name(), "from-file");
    assert!(
        settings
            .resource
            .contains(&KeyValue::new("team", "payments"))
    );
    assert_eq!(settings.otlp.endpoint, "http://collector:4318/v1/traces");
    assert_eq!(settings.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert!(settings.otlp.insecure);
    assert_eq!(
        settings.otlp.headers,
        vec![(
            "traceableai-agent-token".to_owned(),
            "file-t0k3n".to_owned()
        )]
    );
    assert_eq!(settings.propagators, vec!["tracecontext"]);
    assert!(!settings.data_capture.http_headers.request);
    assert!(settings.data_capture.http_headers.response);
    assert!(!settings.data_capture.rpc_body.response);
    assert_eq!(settings.data_capture.body_max_size_bytes, 64);

    let settings = clean(&[
        ("HT_CONFIG_FILE", file.path()),
        ("HT_SERVICE_NAME", "from-variable"),
        ("HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST", "true"),
        ("HT_ENABLED", "false"),
    ]);
    assert_eq!(settings.service_name(), "from-variable");
    assert!(settings.data_capture.http_headers.request);
    assert!(settings.disabled);
}

#[test]
fn hypertrace_config_file_problems_are_warned_about() {
    let file = TempFile::new(
        "bad-agent-config.yaml",
        "reporting:\n  secure: perhaps\n  trace_reporter_type: CARRIER_PIGEON\n\
         data_capture:\n  http_body:\n    request: 3\n\
         propagation_formats: [B3, SMOKE_SIGNALS]\n",
    );
    let (settings, warnings) = resolve(&[("HT_CONFIG_FILE", file.path())]);
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    assert!(
        warnings
            .iter()
            .all(|warning| warning.variable == "HT_CONFIG_FILE")
    );
    assert!(
        warnings
            .iter()
            .all(|warning| warning.message.contains(file.path()))
    );
    assert!(!settings.otlp.insecure);
    assert!(settings.data_capture.http_body.request);
    assert_eq!(settings.propagators, vec!["b3multi"]);
}

// ---- OTEL_CONFIG_FILE --------------------------------------------------------------------

const FULL_FILE: &str = r#"
file_format: "1.0-rc.2"
disabled: ${OTEL_SDK_DISABLED:-false}
log_level: debug
resource:
  attributes:
    - name: service.name
      value: ${SERVICE:-file-service}
    - name: replicas
      value: 3
      type: int
    - name: ratio
      value: 0.5
      type: double
    - name: canary
      value: true
      type: bool
    - name: zones
      value: [a, b]
      type: string_array
    - name: ports
      value: [80, 443]
      type: int_array
  attributes_list: "team=a%2Cb,replicas=1"
attribute_limits:
  attribute_value_length_limit: 4096
  attribute_count_limit: 64
propagator:
  composite:
    - tracecontext:
    - baggage:
  composite_list: "b3,tracecontext"
tracer_provider:
  processors:
    - batch:
        schedule_delay: ${DELAY:-5000}
        export_timeout: 30000
        max_queue_size: 100
        max_export_batch_size: 10
        exporter:
          otlp_http:
            endpoint: http://${COLLECTOR}:4318/v1/traces
            tls:
              insecure: false
            headers:
              - name: api-key
                value: ${API_KEY}
              - name: dropped
                value:
            headers_list: "api-key=ignored,x-team=a%20b"
            compression: gzip
            timeout: 5000
            encoding: json
    - simple:
        exporter:
          console:
  limits:
    attribute_count_limit: 32
    event_count_limit: 16
    link_count_limit: 8
    event_attribute_count_limit: 4
    link_attribute_count_limit: 2
  sampler:
    parent_based:
      root:
        trace_id_ratio_based:
          ratio: 0.25
"#;

#[test]
fn the_config_file_is_read_with_substitution() {
    let file = TempFile::new("otel.yaml", FULL_FILE);
    let settings = clean(&[
        ("OTEL_CONFIG_FILE", file.path()),
        ("COLLECTOR", "collector.internal"),
        ("API_KEY", "s3cr3t"),
        ("DELAY", "250"),
    ]);
    assert!(!settings.disabled);
    assert_eq!(settings.log_level, LogLevel::Debug);
    assert_eq!(
        settings.resource,
        vec![
            KeyValue::new("service.name", "file-service"),
            KeyValue::new("team", "a,b"),
            KeyValue::new("replicas", 3_i64),
            KeyValue::new("ratio", 0.5),
            KeyValue::new("canary", true),
            KeyValue::new(
                "zones",
                Value::Array(Array::String(vec![
                    StringValue::from("a"),
                    StringValue::from("b")
                ]))
            ),
            KeyValue::new("ports", Value::Array(Array::I64(vec![80, 443]))),
        ]
    );
    assert_eq!(settings.propagators, vec!["tracecontext", "baggage", "b3"]);
    let batch = super::batch::BatchSettings {
        schedule_delay: Duration::from_millis(250),
        export_timeout: Duration::from_millis(30000),
        max_queue_size: 100,
        max_export_batch_size: 10,
        max_concurrent_exports: 1,
    };
    assert_eq!(
        settings.processors,
        vec![
            ProcessorSettings {
                exporter: ExporterKind::Otlp,
                batch: Some(batch)
            },
            ProcessorSettings {
                exporter: ExporterKind::Console,
                batch: None
            },
        ]
    );
    assert_eq!(settings.batch, batch);
    assert_eq!(
        settings.otlp,
        OtlpSettings {
            endpoint: "http://collector.internal:4318/v1/traces".to_owned(),
            protocol: OtlpProtocol::HttpJson,
            headers: vec![
                ("api-key".to_owned(), "s3cr3t".to_owned()),
                ("x-team".to_owned(), "a b".to_owned()),
            ],
            timeout: Duration::from_millis(5000),
            compression: OtlpCompression::Gzip,
            certificate: None,
            client_key: None,
            client_certificate: None,
            insecure: false,
        }
    );
    assert_eq!(settings.limits.attribute_value_length, Some(4096));
    assert_eq!(settings.limits.span.max_attributes_per_span, 32);
    assert_eq!(settings.limits.span.max_events_per_span, 16);
    assert_eq!(settings.limits.span.max_links_per_span, 8);
    assert_eq!(settings.limits.span.max_attributes_per_event, 4);
    assert_eq!(settings.limits.span.max_attributes_per_link, 2);
    assert_eq!(sampler(&settings), "ParentBased(TraceIdRatioBased(0.25))");
}

#[test]
fn with_a_config_file_the_other_variables_are_ignored() {
    let file = TempFile::new("minimal.yaml", "file_format: \"0.3\"\n");
    let settings = clean(&[
        ("OTEL_CONFIG_FILE", file.path()),
        ("OTEL_SERVICE_NAME", "ignored"),
        ("OTEL_TRACES_EXPORTER", "console"),
        ("OTEL_TRACES_SAMPLER", "always_off"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "not even valid"),
        ("HT_SERVICE_NAME", "ignored too"),
    ]);
    assert!(settings.service_name().starts_with("unknown_service:"));
    // No tracer_provider: nothing is exported; no propagator: none.
    assert!(settings.processors.is_empty());
    assert!(settings.propagators.is_empty());
    assert_eq!(sampler(&settings), "ParentBased(AlwaysOn)");
    assert_eq!(settings.batch.max_queue_size, 2048);
}

#[test]
fn the_config_file_keeps_the_hypertrace_data_capture() {
    let file = TempFile::new("with-ht.yaml", "file_format: \"1.0\"\n");
    let settings = clean(&[
        ("OTEL_CONFIG_FILE", file.path()),
        ("HT_DATA_CAPTURE_HTTP_BODY_RESPONSE", "false"),
    ]);
    assert!(settings.data_capture.http_headers.request);
    assert!(!settings.data_capture.http_body.response);
}

#[test]
fn a_config_file_that_does_not_parse_falls_back_to_the_variables() {
    let file = TempFile::new("broken.yaml", "tracer_provider: [unclosed\n");
    let (settings, warnings) = resolve(&[
        ("OTEL_CONFIG_FILE", file.path()),
        ("OTEL_SERVICE_NAME", "from-env"),
    ]);
    assert_eq!(settings.service_name(), "from-env");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].variable, "OTEL_CONFIG_FILE");
    assert!(warnings[0].message.contains("cannot be parsed"));
    assert!(warnings[0].message.contains("OTEL_* environment variables"));

    let file = TempFile::new("bad-reference.yaml", "file_format: ${1NVALID}\n");
    let (_, warnings) = resolve(&[("OTEL_CONFIG_FILE", file.path())]);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("${1NVALID}"), "{warnings:#?}");

    let file = TempFile::new("list.yaml", "- a\n- b\n");
    let (_, warnings) = resolve(&[("OTEL_CONFIG_FILE", file.path())]);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("a list instead of a mapping"));
}

#[test]
fn substituted_values_cannot_inject_configuration() {
    let file = TempFile::new(
        "injection.yaml",
        "file_format: \"1.0\"\nresource:\n  attributes:\n    - name: service.name\n      value: ${EVIL}\n",
    );
    let settings = clean(&[
        ("OTEL_CONFIG_FILE", file.path()),
        ("EVIL", "x\ndisabled: true"),
    ]);
    assert!(!settings.disabled);
    assert_eq!(settings.service_name(), "x\ndisabled: true");
}

#[test]
fn escaped_dollars_stay_literal() {
    let file = TempFile::new(
        "escape.yaml",
        "file_format: \"1.0\"\nresource:\n  attributes_list: \"price=$${NOT_A_VAR}\"\n",
    );
    let settings = clean(&[("OTEL_CONFIG_FILE", file.path()), ("NOT_A_VAR", "oops")]);
    assert_eq!(settings.resource[1], KeyValue::new("price", "${NOT_A_VAR}"));
}

#[test]
fn the_old_otlp_exporter_and_tls_fields_are_read() {
    let ca = TempFile::new("old-ca.pem", "pem");
    let key = TempFile::new("old-key.pem", "pem");
    let cert = TempFile::new("old-cert.pem", "pem");
    let text = format!(
        "file_format: \"0.3\"\n\
         propagator:\n  composite: [tracecontext, b3multi]\n\
         tracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp:\n            \
           protocol: grpc\n            endpoint: collector:4317\n            insecure: true\n            \
           certificate: {}\n            client_key: {}\n            client_certificate: {}\n",
        ca.path(),
        key.path(),
        cert.path()
    );
    let file = TempFile::new("old.yaml", &text);
    let settings = clean(&[("OTEL_CONFIG_FILE", file.path())]);
    assert_eq!(settings.propagators, vec!["tracecontext", "b3multi"]);
    assert_eq!(settings.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(settings.otlp.endpoint, "http://collector:4317");
    assert!(settings.otlp.insecure);
    assert_eq!(settings.otlp.certificate, Some(ca.0.clone()));
    assert_eq!(settings.otlp.client_key, Some(key.0.clone()));
    assert_eq!(settings.otlp.client_certificate, Some(cert.0.clone()));
    assert_eq!(settings.processors, vec![batched(ExporterKind::Otlp)]);
}

#[test]
fn a_full_parent_based_sampler_keeps_every_branch() {
    let file = TempFile::new(
        "sampler.yaml",
        "file_format: \"1.0\"\ntracer_provider:\n  sampler:\n    parent_based:\n      root:\n        \
         always_off:\n      remote_parent_not_sampled:\n        always_on:\n",
    );
    let settings = clean(&[("OTEL_CONFIG_FILE", file.path())]);
    let debug = sampler(&settings);
    assert!(debug.starts_with("ParentBasedSampler"), "{debug}");
    assert!(debug.contains("root: AlwaysOff"), "{debug}");
    assert!(
        debug.contains("remote_parent_not_sampled: Some(AlwaysOn)"),
        "{debug}"
    );
}

#[test]
fn bad_values_in_the_config_file_warn_with_their_path() {
    let file = TempFile::new(
        "bad-values.yaml",
        r#"
disabled: sometimes
log_level: chatty
resource:
  attributes:
    - name: replicas
      value: three
      type: int
attribute_limits:
  attribute_count_limit: -1
tracer_provider:
  processors:
    - batch:
        max_queue_size: 0
        max_export_batch_size: 4096
        exporter:
          otlp_grpc:
            endpoint: "not a url"
            compression: lz4
            timeout: soon
            headers:
              - name: "bad name"
                value: s3cr3t
    - batch:
        exporter:
          zipkin:
    - batch:
        exporter:
          otlp_http:
    - periodic:
        exporter:
          console:
  sampler:
    jaeger_remote:
      endpoint: http://jaeger
"#,
    );
    let (settings, warnings) = resolve(&[("OTEL_CONFIG_FILE", file.path())]);
    let paths: Vec<&str> = warnings
        .iter()
        .map(|warning| {
            let after_file = warning
                .message
                .split_once("): ")
                .map_or("", |(_, rest)| rest);
            after_file.split(':').next().unwrap_or_default()
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            "file_format",
            "disabled",
            "log_level",
            "resource.attributes[0].value",
            "attribute_limits.attribute_count_limit",
            "tracer_provider.sampler",
            "tracer_provider.processors[0].batch.max_queue_size",
            "tracer_provider.processors[0].batch.max_export_batch_size",
            "tracer_provider.processors[0].batch.exporter.otlp_grpc.endpoint",
            "tracer_provider.processors[0].batch.exporter.otlp_grpc.headers[0]",
            "tracer_provider.processors[0].batch.exporter.otlp_grpc.compression",
            "tracer_provider.processors[0].batch.exporter.otlp_grpc.timeout",
            "tracer_provider.processors[1].batch.exporter",
            "tracer_provider.processors[2].batch.exporter.otlp_http",
            "tracer_provider.processors[3]",
        ],
        "{warnings:#?}"
    );
    for warning in &warnings {
        assert_eq!(warning.variable, "OTEL_CONFIG_FILE");
        assert!(!warning.message.contains("s3cr3t"), "{warning:#?}");
    }
    assert!(!settings.disabled);
    assert_eq!(settings.log_level, LogLevel::Info);
    assert_eq!(settings.resource.len(), 1);
    assert_eq!(settings.limits.span.max_attributes_per_span, 128);
    assert_eq!(sampler(&settings), "ParentBased(AlwaysOn)");
    // The queue size falls back to 2048, and the batch size is clamped to it.
    assert_eq!(
        settings.processors,
        vec![ProcessorSettings {
            exporter: ExporterKind::Otlp,
            batch: Some(super::batch::BatchSettings {
                max_export_batch_size: 2048,
                ..Default::default()
            })
        }]
    );
    assert_eq!(settings.otlp.endpoint, "http://localhost:4317");
    assert_eq!(settings.otlp.compression, OtlpCompression::None);
    assert_eq!(settings.otlp.timeout, Duration::from_millis(10000));
    assert!(settings.otlp.headers.is_empty());
}
