//! The names the HTTP semantic conventions give to request methods and protocol versions,
//! shared by the server layer and the client middleware.

use http::{Method, Version};
use opentelemetry_semantic_conventions::attribute::{
    HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL,
};

use crate::span::attribute_sink::AttributeSink;

/// The method's name when it is one the conventions know (`_OTHER` is recorded otherwise).
pub(crate) fn known_method(method: &Method) -> Option<&'static str> {
    Some(match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => return None,
    })
}

/// Records `http.request.method`: the method's name, or `_OTHER` with the method itself as
/// `http.request.method_original`. Returns the name when the conventions know it.
pub(crate) fn record_method(
    method: &Method,
    attributes: &mut impl AttributeSink,
) -> Option<&'static str> {
    let known = known_method(method);
    match known {
        Some(name) => attributes.static_text(HTTP_REQUEST_METHOD, name),
        None => {
            attributes.static_text(HTTP_REQUEST_METHOD, "_OTHER");
            attributes.text(HTTP_REQUEST_METHOD_ORIGINAL, method.as_str());
        }
    }
    known
}

/// `network.protocol.version` of an HTTP version.
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(known_method(&Method::PATCH), Some("PATCH"));
        assert_eq!(known_method(&Method::from_bytes(b"PURGE").unwrap()), None);
        assert_eq!(protocol_version(Version::HTTP_2), Some("2"));
        assert_eq!(protocol_version(Version::HTTP_11), Some("1.1"));
    }
}
