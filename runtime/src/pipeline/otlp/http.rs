//! OTLP/HTTP: a `POST` of the encoded request to the traces URL, with `ureq`, a blocking
//! client that runs on the calling thread (the batch processor's own), so no async runtime
//! is needed and none can be missing.

use std::io;
use std::time::Duration;

use ureq::http::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use ureq::http::{HeaderName, HeaderValue, Response, StatusCode};
use ureq::unversioned::transport::DefaultConnector;
use ureq::{Agent, Body};

use super::encoding;
use super::resolver::ReusingResolver;
use super::retry::{self, Failure, Verdict};
use super::tls::TlsFiles;
use super::{Delivery, OtlpError};
use crate::config::{OtlpCompression, OtlpProtocol, OtlpSettings};
use crate::diagnostics::for_people;

/// The largest response body read (collectors answer with a few bytes).
const MAX_RESPONSE: u64 = 64 * 1024;

/// The exporter's `User-Agent`, as the OTLP specification recommends.
pub(super) const USER_AGENT: &str =
    concat!("OTel-OTLP-Exporter-Rust-traced/", env!("CARGO_PKG_VERSION"));

/// Sends OTLP/HTTP requests to one URL.
pub(super) struct HttpTransport {
    agent: Agent,
    url: String,
    json: bool,
    gzip: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl HttpTransport {
    /// Checks the URL and the headers and sets the client up (no connection is made yet).
    pub(super) fn new(settings: &OtlpSettings, tls: &TlsFiles) -> Result<Self, OtlpError> {
        let url = settings.endpoint.trim().to_owned();
        check_url(&url)?;
        let headers = settings
            .headers
            .iter()
            .map(|(name, value)| header(name, value))
            .collect::<Result<_, _>>()?;
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(USER_AGENT)
            .tls_config(tls.http_config())
            .build();
        Ok(Self {
            agent: Agent::with_parts(config, DefaultConnector::new(), ReusingResolver::new()),
            url,
            json: settings.protocol == OtlpProtocol::HttpJson,
            gzip: settings.compression == OtlpCompression::Gzip,
            headers,
        })
    }

    /// Sends a request body already encoded as the protocol says (protobuf, or JSON),
    /// compressed first if configured, retrying transient failures within `timeout`.
    pub(super) fn send_body(&self, body: Vec<u8>, timeout: Duration) -> Result<Delivery, Failure> {
        let body = if self.gzip {
            encoding::gzip(&body).map_err(Failure::before_sending)?
        } else {
            body
        };
        retry::with_retries(timeout, |remaining| self.attempt(&body, remaining))
    }

    fn attempt(&self, body: &[u8], remaining: Duration) -> Verdict<Delivery> {
        let content_type = if self.json {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        let mut request = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(remaining))
            .build()
            .header(CONTENT_TYPE, content_type);
        if self.gzip {
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        match request.send(body) {
            Ok(response) => self.verdict(response),
            Err(err) => transport_verdict(&err, remaining),
        }
    }

    fn verdict(&self, mut response: Response<Body>) -> Verdict<Delivery> {
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .unwrap_or_default();
        if status.is_success() {
            return Verdict::Done(Delivery::from_partial(encoding::rejected_spans(
                &body, self.json,
            )));
        }
        let mut reason = format!("HTTP {status}");
        if let Some(message) = encoding::error_message(&body, self.json) {
            reason = format!("{reason}: {message}");
        }
        if is_retryable(status) {
            let after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(retry::parse_retry_after);
            Verdict::Retry { reason, after }
        } else {
            Verdict::Fail(reason)
        }
    }
}

/// The statuses the OTLP/HTTP specification calls retryable.
fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// A failure before any response: connection failures are retried (the collector may be
/// starting), everything else (TLS, name resolution, timeouts) is reported.
fn transport_verdict(err: &ureq::Error, remaining: Duration) -> Verdict<Delivery> {
    match err {
        ureq::Error::Timeout(_) => Verdict::Fail(format!(
            "timed out (no answer within {})",
            for_people(remaining)
        )),
        ureq::Error::ConnectionFailed => Verdict::Retry {
            reason: "cannot connect to the collector".to_owned(),
            after: None,
        },
        ureq::Error::Io(io) if is_transient(io.kind()) => Verdict::Retry {
            reason: format!("cannot reach the collector: {io}"),
            after: None,
        },
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => Verdict::Fail(format!(
            "timed out (no answer within {})",
            for_people(remaining)
        )),
        other => Verdict::Fail(format!("cannot send to the collector: {other}")),
    }
}

fn is_transient(kind: io::ErrorKind) -> bool {
    use io::ErrorKind::*;
    matches!(
        kind,
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | NotConnected
            | BrokenPipe
            | UnexpectedEof
    )
}

/// An `http://` or `https://` URL with a host; anything else cannot be an OTLP/HTTP target.
fn check_url(url: &str) -> Result<(), OtlpError> {
    let invalid = |reason: &str| OtlpError::InvalidEndpoint {
        endpoint: super::redact_userinfo(url),
        reason: reason.to_owned(),
    };
    let uri: ureq::http::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("OTLP/HTTP needs an http:// or https:// URL")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host"));
    }
    Ok(())
}

/// One configured header, checked. The error names the header, never its value.
fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), OtlpError> {
    let invalid = || OtlpError::InvalidHeader {
        name: name.to_owned(),
    };
    let header_name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| invalid())?;
    let mut header_value = HeaderValue::from_str(value.trim()).map_err(|_| invalid())?;
    header_value.set_sensitive(true);
    Ok((header_name, header_value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_are_the_specifications() {
        for code in [429, 502, 503, 504] {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 500] {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn a_bad_header_is_named_without_its_value() {
        let err = header("x-api-key", "secret\nvalue")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x-api-key"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let err = header("bad header", "v").unwrap_err().to_string();
        assert!(err.contains("bad header"), "{err}");
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("http://localhost:4318/v1/traces").is_ok());
        assert!(check_url("https://collector.example/v1/traces").is_ok());
        assert!(check_url("localhost:4318").is_err());
        assert!(check_url("grpc://localhost:4317").is_err());
        let err = check_url("ftp://user:pw@host/").unwrap_err().to_string();
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn connection_failures_are_retried_and_timeouts_are_not() {
        let refused = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert!(matches!(
            transport_verdict(&refused, Duration::from_secs(1)),
            Verdict::Retry { .. }
        ));
        let timeout = ureq::Error::Timeout(ureq::Timeout::Global);
        assert!(matches!(
            transport_verdict(&timeout, Duration::from_secs(1)),
            Verdict::Fail(_)
        ));
        assert!(matches!(
            transport_verdict(&ureq::Error::HostNotFound, Duration::from_secs(1)),
            Verdict::Fail(_)
        ));
    }
}
