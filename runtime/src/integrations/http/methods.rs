//! The names the HTTP semantic conventions give to request methods and protocol versions,
//! shared by the server layer and the client middleware.

use http::{Method, Version};

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
