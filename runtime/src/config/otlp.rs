//! The resolved OTLP exporter settings: the contract between the configuration (which
//! resolves `OTEL_EXPORTER_OTLP_*`, the config file and `HT_*` into one value) and the OTLP
//! exporter (which only reads this).

use std::path::PathBuf;
use std::time::Duration;

/// The OTLP wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (default port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (default port 4318; the specification's default).
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
}

/// Payload compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpCompression {
    /// No compression.
    None,
    /// gzip at level 2, over HTTP and gRPC alike, which takes a third to a half of the time
    /// zlib's default level 6 does for bodies 5–9 % larger (`benches/README.md`).
    Gzip,
}

/// Everything the OTLP trace exporter needs, already resolved with the specification's
/// precedence (per-signal variable over generic one; code over environment).
#[derive(Clone, Debug, PartialEq)]
pub struct OtlpSettings {
    /// The full URL to send to: for HTTP the complete traces URL (`/v1/traces` already
    /// appended to a generic endpoint, never to a per-signal one); for gRPC the server URL.
    pub endpoint: String,
    /// The wire protocol.
    pub protocol: OtlpProtocol,
    /// Extra headers (gRPC metadata), already percent-decoded.
    pub headers: Vec<(String, String)>,
    /// How long one export may take.
    pub timeout: Duration,
    /// Payload compression.
    pub compression: OtlpCompression,
    /// PEM file of the CA certificate(s) to trust for the server.
    pub certificate: Option<PathBuf>,
    /// PEM file of the client's private key (mutual TLS).
    pub client_key: Option<PathBuf>,
    /// PEM file of the client's certificate chain (mutual TLS).
    pub client_certificate: Option<PathBuf>,
    /// gRPC only: plaintext for an endpoint given without a scheme (`host:port`); `http://`
    /// is always plaintext and `https://` always TLS, as the OTLP specification says.
    pub insecure: bool,
}

impl Default for OtlpSettings {
    fn default() -> Self {
        Self {
            endpoint: "http://localhost:4318/v1/traces".to_owned(),
            protocol: OtlpProtocol::HttpProtobuf,
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            compression: OtlpCompression::None,
            certificate: None,
            client_key: None,
            client_certificate: None,
            insecure: false,
        }
    }
}
