//! Jaeger, to the Jaeger client libraries' propagation format: `uber-trace-id:
//! {trace-id}:{span-id}:{parent-span-id}:{flags}` and baggage as `uberctx-{key}` headers.

use std::borrow::Cow;
use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceId};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::ids::{variable_hex_u64, variable_hex_u128};
use super::{baggage_headers, is_debug, remote_span_context, with_remote_parent};

const TRACE_HEADER: &str = "uber-trace-id";
const BAGGAGE_PREFIX: &str = "uberctx-";
const FLAG_SAMPLED: u8 = 0x01;
const FLAG_DEBUG: u8 = 0x02;

/// Baggage values are URL-encoded; only the unreserved characters stay as they are.
const BAGGAGE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

static FIELDS: LazyLock<[String; 1]> = LazyLock::new(|| [TRACE_HEADER.to_owned()]);

/// The Jaeger propagator: `jaeger` in `OTEL_PROPAGATORS`.
///
/// Reads `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`, also with the
/// colons URL-encoded (`%3A`), with trace ids of up to 32 and span ids of up to 16 hex digits
/// left-padded (Jaeger clients drop leading zeros), and the flags' sampled (`0x01`) and debug
/// (`0x02`, which implies sampled) bits. Writes `{32 hex}:{16 hex}:0:{flags as 2 hex}`: the
/// parent span id is deprecated and always `0`. Baggage travels as one `uberctx-{key}` header
/// per entry with a URL-encoded value, in both directions; `fields()` lists only
/// `uber-trace-id`, since baggage header names depend on the entries. Malformed headers leave
/// the context unchanged.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use traced::JaegerPropagator;
/// use traced::opentelemetry::baggage::BaggageExt;
/// use traced::opentelemetry::propagation::TextMapPropagator;
/// use traced::opentelemetry::trace::TraceContextExt;
///
/// let mut headers = HashMap::new();
/// headers.insert(
///     "uber-trace-id".to_owned(),
///     "0000000000000000123456789abcdef0:23456789abcdef01:0:1".to_owned(),
/// );
/// headers.insert("uberctx-tenant".to_owned(), "acme%20corp".to_owned());
/// let cx = JaegerPropagator::new().extract(&headers);
/// assert_eq!(cx.span().span_context().span_id().to_string(), "23456789abcdef01");
/// assert!(cx.span().span_context().is_sampled());
/// assert_eq!(cx.baggage().get("tenant").map(|v| v.as_str()), Some("acme corp"));
///
/// let mut outgoing = HashMap::new();
/// JaegerPropagator::new().inject_context(&cx, &mut outgoing);
/// assert_eq!(
///     outgoing["uber-trace-id"],
///     "0000000000000000123456789abcdef0:23456789abcdef01:0:01"
/// );
/// assert_eq!(outgoing["uberctx-tenant"], "acme%20corp");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JaegerPropagator {
    _private: (),
}

impl JaegerPropagator {
    /// The Jaeger propagator.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry::propagation::TextMapPropagator;
    ///
    /// let jaeger = traced::JaegerPropagator::new();
    /// assert_eq!(jaeger.fields().collect::<Vec<_>>(), ["uber-trace-id"]);
    /// ```
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

/// Parses a `uber-trace-id` value into the remote parent and its debug bit.
fn parse(value: &str) -> Option<(SpanContext, bool)> {
    let value = value.trim();
    let value = if value.contains('%') {
        Cow::Owned(value.replace("%3A", ":").replace("%3a", ":"))
    } else {
        Cow::Borrowed(value)
    };
    let mut parts = value.split(':');
    let trace_id = variable_hex_u128(parts.next()?).filter(|id| *id != 0)?;
    let span_id = variable_hex_u64(parts.next()?).filter(|id| *id != 0)?;
    // The deprecated parent span id: checked for shape, then ignored.
    variable_hex_u64(parts.next()?)?;
    let flags = parts.next().filter(|flags| flags.len() <= 2)?;
    let flags = u8::try_from(variable_hex_u64(flags)?).ok()?;
    if parts.next().is_some() {
        return None;
    }
    let debug = flags & FLAG_DEBUG != 0;
    let sampled = debug || flags & FLAG_SAMPLED != 0;
    Some((
        remote_span_context(TraceId::from(trace_id), SpanId::from(span_id), sampled),
        debug,
    ))
}

/// URL-decodes a baggage value (`+` is a space, as Jaeger's Go and Java clients write it);
/// a value that does not decode to UTF-8 is kept as received.
fn decode_baggage(value: &str) -> Cow<'_, str> {
    let spaced = value.replace('+', " ");
    match percent_decode_str(&spaced).decode_utf8() {
        Ok(decoded) => Cow::Owned(decoded.into_owned()),
        Err(_) => Cow::Borrowed(value),
    }
}

fn encode_baggage(value: &str) -> Option<String> {
    Some(utf8_percent_encode(value, BAGGAGE_VALUE).to_string())
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if span_context.is_valid() {
            let mut flags = 0;
            if span_context.is_sampled() {
                flags |= FLAG_SAMPLED;
                if is_debug(cx) {
                    flags |= FLAG_DEBUG;
                }
            }
            injector.set(
                TRACE_HEADER,
                format!(
                    "{}:{}:0:{flags:02x}",
                    span_context.trace_id(),
                    span_context.span_id()
                ),
            );
        }
        baggage_headers::inject(cx, injector, BAGGAGE_PREFIX, encode_baggage);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let cx = match extractor.get(TRACE_HEADER).and_then(parse) {
            Some((span_context, debug)) => with_remote_parent(cx, span_context, debug),
            None => cx.clone(),
        };
        baggage_headers::extract(&cx, extractor, BAGGAGE_PREFIX, decode_baggage)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::KeyValue;
    use opentelemetry::baggage::BaggageExt;

    use super::*;
    use crate::propagation::tests::{assert_unchanged, carrier, remote_context, span_context_of};

    fn extract(value: &str) -> Context {
        JaegerPropagator::new().extract(&carrier(&[(TRACE_HEADER, value)]))
    }

    #[test]
    fn round_trips_trace_and_baggage() {
        let trace_id = TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736);
        let span_id = SpanId::from(0x00f0_67aa_0ba9_02b7);
        for sampled in [true, false] {
            let cx = remote_context(trace_id, span_id, sampled).with_baggage([
                KeyValue::new("user", "ada lovelace"),
                KeyValue::new("path", "/a:b+c%d/é"),
            ]);
            let mut headers = HashMap::new();
            JaegerPropagator::new().inject_context(&cx, &mut headers);
            let back = JaegerPropagator::new().extract(&headers);
            let extracted = span_context_of(&back);
            assert_eq!(extracted.trace_id(), trace_id);
            assert_eq!(extracted.span_id(), span_id);
            assert_eq!(extracted.is_sampled(), sampled);
            assert!(extracted.is_remote());
            assert_eq!(
                back.baggage().get("user").map(|v| v.as_str()),
                Some("ada lovelace")
            );
            assert_eq!(
                back.baggage().get("path").map(|v| v.as_str()),
                Some("/a:b+c%d/é")
            );
        }
    }

    #[test]
    fn extracts_what_jaeger_clients_write() {
        let cx = extract("0000000000000000123456789abcdef0:23456789abcdef01:0:1");
        let extracted = span_context_of(&cx);
        assert_eq!(extracted.trace_id(), TraceId::from(0x1234_5678_9abc_def0));
        assert_eq!(extracted.span_id(), SpanId::from(0x2345_6789_abcd_ef01));
        assert!(extracted.is_sampled());
        assert!(!is_debug(&cx));

        // 16-hex trace id, and ids without their leading zeros.
        let extracted = span_context_of(&extract("123456789abcdef0:23456789abcdef01:0:1"));
        assert_eq!(extracted.trace_id(), TraceId::from(0x1234_5678_9abc_def0));
        let extracted = span_context_of(&extract("abc:12:0:0"));
        assert_eq!(extracted.trace_id(), TraceId::from(0xabc));
        assert_eq!(extracted.span_id(), SpanId::from(0x12));
        assert!(!extracted.is_sampled());

        // URL-encoded colons, a real parent id, and upper-case hex.
        let extracted = span_context_of(&extract(
            "123456789ABCDEF0%3A23456789abcdef01%3a3456789abcdef012%3A01",
        ));
        assert_eq!(extracted.trace_id(), TraceId::from(0x1234_5678_9abc_def0));
        assert!(extracted.is_sampled());
    }

    #[test]
    fn debug_implies_sampled_and_is_injected_again() {
        let cx = extract("123456789abcdef0:23456789abcdef01:0:2");
        assert!(span_context_of(&cx).is_sampled());
        assert!(is_debug(&cx));
        let mut headers = HashMap::new();
        JaegerPropagator::new().inject_context(&cx, &mut headers);
        assert_eq!(
            headers[TRACE_HEADER],
            "0000000000000000123456789abcdef0:23456789abcdef01:0:03"
        );
        // Unused bits (firehose 0x08) are accepted and not propagated.
        let cx = extract("123456789abcdef0:23456789abcdef01:0:09");
        assert!(span_context_of(&cx).is_sampled());
        assert!(!is_debug(&cx));
    }

    #[test]
    fn malformed_headers_leave_the_context_unchanged() {
        let propagator = JaegerPropagator::new();
        for value in [
            "",
            ":::",
            "123456789abcdef0:23456789abcdef01:0",
            "123456789abcdef0:23456789abcdef01",
            "123456789abcdef0",
            "123456789abcdef0:23456789abcdef01:0:1:extra",
            "0:23456789abcdef01:0:1",
            "00000000000000000000000000000000:23456789abcdef01:0:1",
            "123456789abcdef0:0000000000000000:0:1",
            "123456789abcdef0123456789abcdef01:23456789abcdef01:0:1",
            "123456789abcdef0:23456789abcdef012:0:1",
            "123456789abcdefg:23456789abcdef01:0:1",
            "123456789abcdef0:23456789abcdef0x:0:1",
            "123456789abcdef0:23456789abcdef01:zz:1",
            "123456789abcdef0:23456789abcdef01:0:",
            "123456789abcdef0:23456789abcdef01:0:001",
            "123456789abcdef0:23456789abcdef01:0:g",
            "+123456789abcdef:23456789abcdef01:0:1",
            "123456789abcdef0%3A23456789abcdef01%3A0",
        ] {
            assert_unchanged(&propagator, &carrier(&[(TRACE_HEADER, value)]));
        }
    }

    #[test]
    fn baggage_is_read_without_a_trace_header_and_merged() {
        let cx = Context::new().with_baggage([KeyValue::new("from-w3c", "1")]);
        let headers = carrier(&[
            ("uberctx-k1", "v1"),
            ("UberCtx-K2", "a+b%2Bc"),
            ("uberctx-", "no key"),
            ("uberctxk3", "no dash"),
            ("uberctx-bad", "%ff"),
        ]);
        let cx = JaegerPropagator::new().extract_with_context(&cx, &headers);
        let baggage = cx.baggage();
        assert_eq!(baggage.get("from-w3c").map(|v| v.as_str()), Some("1"));
        assert_eq!(baggage.get("k1").map(|v| v.as_str()), Some("v1"));
        assert_eq!(baggage.get("k2").map(|v| v.as_str()), Some("a b+c"));
        assert_eq!(baggage.get("bad").map(|v| v.as_str()), Some("%ff"));
        assert_eq!(baggage.len(), 4);
        assert!(!span_context_of(&cx).is_valid());
    }
}
