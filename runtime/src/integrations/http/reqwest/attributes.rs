//! The stable HTTP client semantic conventions: the span name and attributes of an outgoing
//! request, those of its response, and the `error.type` of a transport error.

use std::borrow::Cow;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT,
    URL_FULL,
};
use reqwest::{Request, Response, Url};

use super::super::methods::{known_method, protocol_version, record_method};
use super::super::redaction;
use super::super::span_start::TracedRequest;
use crate::span::attribute_sink::AttributeSink;

/// The span name: the method (the conventions' `{method}` for a client), `HTTP` standing for
/// one they do not know.
fn name(req: &Request) -> &'static str {
    known_method(req.method()).unwrap_or("HTTP")
}

/// An outgoing request, whose span starts with the attributes known before it is sent (all
/// of them are given to a sampler that reads attributes).
pub(crate) struct ClientRequest<'a>(pub(crate) &'a Request);

impl TracedRequest for ClientRequest<'_> {
    /// Method, URL, server address and port: within a record's inline room (the response's
    /// status code and protocol version move the list to the heap later, in one step).
    const USUALLY: usize = 4;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(name(self.0))
    }

    fn write(&self, attributes: &mut impl AttributeSink) {
        let req = self.0;
        record_method(req.method(), attributes);
        let url = req.url();
        attributes.text(URL_FULL, &url_full(url));
        if let Some(host) = url.host_str() {
            // `Url` keeps IPv6 literals in brackets; the conventions record the bare address.
            let host = host
                .strip_prefix('[')
                .and_then(|host| host.strip_suffix(']'))
                .unwrap_or(host);
            attributes.text(SERVER_ADDRESS, host);
        }
        if let Some(port) = url.port_or_known_default() {
            attributes.int(SERVER_PORT, i64::from(port));
        }
    }
}

/// `url.full`: the URL as it is, unless it holds credentials or a signature, which
/// [`redaction::full`] redacts. Asked of the parsed URL's parts, which it keeps the bounds
/// of: scanning its text again for them took 74 ns a request for a 47-byte URL with neither.
fn url_full(url: &Url) -> Cow<'_, str> {
    let credentials = !url.username().is_empty() || url.password().is_some();
    if credentials || url.query().is_some_and(redaction::is_signed) {
        redaction::full(url.as_str())
    } else {
        Cow::Borrowed(url.as_str())
    }
}

/// The attributes of a response's status line; whether it is an error (4xx or 5xx).
pub(crate) fn response(res: &Response, attributes: &mut Vec<KeyValue>) -> bool {
    let status = res.status();
    attributes.push(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if let Some(version) = protocol_version(res.version()) {
        attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
    }
    let error = status.is_client_error() || status.is_server_error();
    if error {
        attributes.push(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
    }
    error
}

/// The low-cardinality `error.type` of a transport error: what failed, not the message.
pub(crate) fn transport_error_type(error: &reqwest::Error) -> &'static str {
    // A connect timeout is both a timeout and a connect error; the timeout says more.
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_body() {
        "body"
    } else if error.is_decode() {
        "decode"
    } else if error.is_request() {
        "request"
    } else if error.is_builder() {
        "builder"
    } else {
        std::any::type_name::<reqwest::Error>()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::Value;
    use opentelemetry_semantic_conventions::attribute::{
        HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL,
    };

    use super::*;

    fn request_to(method: &str, url: &str) -> Request {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        Request::new(method, reqwest::Url::parse(url).unwrap())
    }

    fn written(req: &Request) -> Vec<KeyValue> {
        let mut attributes = Vec::new();
        ClientRequest(req).write(&mut attributes);
        attributes
    }

    fn value(attributes: &[KeyValue], key: &str) -> Option<Value> {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    }

    #[test]
    fn known_method_names_the_span() {
        let req = request_to("POST", "https://ada:pw@example.com/a?sig=s&x=1");
        let attributes = written(&req);
        assert_eq!(name(&req), "POST");
        assert_eq!(value(&attributes, HTTP_REQUEST_METHOD), Some("POST".into()));
        assert_eq!(
            value(&attributes, URL_FULL),
            Some("https://REDACTED:REDACTED@example.com/a?sig=REDACTED&x=1".into())
        );
        assert_eq!(
            value(&attributes, SERVER_ADDRESS),
            Some("example.com".into())
        );
        // The scheme's default port, as an integer.
        assert_eq!(value(&attributes, SERVER_PORT), Some(Value::I64(443)));
    }

    #[test]
    fn url_full_is_redacted_only_where_the_url_holds_a_secret() {
        let full = |url: &str| url_full(&reqwest::Url::parse(url).unwrap()).into_owned();
        assert_eq!(
            full("https://token@example.com/a"),
            "https://REDACTED@example.com/a"
        );
        assert_eq!(
            full("https://:pw@example.com/a"),
            "https://REDACTED:REDACTED@example.com/a"
        );
        assert_eq!(
            full("https://example.com/a?x=1&X-Goog-Signature=g#top"),
            "https://example.com/a?x=1&X-Goog-Signature=REDACTED#top"
        );
        // Nothing to redact: the URL as the client sends it.
        for url in [
            "http://users.internal:8080/users/42?fields=name",
            "https://example.com/a?sig&signature=lower-case#sig=1",
            "https://example.com/@user",
        ] {
            let parsed = reqwest::Url::parse(url).unwrap();
            assert!(matches!(url_full(&parsed), Cow::Borrowed(_)), "{url}");
            assert_eq!(url_full(&parsed), parsed.as_str());
        }
    }

    #[test]
    fn unknown_method_is_other() {
        let req = request_to("PURGE", "http://[::1]:8080/");
        let attributes = written(&req);
        assert_eq!(name(&req), "HTTP");
        assert_eq!(
            value(&attributes, HTTP_REQUEST_METHOD),
            Some("_OTHER".into())
        );
        assert_eq!(
            value(&attributes, HTTP_REQUEST_METHOD_ORIGINAL),
            Some("PURGE".into())
        );
        assert_eq!(value(&attributes, SERVER_ADDRESS), Some("::1".into()));
        assert_eq!(value(&attributes, SERVER_PORT), Some(Value::I64(8080)));
    }

    #[test]
    fn status_errors_from_400() {
        let response = |code: u16| {
            let res = http::Response::builder().status(code).body(String::new());
            Response::from(res.unwrap())
        };
        for (code, error) in [(200, false), (302, false), (404, true), (503, true)] {
            let mut attributes = Vec::new();
            assert_eq!(super::response(&response(code), &mut attributes), error);
            assert_eq!(
                value(&attributes, HTTP_RESPONSE_STATUS_CODE),
                Some(Value::I64(i64::from(code)))
            );
            let expected = error.then(|| Value::from(code.to_string()));
            assert_eq!(value(&attributes, ERROR_TYPE), expected);
            assert_eq!(
                value(&attributes, NETWORK_PROTOCOL_VERSION),
                Some("1.1".into())
            );
        }
    }
}
