//! `OTEL_EXPORTER_OTLP_*` and `OTEL_EXPORTER_OTLP_TRACES_*` into [`OtlpSettings`]: the
//! per-signal variable wins over the generic one, which wins over the fallback (the
//! `HT_REPORTING_*` values), which wins over the specification's default.

use std::path::PathBuf;
use std::time::Duration;

use super::key_values::{PairError, parse_key_values};
use super::otlp::{OtlpCompression, OtlpProtocol, OtlpSettings};
use super::source::{Describe, Reader};

/// `OTEL_EXPORTER_OTLP_ENDPOINT`: the base URL; `/v1/traces` is appended for HTTP.
pub(crate) const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the full traces URL, used as it is.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The default traces URL for OTLP/HTTP.
pub(crate) const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318/v1/traces";
/// The default server URL for OTLP/gRPC.
pub(crate) const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// The path appended to a generic HTTP endpoint.
pub(crate) const TRACES_PATH: &str = "v1/traces";

/// `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc`, `http/protobuf` or `http/json`.
pub(crate) const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`: the same, for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// The specification's default protocol.
pub(crate) const OTEL_EXPORTER_OTLP_PROTOCOL_DEFAULT: OtlpProtocol = OtlpProtocol::HttpProtobuf;

/// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs, percent-decoded.
pub(crate) const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// `OTEL_EXPORTER_OTLP_TRACES_HEADERS`: the same, for traces only (replaces the generic list).
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";

/// `OTEL_EXPORTER_OTLP_TIMEOUT`: milliseconds one export may take.
pub(crate) const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`: the same, for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// The specification's default timeout.
pub(crate) const OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT: Duration = Duration::from_millis(10_000);

/// `OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or `none`.
pub(crate) const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`: the same, for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str =
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";

/// `OTEL_EXPORTER_OTLP_CERTIFICATE`: PEM file of the CA certificate(s) to trust.
pub(crate) const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`: the same, for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_CLIENT_KEY`: PEM file of the client's private key (mTLS).
pub(crate) const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY`: the same, for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`: PEM file of the client's certificate (mTLS).
pub(crate) const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`: the same, for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";

/// `OTEL_EXPORTER_OTLP_INSECURE`: gRPC without TLS for an endpoint without a scheme.
pub(crate) const OTEL_EXPORTER_OTLP_INSECURE: &str = "OTEL_EXPORTER_OTLP_INSECURE";
/// `OTEL_EXPORTER_OTLP_TRACES_INSECURE`: the same, for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_INSECURE: &str = "OTEL_EXPORTER_OTLP_TRACES_INSECURE";

const EXPECTED_PROTOCOL: &str = "one of grpc, http/protobuf, http/json";
const EXPECTED_COMPRESSION: &str = "one of gzip, none";

impl Describe for OtlpProtocol {
    fn describe(&self) -> String {
        match self {
            Self::Grpc => "grpc",
            Self::HttpProtobuf => "http/protobuf",
            Self::HttpJson => "http/json",
        }
        .to_owned()
    }
}

impl Describe for OtlpCompression {
    fn describe(&self) -> String {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
        }
        .to_owned()
    }
}

/// What another configuration source (Hypertrace) says, used where no `OTEL_*` variable is
/// set. Every field is already validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct OtlpFallback {
    /// A full URL, used as it is.
    pub(crate) endpoint: Option<String>,
    /// The protocol.
    pub(crate) protocol: Option<OtlpProtocol>,
    /// Plaintext gRPC.
    pub(crate) insecure: Option<bool>,
    /// Headers added to whatever `OTEL_EXPORTER_OTLP_*HEADERS` give, unless a header of the
    /// same name (case-insensitive) is already there.
    pub(crate) extra_headers: Vec<(String, String)>,
}

/// `grpc`, `http/protobuf`, `http/json` (case-insensitive).
pub(crate) fn parse_protocol(value: &str) -> Option<OtlpProtocol> {
    match value.to_ascii_lowercase().as_str() {
        "grpc" => Some(OtlpProtocol::Grpc),
        "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
        "http/json" => Some(OtlpProtocol::HttpJson),
        _ => None,
    }
}

/// `gzip`, `none` (case-insensitive).
pub(crate) fn parse_compression(value: &str) -> Option<OtlpCompression> {
    match value.to_ascii_lowercase().as_str() {
        "gzip" => Some(OtlpCompression::Gzip),
        "none" => Some(OtlpCompression::None),
        _ => None,
    }
}

/// The default endpoint of a protocol.
pub(crate) fn default_endpoint(protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Grpc => DEFAULT_GRPC_ENDPOINT,
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => DEFAULT_HTTP_ENDPOINT,
    }
    .to_owned()
}

/// A base URL with `v1/traces` appended, respecting a trailing slash.
pub(crate) fn traces_url(base: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{TRACES_PATH}")
    } else {
        format!("{base}/{TRACES_PATH}")
    }
}

/// What an endpoint must look like, for warnings.
pub(crate) fn expected_endpoint(protocol: OtlpProtocol) -> &'static str {
    match protocol {
        OtlpProtocol::Grpc => "an http:// or https:// URL, or host:port",
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => "an http:// or https:// URL",
    }
}

/// Checks an endpoint: an `http://` or `https://` URL with a host; for gRPC also a bare
/// `host:port`, which gets `http://` when `insecure` and `https://` otherwise.
pub(crate) fn parse_endpoint(
    value: &str,
    protocol: OtlpProtocol,
    insecure: bool,
) -> Option<String> {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let lower = value.to_ascii_lowercase();
    for scheme in ["http://", "https://"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            return (!host.is_empty()).then(|| value.to_owned());
        }
    }
    let bare_host = protocol == OtlpProtocol::Grpc
        && !value.contains("://")
        && !value.starts_with([':', '/'])
        && !value.contains(['/', '?', '#']);
    bare_host.then(|| {
        let scheme = if insecure { "http" } else { "https" };
        format!("{scheme}://{value}")
    })
}

/// Decodes a header list, keeping the good entries. The error lists the bad entries by key
/// or position, never by value.
pub(crate) fn parse_headers(value: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut headers = Vec::new();
    let mut problems = Vec::new();
    for (index, entry) in parse_key_values(value).into_iter().enumerate() {
        match entry.and_then(|(key, value)| check_header(index + 1, key, value)) {
            Ok(header) => headers.push(header),
            Err(error) => problems.push(error.describe()),
        }
    }
    (headers, problems)
}

/// Checks a decoded header: the name must be an HTTP token, the value free of control
/// characters.
pub(crate) fn check_header(
    position: usize,
    key: String,
    value: String,
) -> Result<(String, String), PairError> {
    let token = |byte: u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte);
    if !key.bytes().all(token) {
        return Err(PairError::BadKey { position });
    }
    if value.chars().any(char::is_control) {
        return Err(PairError::BadValue { key });
    }
    Ok((key, value))
}

/// Reads the `OTEL_EXPORTER_OTLP_*` variables over `fallback`.
pub(crate) fn otlp_from_env(reader: &mut Reader<'_>, fallback: OtlpFallback) -> OtlpSettings {
    let generic_protocol = reader.parse(
        OTEL_EXPORTER_OTLP_PROTOCOL,
        fallback
            .protocol
            .unwrap_or(OTEL_EXPORTER_OTLP_PROTOCOL_DEFAULT),
        EXPECTED_PROTOCOL,
        parse_protocol,
    );
    let protocol = reader.parse(
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        generic_protocol,
        EXPECTED_PROTOCOL,
        parse_protocol,
    );

    let generic_insecure = reader.bool(
        OTEL_EXPORTER_OTLP_INSECURE,
        fallback.insecure.unwrap_or(false),
    );
    let insecure = reader.bool(OTEL_EXPORTER_OTLP_TRACES_INSECURE, generic_insecure);

    let http = protocol != OtlpProtocol::Grpc;
    let generic_endpoint = reader.parse(
        OTEL_EXPORTER_OTLP_ENDPOINT,
        fallback
            .endpoint
            .unwrap_or_else(|| default_endpoint(protocol)),
        expected_endpoint(protocol),
        |value| {
            parse_endpoint(value, protocol, insecure)
                .map(|base| if http { traces_url(&base) } else { base })
        },
    );
    let endpoint = reader.parse(
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        generic_endpoint,
        expected_endpoint(protocol),
        |value| parse_endpoint(value, protocol, insecure),
    );

    let mut headers = headers_var(reader, OTEL_EXPORTER_OTLP_TRACES_HEADERS)
        .or_else(|| headers_var(reader, OTEL_EXPORTER_OTLP_HEADERS))
        .unwrap_or_default();
    add_missing_headers(&mut headers, fallback.extra_headers);

    let generic_timeout = reader.millis(
        OTEL_EXPORTER_OTLP_TIMEOUT,
        OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT,
    );
    let timeout = reader.millis(OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, generic_timeout);

    let generic_compression = reader.parse(
        OTEL_EXPORTER_OTLP_COMPRESSION,
        OtlpCompression::None,
        EXPECTED_COMPRESSION,
        parse_compression,
    );
    let compression = reader.parse(
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
        generic_compression,
        EXPECTED_COMPRESSION,
        parse_compression,
    );

    let certificate = file_var(
        reader,
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
        OTEL_EXPORTER_OTLP_CERTIFICATE,
        "the system's trusted roots",
    )
    .map(|(path, _)| path);
    let client_key = file_var(
        reader,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
        OTEL_EXPORTER_OTLP_CLIENT_KEY,
        "no client authentication",
    );
    let client_certificate = file_var(
        reader,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
        "no client authentication",
    );
    let (client_key, client_certificate) =
        client_pair(client_key, client_certificate, |variable, missing| {
            reader.warn(
                variable,
                "client-pair",
                format!("{variable} is set without {missing}; using no client authentication"),
            );
        });

    OtlpSettings {
        endpoint,
        protocol,
        headers,
        timeout,
        compression,
        certificate,
        client_key,
        client_certificate,
        insecure,
    }
}

/// Adds each of `extra` unless a header of that name (case-insensitive) is there.
pub(crate) fn add_missing_headers(
    headers: &mut Vec<(String, String)>,
    extra: Vec<(String, String)>,
) {
    for (key, value) in extra {
        if !headers
            .iter()
            .any(|(kept, _)| kept.eq_ignore_ascii_case(&key))
        {
            headers.push((key, value));
        }
    }
}

/// One header variable: `None` when unset; the good entries, with one warning naming the
/// bad ones by key or position (never a value), otherwise.
fn headers_var(reader: &mut Reader<'_>, name: &str) -> Option<Vec<(String, String)>> {
    let value = reader.get(name)?;
    let (headers, problems) = parse_headers(&value);
    if !problems.is_empty() {
        reader.warn(
            name,
            &problems.join(";"),
            format!(
                "{name}: {}; {} skipped, using the other headers (values are not shown)",
                problems.join(", "),
                if problems.len() == 1 {
                    "that entry is"
                } else {
                    "those entries are"
                },
            ),
        );
    }
    Some(headers)
}

/// A file path from the per-signal variable, else the generic one; a path that is not a
/// readable file warns and gives `None`.
fn file_var(
    reader: &mut Reader<'_>,
    signal: &str,
    generic: &str,
    instead: &str,
) -> Option<(PathBuf, String)> {
    let (name, value) = [signal, generic]
        .into_iter()
        .find_map(|name| reader.get(name).map(|value| (name, value)))?;
    let path = PathBuf::from(&value);
    if path.is_file() {
        Some((path, name.to_owned()))
    } else {
        reader.invalid(name, &value, "a readable file", instead);
        None
    }
}

/// mTLS needs both the key and the certificate (each with a label naming where it came
/// from): when only one is given, `warn(its label, what is missing)` is called and neither
/// is used.
pub(crate) fn client_pair(
    key: Option<(PathBuf, String)>,
    certificate: Option<(PathBuf, String)>,
    mut warn: impl FnMut(&str, &str),
) -> (Option<PathBuf>, Option<PathBuf>) {
    match (key, certificate) {
        (Some((key, _)), Some((certificate, _))) => (Some(key), Some(certificate)),
        (Some((_, label)), None) => {
            warn(&label, "a client certificate");
            (None, None)
        }
        (None, Some((_, label))) => {
            warn(&label, "a client key");
            (None, None)
        }
        (None, None) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_path_respects_a_trailing_slash() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c/otlp"), "http://c/otlp/v1/traces");
    }

    #[test]
    fn endpoints_need_a_scheme_except_bare_grpc_hosts() {
        let http = OtlpProtocol::HttpProtobuf;
        let grpc = OtlpProtocol::Grpc;
        assert_eq!(
            parse_endpoint("HTTPS://c:4318", http, false).as_deref(),
            Some("HTTPS://c:4318")
        );
        assert_eq!(parse_endpoint("c:4318", http, false), None);
        assert_eq!(parse_endpoint("http://", http, false), None);
        assert_eq!(parse_endpoint("http://a b", http, false), None);
        assert_eq!(parse_endpoint("ftp://c", http, false), None);
        assert_eq!(
            parse_endpoint("c:4317", grpc, false).as_deref(),
            Some("https://c:4317")
        );
        assert_eq!(
            parse_endpoint("c:4317", grpc, true).as_deref(),
            Some("http://c:4317")
        );
        assert_eq!(parse_endpoint("c:4317/x", grpc, true), None);
    }

    #[test]
    fn header_names_must_be_tokens_and_values_printable() {
        let (headers, problems) = parse_headers("api-key=s%3Dcret,bad name=x,ok=1,nl=a%0Ab");
        assert_eq!(
            headers,
            vec![
                ("api-key".to_owned(), "s=cret".to_owned()),
                ("ok".to_owned(), "1".to_owned())
            ]
        );
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|problem| !problem.contains("a\nb")));
    }

    #[test]
    fn extra_headers_do_not_replace_existing_ones() {
        let mut headers = vec![("Token".to_owned(), "mine".to_owned())];
        add_missing_headers(
            &mut headers,
            vec![
                ("token".to_owned(), "theirs".to_owned()),
                ("other".to_owned(), "x".to_owned()),
            ],
        );
        assert_eq!(
            headers,
            vec![
                ("Token".to_owned(), "mine".to_owned()),
                ("other".to_owned(), "x".to_owned())
            ]
        );
    }
}
