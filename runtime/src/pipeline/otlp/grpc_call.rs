//! One `TraceService/Export` call on a tonic channel, its message framed (and gzipped) here
//! rather than by tonic's client codec.
//!
//! tonic compresses at a fixed level, zlib's default 6 (its source says so, with a note to
//! make it configurable): 1.3–2.6 µs a span, which capped a gRPC exporter with gzip at
//! 0.47 M spans/s on one export thread, where `http/protobuf` compresses at level 2
//! ([`encoding::gzip`], used here too). Its codec also copies every request into a buffer
//! of its own; here the protobuf goes out as it was written. The rest is tonic's: the
//! channel (connection, TLS, HTTP/2, the user agent), and the answer read by its
//! `Streaming`, which turns the HTTP status and the trailers into the call's [`Status`] as
//! its client does.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Frame, SizeHint};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use tonic::codec::{CompressionEncoding, DecodeBuf, Decoder, Streaming};
use tonic::codegen::http::header::{CONTENT_TYPE, HeaderValue, TE};
use tonic::codegen::http::{self, Method, Uri, Version};
use tonic::codegen::{Bytes, Service};
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::encoding;

/// The method every batch is sent to.
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// The compression of a call's messages, and the compressions the caller accepts.
const ENCODING: &str = "grpc-encoding";
const ACCEPT_ENCODING: &str = "grpc-accept-encoding";

/// A request message as gRPC frames it: a flag saying whether it is compressed, its length
/// (four bytes, big-endian), then the message.
#[derive(Clone, Debug)]
pub(super) struct Framed {
    prefix: Bytes,
    message: Bytes,
}

impl Framed {
    /// `message` as it is, or gzip-compressed (which the call then announces). Fails when
    /// compression does, or when the message is too long for gRPC's four-byte length.
    pub(super) fn new(message: Bytes, gzip: bool) -> Result<Self, String> {
        let message = if gzip {
            Bytes::from(encoding::gzip(&message)?)
        } else {
            message
        };
        let length = u32::try_from(message.len())
            .map_err(|_| format!("a request of {} bytes is too long for gRPC", message.len()))?;
        let mut prefix = [0u8; 5];
        prefix[0] = u8::from(gzip);
        prefix[1..].copy_from_slice(&length.to_be_bytes());
        Ok(Self {
            prefix: Bytes::copy_from_slice(&prefix),
            message,
        })
    }

    /// Whether the message is compressed, as its prefix's flag says.
    fn compressed(&self) -> bool {
        self.prefix.first() == Some(&1)
    }
}

/// Makes the call: `metadata` (the configured headers) and a `grpc-timeout` of `timeout`
/// go with it. The answer, or the status the collector (or the channel) gave.
pub(super) async fn export(
    channel: &mut Channel,
    metadata: &MetadataMap,
    framed: &Framed,
    timeout: Duration,
) -> Result<ExportTraceServiceResponse, Status> {
    let request = request(metadata, framed, timeout);
    std::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .map_err(|err| Status::unavailable(format!("the channel is not ready: {err}")))?;
    let response = channel
        .call(request)
        .await
        .map_err(|err| Status::from_error(err.into()))?;
    // A status in the headers is a trailers-only answer: no message follows. An `OK` one
    // (no collector sends it to `Export`) is taken as full success, as the collector says.
    if let Some(status) = Status::from_header_map(response.headers()) {
        return match status.code() {
            Code::Ok => Ok(ExportTraceServiceResponse::default()),
            _ => Err(status),
        };
    }
    let encoding = answer_encoding(response.headers())?;
    let status = response.status();
    let mut answer =
        Streaming::new_response(Response, response.into_body(), status, encoding, None);
    let message = answer
        .message()
        .await?
        .ok_or_else(|| Status::internal("the collector's answer holds no message"))?;
    // The call's status comes in the trailers: an error there fails the call.
    answer.trailers().await?;
    Ok(message)
}

/// The compression of the answer's message: none, or gzip, which the call says it accepts.
/// A Go collector answers in the compression of the request, accepted or not: tonic's
/// client, which accepted none, failed such an answer (after the spans were delivered).
fn answer_encoding(headers: &http::HeaderMap) -> Result<Option<CompressionEncoding>, Status> {
    match headers.get(ENCODING).map(HeaderValue::as_bytes) {
        None | Some(b"identity") => Ok(None),
        Some(b"gzip") => Ok(Some(CompressionEncoding::Gzip)),
        Some(other) => Err(Status::unimplemented(format!(
            "the collector answered in `{}` compression, which was not asked for",
            String::from_utf8_lossy(other)
        ))),
    }
}

/// The HTTP/2 request of a call, as tonic's client makes it: the channel adds the
/// collector's scheme and authority, and the user agent.
fn request(
    metadata: &MetadataMap,
    framed: &Framed,
    timeout: Duration,
) -> http::Request<tonic::body::Body> {
    let body = MessageBody {
        chunks: [Some(framed.prefix.clone()), Some(framed.message.clone())],
    };
    let mut request = http::Request::new(tonic::body::Body::new(body));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = Uri::from_static(EXPORT_PATH);
    *request.version_mut() = Version::HTTP_2;
    let headers = request.headers_mut();
    headers.extend(metadata.clone().into_headers());
    headers.insert(TE, HeaderValue::from_static("trailers"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    if framed.compressed() {
        headers.insert(ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert("grpc-timeout", grpc_timeout(timeout));
    request
}

/// `timeout` as gRPC writes it: at most eight digits and a unit, in milliseconds here (a
/// longer one is cut to 99 999 999 ms, 27 hours).
fn grpc_timeout(timeout: Duration) -> HeaderValue {
    let millis = timeout.as_millis().min(99_999_999);
    HeaderValue::try_from(format!("{millis}m"))
        .unwrap_or_else(|_| HeaderValue::from_static("99999999m"))
}

/// The request's body: the prefix, then the message, each as it is.
struct MessageBody {
    chunks: [Option<Bytes>; 2],
}

impl http_body::Body for MessageBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = self.chunks.iter_mut().find_map(Option::take);
        Poll::Ready(next.map(|chunk| Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.iter().all(Option::is_none)
    }

    fn size_hint(&self) -> SizeHint {
        let length = self.chunks.iter().flatten().map(Bytes::len).sum::<usize>();
        SizeHint::with_exact(length as u64)
    }
}

/// Reads the collector's answer with prost.
struct Response;

impl Decoder for Response {
    type Item = ExportTraceServiceResponse;
    type Error = Status;

    fn decode(
        &mut self,
        source: &mut DecodeBuf<'_>,
    ) -> Result<Option<ExportTraceServiceResponse>, Status> {
        ExportTraceServiceResponse::decode(source)
            .map(Some)
            .map_err(|err| {
                Status::internal(format!("the collector's answer does not decode: {err}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_message_is_prefixed_with_its_flag_and_length() {
        let plain = Framed::new(Bytes::from_static(b"spans"), false).unwrap();
        assert_eq!(plain.prefix.as_ref(), [0, 0, 0, 0, 5]);
        assert_eq!(plain.message.as_ref(), b"spans");

        let message = Bytes::from(b"spans ".repeat(1000));
        let gzipped = Framed::new(message.clone(), true).unwrap();
        assert_eq!(gzipped.prefix[0], 1);
        let length = u32::from_be_bytes([
            gzipped.prefix[1],
            gzipped.prefix[2],
            gzipped.prefix[3],
            gzipped.prefix[4],
        ]);
        assert_eq!(length as usize, gzipped.message.len());
        assert!(gzipped.message.len() < message.len() / 10);
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(gzipped.message.as_ref())
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, message);
    }

    #[test]
    fn answers_are_read_plain_or_gzipped_and_nothing_else() {
        let with = |encoding: Option<&'static str>| {
            let mut headers = http::HeaderMap::new();
            if let Some(encoding) = encoding {
                headers.insert(ENCODING, HeaderValue::from_static(encoding));
            }
            answer_encoding(&headers)
        };
        assert_eq!(with(None).unwrap(), None);
        assert_eq!(with(Some("identity")).unwrap(), None);
        assert_eq!(with(Some("gzip")).unwrap(), Some(CompressionEncoding::Gzip));
        let refused = with(Some("zstd")).unwrap_err();
        assert_eq!(refused.code(), Code::Unimplemented);
        assert!(refused.message().contains("zstd"), "{}", refused.message());
    }

    #[test]
    fn the_timeout_is_sent_in_milliseconds_of_at_most_eight_digits() {
        assert_eq!(grpc_timeout(Duration::from_millis(1500)), "1500m");
        assert_eq!(grpc_timeout(Duration::from_micros(900)), "0m");
        assert_eq!(grpc_timeout(Duration::from_secs(1 << 40)), "99999999m");
    }

    #[test]
    fn the_body_is_the_prefix_then_the_message() {
        use http_body::Body as _;

        let framed = Framed::new(Bytes::from_static(b"abc"), false).unwrap();
        let mut body = std::pin::pin!(MessageBody {
            chunks: [Some(framed.prefix), Some(framed.message)],
        });
        assert_eq!(body.size_hint().exact(), Some(8));
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut read = Vec::new();
        while let Poll::Ready(Some(frame)) = body.as_mut().poll_frame(&mut cx) {
            let data = frame.unwrap().into_data().unwrap();
            read.extend_from_slice(&data);
        }
        assert_eq!(read, [0, 0, 0, 0, 3, b'a', b'b', b'c']);
        assert!(body.is_end_stream());
    }
}
