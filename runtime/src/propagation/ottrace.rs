//! OT Trace, the format of the OpenTracing basic tracers: `ot-tracer-traceid`,
//! `ot-tracer-spanid`, `ot-tracer-sampled` and baggage as `ot-baggage-{key}` headers.

use std::borrow::Cow;
use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};

use super::ids::{span_id_lower_hex, trace_id_lower_hex};
use super::{baggage_headers, remote_span_context, with_remote_parent};

const TRACE_ID: &str = "ot-tracer-traceid";
const SPAN_ID: &str = "ot-tracer-spanid";
const SAMPLED: &str = "ot-tracer-sampled";
const BAGGAGE_PREFIX: &str = "ot-baggage-";

static FIELDS: LazyLock<[String; 3]> =
    LazyLock::new(|| [TRACE_ID, SPAN_ID, SAMPLED].map(str::to_owned));

/// The OT Trace propagator: `ottrace` in `OTEL_PROPAGATORS`.
///
/// Reads a trace id of 16 (left-padded) or 32 lowercase hex digits, a span id of 16, and a
/// sampled flag of `true`/`false` (or the `1`/`0` older OpenTelemetry Go versions wrote;
/// absent means not sampled). Writes the trace id truncated to its low 64 bits as 16 hex
/// digits, since OpenTracing tracers only understand 64-bit ids, and `true`/`false`. Baggage
/// travels as one raw `ot-baggage-{key}` header per entry, in both directions; entries whose
/// value could not be an HTTP header value are not written. `fields()` lists the three
/// `ot-tracer-*` headers only. Malformed headers leave the context unchanged.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use traced::OtTracePropagator;
/// use traced::opentelemetry::propagation::TextMapPropagator;
/// use traced::opentelemetry::trace::TraceContextExt;
///
/// let mut headers = HashMap::new();
/// headers.insert("ot-tracer-traceid".to_owned(), "ee8e3e41b17ce105".to_owned());
/// headers.insert("ot-tracer-spanid".to_owned(), "e457b5a2e4d86bd1".to_owned());
/// headers.insert("ot-tracer-sampled".to_owned(), "true".to_owned());
/// let cx = OtTracePropagator::new().extract(&headers);
/// assert_eq!(
///     cx.span().span_context().trace_id().to_string(),
///     "0000000000000000ee8e3e41b17ce105"
/// );
///
/// let mut outgoing = HashMap::new();
/// OtTracePropagator::new().inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing, headers);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OtTracePropagator {
    _private: (),
}

impl OtTracePropagator {
    /// The OT Trace propagator.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry::propagation::TextMapPropagator;
    ///
    /// let ottrace = traced::OtTracePropagator::new();
    /// assert!(ottrace.fields().any(|field| field == "ot-tracer-spanid"));
    /// ```
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

fn parse(extractor: &dyn Extractor) -> Option<SpanContext> {
    let field = |name| extractor.get(name).map(str::trim);
    let trace_id = trace_id_lower_hex(field(TRACE_ID)?, true)?;
    let span_id = span_id_lower_hex(field(SPAN_ID)?)?;
    let sampled = match field(SAMPLED) {
        None => false,
        Some("1") => true,
        Some("0") => false,
        Some(flag) if flag.eq_ignore_ascii_case("true") => true,
        Some(flag) if flag.eq_ignore_ascii_case("false") => false,
        Some(_) => return None,
    };
    Some(remote_span_context(trace_id, span_id, sampled))
}

/// Raw values, as the format has them.
fn decode_baggage(value: &str) -> Cow<'_, str> {
    Cow::Borrowed(value)
}

/// RFC 7230 field content: visible ASCII, with inner spaces and tabs.
fn encode_baggage(value: &str) -> Option<String> {
    let visible = |b: &u8| b.is_ascii_graphic();
    let bytes = value.as_bytes();
    let valid = bytes.first().is_none_or(visible)
        && bytes.last().is_none_or(visible)
        && bytes
            .iter()
            .all(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t'));
    valid.then(|| value.to_owned())
}

impl TextMapPropagator for OtTracePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if span_context.is_valid() {
            let trace_id = u128::from_be_bytes(span_context.trace_id().to_bytes());
            // Truncation is the format's rule: the least significant 64 bits are kept.
            injector.set(TRACE_ID, format!("{:016x}", trace_id as u64));
            injector.set(SPAN_ID, span_context.span_id().to_string());
            injector.set(SAMPLED, span_context.is_sampled().to_string());
        }
        baggage_headers::inject(cx, injector, BAGGAGE_PREFIX, encode_baggage);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let cx = match parse(extractor) {
            Some(span_context) => with_remote_parent(cx, span_context, false),
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
    use opentelemetry::trace::{SpanId, TraceId};

    use super::*;
    use crate::propagation::tests::{assert_unchanged, carrier, remote_context, span_context_of};

    const SPAN: &str = "e457b5a2e4d86bd1";

    fn span_id() -> SpanId {
        SpanId::from(0xe457_b5a2_e4d8_6bd1)
    }

    #[test]
    fn round_trips_64_bit_trace_ids_and_baggage() {
        let trace_id = TraceId::from(0xee8e_3e41_b17c_e105);
        for sampled in [true, false] {
            let cx = remote_context(trace_id, span_id(), sampled)
                .with_baggage([KeyValue::new("tenant", "acme corp")]);
            let mut headers = HashMap::new();
            OtTracePropagator::new().inject_context(&cx, &mut headers);
            let back = OtTracePropagator::new().extract(&headers);
            let extracted = span_context_of(&back);
            assert_eq!(extracted.trace_id(), trace_id);
            assert_eq!(extracted.span_id(), span_id());
            assert_eq!(extracted.is_sampled(), sampled);
            assert!(extracted.is_remote());
            assert_eq!(
                back.baggage().get("tenant").map(|v| v.as_str()),
                Some("acme corp")
            );
        }
    }

    #[test]
    fn injects_the_low_64_bits_of_a_128_bit_trace_id() {
        let trace_id = TraceId::from(0x3c30_39f4_d78d_5c02_ee8e_3e41_b17c_e105);
        let cx = remote_context(trace_id, span_id(), true).with_baggage([
            KeyValue::new("ok", "a b"),
            KeyValue::new("bad", "line\nbreak"),
        ]);
        let mut headers = HashMap::new();
        OtTracePropagator::new().inject_context(&cx, &mut headers);
        assert_eq!(
            headers,
            carrier(&[
                ("ot-tracer-traceid", "ee8e3e41b17ce105"),
                ("ot-tracer-spanid", SPAN),
                ("ot-tracer-sampled", "true"),
                ("ot-baggage-ok", "a b"),
            ])
        );
    }

    #[test]
    fn extracts_what_other_implementations_write() {
        let cases = [
            ("ee8e3e41b17ce105", Some("true"), true),
            ("ee8e3e41b17ce105", Some("false"), false),
            ("ee8e3e41b17ce105", Some("1"), true), // older OpenTelemetry Go
            ("ee8e3e41b17ce105", Some("True"), true),
            ("ee8e3e41b17ce105", None, false),
            ("3c3039f4d78d5c02ee8e3e41b17ce105", Some("true"), true),
        ];
        for (trace, sampled, expected) in cases {
            let mut headers = carrier(&[("ot-tracer-traceid", trace), ("ot-tracer-spanid", SPAN)]);
            if let Some(sampled) = sampled {
                headers.insert(SAMPLED.to_owned(), sampled.to_owned());
            }
            let extracted = span_context_of(&OtTracePropagator::new().extract(&headers));
            assert_eq!(
                extracted.trace_id().to_string().trim_start_matches('0'),
                trace.trim_start_matches('0')
            );
            assert_eq!(extracted.span_id(), span_id());
            assert_eq!(extracted.is_sampled(), expected, "{sampled:?}");
        }
    }

    #[test]
    fn malformed_headers_leave_the_context_unchanged() {
        let cases: [&[(&str, &str)]; 10] = [
            &[],
            &[("ot-tracer-spanid", SPAN)],
            &[("ot-tracer-traceid", "ee8e3e41b17ce105")],
            &[
                ("ot-tracer-traceid", "e8e3e41b17ce105"),
                ("ot-tracer-spanid", SPAN),
            ],
            &[
                ("ot-tracer-traceid", "ee8e3e41b17ce1050"),
                ("ot-tracer-spanid", SPAN),
            ],
            &[
                ("ot-tracer-traceid", "EE8E3E41B17CE105"),
                ("ot-tracer-spanid", SPAN),
            ],
            &[
                ("ot-tracer-traceid", "0000000000000000"),
                ("ot-tracer-spanid", SPAN),
            ],
            &[
                ("ot-tracer-traceid", "ee8e3e41b17ce105"),
                ("ot-tracer-spanid", "0000000000000000"),
            ],
            &[
                ("ot-tracer-traceid", "ee8e3e41b17ce105"),
                ("ot-tracer-spanid", "e457b5a2e4d86bdz"),
            ],
            &[
                ("ot-tracer-traceid", "ee8e3e41b17ce105"),
                ("ot-tracer-spanid", SPAN),
                ("ot-tracer-sampled", "yes"),
            ],
        ];
        for headers in cases {
            assert_unchanged(&OtTracePropagator::new(), &carrier(headers));
        }
    }

    #[test]
    fn baggage_values_are_raw() {
        let headers = carrier(&[("ot-baggage-key", "a%20b"), ("OT-Baggage-Other", "x")]);
        let cx = OtTracePropagator::new().extract(&headers);
        assert_eq!(cx.baggage().get("key").map(|v| v.as_str()), Some("a%20b"));
        assert_eq!(cx.baggage().get("other").map(|v| v.as_str()), Some("x"));
    }
}
