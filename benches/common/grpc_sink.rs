//! A local OTLP/gRPC endpoint (tonic's server, on a one-worker tokio runtime of its own)
//! that answers every `TraceService/Export` call with full success without decoding it
//! (gzip-compressed requests are decompressed, as a collector does),
//! as [`super::http_sink`] does for OTLP/HTTP: a benchmark then runs the real gRPC exporter,
//! its encoding, HTTP/2 and tonic included, without a collector's own cost in the figures.

use std::convert::Infallible;
use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use tonic::codec::CompressionEncoding;
use tonic::codegen::{Body, BoxFuture, Service, StdError, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// The endpoint's address and what it has received; serves until dropped.
pub struct GrpcSink {
    pub endpoint: String,
    requests: Arc<AtomicU64>,
    _runtime: tokio::runtime::Runtime,
}

impl GrpcSink {
    /// Listens on a free local port.
    pub fn start() -> io::Result<Self> {
        Self::start_with_delay(Duration::ZERO)
    }

    /// The same, answering each call `delay` after it arrived, like a collector a network
    /// round trip away.
    pub fn start_with_delay(delay: Duration) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        listener.set_nonblocking(true)?;
        let requests = Arc::new(AtomicU64::new(0));
        let service = Sink {
            requests: Arc::clone(&requests),
            delay,
        };
        runtime.spawn(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    // As collectors do (Go sets it on every connection): without it, each
                    // answer waited for the client's delayed acknowledgement, 14 ms a
                    // request.
                    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
                    let served = Server::builder()
                        .serve_with_incoming(service, incoming)
                        .await;
                    if let Err(err) = served {
                        eprintln!("the gRPC sink stopped: {err}");
                    }
                }
                Err(err) => eprintln!("the gRPC sink cannot listen: {err}"),
            }
        });
        Ok(Self {
            endpoint,
            requests,
            _runtime: runtime,
        })
    }

    /// Requests received so far.
    pub fn received(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// A request read as a message with no fields: prost skips the one it holds (the spans) in
/// one step, by its length.
#[derive(Clone, PartialEq, prost::Message)]
struct Unread {}

/// The `TraceService` with one method, `Export`, answered without reading the request.
#[derive(Clone)]
struct Sink {
    requests: Arc<AtomicU64>,
    delay: Duration,
}

impl NamedService for Sink {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}

impl<B> Service<http::Request<B>> for Sink
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let export = Export {
            requests: Arc::clone(&self.requests),
            delay: self.delay,
        };
        Box::pin(async move {
            let codec = tonic_prost::ProstCodec::<ExportTraceServiceResponse, Unread>::default();
            let mut grpc = Grpc::new(codec).accept_compressed(CompressionEncoding::Gzip);
            Ok(grpc.unary(export, request).await)
        })
    }
}

struct Export {
    requests: Arc<AtomicU64>,
    delay: Duration,
}

impl UnaryService<Unread> for Export {
    type Response = ExportTraceServiceResponse;
    type Future = BoxFuture<Response<Self::Response>, Status>;

    fn call(&mut self, _request: Request<Unread>) -> Self::Future {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let delay = self.delay;
        Box::pin(async move {
            if !delay.is_zero() {
                // Slept on a blocking thread, as precisely as the HTTP sink sleeps: tokio's
                // timer rounds up to whole milliseconds, 2 ms becoming nearly 3.
                let slept = tokio::task::spawn_blocking(move || std::thread::sleep(delay));
                if slept.await.is_err() {
                    return Err(Status::internal("the sink's delay failed"));
                }
            }
            Ok(Response::new(ExportTraceServiceResponse::default()))
        })
    }
}
