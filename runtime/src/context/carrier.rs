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
    use super::*;

    /// Reads header values that are valid UTF-8; others are ignored, like any malformed header.
    pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

    impl Extractor for HeaderExtractor<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|value| value.to_str().ok())
        }

        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(http::HeaderName::as_str).collect()
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
}
