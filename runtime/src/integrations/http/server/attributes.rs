//! The stable HTTP server semantic conventions: span name and attributes of a request, and
//! those of its response.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use http::Request;
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, CLIENT_PORT, ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE,
    NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT, URL_PATH, URL_QUERY, URL_SCHEME,
    USER_AGENT_ORIGINAL,
};

use super::super::headers::HeaderCapture;
use super::super::methods::{known_method, protocol_version, record_method};
use super::super::redaction;
use super::super::span_start::TracedRequest;
use super::scheme;
use crate::span::attribute_sink::AttributeSink;

/// The span name: `{method} {route}`, or the method alone where the route is not known;
/// `HTTP` stands for a method the conventions do not know.
fn name<B>(req: &Request<B>) -> Cow<'static, str> {
    let method = known_method(req.method()).unwrap_or("HTTP");
    match route(req) {
        Some(route) => Cow::Owned([method, " ", route].concat()),
        None => Cow::Borrowed(method),
    }
}

/// Writes the conventions' attributes known when the request arrives into `attributes`;
/// `forwarded`: whether the scheme may come from the proxy headers (see [`scheme`]).
fn request<B>(req: &Request<B>, forwarded: bool, attributes: &mut impl AttributeSink) {
    record_method(req.method(), attributes);
    let uri = req.uri();
    attributes.text(URL_PATH, uri.path());
    if let Some(query) = uri.query() {
        attributes.text(URL_QUERY, &redaction::query(query));
    }
    attributes.static_text(URL_SCHEME, scheme::scheme(uri, req.headers(), forwarded));
    if let Some(route) = route(req) {
        attributes.text(HTTP_ROUTE, route);
    }
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(http::uri::Authority::as_str));
    if let Some((address, port)) = host.and_then(split_host) {
        attributes.text(SERVER_ADDRESS, address);
        if let Some(port) = port {
            attributes.int(SERVER_PORT, i64::from(port));
        }
    }
    if let Some(client) = client(req) {
        attributes.text(CLIENT_ADDRESS, AddressText::new(client.ip()).as_str());
        attributes.int(CLIENT_PORT, i64::from(client.port()));
    }
    if let Some(version) = protocol_version(req.version()) {
        attributes.static_text(NETWORK_PROTOCOL_VERSION, version);
    }
    if let Some(agent) = req
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
    {
        attributes.text(USER_AGENT_ORIGINAL, agent);
    }
}

/// A server request, whose span starts with the conventions' attributes, then the request
/// headers `headers` captures.
pub(crate) struct ServerRequest<'a, B> {
    pub(crate) req: &'a Request<B>,
    /// Whether the scheme may come from the proxy headers (see [`scheme`]).
    pub(crate) forwarded: bool,
    pub(crate) headers: &'a HeaderCapture,
}

impl<B> TracedRequest for ServerRequest<'_, B> {
    /// Method, path, query, scheme, route, server address and port, client address and
    /// port, protocol version, user agent; and room for the status code the response adds.
    const USUALLY: usize = 12;

    fn name(&self) -> Cow<'static, str> {
        name(self.req)
    }

    fn write(&self, attributes: &mut impl AttributeSink) {
        request(self.req, self.forwarded, attributes);
        let mut captured = Vec::new();
        self.headers
            .request_attributes(self.req.headers(), &mut captured);
        if !captured.is_empty() {
            attributes.key_values(captured);
        }
    }
}

/// The attributes of a response status; whether it is an error (5xx).
pub(crate) fn response_status(status: http::StatusCode, attributes: &mut Vec<KeyValue>) -> bool {
    attributes.push(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    let error = status.is_server_error();
    if error {
        attributes.push(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
    }
    error
}

/// The attributes of a handler that panicked: a `500` (what the client gets from a server
/// that turns panics into responses; a connection closed without one otherwise).
pub(crate) fn panicked(attributes: &mut Vec<KeyValue>) {
    response_status(http::StatusCode::INTERNAL_SERVER_ERROR, attributes);
}

/// The `error.type` of a service error.
pub(crate) fn service_error<E>() -> KeyValue {
    KeyValue::new(ERROR_TYPE, std::any::type_name::<E>())
}

/// The route template: axum's `MatchedPath` (feature `axum`).
fn route<B>(req: &Request<B>) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
        return Some(path.as_str());
    }
    let _ = req;
    None
}

/// The peer: axum's `ConnectInfo<SocketAddr>` (feature `axum`) or a `SocketAddr` extension.
fn client<B>(req: &Request<B>) -> Option<SocketAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(info.0);
    }
    req.extensions().get::<SocketAddr>().copied()
}

/// An IP address as text, on the stack: IPv4 written digit by digit (18 ns against 70
/// through `Display` into a `String`, in a loop of 10 million), for every traced request.
struct AddressText {
    len: usize,
    /// Room for the longest IPv6 text, `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`.
    bytes: [u8; 45],
}

impl AddressText {
    fn new(address: IpAddr) -> Self {
        let mut text = Self {
            len: 0,
            bytes: [0; 45],
        };
        match address {
            IpAddr::V4(v4) => {
                for (index, octet) in v4.octets().into_iter().enumerate() {
                    if index > 0 {
                        text.push(b'.');
                    }
                    if octet >= 100 {
                        text.push(b'0' + octet / 100);
                    }
                    if octet >= 10 {
                        text.push(b'0' + octet / 10 % 10);
                    }
                    text.push(b'0' + octet % 10);
                }
            }
            // Fits: `Display` writes at most the 45 bytes above.
            IpAddr::V6(v6) => {
                let _ = write!(text, "{v6}");
            }
        }
        text
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits, dots, colons and hex letters are ever written, within the room.
        self.bytes
            .get(..self.len)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

impl fmt::Write for AddressText {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let target = self
            .bytes
            .get_mut(self.len..self.len + text.len())
            .ok_or(fmt::Error)?;
        target.copy_from_slice(text.as_bytes());
        self.len += text.len();
        Ok(())
    }
}

/// A `Host` value as address and port: `example.com`, `example.com:8080`, `[::1]:8080`.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    let host = host.trim();
    if host.is_empty() {
        return None;
    }
    if let Some(rest) = host.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':').and_then(|port| port.parse().ok());
        return Some((address, port));
    }
    match host.rsplit_once(':') {
        Some((address, port)) if !address.contains(':') => Some((address, port.parse().ok())),
        Some(_) => Some((host, None)),
        None => Some((host, None)),
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_semantic_conventions::attribute::{
        HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL,
    };

    use super::*;

    #[test]
    fn addresses_as_display_writes_them() {
        let v4 = [0, 7, 9, 10, 42, 99, 100, 101, 110, 199, 200, 255];
        for a in v4 {
            for b in v4 {
                let address = IpAddr::from([a, b, 255 - a, 10]);
                assert_eq!(AddressText::new(address).as_str(), address.to_string());
            }
        }
        for v6 in [
            "2001:db8::7",
            "::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::ffff:255.255.255.255",
        ] {
            let address: IpAddr = v6.parse().expect("an IPv6 address");
            assert_eq!(AddressText::new(address).as_str(), address.to_string());
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(split_host("example.com"), Some(("example.com", None)));
        assert_eq!(split_host("a.b:8080"), Some(("a.b", Some(8080))));
        assert_eq!(split_host("[::1]:80"), Some(("::1", Some(80))));
        assert_eq!(split_host("[::1]"), Some(("::1", None)));
        assert_eq!(split_host(""), None);
    }

    #[test]
    fn other_method() {
        let method = http::Method::from_bytes(b"PURGE").ok();
        let req = method.map(|method| {
            let mut req = Request::new(());
            *req.method_mut() = method;
            req
        });
        let req = req.unwrap_or_default();
        let mut attributes = Vec::new();
        request(&req, true, &mut attributes);
        assert_eq!(name(&req), "HTTP");
        assert!(attributes.contains(&KeyValue::new(HTTP_REQUEST_METHOD, "_OTHER")));
        assert!(attributes.contains(&KeyValue::new(HTTP_REQUEST_METHOD_ORIGINAL, "PURGE")));
    }
}
