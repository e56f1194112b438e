//! The Hypertrace agent configuration: `HT_*` variables over the YAML of `HT_CONFIG_FILE`,
//! mapped onto the same settings as the `OTEL_*` variables, which win over them.

use opentelemetry::KeyValue;
use serde_json::Value;

use crate::diagnostics::LogLevel;

use super::data_capture::{Capture, DataCapture};
use super::exporter::ExporterKind;
use super::file_values::{FileValues, load_file};
use super::log_level::parse_log_level;
use super::otlp::OtlpProtocol;
use super::otlp_env::{OtlpFallback, parse_endpoint};
use super::source::{Describe, Reader, parse_bool, split_list};

/// `HT_CONFIG_FILE`: a Hypertrace agent-config YAML file; the `HT_*` variables win over it.
pub(crate) const HT_CONFIG_FILE: &str = "HT_CONFIG_FILE";
/// `HT_SERVICE_NAME`: the service name.
pub(crate) const HT_SERVICE_NAME: &str = "HT_SERVICE_NAME";
/// `HT_REPORTING_ENDPOINT`: where spans go (an OTLP URL, used as it is).
pub(crate) const HT_REPORTING_ENDPOINT: &str = "HT_REPORTING_ENDPOINT";
/// `HT_REPORTING_SECURE`: TLS to the endpoint.
pub(crate) const HT_REPORTING_SECURE: &str = "HT_REPORTING_SECURE";
/// `HT_REPORTING_TOKEN`: sent as the [`TOKEN_HEADER`] header.
pub(crate) const HT_REPORTING_TOKEN: &str = "HT_REPORTING_TOKEN";
/// `HT_REPORTING_TRACE_REPORTER_TYPE`: `OTLP`, `OTLP_HTTP`, `ZIPKIN`, `LOGGING`, `NONE`.
pub(crate) const HT_REPORTING_TRACE_REPORTER_TYPE: &str = "HT_REPORTING_TRACE_REPORTER_TYPE";
/// `HT_TRACES_EXPORTER`: the same as [`HT_REPORTING_TRACE_REPORTER_TYPE`], which it wins over.
pub(crate) const HT_TRACES_EXPORTER: &str = "HT_TRACES_EXPORTER";
/// `HT_PROPAGATION_FORMATS`: a comma list of `B3`, `TRACECONTEXT`.
pub(crate) const HT_PROPAGATION_FORMATS: &str = "HT_PROPAGATION_FORMATS";
/// `HT_ENABLED`: `false` disables tracing.
pub(crate) const HT_ENABLED: &str = "HT_ENABLED";
/// `HT_LOG_LEVEL`: the library's own diagnostics level.
pub(crate) const HT_LOG_LEVEL: &str = "HT_LOG_LEVEL";
/// `HT_ENABLE_CONSOLE_SPAN_EXPORTER`: `true` prints spans instead of reporting them.
pub(crate) const HT_ENABLE_CONSOLE_SPAN_EXPORTER: &str = "HT_ENABLE_CONSOLE_SPAN_EXPORTER";
/// `HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST`.
pub(crate) const HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST: &str =
    "HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST";
/// `HT_DATA_CAPTURE_HTTP_HEADERS_RESPONSE`.
pub(crate) const HT_DATA_CAPTURE_HTTP_HEADERS_RESPONSE: &str =
    "HT_DATA_CAPTURE_HTTP_HEADERS_RESPONSE";
/// `HT_DATA_CAPTURE_HTTP_BODY_REQUEST`.
pub(crate) const HT_DATA_CAPTURE_HTTP_BODY_REQUEST: &str = "HT_DATA_CAPTURE_HTTP_BODY_REQUEST";
/// `HT_DATA_CAPTURE_HTTP_BODY_RESPONSE`.
pub(crate) const HT_DATA_CAPTURE_HTTP_BODY_RESPONSE: &str = "HT_DATA_CAPTURE_HTTP_BODY_RESPONSE";
/// `HT_DATA_CAPTURE_RPC_METADATA_REQUEST`.
pub(crate) const HT_DATA_CAPTURE_RPC_METADATA_REQUEST: &str =
    "HT_DATA_CAPTURE_RPC_METADATA_REQUEST";
/// `HT_DATA_CAPTURE_RPC_METADATA_RESPONSE`.
pub(crate) const HT_DATA_CAPTURE_RPC_METADATA_RESPONSE: &str =
    "HT_DATA_CAPTURE_RPC_METADATA_RESPONSE";
/// `HT_DATA_CAPTURE_RPC_BODY_REQUEST`.
pub(crate) const HT_DATA_CAPTURE_RPC_BODY_REQUEST: &str = "HT_DATA_CAPTURE_RPC_BODY_REQUEST";
/// `HT_DATA_CAPTURE_RPC_BODY_RESPONSE`.
pub(crate) const HT_DATA_CAPTURE_RPC_BODY_RESPONSE: &str = "HT_DATA_CAPTURE_RPC_BODY_RESPONSE";
/// `HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES`: the longest captured body.
pub(crate) const HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES: &str = "HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES";

/// The header that carries [`HT_REPORTING_TOKEN`], as the Hypertrace/Traceable agents send it.
pub(crate) const TOKEN_HEADER: &str = "traceableai-agent-token";

/// Every variable whose presence means the Hypertrace configuration is in use.
const ALL: [&str; 20] = [
    HT_CONFIG_FILE,
    HT_SERVICE_NAME,
    HT_REPORTING_ENDPOINT,
    HT_REPORTING_SECURE,
    HT_REPORTING_TOKEN,
    HT_REPORTING_TRACE_REPORTER_TYPE,
    HT_TRACES_EXPORTER,
    HT_PROPAGATION_FORMATS,
    HT_ENABLED,
    HT_LOG_LEVEL,
    HT_ENABLE_CONSOLE_SPAN_EXPORTER,
    HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST,
    HT_DATA_CAPTURE_HTTP_HEADERS_RESPONSE,
    HT_DATA_CAPTURE_HTTP_BODY_REQUEST,
    HT_DATA_CAPTURE_HTTP_BODY_RESPONSE,
    HT_DATA_CAPTURE_RPC_METADATA_REQUEST,
    HT_DATA_CAPTURE_RPC_METADATA_RESPONSE,
    HT_DATA_CAPTURE_RPC_BODY_REQUEST,
    HT_DATA_CAPTURE_RPC_BODY_RESPONSE,
    HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES,
];

/// What the Hypertrace configuration says; `None` where it says nothing. Every value is
/// already validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Hypertrace {
    /// Whether any `HT_*` variable (or `HT_CONFIG_FILE`) is set.
    pub(crate) in_use: bool,
    /// `HT_SERVICE_NAME` / `service_name`.
    pub(crate) service_name: Option<String>,
    /// The file's `resource_attributes`.
    pub(crate) resource_attributes: Vec<KeyValue>,
    /// Endpoint, protocol, TLS and token for the OTLP exporter.
    pub(crate) otlp: OtlpFallback,
    /// The exporters the reporter type (or the console switch) asks for.
    pub(crate) exporters: Option<Vec<ExporterKind>>,
    /// `HT_ENABLE_CONSOLE_SPAN_EXPORTER`: print spans as they end (a simple processor).
    pub(crate) console: bool,
    /// `HT_PROPAGATION_FORMATS` / `propagation_formats`, as `OTEL_PROPAGATORS` names.
    pub(crate) propagators: Option<Vec<String>>,
    /// `HT_ENABLED=false` / `enabled: false`.
    pub(crate) disabled: Option<bool>,
    /// `HT_LOG_LEVEL`.
    pub(crate) log_level: Option<LogLevel>,
    /// The `HT_DATA_CAPTURE_*` choices.
    pub(crate) data_capture: DataCapture,
}

/// A Hypertrace reporter type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reporter {
    Otlp(OtlpProtocol),
    Console,
    Nothing,
}

impl Describe for Reporter {
    fn describe(&self) -> String {
        match self {
            Self::Otlp(OtlpProtocol::Grpc) => "OTLP",
            Self::Otlp(_) => "OTLP_HTTP",
            Self::Console => "LOGGING",
            Self::Nothing => "NONE",
        }
        .to_owned()
    }
}

const EXPECTED_REPORTER: &str = "one of OTLP, OTLP_HTTP, ZIPKIN, LOGGING, NONE";
const EXPECTED_LEVEL: &str = "one of error, warn, warning, info, debug, none";

/// The reporter a type name asks for; `Err` for `ZIPKIN`, which this build lacks.
fn parse_reporter(value: &str) -> Option<Result<Reporter, ()>> {
    Some(Ok(match value.to_ascii_uppercase().as_str() {
        "OTLP" => Reporter::Otlp(OtlpProtocol::Grpc),
        "OTLP_HTTP" => Reporter::Otlp(OtlpProtocol::HttpProtobuf),
        "LOGGING" => Reporter::Console,
        "NONE" => Reporter::Nothing,
        "ZIPKIN" => return Some(Err(())),
        _ => return None,
    }))
}

/// Hypertrace's level names: the `OTEL_LOG_LEVEL` ones plus Python's `warning`, `critical`.
fn parse_ht_log_level(value: &str) -> Option<LogLevel> {
    match value.to_ascii_lowercase().as_str() {
        "warning" => Some(LogLevel::Warn),
        "critical" | "fatal" => Some(LogLevel::Error),
        "trace" => Some(LogLevel::Debug),
        other => parse_log_level(other),
    }
}

/// `TRACECONTEXT` → `tracecontext`, `B3` → `b3multi` (the agents' B3 is multi-header).
fn propagator_name(format: &str) -> Option<&'static str> {
    match format.to_ascii_uppercase().as_str() {
        "TRACECONTEXT" => Some("tracecontext"),
        "B3" | "B3MULTI" => Some("b3multi"),
        "B3SINGLE" | "B3_SINGLE" => Some("b3"),
        _ => None,
    }
}

/// The agent-config file's values (before the variables are laid over them).
#[derive(Default)]
struct FromFile {
    service_name: Option<String>,
    endpoint: Option<String>,
    secure: Option<bool>,
    token: Option<String>,
    reporter: Option<Reporter>,
    propagators: Option<Vec<String>>,
    enabled: Option<bool>,
    resource_attributes: Vec<KeyValue>,
    capture: [[Option<bool>; 2]; 4],
    body_max_size_bytes: Option<usize>,
}

/// The data-capture variables, as `[kind][request, response]`.
const CAPTURE_VARIABLES: [[&str; 2]; 4] = [
    [
        HT_DATA_CAPTURE_HTTP_HEADERS_REQUEST,
        HT_DATA_CAPTURE_HTTP_HEADERS_RESPONSE,
    ],
    [
        HT_DATA_CAPTURE_HTTP_BODY_REQUEST,
        HT_DATA_CAPTURE_HTTP_BODY_RESPONSE,
    ],
    [
        HT_DATA_CAPTURE_RPC_METADATA_REQUEST,
        HT_DATA_CAPTURE_RPC_METADATA_RESPONSE,
    ],
    [
        HT_DATA_CAPTURE_RPC_BODY_REQUEST,
        HT_DATA_CAPTURE_RPC_BODY_RESPONSE,
    ],
];
/// The matching sections of the file's `data_capture`.
const CAPTURE_SECTIONS: [&str; 4] = ["http_headers", "http_body", "rpc_metadata", "rpc_body"];

/// Reads `HT_CONFIG_FILE` and the `HT_*` variables.
pub(crate) fn hypertrace_from_env(reader: &mut Reader<'_>) -> Hypertrace {
    let in_use = ALL.iter().any(|name| reader.is_set(name));
    if !in_use {
        return Hypertrace::default();
    }
    let file = match reader.get(HT_CONFIG_FILE) {
        Some(path) => read_file(reader, &path),
        None => FromFile::default(),
    };
    let data_capture = data_capture(reader, &file);

    let disabled = ht_bool(reader, HT_ENABLED, file.enabled, true).map(|enabled| !enabled);
    let log_level = reader
        .get(HT_LOG_LEVEL)
        .and_then(|value| match parse_ht_log_level(&value) {
            Some(level) => Some(level),
            None => {
                reader.invalid(HT_LOG_LEVEL, &value, EXPECTED_LEVEL, "info");
                None
            }
        });

    let reporter = env_reporter(reader).or(file.reporter);
    let console = ht_bool(reader, HT_ENABLE_CONSOLE_SPAN_EXPORTER, None, false).unwrap_or(false);
    let exporters = if console {
        Some(vec![ExporterKind::Console])
    } else {
        reporter.map(|reporter| match reporter {
            Reporter::Otlp(_) => vec![ExporterKind::Otlp],
            Reporter::Console => vec![ExporterKind::Console],
            Reporter::Nothing => Vec::new(),
        })
    };

    let secure = ht_bool(reader, HT_REPORTING_SECURE, file.secure, false);
    let protocol = match reporter {
        Some(Reporter::Otlp(protocol)) => Some(protocol),
        _ => None,
    };
    let endpoint = ht_endpoint(reader, file.endpoint, protocol, secure);
    let token = reader.get(HT_REPORTING_TOKEN).or(file.token);
    let otlp = OtlpFallback {
        // Hypertrace's OTLP reporter is gRPC: an endpoint without a reporter type means it.
        protocol: protocol.or(endpoint.as_ref().map(|_| OtlpProtocol::Grpc)),
        endpoint,
        insecure: secure.map(|secure| !secure),
        extra_headers: token
            .map(|token| vec![(TOKEN_HEADER.to_owned(), token)])
            .unwrap_or_default(),
    };

    let propagators = match reader.get(HT_PROPAGATION_FORMATS) {
        Some(value) => Some(propagators(reader, HT_PROPAGATION_FORMATS, &value)),
        None => file.propagators,
    };

    Hypertrace {
        in_use,
        service_name: reader.get(HT_SERVICE_NAME).or(file.service_name),
        resource_attributes: file.resource_attributes,
        otlp,
        exporters,
        console,
        propagators,
        disabled,
        log_level,
        data_capture,
    }
}

/// A boolean variable over the file's value: invalid warns and keeps the file's value.
fn ht_bool(reader: &mut Reader<'_>, name: &str, file: Option<bool>, default: bool) -> Option<bool> {
    let Some(value) = reader.get(name) else {
        return file;
    };
    match parse_bool(&value) {
        Some(flag) => Some(flag),
        None => {
            reader.invalid(
                name,
                &value,
                "true or false",
                &file.unwrap_or(default).describe(),
            );
            file
        }
    }
}

fn env_reporter(reader: &mut Reader<'_>) -> Option<Reporter> {
    let (name, value) = [HT_TRACES_EXPORTER, HT_REPORTING_TRACE_REPORTER_TYPE]
        .into_iter()
        .find_map(|name| reader.get(name).map(|value| (name, value)))?;
    reporter_or_warn(&value, |expected, instead| {
        reader.invalid(name, &value, expected, instead);
    })
}

fn reporter_or_warn(value: &str, mut warn: impl FnMut(&str, &str)) -> Option<Reporter> {
    let fallback = Reporter::Otlp(OtlpProtocol::Grpc);
    match parse_reporter(value) {
        Some(Ok(reporter)) => Some(reporter),
        Some(Err(())) => {
            warn(
                "a reporter available in traced (zipkin is not)",
                &fallback.describe(),
            );
            Some(fallback)
        }
        None => {
            warn(EXPECTED_REPORTER, &fallback.describe());
            Some(fallback)
        }
    }
}

/// `HT_REPORTING_ENDPOINT` over the file's: a URL, or `host:port` for gRPC. `secure`
/// upgrades an `http://` URL to `https://` and picks the scheme of a bare `host:port`.
fn ht_endpoint(
    reader: &mut Reader<'_>,
    file: Option<String>,
    protocol: Option<OtlpProtocol>,
    secure: Option<bool>,
) -> Option<String> {
    let protocol = protocol.unwrap_or(OtlpProtocol::Grpc);
    let insecure = !secure.unwrap_or(false);
    let endpoint = match reader.get(HT_REPORTING_ENDPOINT) {
        Some(value) => match parse_endpoint(&value, protocol, insecure) {
            Some(endpoint) => Some(endpoint),
            None => {
                reader.invalid(
                    HT_REPORTING_ENDPOINT,
                    &value,
                    "an http:// or https:// URL, or host:port",
                    "the OTLP default",
                );
                None
            }
        },
        None => file.and_then(|value| parse_endpoint(&value, protocol, insecure)),
    }?;
    let upgrade = secure == Some(true)
        && endpoint
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    Some(if upgrade {
        format!("https://{}", &endpoint[7..])
    } else {
        endpoint
    })
}

/// A list of propagation formats as `OTEL_PROPAGATORS` names; unknown ones warn and are
/// skipped.
fn propagators(reader: &mut Reader<'_>, name: &str, value: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut unknown = Vec::new();
    for format in split_list(value) {
        match propagator_name(format) {
            Some(known) if !names.iter().any(|kept| kept == known) => names.push(known.to_owned()),
            Some(_) => {}
            None => unknown.push(format.to_owned()),
        }
    }
    if !unknown.is_empty() {
        reader.invalid(
            name,
            value,
            "a list of B3, TRACECONTEXT",
            &format!("[{}]", names.join(",")),
        );
    }
    names
}

/// The Hypertrace defaults (everything captured), then the file, then the variables.
fn data_capture(reader: &mut Reader<'_>, file: &FromFile) -> DataCapture {
    let defaults = DataCapture::hypertrace();
    let mut kinds = [Capture::both(true); 4];
    for (index, kind) in kinds.iter_mut().enumerate() {
        let [request, response] = CAPTURE_VARIABLES[index];
        let [file_request, file_response] = file.capture[index];
        kind.request = ht_bool(reader, request, file_request, true).unwrap_or(true);
        kind.response = ht_bool(reader, response, file_response, true).unwrap_or(true);
    }
    let fallback = file
        .body_max_size_bytes
        .unwrap_or(defaults.body_max_size_bytes);
    let body_max_size_bytes = reader.count(HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES, fallback);
    let [http_headers, http_body, rpc_metadata, rpc_body] = kinds;
    DataCapture {
        http_headers,
        http_body,
        rpc_metadata,
        rpc_body,
        body_max_size_bytes,
    }
}

/// Looks a field up ignoring case and underscores (`service_name` and `serviceName` are
/// the same field in agent-config files, which follow protobuf's JSON mapping).
fn field<'v>(value: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    let wanted = normalize(name);
    value?
        .as_object()?
        .iter()
        .find(|(key, _)| normalize(key) == wanted)
        .map(|(_, value)| value)
}

fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn read_file(reader: &mut Reader<'_>, path: &str) -> FromFile {
    let Some(root) = load_file(
        reader,
        HT_CONFIG_FILE,
        path,
        false,
        "using the HT_* variables alone",
    ) else {
        return FromFile::default();
    };
    let root = Some(&root);
    let mut file = FileValues::new(reader, HT_CONFIG_FILE, path);
    let reporting = field(root, "reporting");
    let data = field(root, "data_capture");
    let mut from_file = FromFile {
        service_name: file.string(field(root, "service_name"), "service_name", "the default"),
        endpoint: file.string(
            field(reporting, "endpoint"),
            "reporting.endpoint",
            "the OTLP default",
        ),
        secure: file.bool(field(reporting, "secure"), "reporting.secure", "false"),
        token: file.string(field(reporting, "token"), "reporting.token", "no token"),
        enabled: file.bool(field(root, "enabled"), "enabled", "true"),
        body_max_size_bytes: file.count(
            field(data, "body_max_size_bytes"),
            "data_capture.body_max_size_bytes",
            false,
            "131072",
        ),
        ..FromFile::default()
    };
    if let Some(value) = file.string(
        field(reporting, "trace_reporter_type"),
        "reporting.trace_reporter_type",
        "OTLP",
    ) {
        from_file.reporter = reporter_or_warn(&value, |expected, instead| {
            file.warn(
                "reporting.trace_reporter_type",
                &format!("{value:?} is not {expected}; using {instead}"),
            );
        });
    }
    // The endpoint is checked here, where the file can be named in the warning.
    if let Some(endpoint) = &from_file.endpoint {
        let protocol = match from_file.reporter {
            Some(Reporter::Otlp(protocol)) => protocol,
            _ => OtlpProtocol::Grpc,
        };
        if parse_endpoint(endpoint, protocol, true).is_none() {
            file.warn(
                "reporting.endpoint",
                &format!(
                    "{endpoint:?} is not an http:// or https:// URL, or host:port; \
                     using the OTLP default"
                ),
            );
            from_file.endpoint = None;
        }
    }
    for (index, section) in CAPTURE_SECTIONS.iter().enumerate() {
        let section_value = field(data, section);
        for (side, name) in ["request", "response"].iter().enumerate() {
            from_file.capture[index][side] = file.bool(
                field(section_value, name),
                &format!("data_capture.{section}.{name}"),
                "true",
            );
        }
    }
    let formats = file.list(field(root, "propagation_formats"), "propagation_formats");
    if !formats.is_empty() {
        let mut names = Vec::new();
        for format in formats {
            match format.as_str().and_then(propagator_name) {
                Some(name) if !names.iter().any(|kept| kept == name) => names.push(name.to_owned()),
                Some(_) => {}
                None => file.warn(
                    "propagation_formats",
                    &format!(
                        "{} is not B3 or TRACECONTEXT; it is skipped",
                        format
                            .as_str()
                            .map_or_else(|| "a non-string".to_owned(), |text| format!("{text:?}"))
                    ),
                ),
            }
        }
        from_file.propagators = Some(names);
    }
    if let Some(attributes) =
        file.mapping(field(root, "resource_attributes"), "resource_attributes")
    {
        for (key, value) in attributes {
            if let Some(text) = file.string(
                Some(value),
                &format!("resource_attributes.{key}"),
                "nothing",
            ) {
                from_file
                    .resource_attributes
                    .push(KeyValue::new(key.clone(), text));
            }
        }
    }
    from_file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_ignore_case_and_underscores() {
        let value = serde_json::json!({"serviceName": "a", "trace_reporter_type": "OTLP"});
        assert_eq!(
            field(Some(&value), "service_name"),
            Some(&serde_json::json!("a"))
        );
        assert_eq!(
            field(Some(&value), "traceReporterType"),
            Some(&serde_json::json!("OTLP"))
        );
        assert_eq!(field(Some(&value), "missing"), None);
    }

    #[test]
    fn reporter_types_and_formats_map_onto_otel_names() {
        assert_eq!(
            parse_reporter("otlp"),
            Some(Ok(Reporter::Otlp(OtlpProtocol::Grpc)))
        );
        assert_eq!(
            parse_reporter("OTLP_HTTP"),
            Some(Ok(Reporter::Otlp(OtlpProtocol::HttpProtobuf)))
        );
        assert_eq!(parse_reporter("LOGGING"), Some(Ok(Reporter::Console)));
        assert_eq!(parse_reporter("NONE"), Some(Ok(Reporter::Nothing)));
        assert_eq!(parse_reporter("ZIPKIN"), Some(Err(())));
        assert_eq!(parse_reporter("jaeger"), None);
        assert_eq!(propagator_name("TRACECONTEXT"), Some("tracecontext"));
        assert_eq!(propagator_name("b3"), Some("b3multi"));
        assert_eq!(propagator_name("xray"), None);
        assert_eq!(parse_ht_log_level("WARNING"), Some(LogLevel::Warn));
        assert_eq!(parse_ht_log_level("critical"), Some(LogLevel::Error));
    }
}
