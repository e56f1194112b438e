//! OTLP/gRPC: `TraceService/Export` with tonic, on a small current-thread tokio runtime that
//! the exporter owns. The export thread drives it with `block_on`, so the user needs no
//! runtime, and the user's runtime (if any, of any flavour) is never used or blocked on.
//!
//! The request goes out as the bytes [`super::protobuf`] wrote, framed and compressed by
//! [`super::grpc_call`], not as a message for tonic's prost codec to encode: six times
//! cheaper to make, gzip at the level the HTTP exporter uses, and a retry sends the same
//! bytes again instead of a deep copy of the message.

use std::future::Future;
use std::time::Duration;

use prost::Message;
use tokio::runtime::Runtime;
use tonic::codegen::Bytes;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status};

use super::encoding::{self, RpcStatus};
use super::grpc_call::{self, Framed};
use super::http::USER_AGENT;
use super::retry::{self, Failure, Verdict};
use super::tls::TlsFiles;
use super::{Delivery, OtlpError};
use crate::config::{OtlpCompression, OtlpSettings};
use crate::diagnostics::for_people;

/// Sends `Export` calls over one lazily connected channel.
pub(super) struct GrpcTransport {
    /// `Some` until drop, which shuts it down without blocking.
    runtime: Option<Runtime>,
    channel: Channel,
    metadata: MetadataMap,
    gzip: bool,
}

impl GrpcTransport {
    /// Checks the endpoint, TLS and metadata and starts the runtime; the connection is made
    /// on the first export, so a collector that starts later is no error.
    pub(super) fn new(settings: &OtlpSettings, tls: &TlsFiles) -> Result<Self, OtlpError> {
        let (url, secure) = target(&settings.endpoint, settings.insecure);
        let invalid = |reason: String| OtlpError::InvalidEndpoint {
            endpoint: super::redact_userinfo(&settings.endpoint),
            reason,
        };
        let mut endpoint = Endpoint::from_shared(url)
            .map_err(|err| invalid(err.to_string()))?
            .connect_timeout(settings.timeout)
            .user_agent(USER_AGENT)
            .map_err(|err| invalid(err.to_string()))?;
        if secure {
            endpoint = endpoint
                .tls_config(client_tls(tls))
                .map_err(|err| invalid(format!("TLS: {err}")))?;
        }
        let metadata = metadata(&settings.headers)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("traced-otlp-grpc")
            .build()
            .map_err(OtlpError::Runtime)?;
        // The channel's background task is spawned on the exporter's runtime, whatever
        // runtime (if any) the caller is in.
        let channel = {
            let _entered = runtime.enter();
            endpoint.connect_lazy()
        };
        Ok(Self {
            runtime: Some(runtime),
            channel,
            metadata,
            gzip: settings.compression == OtlpCompression::Gzip,
        })
    }

    /// Sends one batch, an encoded `ExportTraceServiceRequest`, retrying transient failures
    /// within `timeout`.
    pub(super) fn send(&self, request: Vec<u8>, timeout: Duration) -> Result<Delivery, Failure> {
        let framed =
            Framed::new(Bytes::from(request), self.gzip).map_err(Failure::before_sending)?;
        retry::with_retries(timeout, |remaining| self.attempt(&framed, remaining))
    }

    fn attempt(&self, framed: &Framed, remaining: Duration) -> Verdict<Delivery> {
        let mut channel = self.channel.clone();
        let call = async move {
            let export = grpc_call::export(&mut channel, &self.metadata, framed, remaining);
            tokio::time::timeout(remaining, export).await
        };
        match self.block_on(call) {
            None => Verdict::Fail(
                "the gRPC export could not run (its runtime is shut down or its thread failed)"
                    .to_owned(),
            ),
            Some(Err(_elapsed)) => Verdict::Fail(format!(
                "timed out (no answer within {})",
                for_people(remaining)
            )),
            Some(Ok(Ok(response))) => {
                Verdict::Done(Delivery::from_partial(encoding::partial_success(&response)))
            }
            Some(Ok(Err(status))) => status_verdict(&status),
        }
    }

    /// Runs `future` to completion on the exporter's runtime. From a thread that is inside a
    /// tokio runtime (a simple span processor ending spans in async code), where `block_on`
    /// is not allowed, it runs on a short-lived helper thread instead.
    fn block_on<F>(&self, future: F) -> Option<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        let runtime = self.runtime.as_ref()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Some(runtime.block_on(future));
        }
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("traced-otlp-grpc-export".to_owned())
                .spawn_scoped(scope, || runtime.block_on(future))
                .ok()?
                .join()
                .ok()
        })
    }
}

impl Drop for GrpcTransport {
    fn drop(&mut self) {
        // Dropping a runtime inside another runtime's task panics; this never blocks.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The URL to connect to and whether to use TLS. As the specification says, the scheme
/// decides (`http` plaintext, `https` TLS); `insecure` only applies to an endpoint without
/// a scheme, which otherwise gets TLS.
fn target(endpoint: &str, insecure: bool) -> (String, bool) {
    let endpoint = endpoint.trim();
    let lower = endpoint.to_ascii_lowercase();
    if lower.starts_with("http://") {
        (endpoint.to_owned(), false)
    } else if lower.starts_with("https://") {
        (endpoint.to_owned(), true)
    } else if insecure {
        (format!("http://{endpoint}"), false)
    } else {
        (format!("https://{endpoint}"), true)
    }
}

/// The trusted roots (the configured CA, or Mozilla's built-in roots) and the client
/// identity for mutual TLS.
fn client_tls(tls: &TlsFiles) -> ClientTlsConfig {
    let mut config = ClientTlsConfig::new();
    config = match &tls.ca_pem {
        Some(pem) => config.ca_certificate(Certificate::from_pem(pem)),
        None => config.with_webpki_roots(),
    };
    if let Some(identity) = &tls.identity {
        config = config.identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
    }
    config
}

/// The configured headers as gRPC metadata (keys lowercased; `-bin` keys binary), but
/// those the call itself sets (`te`, `content-type`, and `grpc-*`, which gRPC reserves), as
/// tonic's client leaves them out. The error names the header, never its value.
fn metadata(headers: &[(String, String)]) -> Result<MetadataMap, OtlpError> {
    let mut map = MetadataMap::new();
    for (name, value) in headers {
        let invalid = || OtlpError::InvalidHeader { name: name.clone() };
        let key = name.trim().to_ascii_lowercase();
        if key == "te" || key == "content-type" || key.starts_with("grpc-") {
            continue;
        }
        if key.ends_with("-bin") {
            let key = MetadataKey::from_bytes(key.as_bytes()).map_err(|_| invalid())?;
            map.append_bin(key, MetadataValue::from_bytes(value.as_bytes()));
        } else {
            let key = MetadataKey::from_bytes(key.as_bytes()).map_err(|_| invalid())?;
            let value = MetadataValue::try_from(value.trim()).map_err(|_| invalid())?;
            map.append(key, value);
        }
    }
    Ok(map)
}

/// The specification's retryable codes; `RESOURCE_EXHAUSTED` only when the server says
/// when to retry (`RetryInfo`), as it otherwise means "this will not fit".
fn status_verdict(status: &Status) -> Verdict<Delivery> {
    let message = encoding::truncate(status.message(), 200);
    let reason = if message.is_empty() {
        format!("gRPC status {:?}", status.code())
    } else {
        format!("gRPC status {:?}: {message}", status.code())
    };
    let after = retry_delay(status.details());
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => Verdict::Retry { reason, after },
        Code::ResourceExhausted if after.is_some() => Verdict::Retry { reason, after },
        _ => Verdict::Fail(reason),
    }
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// The delay a status's `RetryInfo` detail asks for, if it has one.
fn retry_delay(details: &[u8]) -> Option<Duration> {
    if details.is_empty() {
        return None;
    }
    let status = RpcStatus::decode(details).ok()?;
    let info = status
        .details
        .iter()
        .find(|any| any.type_url.ends_with("/google.rpc.RetryInfo"))?;
    let delay = RetryInfo::decode(info.value.as_slice()).ok()?.retry_delay?;
    let seconds = u64::try_from(delay.seconds).ok()?;
    let nanos = u32::try_from(delay.nanos).ok()?;
    Some(Duration::new(seconds, nanos.min(999_999_999)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::otlp::encoding::Any;

    #[test]
    fn the_scheme_decides_tls_and_insecure_covers_the_rest() {
        assert_eq!(
            target("http://c:4317", false),
            ("http://c:4317".into(), false)
        );
        assert_eq!(
            target("https://c:4317", true),
            ("https://c:4317".into(), true)
        );
        assert_eq!(target("c:4317", false), ("https://c:4317".into(), true));
        assert_eq!(target("c:4317", true), ("http://c:4317".into(), false));
    }

    #[test]
    fn metadata_is_lowercased_and_checked_without_values_in_errors() {
        let map = metadata(&[("X-Api-Key".into(), "secret".into())]).unwrap();
        assert_eq!(map.get("x-api-key").unwrap(), "secret");
        let err = metadata(&[("x-api-key".into(), "sec\nret".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("x-api-key") && !err.contains("sec"), "{err}");
    }

    #[test]
    fn headers_the_call_sets_are_left_out_of_the_metadata() {
        let reserved = [
            "TE",
            "content-type",
            "grpc-encoding",
            "grpc-timeout",
            "Grpc-Status",
        ];
        let mut headers: Vec<(String, String)> = reserved
            .iter()
            .map(|name| (name.to_string(), "x".to_owned()))
            .collect();
        headers.push(("x-tenant".into(), "shop".into()));
        let map = metadata(&headers).unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("x-tenant").unwrap(), "shop");
    }

    fn with_retry_info(code: Code, delay: Option<Duration>) -> Status {
        let details = delay.map(|delay| {
            RpcStatus {
                code: code as i32,
                message: "busy".into(),
                details: vec![Any {
                    type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
                    value: RetryInfo {
                        retry_delay: Some(ProtoDuration {
                            seconds: delay.as_secs() as i64,
                            nanos: delay.subsec_nanos() as i32,
                        }),
                    }
                    .encode_to_vec(),
                }],
            }
            .encode_to_vec()
        });
        Status::with_details(code, "busy", details.unwrap_or_default().into())
    }

    #[test]
    fn retryable_codes_and_retry_info() {
        assert!(matches!(
            status_verdict(&Status::unavailable("down")),
            Verdict::Retry { after: None, .. }
        ));
        assert!(matches!(
            status_verdict(&Status::invalid_argument("bad")),
            Verdict::Fail(_)
        ));
        assert!(matches!(
            status_verdict(&with_retry_info(Code::ResourceExhausted, None)),
            Verdict::Fail(_)
        ));
        let delay = Duration::from_millis(1500);
        match status_verdict(&with_retry_info(Code::ResourceExhausted, Some(delay))) {
            Verdict::Retry { after, reason } => {
                assert_eq!(after, Some(delay));
                assert!(reason.contains("ResourceExhausted: busy"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
