//! Baggage carried as one header per entry under a prefix: Jaeger's `uberctx-{key}` and OT
//! Trace's `ot-baggage-{key}`. Extracted entries are added to the context's baggage (the W3C
//! `baggage` propagator may have filled it already); entries the baggage API refuses (an
//! invalid key, over its size limits) are dropped.

use std::borrow::Cow;

use opentelemetry::Context;
use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::propagation::{Extractor, Injector};

/// Adds every `{prefix}{key}: {value}` header of the carrier to the baggage, the prefix
/// matched case-insensitively and the value passed through `decode`.
pub(super) fn extract(
    cx: &Context,
    extractor: &dyn Extractor,
    prefix: &str,
    decode: fn(&str) -> Cow<'_, str>,
) -> Context {
    let mut found = Vec::new();
    for header in extractor.keys() {
        let Some(key) = strip_prefix_ignore_ascii_case(header, prefix) else {
            continue;
        };
        if key.is_empty() {
            continue;
        }
        if let Some(value) = extractor.get(header) {
            found.push((key.to_owned(), decode(value).into_owned()));
        }
    }
    if found.is_empty() {
        return cx.clone();
    }
    let mut baggage = Baggage::new();
    for (key, (value, metadata)) in cx.baggage() {
        baggage.insert_with_metadata(key.clone(), value.clone(), metadata.clone());
    }
    for (key, value) in found {
        baggage.insert(key, value);
    }
    cx.with_baggage(baggage)
}

/// Writes every baggage entry as `{prefix}{key}`, its value passed through `encode`; an
/// entry `encode` refuses (`None`) is not written.
pub(super) fn inject(
    cx: &Context,
    injector: &mut dyn Injector,
    prefix: &str,
    encode: fn(&str) -> Option<String>,
) {
    for (key, (value, _metadata)) in cx.baggage() {
        if let Some(value) = encode(value.as_str()) {
            injector.set(&format!("{prefix}{}", key.as_str()), value);
        }
    }
}

fn strip_prefix_ignore_ascii_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_case_insensitively_on_char_boundaries() {
        assert_eq!(
            strip_prefix_ignore_ascii_case("UberCtx-Key", "uberctx-"),
            Some("Key")
        );
        assert_eq!(
            strip_prefix_ignore_ascii_case("uberctx-", "uberctx-"),
            Some("")
        );
        assert_eq!(strip_prefix_ignore_ascii_case("uber", "uberctx-"), None);
        assert_eq!(
            strip_prefix_ignore_ascii_case("ubérctx-key", "uberctx-"),
            None
        );
    }
}
