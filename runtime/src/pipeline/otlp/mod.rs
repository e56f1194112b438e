//! The OTLP trace exporter: [`OtlpExporter`] sends batches of finished spans to an
//! OpenTelemetry collector over OTLP/HTTP (protobuf or JSON) or OTLP/gRPC (feature
//! `otlp-grpc`), as [`OtlpSettings`] describe.
//!
//! Files: `encoding` (spans to protobuf/JSON, gzip, the collector's answers), `protobuf`
//! and `json` (spans written straight to either), `spans` (what both read of a span,
//! whatever holds it), `http` and `grpc` (the transports), `resolver` (the collector's
//! address, looked up once a second), `tls` (the PEM files), `retry` (backoff within the
//! timeout).

mod encoding;
#[cfg(feature = "otlp-grpc")]
mod grpc;
#[cfg(feature = "otlp-grpc")]
mod grpc_call;
mod http;
mod json;
mod protobuf;
#[cfg(test)]
mod queued_tests;
mod resolver;
mod retry;
mod spans;
#[cfg(test)]
mod test_fixtures;
mod tls;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::config::{OtlpProtocol, OtlpSettings};
use crate::pipeline::export::{BatchExporter, Queued};
use encoding::RequestResource;
use retry::Failure;
use spans::ExportedSpan;
use tls::TlsFiles;

/// Why an [`OtlpExporter`] could not be built from its settings. Messages name the setting,
/// file or header at fault and never quote a header value.
///
/// # Example
///
/// ```
/// use traced::{OtlpError, OtlpExporter, OtlpSettings};
///
/// let settings = OtlpSettings {
///     headers: vec![("x-api-key".into(), "line\nbreak".into())],
///     ..OtlpSettings::default()
/// };
/// match OtlpExporter::new(&settings) {
///     Err(err @ OtlpError::InvalidHeader { .. }) => assert!(!err.to_string().contains("line")),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// The endpoint is not a usable URL for the protocol (credentials in it are not shown).
    #[error("invalid OTLP endpoint `{endpoint}`: {reason}")]
    InvalidEndpoint {
        /// The endpoint, without any `user:password@`.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header name or value is not valid in HTTP or gRPC metadata.
    #[error(
        "invalid OTLP header `{name}`: not a valid header name or value (the value is not shown)"
    )]
    InvalidHeader {
        /// The header's name.
        name: String,
    },
    /// A TLS file could not be read.
    #[error("cannot read the OTLP {what} file {}: {source}", path.display())]
    ReadFile {
        /// Which setting: `certificate`, `client certificate` or `client key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A TLS file is not the PEM it should be.
    #[error("invalid OTLP {what} file {}: {reason}", path.display())]
    InvalidPem {
        /// Which setting: `certificate`, `client certificate` or `client key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Only one of the client certificate and the client key is set.
    #[error(
        "OTLP mutual TLS needs both a client certificate and a client key: the {given} is set but not the {missing}"
    )]
    IncompleteClientIdentity {
        /// The one that is set.
        given: &'static str,
        /// The one that is missing.
        missing: &'static str,
    },
    /// The gRPC protocol was asked for in a build without the `otlp-grpc` feature.
    #[error(
        "the OTLP grpc protocol needs the `otlp-grpc` feature of traced; use http/protobuf or enable it"
    )]
    GrpcNotEnabled,
    /// The gRPC exporter's own runtime could not start.
    #[error("cannot start the OTLP gRPC exporter's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Sends finished spans to an OpenTelemetry collector over OTLP: `http/protobuf`,
/// `http/json`, or `grpc` with the `otlp-grpc` feature.
///
/// Exports block the calling thread (the batch span processor's own), so no async runtime
/// is needed, and the exporter works the same in a plain `fn main` and inside any tokio
/// runtime. Each export takes at most the settings' timeout, retries included: HTTP 429,
/// 502, 503, 504 and gRPC `UNAVAILABLE` (and the specification's other transient codes) are
/// retried with exponential backoff and jitter, honouring `Retry-After` and `RetryInfo`, as
/// are refused connections. A failed export returns an error and its spans are counted in
/// [`dropped_spans`](Self::dropped_spans).
///
/// # Example
///
/// ```no_run
/// use traced::opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
/// use traced::{OtlpExporter, OtlpProtocol, OtlpSettings};
///
/// let settings = OtlpSettings {
///     endpoint: "http://localhost:4318/v1/traces".into(),
///     protocol: OtlpProtocol::HttpProtobuf,
///     ..OtlpSettings::default()
/// };
/// let exporter = OtlpExporter::new(&settings)?;
/// let dropped = exporter.dropped_counter();
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(BatchSpanProcessor::builder(exporter).build())
///     .build();
/// // ... spans ...
/// provider.shutdown()?;
/// println!("{} spans dropped", dropped.get());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OtlpExporter {
    transport: Transport,
    protocol: OtlpProtocol,
    timeout: Duration,
    /// The endpoint as failures name it ([`destination`]).
    destination: String,
    resource: RequestResource,
    dropped: DroppedSpans,
    shut_down: AtomicBool,
}

enum Transport {
    Http(http::HttpTransport),
    #[cfg(feature = "otlp-grpc")]
    Grpc(Box<grpc::GrpcTransport>),
}

impl fmt::Debug for OtlpExporter {
    // No endpoint, no headers: either may carry credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("protocol", &self.protocol)
            .field("timeout", &self.timeout)
            .field("dropped_spans", &self.dropped.get())
            .finish_non_exhaustive()
    }
}

impl OtlpExporter {
    /// Builds the exporter: checks the endpoint and headers, reads the TLS files, and sets
    /// up the client. No connection is made until the first export, so a collector that is
    /// not up yet is no error here.
    ///
    /// # Errors
    ///
    /// An [`OtlpError`] for an unusable endpoint or header, an unreadable or invalid TLS
    /// file, half a client identity, or `grpc` without the `otlp-grpc` feature.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::{OtlpExporter, OtlpSettings};
    ///
    /// let exporter = OtlpExporter::new(&OtlpSettings::default())?;
    /// assert_eq!(exporter.dropped_spans(), 0);
    /// # Ok::<(), traced::OtlpError>(())
    /// ```
    pub fn new(settings: &OtlpSettings) -> Result<Self, OtlpError> {
        let tls = TlsFiles::load(settings)?;
        let transport = match settings.protocol {
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
                Transport::Http(http::HttpTransport::new(settings, &tls)?)
            }
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => {
                Transport::Grpc(Box::new(grpc::GrpcTransport::new(settings, &tls)?))
            }
            #[cfg(not(feature = "otlp-grpc"))]
            OtlpProtocol::Grpc => return Err(OtlpError::GrpcNotEnabled),
        };
        Ok(Self {
            transport,
            protocol: settings.protocol,
            timeout: settings.timeout,
            destination: destination(&settings.endpoint),
            resource: RequestResource::new(&Resource::builder_empty().build()),
            dropped: DroppedSpans::default(),
            shut_down: AtomicBool::new(false),
        })
    }

    /// How many spans this exporter has dropped so far: those of failed exports, and those
    /// the collector reported as rejected.
    ///
    /// # Example
    ///
    /// ```
    /// let exporter = traced::OtlpExporter::new(&traced::OtlpSettings::default())?;
    /// assert_eq!(exporter.dropped_spans(), 0);
    /// # Ok::<(), traced::OtlpError>(())
    /// ```
    pub fn dropped_spans(&self) -> u64 {
        self.dropped.get()
    }

    /// A handle on the dropped-span count that stays readable after the exporter has moved
    /// into a span processor, e.g. to report it once at shutdown.
    ///
    /// # Example
    ///
    /// ```
    /// let exporter = traced::OtlpExporter::new(&traced::OtlpSettings::default())?;
    /// let dropped = exporter.dropped_counter();
    /// drop(exporter);
    /// assert_eq!(dropped.get(), 0);
    /// # Ok::<(), traced::OtlpError>(())
    /// ```
    pub fn dropped_counter(&self) -> DroppedSpans {
        self.dropped.clone()
    }

    /// The OTLP protobuf encoding of the request that exports `batch` under this exporter's
    /// resource, as the `http/protobuf` and `grpc` protocols send it (before compression):
    /// to write spans somewhere else than a collector, or to look at what is sent. Written
    /// directly from the spans, six times faster than building opentelemetry-proto's
    /// messages and encoding those (see `benches/README.md`); the bytes are the same.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry_sdk::trace::SpanData;
    ///
    /// let exporter = traced::OtlpExporter::new(&traced::OtlpSettings::default())?;
    /// // In a `SpanExporter` of your own, the batch it was handed:
    /// let batch: Vec<SpanData> = Vec::new();
    /// let body = exporter.encode_protobuf(&batch);
    /// // One `ResourceSpans` (field 1, length-delimited): the resource, and no span.
    /// assert_eq!(body[0], 0x0a);
    /// # Ok::<(), traced::OtlpError>(())
    /// ```
    pub fn encode_protobuf(&self, batch: &[SpanData]) -> Vec<u8> {
        encoding::protobuf(batch, &self.resource)
    }

    /// The OTLP JSON encoding of the request that exports `batch` under this exporter's
    /// resource, as the `http/json` protocol sends it (before compression): the protobuf
    /// JSON mapping OTLP specifies (hex trace and span ids, enums as numbers, 64-bit
    /// integers as strings), written directly from the spans, e.g. for a file of spans in
    /// the format the OpenTelemetry collector's file exporter writes and reads.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry_sdk::trace::SpanData;
    ///
    /// let exporter = traced::OtlpExporter::new(&traced::OtlpSettings::default())?;
    /// let batch: Vec<SpanData> = Vec::new();
    /// let body = exporter.encode_json(&batch);
    /// assert!(body.starts_with(br#"{"resourceSpans":[{"resource":"#));
    /// # Ok::<(), traced::OtlpError>(())
    /// ```
    pub fn encode_json(&self, batch: &[SpanData]) -> Vec<u8> {
        encoding::json(batch, &self.resource)
    }

    /// `batch` encoded as the protocol says: JSON, else protobuf.
    fn encode<S: ExportedSpan>(&self, batch: &[S]) -> EncodedBatch {
        let body = if self.protocol == OtlpProtocol::HttpJson {
            encoding::json(batch, &self.resource)
        } else {
            encoding::protobuf(batch, &self.resource)
        };
        EncodedBatch {
            spans: batch.len(),
            body,
        }
    }

    /// Sends an encoded batch, counting the spans dropped.
    fn deliver(&self, batch: EncodedBatch) -> OTelSdkResult {
        let EncodedBatch { spans, body } = batch;
        if spans == 0 {
            return Ok(());
        }
        let count = spans as u64;
        if self.shut_down.load(Ordering::Acquire) {
            self.dropped.add(count);
            return Err(OTelSdkError::AlreadyShutdown);
        }
        match self.send_body(body) {
            Ok(delivery) => {
                self.dropped.add(delivery.rejected);
                Ok(())
            }
            Err(failure) => {
                self.dropped.add(count);
                Err(OTelSdkError::InternalFailure(format!(
                    "OTLP export of {count} span{} to {} failed: {failure}",
                    if count == 1 { "" } else { "s" },
                    self.destination
                )))
            }
        }
    }

    /// Sends a request body encoded as the protocol says (JSON, else protobuf), compressed
    /// first if configured.
    fn send_body(&self, body: Vec<u8>) -> Result<Delivery, Failure> {
        match &self.transport {
            Transport::Http(http) => http.send_body(body, self.timeout),
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc(grpc) => grpc.send(body, self.timeout),
        }
    }
}

/// A batch encoded for the collector (not compressed yet), waiting to be sent.
#[derive(Debug)]
pub(crate) struct EncodedBatch {
    /// How many spans it holds.
    spans: usize,
    /// The request body.
    body: Vec<u8>,
}

impl SpanExporter for OtlpExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.deliver(self.encode(&batch))
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        // Exports are synchronous: none is in flight once the processor shuts us down.
        self.shut_down.store(true, Ordering::Release);
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = RequestResource::new(resource);
    }
}

/// Behind `traced`'s batch processor, protobuf and JSON are written from `#[traced]` spans'
/// records as they were queued, without making them [`SpanData`]. The OTLP specification
/// allows concurrent requests: with `OTEL_BSP_MAX_CONCURRENT_EXPORTS` above 1, batches are
/// compressed and sent on the processor's sender threads.
impl BatchExporter for OtlpExporter {
    type Request = EncodedBatch;

    const CONCURRENT: bool = true;

    fn prepare(&self, batch: &mut [Queued], value_length_limit: Option<usize>) -> EncodedBatch {
        // Finished and encoded where the queue holds them: collected into a vector of
        // their own first, each 536-byte record was copied once more.
        for span in batch.iter_mut() {
            span.finish(value_length_limit);
        }
        self.encode(batch)
    }

    fn send(&self, batch: EncodedBatch) -> OTelSdkResult {
        self.deliver(batch)
    }

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }
}

/// A shared count of the spans an [`OtlpExporter`] dropped (failed exports, and spans the
/// collector rejected). Cloning shares the count.
///
/// # Example
///
/// ```
/// let exporter = traced::OtlpExporter::new(&traced::OtlpSettings::default())?;
/// let dropped: traced::DroppedSpans = exporter.dropped_counter();
/// assert_eq!(dropped.get(), exporter.dropped_spans());
/// # Ok::<(), traced::OtlpError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct DroppedSpans(Arc<AtomicU64>);

impl DroppedSpans {
    /// The count so far.
    ///
    /// # Example
    ///
    /// ```
    /// let exporter = traced::OtlpExporter::new(&traced::OtlpSettings::default())?;
    /// assert_eq!(exporter.dropped_counter().get(), 0);
    /// # Ok::<(), traced::OtlpError>(())
    /// ```
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, count: u64) {
        if count > 0 {
            self.0.fetch_add(count, Ordering::Relaxed);
        }
    }
}

/// A successful export, perhaps partial.
#[derive(Debug, Default, PartialEq, Eq)]
struct Delivery {
    /// Spans the collector accepted the request for but rejected.
    rejected: u64,
}

impl Delivery {
    fn from_partial(partial: Option<(u64, String)>) -> Self {
        Self {
            rejected: partial.map_or(0, |(rejected, _message)| rejected),
        }
    }
}

/// The endpoint as a failed export names it, printed while the application runs: without a
/// `user:password@` part, query or fragment, where credentials may be.
fn destination(endpoint: &str) -> String {
    let mut url = redact_userinfo(endpoint);
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    if let Some(end) = url[after_scheme..].find(['?', '#']) {
        url.truncate(after_scheme + end);
    }
    url
}

/// The URL without a `user:password@` part, for messages.
fn redact_userinfo(url: &str) -> String {
    let url = url.trim();
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***@{}",
            &url[..authority_start],
            &url[authority_start + at + 1..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OtlpCompression;
    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::borrow::Cow;
    use std::time::{Instant, SystemTime};

    fn span() -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(1_u128),
                SpanId::from(1_u64),
                TraceFlags::SAMPLED,
                false,
                Default::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed("s"),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: vec![],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        }
    }

    /// A port nothing listens on.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_userinfo("https://user:pw@host:4318/v1/traces"),
            "https://***@host:4318/v1/traces"
        );
        assert_eq!(redact_userinfo("http://host/a@b"), "http://host/a@b");
        assert_eq!(redact_userinfo("u:p@host:4317"), "***@host:4317");
    }

    #[test]
    fn a_destination_names_no_credentials() {
        assert_eq!(
            destination(" https://user:pw@host:4318/v1/traces?api-key=k#f "),
            "https://***@host:4318/v1/traces"
        );
        assert_eq!(destination("http://host:4317#x"), "http://host:4317");
        assert_eq!(destination("host:4317"), "host:4317");
    }

    #[test]
    fn a_refused_export_fails_within_the_timeout_and_counts_its_spans() {
        let settings = OtlpSettings {
            endpoint: format!("http://127.0.0.1:{}/v1/traces", closed_port()),
            timeout: Duration::from_millis(500),
            compression: OtlpCompression::Gzip,
            ..OtlpSettings::default()
        };
        let exporter = OtlpExporter::new(&settings).unwrap();
        let start = Instant::now();
        let result = futures_executor_block_on(exporter.export(vec![span(), span()]));
        assert!(start.elapsed() < Duration::from_secs(2));
        let err = result.unwrap_err().to_string();
        let to = format!("2 spans to {} failed: ", settings.endpoint);
        assert!(err.contains(&to), "{err}");
        assert_eq!(exporter.dropped_spans(), 2);
    }

    #[test]
    fn after_shutdown_exports_are_refused_and_counted() {
        let exporter = OtlpExporter::new(&OtlpSettings::default()).unwrap();
        exporter.shutdown().unwrap();
        let result = futures_executor_block_on(exporter.export(vec![span()]));
        assert!(matches!(result, Err(OTelSdkError::AlreadyShutdown)));
        assert_eq!(exporter.dropped_spans(), 1);
        assert!(futures_executor_block_on(exporter.export(vec![])).is_ok());
    }

    #[test]
    fn grpc_without_the_feature_is_an_error() {
        let settings = OtlpSettings {
            protocol: OtlpProtocol::Grpc,
            endpoint: "http://localhost:4317".into(),
            ..OtlpSettings::default()
        };
        let result = OtlpExporter::new(&settings);
        if cfg!(feature = "otlp-grpc") {
            assert!(result.is_ok(), "{result:?}");
        } else {
            assert!(matches!(result, Err(OtlpError::GrpcNotEnabled)));
        }
    }

    #[test]
    fn the_debug_form_shows_no_endpoint_or_headers() {
        let settings = OtlpSettings {
            endpoint: "http://user:pw@localhost:4318/v1/traces".into(),
            headers: vec![("authorization".into(), "Bearer secret".into())],
            ..OtlpSettings::default()
        };
        let debug = format!("{:?}", OtlpExporter::new(&settings).unwrap());
        assert!(
            !debug.contains("pw") && !debug.contains("secret"),
            "{debug}"
        );
    }

    /// The export future never waits on anything but the thread itself, so polling it once
    /// completes it.
    fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
        futures::executor::block_on(future)
    }
}
