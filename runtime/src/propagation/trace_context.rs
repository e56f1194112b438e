//! W3C Trace Context, to the W3C recommendation: `traceparent` parsed strictly and in
//! place, `tracestate` read and both written as `opentelemetry_sdk`'s propagator does.
//!
//! Every traced HTTP request reads `traceparent`: the SDK's propagator splits it into a
//! vector of parts and parses each with `from_str_radix` (235–248 ns a `traceparent`,
//! against 145–151 for this one: `benches/http_server.rs`), and it accepts values the
//! recommendation rejects (ids shorter than their width, a `+` sign, extra fields after
//! version `00`).

use std::str::FromStr;
use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

use super::ids::{is_lower_hex, lower_hex_value, span_id_lower_hex, trace_id_lower_hex};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
/// `version "-" trace-id "-" parent-id "-" trace-flags`: 2 + 1 + 32 + 1 + 16 + 1 + 2.
const TRACEPARENT_LENGTH: usize = 55;

static FIELDS: LazyLock<[String; 2]> =
    LazyLock::new(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]);

/// The W3C Trace Context propagator: `tracecontext` in `OTEL_PROPAGATORS`.
///
/// Reads `traceparent` as the [W3C recommendation](https://www.w3.org/TR/trace-context/)
/// says: lowercase hex of exactly the fields' widths, neither id all zeros, version `ff`
/// invalid, version `00` exactly 55 characters; a later version may add fields after a
/// `-`, and only its first four are read. Of the flags only *sampled* is kept, as in every
/// OpenTelemetry SDK. `tracestate` is read only beside a valid `traceparent`, and dropped
/// when malformed. Writes both headers as `opentelemetry_sdk`'s `TraceContextPropagator`
/// does (an empty `tracestate` included, so a stale one is replaced); a malformed
/// `traceparent` leaves the context unchanged.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use traced::TraceContextPropagator;
/// use traced::opentelemetry::propagation::TextMapPropagator;
/// use traced::opentelemetry::trace::TraceContextExt;
///
/// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let mut headers = HashMap::new();
/// headers.insert("traceparent".to_owned(), header.to_owned());
/// let cx = TraceContextPropagator::new().extract(&headers);
/// assert!(cx.span().span_context().is_sampled());
///
/// let mut outgoing = HashMap::new();
/// TraceContextPropagator::new().inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing["traceparent"], header);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceContextPropagator {
    _private: (),
}

impl TraceContextPropagator {
    /// The W3C Trace Context propagator.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry::propagation::TextMapPropagator;
    ///
    /// let w3c = traced::TraceContextPropagator::new();
    /// assert_eq!(w3c.fields().collect::<Vec<_>>(), ["traceparent", "tracestate"]);
    /// ```
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

/// The ids and flags of a `traceparent` value, if it is valid.
fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    // Optional whitespace around a header value is not part of it.
    let value = value.trim();
    let version = value.get(..2)?;
    if !is_lower_hex(version) || version == "ff" {
        return None;
    }
    let bytes = value.as_bytes();
    let length_valid = match bytes.len() {
        TRACEPARENT_LENGTH => true,
        // Later versions may append fields, each after a `-`; version 00 has none.
        longer => {
            longer > TRACEPARENT_LENGTH && version != "00" && bytes[TRACEPARENT_LENGTH] == b'-'
        }
    };
    if !length_valid || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let trace_id = trace_id_lower_hex(value.get(3..35)?, false)?;
    let span_id = span_id_lower_hex(value.get(36..52)?)?;
    let flags = u8::try_from(lower_hex_value(value.get(53..55)?)?).ok()?;
    Some((
        trace_id,
        span_id,
        TraceFlags::new(flags) & TraceFlags::SAMPLED,
    ))
}

/// `bytes` as lowercase hex, appended to `text`.
fn push_hex(text: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// The `traceparent` of a valid span context: version 00, the sampled flag alone.
fn traceparent(span_context: &SpanContext) -> String {
    let mut text = String::with_capacity(TRACEPARENT_LENGTH);
    text.push_str("00-");
    push_hex(&mut text, &span_context.trace_id().to_bytes());
    text.push('-');
    push_hex(&mut text, &span_context.span_id().to_bytes());
    text.push_str(if span_context.is_sampled() {
        "-01"
    } else {
        "-00"
    });
    text
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        injector.set(TRACEPARENT, traceparent(span_context));
        injector.set(TRACESTATE, span_context.trace_state().header());
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((trace_id, span_id, flags)) =
            extractor.get(TRACEPARENT).and_then(parse_traceparent)
        else {
            return cx.clone();
        };
        let trace_state = extractor
            .get(TRACESTATE)
            .and_then(|state| TraceState::from_str(state).ok())
            .unwrap_or_default();
        let span_context = SpanContext::new(trace_id, span_id, flags, true, trace_state);
        cx.with_remote_span_context(span_context)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceState;
    use opentelemetry_sdk::propagation::TraceContextPropagator as SdkPropagator;

    use super::*;
    use crate::propagation::tests::{assert_unchanged, carrier, span_context_of};

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    fn extract(headers: &[(&str, &str)]) -> SpanContext {
        span_context_of(&TraceContextPropagator::new().extract(&carrier(headers)))
    }

    fn extract_by_sdk(headers: &[(&str, &str)]) -> SpanContext {
        span_context_of(&SdkPropagator::new().extract(&carrier(headers)))
    }

    #[test]
    fn valid_values_read_as_the_sdk_reads_them() {
        let later = format!("cc-{TRACE}-{PARENT}-01-what-the-future-holds");
        let values = [
            format!("00-{TRACE}-{PARENT}-01"),
            format!("00-{TRACE}-{PARENT}-00"),
            // Unknown flags are ignored, the sampled bit kept.
            format!("00-{TRACE}-{PARENT}-09"),
            format!("00-{TRACE}-{PARENT}-fe"),
            format!("  00-{TRACE}-{PARENT}-01\t"),
            format!("01-{TRACE}-{PARENT}-01"),
            format!("fe-{TRACE}-{PARENT}-00-"),
            later,
        ];
        let states = [
            None,
            Some("vendor=value,other=1"),
            Some(""),
            Some("not a list member"),
        ];
        for value in &values {
            for state in states {
                let mut headers = vec![("traceparent", value.as_str())];
                headers.extend(state.map(|state| ("tracestate", state)));
                let ours = extract(&headers);
                assert!(ours.is_valid() && ours.is_remote(), "{headers:?}");
                assert_eq!(ours, extract_by_sdk(&headers), "{headers:?}");
            }
        }
        let state = TraceState::from_key_value([("vendor", "value")]).ok();
        let headers = [
            ("traceparent", values[0].as_str()),
            ("tracestate", "vendor=value"),
        ];
        assert_eq!(Some(extract(&headers).trace_state().clone()), state);
    }

    #[test]
    fn invalid_values_leave_the_context_unchanged() {
        let cases = [
            String::new(),
            "00".to_owned(),
            format!("00-{TRACE}-{PARENT}"),
            format!("00-{TRACE}-{PARENT}-0"),
            format!("ff-{TRACE}-{PARENT}-01"),
            format!("0g-{TRACE}-{PARENT}-01"),
            format!("00-{}-{PARENT}-01", TRACE.to_uppercase()),
            format!("00-{TRACE}-{}-01", PARENT.to_uppercase()),
            format!("00-{TRACE}-{PARENT}-0A"),
            format!("00-{}-{PARENT}-01", "0".repeat(32)),
            format!("00-{TRACE}-{}-01", "0".repeat(16)),
            format!("00_{TRACE}_{PARENT}_01"),
            format!("00-{TRACE}-{PARENT}-01-"),
            format!("01-{TRACE}-{PARENT}-01x"),
            format!("00-{TRACE}-{PARENT}-é"),
            format!("00-{}é-{PARENT}-01", &TRACE[..30]),
        ];
        for value in &cases {
            assert_unchanged(
                &TraceContextPropagator::new(),
                &carrier(&[("traceparent", value), ("tracestate", "vendor=value")]),
            );
        }
        assert_unchanged(&TraceContextPropagator::new(), &carrier(&[]));
    }

    #[test]
    fn values_the_sdk_accepts_against_the_recommendation_are_refused() {
        let cases = [
            // Ids shorter than their width, or signed.
            format!("00-{}-{PARENT}-01", &TRACE[..31]),
            format!("00-{TRACE}-{}-01", &PARENT[1..]),
            format!("00-+{}-{PARENT}-01", &TRACE[1..]),
            // Version 00 has exactly four fields.
            format!("00-{TRACE}-{PARENT}-01-"),
            // A one-digit version or flags.
            format!("0-{TRACE}-{PARENT}-01"),
            format!("00-{TRACE}-{PARENT}-1"),
        ];
        for value in &cases {
            let headers = [("traceparent", value.as_str())];
            assert!(extract_by_sdk(&headers).is_valid(), "the SDK reads {value}");
            assert!(!extract(&headers).is_valid(), "{value}");
        }
    }

    #[test]
    fn mutated_values_never_panic_and_are_read_as_the_sdk_reads_them_when_accepted() {
        let valid = format!("00-{TRACE}-{PARENT}-01");
        let replacements = ['-', '0', 'f', 'A', 'g', ' ', 'é', '☕'];
        // A fixed linear congruential sequence: the same cases on every run.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % bound
        };
        let mut accepted = 0;
        for _ in 0..5_000 {
            let mut chars: Vec<char> = valid.chars().collect();
            for _ in 0..=next(3) {
                match next(4) {
                    0 if !chars.is_empty() => {
                        chars.remove(next(chars.len()));
                    }
                    1 => chars.insert(next(chars.len() + 1), replacements[next(8)]),
                    _ => {
                        let at = next(chars.len());
                        chars[at] = replacements[next(8)];
                    }
                }
            }
            let value: String = chars.into_iter().collect();
            let headers = [("traceparent", value.as_str())];
            let ours = extract(&headers);
            if ours.is_valid() {
                accepted += 1;
                assert_eq!(ours, extract_by_sdk(&headers), "{value:?}");
            }
        }
        // Some mutations keep a valid value (a digit for a digit, the flags changed).
        assert!(accepted > 100, "{accepted}");
    }

    #[test]
    fn writes_what_the_sdk_writes() {
        let states = [
            TraceState::NONE,
            TraceState::from_key_value([("vendor", "value"), ("other", "1")]).unwrap_or_default(),
        ];
        let ids = [
            (1_u128, 1_u64),
            (
                0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
                0x00f0_67aa_0ba9_02b7,
            ),
            (u128::MAX, u64::MAX),
        ];
        for (trace, span) in ids {
            for flags in [
                TraceFlags::SAMPLED,
                TraceFlags::NOT_SAMPLED,
                TraceFlags::new(0xff),
            ] {
                for state in &states {
                    let span_context = SpanContext::new(
                        TraceId::from(trace),
                        SpanId::from(span),
                        flags,
                        true,
                        state.clone(),
                    );
                    let cx = Context::new().with_remote_span_context(span_context);
                    let mut ours = std::collections::HashMap::new();
                    TraceContextPropagator::new().inject_context(&cx, &mut ours);
                    let mut sdk = std::collections::HashMap::new();
                    SdkPropagator::new().inject_context(&cx, &mut sdk);
                    assert_eq!(ours, sdk);
                    assert_eq!(ours["traceparent"].len(), TRACEPARENT_LENGTH);
                }
            }
        }
        let mut nothing = std::collections::HashMap::new();
        TraceContextPropagator::new().inject_context(&Context::new(), &mut nothing);
        assert!(nothing.is_empty());
    }
}
