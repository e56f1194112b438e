//! `url.scheme` of a server request. A server behind a TLS-terminating proxy sees plain
//! HTTP; the scheme the client used comes from the proxy's `X-Forwarded-Proto` or
//! `Forwarded: proto=` header.
//!
//! Trust: a client talking to the server directly can send these headers too, and so choose
//! the recorded scheme. That only mislabels its own span (only `http` and `https` are
//! accepted, so no arbitrary text reaches the attribute), which is why they are read by
//! default; `TraceLayer::trust_forwarded_proto(false)` records what the server itself saw.

use http::header::FORWARDED;
use http::{HeaderMap, HeaderName};

/// `X-Forwarded-Proto`, the de facto standard header: a `HeaderName` made once, as looking
/// one up by `&str` parses the name again for every request.
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The scheme: `https` when the request URI says so, else (when `forwarded`) the first
/// `X-Forwarded-Proto` value, else the first `Forwarded` element's `proto`, else `http`.
pub(crate) fn scheme(uri: &http::Uri, headers: &HeaderMap, forwarded: bool) -> &'static str {
    if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
        return "https";
    }
    if forwarded {
        let proxied = x_forwarded_proto(headers).or_else(|| forwarded_proto(headers));
        if let Some(scheme) = proxied {
            return scheme;
        }
    }
    "http"
}

/// The first value of the first `X-Forwarded-Proto` (each proxy appends its own), when it is
/// `http` or `https`.
fn x_forwarded_proto(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get(&X_FORWARDED_PROTO)?.to_str().ok()?;
    known(value.split(',').next()?)
}

/// The `proto` parameter of the first element of the first `Forwarded` header (RFC 7239:
/// `for=192.0.2.60;proto=https;by=203.0.113.43, for=...`), when it is `http` or `https`.
fn forwarded_proto(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get(FORWARDED)?.to_str().ok()?;
    let first = value.split(',').next()?;
    first.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("proto") {
            return None;
        }
        known(value.trim().trim_matches('"'))
    })
}

/// `http` or `https`, case-insensitively.
fn known(scheme: &str) -> Option<&'static str> {
    let scheme = scheme.trim();
    if scheme.eq_ignore_ascii_case("https") {
        Some("https")
    } else if scheme.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    fn of(pairs: &[(&'static str, &'static str)], forwarded: bool) -> &'static str {
        scheme(&http::Uri::from_static("/p"), &headers(pairs), forwarded)
    }

    #[test]
    fn uri_then_x_forwarded_proto_then_forwarded() {
        let https = http::Uri::from_static("https://example.com/p");
        assert_eq!(scheme(&https, &HeaderMap::new(), false), "https");
        assert_eq!(of(&[], true), "http");
        assert_eq!(of(&[("x-forwarded-proto", "https")], true), "https");
        assert_eq!(of(&[("x-forwarded-proto", "HTTPS, http")], true), "https");
        assert_eq!(of(&[("x-forwarded-proto", "http, https")], true), "http");
        assert_eq!(
            of(
                &[("forwarded", "for=1.2.3.4;Proto=\"https\", proto=http")],
                true
            ),
            "https"
        );
        assert_eq!(
            of(
                &[("x-forwarded-proto", "http"), ("forwarded", "proto=https")],
                true
            ),
            "http"
        );
    }

    #[test]
    fn unknown_or_untrusted_values_are_ignored() {
        assert_eq!(of(&[("x-forwarded-proto", "ftp")], true), "http");
        assert_eq!(
            of(
                &[("x-forwarded-proto", "wss"), ("forwarded", "proto=https")],
                true
            ),
            "https"
        );
        assert_eq!(of(&[("forwarded", "for=1.2.3.4")], true), "http");
        assert_eq!(of(&[("x-forwarded-proto", "https")], false), "http");
    }
}
