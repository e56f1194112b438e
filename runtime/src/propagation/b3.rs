//! B3 (Zipkin), to <https://github.com/openzipkin/b3-propagation> and the OpenTelemetry
//! specification's "B3 Requirements": reads the single `b3` header first and the `X-B3-*`
//! headers second, writes the encoding it was built with, never writes `X-B3-ParentSpanId`.

use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};

use super::ids::{span_id_lower_hex, trace_id_lower_hex};
use super::{is_debug, remote_span_context, with_remote_parent};

const SINGLE: &str = "b3";
const TRACE_ID: &str = "x-b3-traceid";
const SPAN_ID: &str = "x-b3-spanid";
const PARENT_SPAN_ID: &str = "x-b3-parentspanid";
const SAMPLED: &str = "x-b3-sampled";
const FLAGS: &str = "x-b3-flags";

static SINGLE_FIELDS: LazyLock<[String; 1]> = LazyLock::new(|| [SINGLE.to_owned()]);
static MULTI_FIELDS: LazyLock<[String; 4]> =
    LazyLock::new(|| [TRACE_ID, SPAN_ID, SAMPLED, FLAGS].map(str::to_owned));

/// The encoding a [`B3Propagator`] writes. It reads both whatever this is.
///
/// # Example
///
/// ```
/// use traced::{B3Encoding, B3Propagator};
///
/// let multi = B3Propagator::with_encoding(B3Encoding::MultipleHeaders);
/// assert_eq!(multi.encoding(), B3Encoding::MultipleHeaders);
/// assert_eq!(B3Encoding::default(), B3Encoding::SingleHeader);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum B3Encoding {
    /// One header, `b3: {TraceId}-{SpanId}-{SamplingState}` (`OTEL_PROPAGATORS=b3`): the
    /// specification's default.
    #[default]
    SingleHeader,
    /// `X-B3-TraceId`, `X-B3-SpanId`, and `X-B3-Sampled` or `X-B3-Flags`
    /// (`OTEL_PROPAGATORS=b3multi`).
    MultipleHeaders,
}

/// The B3 (Zipkin) propagator: `b3` and `b3multi` in `OTEL_PROPAGATORS`.
///
/// Extraction tries the single `b3` header, then the `X-B3-*` headers. Identifiers are
/// lowercase hex, as the specification writes them; trace ids of 16 hex digits are left-padded
/// to 128 bits. A missing sampling state ("defer") extracts as not
/// sampled, as the other OpenTelemetry SDKs do. The debug state (`d`, `X-B3-Flags: 1`)
/// extracts as sampled and is kept in the context, so spans created under it inject `d`
/// again. Malformed headers leave the context unchanged.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use traced::B3Propagator;
/// use traced::opentelemetry::propagation::TextMapPropagator;
/// use traced::opentelemetry::trace::TraceContextExt;
///
/// let mut headers = HashMap::new();
/// headers.insert(
///     "b3".to_owned(),
///     "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90".to_owned(),
/// );
/// let cx = B3Propagator::new().extract(&headers);
/// let span = cx.span();
/// assert_eq!(span.span_context().trace_id().to_string(), "80f198ee56343ba864fe8b2a57d3eff7");
/// assert!(span.span_context().is_sampled());
///
/// let mut outgoing = HashMap::new();
/// B3Propagator::new().inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing["b3"], "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct B3Propagator {
    encoding: B3Encoding,
}

impl B3Propagator {
    /// A propagator that writes the single `b3` header.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry::propagation::TextMapPropagator;
    ///
    /// let b3 = traced::B3Propagator::new();
    /// assert_eq!(b3.fields().collect::<Vec<_>>(), ["b3"]);
    /// ```
    pub const fn new() -> Self {
        Self::with_encoding(B3Encoding::SingleHeader)
    }

    /// A propagator that writes the given encoding.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::{B3Encoding, B3Propagator};
    /// use traced::opentelemetry::propagation::TextMapPropagator;
    ///
    /// let b3multi = B3Propagator::with_encoding(B3Encoding::MultipleHeaders);
    /// assert!(b3multi.fields().any(|field| field == "x-b3-traceid"));
    /// ```
    pub const fn with_encoding(encoding: B3Encoding) -> Self {
        Self { encoding }
    }

    /// The encoding this propagator writes.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(traced::B3Propagator::new().encoding(), traced::B3Encoding::SingleHeader);
    /// ```
    pub const fn encoding(&self) -> B3Encoding {
        self.encoding
    }
}

/// B3's four sampling states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sampling {
    Defer,
    Deny,
    Accept,
    Debug,
}

impl Sampling {
    fn into_span_context(self, trace: &str, span: &str) -> Option<(SpanContext, bool)> {
        let trace_id = trace_id_lower_hex(trace, true)?;
        let span_id = span_id_lower_hex(span)?;
        let sampled = matches!(self, Sampling::Accept | Sampling::Debug);
        Some((
            remote_span_context(trace_id, span_id, sampled),
            self == Sampling::Debug,
        ))
    }
}

/// `{TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]`; a lone sampling state (`b3: 0`)
/// carries no identifiers and so no parent.
fn parse_single(value: &str) -> Option<(SpanContext, bool)> {
    let mut parts = value.trim().split('-');
    let trace = parts.next()?;
    let span = parts.next()?;
    let sampling = match parts.next() {
        None => Sampling::Defer,
        Some("0") => Sampling::Deny,
        Some("1") => Sampling::Accept,
        Some("d") => Sampling::Debug,
        Some(_) => return None,
    };
    if let Some(parent) = parts.next() {
        span_id_lower_hex(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    sampling.into_span_context(trace, span)
}

fn parse_multi(extractor: &dyn Extractor) -> Option<(SpanContext, bool)> {
    let field = |name| extractor.get(name).map(str::trim);
    let trace = field(TRACE_ID)?;
    let span = field(SPAN_ID)?;
    if let Some(parent) = field(PARENT_SPAN_ID) {
        span_id_lower_hex(parent)?;
    }
    // "Debug implies an accept decision", whatever X-B3-Sampled says.
    let sampling = if field(FLAGS) == Some("1") {
        Sampling::Debug
    } else {
        match field(SAMPLED) {
            None => Sampling::Defer,
            Some("1") => Sampling::Accept,
            Some("0") => Sampling::Deny,
            // The B3 specification lets a lenient reader accept the legacy booleans.
            Some(legacy) if legacy.eq_ignore_ascii_case("true") => Sampling::Accept,
            Some(legacy) if legacy.eq_ignore_ascii_case("false") => Sampling::Deny,
            Some(_) => return None,
        }
    };
    sampling.into_span_context(trace, span)
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        let sampled = span_context.is_sampled();
        // Debug is an emphasised accept: only claimed while the trace is in fact sampled.
        let debug = sampled && is_debug(cx);
        match self.encoding {
            B3Encoding::SingleHeader => {
                let state = match (debug, sampled) {
                    (true, _) => "d",
                    (false, true) => "1",
                    (false, false) => "0",
                };
                injector.set(
                    SINGLE,
                    format!(
                        "{}-{}-{state}",
                        span_context.trace_id(),
                        span_context.span_id()
                    ),
                );
            }
            B3Encoding::MultipleHeaders => {
                injector.set(TRACE_ID, span_context.trace_id().to_string());
                injector.set(SPAN_ID, span_context.span_id().to_string());
                if debug {
                    injector.set(FLAGS, "1".to_owned());
                } else {
                    injector.set(SAMPLED, if sampled { "1" } else { "0" }.to_owned());
                }
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let extracted = extractor
            .get(SINGLE)
            .and_then(parse_single)
            .or_else(|| parse_multi(extractor));
        match extracted {
            Some((span_context, debug)) => with_remote_parent(cx, span_context, debug),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        match self.encoding {
            B3Encoding::SingleHeader => FieldIter::new(SINGLE_FIELDS.as_slice()),
            B3Encoding::MultipleHeaders => FieldIter::new(MULTI_FIELDS.as_slice()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::trace::{SpanId, TraceId, Tracer, TracerProvider};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;
    use crate::propagation::tests::{assert_unchanged, carrier, remote_context, span_context_of};

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    fn single() -> B3Propagator {
        B3Propagator::new()
    }

    fn multi() -> B3Propagator {
        B3Propagator::with_encoding(B3Encoding::MultipleHeaders)
    }

    fn trace_id() -> TraceId {
        TraceId::from(0x80f1_98ee_5634_3ba8_64fe_8b2a_57d3_eff7)
    }

    fn span_id() -> SpanId {
        SpanId::from(0xe457_b5a2_e4d8_6bd1)
    }

    #[test]
    fn round_trips_through_both_encodings() {
        for propagator in [single(), multi()] {
            for sampled in [true, false] {
                let cx = remote_context(trace_id(), span_id(), sampled);
                let mut headers = HashMap::new();
                propagator.inject_context(&cx, &mut headers);
                let extracted = span_context_of(&propagator.extract(&headers));
                assert_eq!(extracted.trace_id(), trace_id(), "{propagator:?}");
                assert_eq!(extracted.span_id(), span_id());
                assert_eq!(extracted.is_sampled(), sampled);
                assert!(extracted.is_remote());
                assert!(!headers.contains_key(PARENT_SPAN_ID));
            }
        }
    }

    #[test]
    fn injects_the_configured_encoding_only() {
        let cx = remote_context(trace_id(), span_id(), true);
        let mut headers = HashMap::new();
        single().inject_context(&cx, &mut headers);
        assert_eq!(headers, carrier(&[("b3", &format!("{TRACE}-{SPAN}-1"))]));

        let mut headers = HashMap::new();
        multi().inject_context(&cx, &mut headers);
        assert_eq!(
            headers,
            carrier(&[
                ("x-b3-traceid", TRACE),
                ("x-b3-spanid", SPAN),
                ("x-b3-sampled", "1")
            ])
        );

        let mut headers = HashMap::new();
        single().inject_context(&Context::new(), &mut headers);
        assert!(headers.is_empty(), "no span, no header: {headers:?}");
    }

    #[test]
    fn extracts_single_headers_as_zipkin_writes_them() {
        let cases = [
            (format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90"), true, false),
            (format!("{TRACE}-{SPAN}-1"), true, false),
            (format!("{TRACE}-{SPAN}-0"), false, false),
            (format!("{TRACE}-{SPAN}-d"), true, true),
            (format!("{TRACE}-{SPAN}"), false, false), // defer
        ];
        for (value, sampled, debug) in cases {
            for propagator in [single(), multi()] {
                let cx = propagator.extract(&carrier(&[("b3", &value)]));
                let extracted = span_context_of(&cx);
                assert!(extracted.is_valid(), "{value}");
                assert_eq!(extracted.trace_id(), trace_id());
                assert_eq!(extracted.span_id(), span_id());
                assert_eq!(extracted.is_sampled(), sampled, "{value}");
                assert_eq!(is_debug(&cx), debug, "{value}");
            }
        }
    }

    #[test]
    fn extracts_a_64_bit_trace_id_left_padded() {
        let cx = single().extract(&carrier(&[("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-1")]));
        assert_eq!(
            span_context_of(&cx).trace_id(),
            TraceId::from(0x64fe_8b2a_57d3_eff7)
        );
        let cx = single().extract(&carrier(&[
            ("X-B3-TraceId", "64fe8b2a57d3eff7"),
            ("X-B3-SpanId", SPAN),
        ]));
        assert_eq!(
            span_context_of(&cx).trace_id(),
            TraceId::from(0x64fe_8b2a_57d3_eff7)
        );
    }

    /// Extra headers beside `X-B3-TraceId` and `X-B3-SpanId`, and the expected sampled and
    /// debug states.
    type MultiCase = (&'static [(&'static str, &'static str)], bool, bool);

    #[test]
    fn extracts_multiple_headers() {
        let cases: [MultiCase; 6] = [
            (&[("x-b3-sampled", "1")], true, false),
            (&[("x-b3-sampled", "0")], false, false),
            (&[("x-b3-sampled", "true")], true, false),
            (&[("x-b3-sampled", "false")], false, false),
            (&[("x-b3-flags", "1")], true, true),
            (
                &[
                    ("x-b3-flags", "1"),
                    ("x-b3-sampled", "0"),
                    ("x-b3-parentspanid", "05e3ac9a4f6e3b90"),
                ],
                true,
                true,
            ),
        ];
        for (extra, sampled, debug) in cases {
            let mut headers = carrier(&[("x-b3-traceid", TRACE), ("x-b3-spanid", SPAN)]);
            headers.extend(carrier(extra));
            let cx = single().extract(&headers);
            let extracted = span_context_of(&cx);
            assert_eq!(extracted.trace_id(), trace_id(), "{extra:?}");
            assert_eq!(extracted.is_sampled(), sampled, "{extra:?}");
            assert_eq!(is_debug(&cx), debug, "{extra:?}");
        }
    }

    #[test]
    fn single_header_takes_precedence() {
        let headers = carrier(&[
            ("b3", &format!("{TRACE}-{SPAN}-0")),
            ("x-b3-traceid", "0000000000000001"),
            ("x-b3-spanid", "0000000000000002"),
            ("x-b3-sampled", "1"),
        ]);
        let extracted = span_context_of(&multi().extract(&headers));
        assert_eq!(extracted.trace_id(), trace_id());
        assert!(!extracted.is_sampled());
    }

    #[test]
    fn malformed_headers_leave_the_context_unchanged() {
        let singles = [
            "0".to_owned(), // a lone deny decision carries no parent
            "1".to_owned(),
            "d".to_owned(),
            String::new(),
            "-".to_owned(),
            TRACE.to_owned(),
            format!("{TRACE}-"),
            format!("{TRACE}-{SPAN}-"),
            format!("{TRACE}-{SPAN}-2"),
            format!("{TRACE}-{SPAN}-true"),
            format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b9"),
            format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90-extra"),
            format!("{TRACE}0-{SPAN}-1"),
            format!("80f198ee56343ba864fe8b2a57d3eff-{SPAN}-1"),
            format!("{TRACE}-e457b5a2e4d86bd-1"),
            format!("{TRACE}-{SPAN}00-1"),
            format!("80F198EE56343BA864FE8B2A57D3EFF7-{SPAN}-1"),
            format!("80f198ee56343ba864fe8b2a57d3effg-{SPAN}-1"),
            format!("00000000000000000000000000000000-{SPAN}-1"),
            format!("{TRACE}-0000000000000000-1"),
            format!("00-{TRACE}-{SPAN}-01"),
        ];
        for value in &singles {
            assert_unchanged(&single(), &carrier(&[("b3", value)]));
        }
        let multis: [&[(&str, &str)]; 7] = [
            &[("x-b3-spanid", SPAN), ("x-b3-sampled", "1")],
            &[("x-b3-traceid", TRACE), ("x-b3-sampled", "1")],
            &[("x-b3-traceid", "123"), ("x-b3-spanid", SPAN)],
            &[("x-b3-traceid", TRACE), ("x-b3-spanid", "xyz")],
            &[
                ("x-b3-traceid", TRACE),
                ("x-b3-spanid", SPAN),
                ("x-b3-sampled", "d"),
            ],
            &[
                ("x-b3-traceid", TRACE),
                ("x-b3-spanid", SPAN),
                ("x-b3-parentspanid", "1"),
            ],
            &[
                ("x-b3-traceid", "00000000000000000000000000000000"),
                ("x-b3-spanid", SPAN),
            ],
        ];
        for headers in multis {
            assert_unchanged(&multi(), &carrier(headers));
        }
    }

    #[test]
    fn debug_survives_a_local_child_span() {
        let provider = SdkTracerProvider::builder().build();
        let tracer = provider.tracer("b3-test");
        let incoming = single().extract(&carrier(&[("b3", &format!("{TRACE}-{SPAN}-d"))]));
        let child = tracer.start_with_context("server", &incoming);
        let child_cx = incoming.with_span(child);
        let child_span_id = child_cx.span().span_context().span_id();
        assert_ne!(child_span_id, span_id(), "a new id for the server side");

        let mut headers = HashMap::new();
        single().inject_context(&child_cx, &mut headers);
        assert_eq!(headers["b3"], format!("{TRACE}-{child_span_id}-d"));

        let mut headers = HashMap::new();
        multi().inject_context(&child_cx, &mut headers);
        assert_eq!(headers.get("x-b3-flags").map(String::as_str), Some("1"));
        assert!(!headers.contains_key("x-b3-sampled"));
    }

    #[test]
    fn fields_follow_the_encoding() {
        assert_eq!(single().fields().collect::<Vec<_>>(), ["b3"]);
        assert_eq!(
            multi().fields().collect::<Vec<_>>(),
            ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-flags"]
        );
    }
}
