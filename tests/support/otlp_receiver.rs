//! A real OTLP receiver inside the test process, on 127.0.0.1 ephemeral ports: a small
//! HTTP/1.1 server (optionally TLS with client certificates) decoding OTLP/HTTP protobuf and
//! JSON with opentelemetry-proto, and a tonic `TraceService` server for OTLP/gRPC. It
//! records every export it accepts (spans, headers, content type and encoding) and can be
//! scripted to fail or stall the next requests, or hold every request to count how many
//! arrive at once. Every wait is bounded.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// How long a connection may sit idle, and the longest any receiver wait lasts.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// What the receiver answers to the next request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Accept and record the export.
    Accept,
    /// Accept and record the export, answering that this many of its spans were rejected,
    /// with this message (OTLP's partial success).
    Partial {
        rejected: i64,
        message: &'static str,
    },
    /// OTLP/HTTP: answer with this status (and `Retry-After` seconds), record nothing.
    Http {
        status: u16,
        retry_after: Option<u64>,
    },
    /// OTLP/gRPC: answer with this status code, record nothing.
    #[cfg(feature = "otlp-grpc")]
    Grpc(tonic::Code),
    /// Wait this long before answering (the client has usually given up), record nothing.
    Stall(Duration),
}

/// One export the receiver accepted.
#[derive(Clone, Debug)]
pub struct Export {
    /// The request path (HTTP) or gRPC method path.
    pub path: String,
    /// Request headers (gRPC metadata), names lowercased.
    pub headers: HashMap<String, String>,
    /// The body after decompression (HTTP only; empty for gRPC).
    pub body: Vec<u8>,
    /// The decoded request.
    pub request: ExportTraceServiceRequest,
}

impl Export {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct State {
    replies: VecDeque<Reply>,
    exports: Vec<Export>,
    requests: usize,
    /// Requests are held (not answered) until released.
    held: bool,
    /// Requests received and not answered yet, now and at most.
    in_progress: usize,
    most_in_progress: usize,
}

/// What the server threads and the test share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a request and says how to answer it.
    fn next_reply(&self) -> Reply {
        let mut state = self.lock();
        state.requests += 1;
        let reply = state.replies.pop_front().unwrap_or(Reply::Accept);
        self.changed.notify_all();
        reply
    }

    fn record(&self, export: Export) {
        self.lock().exports.push(export);
        self.changed.notify_all();
    }

    /// Counts a request in progress until the returned guard drops.
    fn begin(&self) -> InProgress<'_> {
        let mut state = self.lock();
        state.in_progress += 1;
        state.most_in_progress = state.most_in_progress.max(state.in_progress);
        drop(state);
        self.changed.notify_all();
        InProgress(self)
    }

    fn is_held(&self) -> bool {
        self.lock().held
    }
}

/// A request being answered.
struct InProgress<'a>(&'a Shared);

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        self.0.lock().in_progress -= 1;
        self.0.changed.notify_all();
    }
}

/// The recorded state of either receiver.
#[derive(Clone)]
pub struct Recorder(Arc<Shared>);

impl Recorder {
    fn new() -> Self {
        Self(Arc::new(Shared::default()))
    }

    /// Scripts the answers to the next requests, in order; `Accept` after them.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.0.lock().replies.extend(replies);
    }

    /// How many requests arrived, accepted or not.
    pub fn requests(&self) -> usize {
        self.0.lock().requests
    }

    /// The accepted exports so far.
    pub fn exports(&self) -> Vec<Export> {
        self.0.lock().exports.clone()
    }

    /// Waits (at most `timeout`) until at least `count` exports were accepted, and returns
    /// them all.
    pub fn wait_for_exports(&self, count: usize, timeout: Duration) -> Vec<Export> {
        let state = self.wait_until(timeout, |state| state.exports.len() >= count);
        state.exports.clone()
    }

    /// The state once `done` says so, or once `timeout` (at most the I/O timeout) is over.
    fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'_, State> {
        let deadline = Instant::now() + timeout.min(IO_TIMEOUT);
        let mut state = self.0.lock();
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = match self.0.changed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state
    }

    /// Holds every request, received but not answered, until [`release`](Self::release)
    /// (or for at most the receiver's I/O timeout).
    pub fn hold(&self) {
        self.0.lock().held = true;
    }

    /// Answers the held requests and the next ones.
    pub fn release(&self) {
        self.0.lock().held = false;
    }

    /// Waits (at most `timeout`) until `count` requests are in progress at once, and
    /// returns how many are.
    pub fn wait_for_in_progress(&self, count: usize, timeout: Duration) -> usize {
        self.wait_until(timeout, |state| state.in_progress >= count)
            .in_progress
    }

    /// The most requests that were in progress at once.
    pub fn most_in_progress(&self) -> usize {
        self.0.lock().most_in_progress
    }

    /// Every span of every accepted export.
    pub fn spans(&self) -> Vec<Span> {
        self.exports()
            .iter()
            .flat_map(|export| spans_of(&export.request))
            .collect()
    }
}

/// All spans of a request.
pub fn spans_of(request: &ExportTraceServiceRequest) -> Vec<Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| scope.spans.iter().cloned())
        .collect()
}

/// A span's attribute value.
pub fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

/// A resource attribute of a request's first resource.
pub fn resource_attribute<'a>(
    request: &'a ExportTraceServiceRequest,
    key: &str,
) -> Option<&'a Value> {
    request
        .resource_spans
        .first()
        .and_then(|resource| resource.resource.as_ref())
        .and_then(|resource| resource.attributes.iter().find(|kv| kv.key == key))
        .and_then(|kv| kv.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

/// An OTLP/HTTP receiver on a std `TcpListener`, one thread per connection.
pub struct HttpReceiver {
    addr: SocketAddr,
    tls: bool,
    recorder: Recorder,
    stop: Arc<AtomicBool>,
}

impl HttpReceiver {
    /// A plaintext receiver.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A TLS receiver with this server configuration (e.g. one requiring client certs).
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(Some(config))
    }

    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let recorder = Recorder::new();
        let stop = Arc::new(AtomicBool::new(false));
        let receiver = Self {
            addr,
            tls: tls.is_some(),
            recorder: recorder.clone(),
            stop: stop.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::Acquire) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = recorder.0.clone();
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
                    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
                    let _ = match tls {
                        None => serve(stream, &shared),
                        Some(config) => match rustls::ServerConnection::new(config) {
                            Ok(connection) => {
                                serve(rustls::StreamOwned::new(connection, stream), &shared)
                            }
                            Err(err) => Err(std::io::Error::other(err)),
                        },
                    };
                });
            }
        });
        receiver
    }

    /// The traces URL (`http://127.0.0.1:PORT/v1/traces`, or `https://`).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/v1/traces", self.addr.port())
    }

    /// What it received.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Serves HTTP/1.1 requests on one connection until it closes or idles out.
fn serve(stream: impl Read + Write, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let _in_progress = shared.begin();
        let held_since = Instant::now();
        while shared.is_held() && held_since.elapsed() < IO_TIMEOUT {
            std::thread::sleep(Duration::from_millis(1));
        }

        let json = headers
            .get("content-type")
            .is_some_and(|value| value.starts_with("application/json"));
        let reply = shared.next_reply();
        let out = reader.get_mut();
        match reply {
            Reply::Http {
                status,
                retry_after,
            } => {
                let retry_after = retry_after
                    .map(|seconds| format!("Retry-After: {seconds}\r\n"))
                    .unwrap_or_default();
                write!(
                    out,
                    "HTTP/1.1 {status} Scripted\r\n{retry_after}Content-Length: 0\r\n\r\n"
                )?;
                out.flush()?;
                continue;
            }
            Reply::Stall(delay) => {
                std::thread::sleep(delay);
                return Ok(());
            }
            #[cfg(feature = "otlp-grpc")]
            Reply::Grpc(_) => {
                write!(
                    out,
                    "HTTP/1.1 500 Wrong Script\r\nContent-Length: 0\r\n\r\n"
                )?;
                out.flush()?;
                continue;
            }
            Reply::Accept | Reply::Partial { .. } => {}
        }
        let body = match headers.get("content-encoding").map(String::as_str) {
            Some("gzip") => {
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(body.as_slice()).read_to_end(&mut plain)?;
                plain
            }
            _ => body,
        };
        let decoded = if json {
            serde_json::from_slice::<ExportTraceServiceRequest>(&body)
                .map_err(|err| err.to_string())
        } else {
            ExportTraceServiceRequest::decode(body.as_slice()).map_err(|err| err.to_string())
        };
        let request = match decoded {
            Ok(request) => request,
            Err(err) => {
                let message = format!("cannot decode: {err}");
                write!(
                    out,
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\n\r\n{message}",
                    message.len()
                )?;
                out.flush()?;
                continue;
            }
        };
        shared.record(Export {
            path,
            headers: headers.clone(),
            body,
            request,
        });
        let response = answer(&reply);
        let (content_type, bytes) = if json {
            ("application/json", json_answer(&response))
        } else {
            ("application/x-protobuf", response.encode_to_vec())
        };
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            bytes.len()
        )?;
        out.write_all(&bytes)?;
        out.flush()?;
    }
}

/// The answer to an export accepted with `reply`.
fn answer(reply: &Reply) -> ExportTraceServiceResponse {
    match reply {
        Reply::Partial { rejected, message } => ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: *rejected,
                error_message: (*message).to_owned(),
            }),
        },
        _ => ExportTraceServiceResponse::default(),
    }
}

/// An answer in JSON as the Collector writes it: the protobuf JSON mapping, whose 64-bit
/// integers (`rejectedSpans`) are strings.
fn json_answer(response: &ExportTraceServiceResponse) -> Vec<u8> {
    let answer = match &response.partial_success {
        Some(partial) => serde_json::json!({
            "partialSuccess": {
                "rejectedSpans": partial.rejected_spans.to_string(),
                "errorMessage": partial.error_message,
            }
        }),
        None => serde_json::json!({}),
    };
    answer.to_string().into_bytes()
}

/// A test PKI made with rcgen: a CA, a server certificate for 127.0.0.1 and a client
/// certificate, all signed by the CA, written to PEM files.
pub struct Pki {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
    dir: PathBuf,
}

impl Pki {
    /// Generates the certificates and writes them to a fresh temporary folder.
    pub fn generate() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair,
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "traced test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
            .expect("CA certificate");

        let server_key = KeyPair::generate().expect("server key");
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params
            .signed_by(&server_key, &ca)
            .expect("server certificate");

        let client_key = KeyPair::generate().expect("client key");
        let mut client_params =
            CertificateParams::new(vec!["client".to_owned()]).expect("client params");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params
            .signed_by(&client_key, &ca)
            .expect("client certificate");

        let dir = std::env::temp_dir().join(format!(
            "traced-otlp-pki-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("PKI folder");
        let pki = Self {
            ca_pem: ca.pem(),
            server_cert_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client.pem(),
            client_key_pem: client_key.serialize_pem(),
            dir,
        };
        for (name, pem) in [
            ("ca.pem", &pki.ca_pem),
            ("client.pem", &pki.client_cert_pem),
            ("client.key", &pki.client_key_pem),
        ] {
            std::fs::write(pki.dir.join(name), pem).expect("write PEM");
        }
        pki
    }

    /// The CA certificate file (for `certificate`).
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The client certificate file (for `client_certificate`).
    pub fn client_cert_path(&self) -> PathBuf {
        self.dir.join("client.pem")
    }

    /// The client key file (for `client_key`).
    pub fn client_key_path(&self) -> PathBuf {
        self.dir.join("client.key")
    }

    /// A rustls server configuration with the server certificate that requires a client
    /// certificate signed by the CA.
    pub fn server_config_requiring_client_certs(&self) -> Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).expect("CA PEM"))
            .expect("trust the CA");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .expect("client verifier");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![
                    CertificateDer::from_pem_slice(self.server_cert_pem.as_bytes())
                        .expect("cert PEM"),
                ],
                PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes()).expect("key PEM"),
            )
            .expect("server TLS config");
        Arc::new(config)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(feature = "otlp-grpc")]
pub use grpc::GrpcReceiver;

#[cfg(feature = "otlp-grpc")]
mod grpc {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use tonic::codec::CompressionEncoding;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
    use tonic::{Request, Response, Status};

    /// An OTLP/gRPC receiver: tonic's server on its own small tokio runtime.
    pub struct GrpcReceiver {
        addr: SocketAddr,
        tls: bool,
        recorder: Recorder,
        shutdown: Option<tokio::sync::oneshot::Sender<()>>,
        runtime: Option<tokio::runtime::Runtime>,
    }

    impl GrpcReceiver {
        /// A plaintext receiver.
        pub fn start() -> Self {
            Self::start_with(None)
        }

        /// A TLS receiver requiring a client certificate signed by the PKI's CA.
        pub fn start_mutual_tls(pki: &Pki) -> Self {
            let tls = ServerTlsConfig::new()
                .identity(Identity::from_pem(
                    &pki.server_cert_pem,
                    &pki.server_key_pem,
                ))
                .client_ca_root(Certificate::from_pem(&pki.ca_pem));
            Self::start_with(Some(tls))
        }

        fn start_with(tls: Option<ServerTlsConfig>) -> Self {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("receiver runtime");
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
            let addr = listener.local_addr().expect("receiver address");
            listener
                .set_nonblocking(true)
                .expect("non-blocking listener");
            let recorder = Recorder::new();
            let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
            let service = TraceServiceServer::new(Collector(recorder.clone()))
                .accept_compressed(CompressionEncoding::Gzip)
                // Answers compressed when the client accepts it; a Go collector answers in
                // the compression of the request, whatever the client says it accepts.
                .send_compressed(CompressionEncoding::Gzip);
            let secure = tls.is_some();
            let mut builder = Server::builder().timeout(IO_TIMEOUT);
            if let Some(tls) = tls {
                builder = builder.tls_config(tls).expect("server TLS config");
            }
            runtime.spawn(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let _ = builder
                    .serve_with_incoming_shutdown(service, TcpIncoming::from(listener), async {
                        let _ = stopped.await;
                    })
                    .await;
            });
            Self {
                addr,
                tls: secure,
                recorder,
                shutdown: Some(shutdown),
                runtime: Some(runtime),
            }
        }

        /// The endpoint (`http://127.0.0.1:PORT`, or `https://`).
        pub fn url(&self) -> String {
            let scheme = if self.tls { "https" } else { "http" };
            format!("{scheme}://127.0.0.1:{}", self.addr.port())
        }

        /// What it received.
        pub fn recorder(&self) -> &Recorder {
            &self.recorder
        }
    }

    impl Drop for GrpcReceiver {
        fn drop(&mut self) {
            if let Some(shutdown) = self.shutdown.take() {
                let _ = shutdown.send(());
            }
            // Never blocks, so a receiver may be dropped inside an async test too.
            if let Some(runtime) = self.runtime.take() {
                runtime.shutdown_background();
            }
        }
    }

    struct Collector(Recorder);

    #[tonic::async_trait]
    impl TraceService for Collector {
        async fn export(
            &self,
            request: Request<ExportTraceServiceRequest>,
        ) -> Result<Response<ExportTraceServiceResponse>, Status> {
            let _in_progress = self.0.0.begin();
            let held_since = Instant::now();
            while self.0.0.is_held() && held_since.elapsed() < IO_TIMEOUT {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let reply = self.0.0.next_reply();
            match reply {
                Reply::Accept | Reply::Partial { .. } => {}
                Reply::Grpc(code) => return Err(Status::new(code, "scripted failure")),
                Reply::Stall(delay) => {
                    tokio::time::sleep(delay).await;
                    return Err(Status::unavailable("stalled"));
                }
                Reply::Http { .. } => return Err(Status::internal("wrong script")),
            }
            let headers = request
                .metadata()
                .clone()
                .into_headers()
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect();
            self.0.0.record(Export {
                path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export".to_owned(),
                headers,
                body: Vec::new(),
                request: request.into_inner(),
            });
            Ok(Response::new(answer(&reply)))
        }
    }
}
