//! `#[traced(context = arg)]`: extracting the remote parent from the argument that carries it
//! (HTTP headers, a string map, message metadata) with the global propagator.
//!
//! The argument may be any `opentelemetry::propagation::Extractor` (a
//! `HashMap<String, String>` is one), a reference to one, or, with the `http` feature, an
//! `http::HeaderMap` or a reference to one. The choice is made at compile time.

use opentelemetry::propagation::Extractor;
use opentelemetry::{Context, global};

/// The argument under autoref specialisation; see the `Via*` traits.
#[doc(hidden)]
pub struct Carrier<'a, T: ?Sized>(pub &'a T);

/// The parent found in `carrier` by the global propagator, in the current context; the
/// current context itself when the carrier holds none.
fn extract(carrier: &dyn Extractor) -> Context {
    global::get_text_map_propagator(|propagator| {
        propagator.extract_with_context(&Context::current(), carrier)
    })
}

/// First choice: the argument is an `Extractor`.
#[doc(hidden)]
pub trait ViaExtractor {
    fn __traced_extract(&self) -> Context;
}
impl<T: Extractor> ViaExtractor for &&&Carrier<'_, T> {
    fn __traced_extract(&self) -> Context {
        extract(self.0)
    }
}

/// Second choice: the argument is a reference to an `Extractor`.
#[doc(hidden)]
pub trait ViaExtractorRef {
    fn __traced_extract(&self) -> Context;
}
impl<T: Extractor> ViaExtractorRef for &&Carrier<'_, &T> {
    fn __traced_extract(&self) -> Context {
        extract(*self.0)
    }
}

/// Third choice: `http::HeaderMap` (feature `http`).
#[doc(hidden)]
pub trait ViaHeaderMap {
    fn __traced_extract(&self) -> Context;
}

/// Fourth choice: `&http::HeaderMap` (feature `http`).
#[doc(hidden)]
pub trait ViaHeaderMapRef {
    fn __traced_extract(&self) -> Context;
}

#[cfg(feature = "http")]
pub(crate) mod headers {
    use opentelemetry::propagation::Injector;

    use super::*;

    /// Reads header values that are valid UTF-8; others are ignored, like any malformed header.
    pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

    impl Extractor for HeaderExtractor<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            let value = match default_propagation_header(key) {
                Some(name) => self.0.get(name),
                None => self.0.get(key),
            };
            value.and_then(|value| value.to_str().ok())
        }

        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(http::HeaderName::as_str).collect()
        }
    }

    /// Writes the propagator's fields into request headers. A field replaces any header of
    /// the same name the application set (a stale `traceparent` would make the server span
    /// the child of another span); every other header is left as it is. A field whose name
    /// or value is not a valid header is skipped.
    #[cfg_attr(
        not(feature = "reqwest"),
        allow(dead_code, reason = "only the reqwest client writes headers")
    )]
    pub(crate) struct HeaderInjector<'a>(pub(crate) &'a mut http::HeaderMap);

    impl Injector for HeaderInjector<'_> {
        fn set(&mut self, key: &str, value: String) {
            let name = match default_propagation_header(key) {
                Some(name) => name.clone(),
                None => match http::HeaderName::from_bytes(key.as_bytes()) {
                    Ok(name) => name,
                    Err(_) => return,
                },
            };
            // The value takes the propagator's `String` as it is, where `from_str` copied it.
            if let Ok(value) = http::HeaderValue::try_from(value) {
                self.0.insert(name, value);
            }
        }
    }

    /// The headers the default propagators (`tracecontext,baggage`) read from every request
    /// and write into every outgoing one, as names made once: `HeaderMap::get` with a `&str`
    /// parses and checks the name again each time (2 % of a sampled request in
    /// `benches/http_server.rs`, by `perf`), and `HeaderName::from_bytes` also allocates a
    /// name no standard header has (`traceparent`, `tracestate`); a static one's clone
    /// allocates nothing.
    fn default_propagation_header(key: &str) -> Option<&'static http::HeaderName> {
        static TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");
        static TRACESTATE: http::HeaderName = http::HeaderName::from_static("tracestate");
        static BAGGAGE: http::HeaderName = http::HeaderName::from_static("baggage");
        match key {
            "traceparent" => Some(&TRACEPARENT),
            "tracestate" => Some(&TRACESTATE),
            "baggage" => Some(&BAGGAGE),
            _ => None,
        }
    }

    impl ViaHeaderMap for &Carrier<'_, http::HeaderMap> {
        fn __traced_extract(&self) -> Context {
            extract(&HeaderExtractor(self.0))
        }
    }

    impl ViaHeaderMapRef for Carrier<'_, &http::HeaderMap> {
        fn __traced_extract(&self) -> Context {
            extract(&HeaderExtractor(self.0))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn injected_fields_replace_only_their_own_headers() {
            let mut headers = http::HeaderMap::new();
            headers.insert("traceparent", http::HeaderValue::from_static("stale"));
            headers.insert("x-user", http::HeaderValue::from_static("kept"));
            let mut injector = HeaderInjector(&mut headers);
            injector.set("traceparent", "fresh".to_owned());
            injector.set("tracestate", String::new());
            injector.set("x-b3-sampled", "1".to_owned());
            injector.set("bad name", "skipped".to_owned());
            injector.set("b3", "bad\nvalue".to_owned());
            assert_eq!(headers.len(), 4);
            assert_eq!(headers["traceparent"], "fresh");
            assert_eq!(headers["tracestate"], "");
            assert_eq!(headers["x-b3-sampled"], "1");
            assert_eq!(headers["x-user"], "kept");
            assert!(!headers.contains_key("b3"));
        }

        #[test]
        fn every_header_reads_as_the_header_map_reads_it() {
            let mut headers = http::HeaderMap::new();
            let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
            headers.insert("traceparent", http::HeaderValue::from_static(traceparent));
            headers.insert("baggage", http::HeaderValue::from_static("user=ada"));
            headers.insert("x-b3-sampled", http::HeaderValue::from_static("1"));
            let not_utf8 = http::HeaderValue::from_bytes(b"caf\xe9").expect("a header value");
            headers.insert("tracestate", not_utf8);
            let extractor = HeaderExtractor(&headers);
            assert_eq!(extractor.get("traceparent"), Some(traceparent));
            assert_eq!(extractor.get("TraceParent"), Some(traceparent));
            assert_eq!(extractor.get("baggage"), Some("user=ada"));
            assert_eq!(extractor.get("x-b3-sampled"), Some("1"));
            // Not UTF-8: ignored, as any malformed header.
            assert_eq!(extractor.get("tracestate"), None);
            assert_eq!(extractor.get("b3"), None);
            assert_eq!(extractor.get("not a header name"), None);
        }
    }
}
