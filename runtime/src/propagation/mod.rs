//! Context propagation: every format `OTEL_PROPAGATORS` names, and the reading of that list.
//!
//! | name           | format                                                     | from |
//! |----------------|------------------------------------------------------------|------|
//! | `tracecontext` | W3C `traceparent` / `tracestate`                           | [`TraceContextPropagator`] |
//! | `baggage`      | W3C `baggage`                                              | `opentelemetry_sdk` |
//! | `b3`           | B3, writes the single `b3` header                          | [`B3Propagator`] |
//! | `b3multi`      | B3, writes `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`/`X-B3-Flags` | [`B3Propagator`] |
//! | `jaeger`       | `uber-trace-id` and `uberctx-*` baggage                    | [`JaegerPropagator`] |
//! | `xray`         | AWS `X-Amzn-Trace-Id`                                      | [`XrayPropagator`] |
//! | `ottrace`      | `ot-tracer-*` and `ot-baggage-*`                           | [`OtTracePropagator`] |
//! | `none`         | no propagation                                             | |
//!
//! Every format reads headers through the carrier's case-insensitive lookup, writes lowercase
//! header names, and leaves the context unchanged when a header is missing or malformed.

mod b3;
mod baggage_headers;
mod ids;
mod jaeger;
mod ottrace;
mod trace_context;
mod xray;

pub use b3::{B3Encoding, B3Propagator};
pub use jaeger::JaegerPropagator;
pub use ottrace::OtTracePropagator;
pub use trace_context::TraceContextPropagator;
pub use xray::XrayPropagator;

use opentelemetry::Context;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::propagation::BaggagePropagator;

use crate::diagnostics::warn_once;

/// `OTEL_PROPAGATORS`: a comma list of propagator names.
const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// The specification's default for [`OTEL_PROPAGATORS`]: `tracecontext,baggage`.
const DEFAULT: [Format; 2] = [Format::TraceContext, Format::Baggage];
const KNOWN_NAMES: &str = "tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none";

/// One propagation format, as named in `OTEL_PROPAGATORS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    TraceContext,
    Baggage,
    B3,
    B3Multi,
    Jaeger,
    Xray,
    OtTrace,
}

impl Format {
    /// The format a lowercase, trimmed name stands for.
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "tracecontext" => Self::TraceContext,
            "baggage" => Self::Baggage,
            "b3" => Self::B3,
            "b3multi" => Self::B3Multi,
            "jaeger" => Self::Jaeger,
            "xray" => Self::Xray,
            "ottrace" => Self::OtTrace,
            _ => return None,
        })
    }

    fn build(self) -> Box<dyn TextMapPropagator + Send + Sync> {
        match self {
            Self::TraceContext => Box::new(TraceContextPropagator::new()),
            Self::Baggage => Box::new(BaggagePropagator::new()),
            Self::B3 => Box::new(B3Propagator::new()),
            Self::B3Multi => Box::new(B3Propagator::with_encoding(B3Encoding::MultipleHeaders)),
            Self::Jaeger => Box::new(JaegerPropagator::new()),
            Self::Xray => Box::new(XrayPropagator::new()),
            Self::OtTrace => Box::new(OtTracePropagator::new()),
        }
    }
}

/// Reads a list of names: trimmed, case-insensitive, empty entries skipped, duplicates
/// counted once at their first place. `none` anywhere means no propagator. Unknown names are
/// warned about (naming `source`) and skipped; a list with no known name left, like an empty
/// one, means the default `tracecontext,baggage`, as an unset variable does.
fn select<'a>(names: impl IntoIterator<Item = &'a str>, source: &str) -> Vec<Format> {
    let mut formats = Vec::new();
    let mut unknown = Vec::new();
    let mut none = false;
    for name in names
        .into_iter()
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let lowercase = name.to_ascii_lowercase();
        if lowercase == "none" {
            none = true;
        } else if let Some(format) = Format::from_name(&lowercase) {
            if !formats.contains(&format) {
                formats.push(format);
            }
        } else if !unknown.contains(&name) {
            unknown.push(name);
        }
    }
    if none {
        if !formats.is_empty() || !unknown.is_empty() {
            warn_once(&format!("{source}: none with others"), || {
                format!(
                    "{source}: \"none\" is given, so no propagator is used and the other names are ignored"
                )
            });
        }
        return Vec::new();
    }
    for name in &unknown {
        warn_once(&format!("{source}={name}"), || {
            format!("{source}: unknown propagator {name:?} is ignored (known: {KNOWN_NAMES})")
        });
    }
    if formats.is_empty() {
        if !unknown.is_empty() {
            warn_once(&format!("{source}: nothing known"), || {
                format!(
                    "{source}: no known propagator is named, so the default tracecontext,baggage is used"
                )
            });
        }
        return DEFAULT.to_vec();
    }
    formats
}

fn composite(formats: &[Format]) -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(formats.iter().map(|format| format.build()).collect())
}

/// The propagator for a list of `OTEL_PROPAGATORS` names, in their order.
///
/// Names are trimmed and case-insensitive, and a duplicate counts once, at its first place.
/// `none` anywhere gives a propagator that does nothing. An unknown name prints a warning and
/// is skipped; an empty list, or one with no known name, gives the specification's default,
/// `tracecontext,baggage`.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use traced::opentelemetry::propagation::TextMapPropagator;
/// use traced::opentelemetry::trace::{
///     SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
/// };
/// use traced::opentelemetry::Context;
///
/// let propagator = traced::propagator(&["tracecontext", "B3"]);
/// let parent = SpanContext::new(
///     TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
///     SpanId::from(0x00f0_67aa_0ba9_02b7),
///     TraceFlags::SAMPLED,
///     true,
///     TraceState::default(),
/// );
/// let mut headers = HashMap::new();
/// propagator.inject_context(&Context::new().with_remote_span_context(parent), &mut headers);
/// assert_eq!(
///     headers["traceparent"],
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
/// );
/// assert_eq!(headers["b3"], "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
///
/// let mut nothing = HashMap::new();
/// traced::propagator(&["none"]).inject_context(&Context::new(), &mut nothing);
/// assert!(nothing.is_empty());
/// ```
pub fn propagator(names: &[&str]) -> TextMapCompositePropagator {
    composite(&select(names.iter().copied(), "traced::propagator"))
}

/// The propagator for a value of `OTEL_PROPAGATORS` (a comma list; an empty value gives the
/// default `tracecontext,baggage`), with [`propagator`]'s rules and warnings naming the
/// variable.
pub(crate) fn from_env_value(value: &str) -> TextMapCompositePropagator {
    composite(&select(value.split(','), OTEL_PROPAGATORS))
}

/// Marks a context whose remote parent asked for a debug ("force") trace: B3 `d` or
/// `X-B3-Flags: 1`, Jaeger flag `0x02`. OpenTelemetry's trace flags have no such bit, so it
/// travels beside the span in the context, and spans started under it inherit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DebugTrace(bool);

fn is_debug(cx: &Context) -> bool {
    cx.get::<DebugTrace>().is_some_and(|debug| debug.0)
}

fn remote_span_context(trace_id: TraceId, span_id: SpanId, sampled: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(trace_id, span_id, flags, true, TraceState::default())
}

/// `cx` with an extracted remote parent, which replaces any debug mark of an earlier one.
fn with_remote_parent(cx: &Context, span_context: SpanContext, debug: bool) -> Context {
    cx.with_remote_span_context(span_context)
        .with_value(DebugTrace(debug))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::KeyValue;
    use opentelemetry::baggage::BaggageExt;

    use super::*;

    /// A carrier with lowercase keys, as HTTP header maps and the `HashMap` injector have them.
    pub(super) fn carrier(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_ascii_lowercase(), (*value).to_owned()))
            .collect()
    }

    pub(super) fn remote_context(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Context {
        Context::new().with_remote_span_context(remote_span_context(trace_id, span_id, sampled))
    }

    pub(super) fn span_context_of(cx: &Context) -> SpanContext {
        cx.span().span_context().clone()
    }

    /// Extraction from `headers` finds no parent, and keeps the one a context already had.
    pub(super) fn assert_unchanged(
        propagator: &dyn TextMapPropagator,
        headers: &HashMap<String, String>,
    ) {
        let cx = propagator.extract(headers);
        assert!(!cx.has_active_span(), "{propagator:?} accepted {headers:?}");
        assert!(!span_context_of(&cx).is_valid());

        let existing = remote_context(TraceId::from(7), SpanId::from(9), true);
        let cx = propagator.extract_with_context(&existing, headers);
        assert_eq!(
            span_context_of(&cx),
            span_context_of(&existing),
            "{propagator:?} replaced the parent for {headers:?}"
        );
        assert_eq!(cx.get::<DebugTrace>(), None);
    }

    fn env(value: &str) -> Vec<Format> {
        select(value.split(','), OTEL_PROPAGATORS)
    }

    #[test]
    fn every_name_selects_its_format() {
        use Format::*;
        assert_eq!(
            env("tracecontext,baggage,b3,b3multi,jaeger,xray,ottrace"),
            [TraceContext, Baggage, B3, B3Multi, Jaeger, Xray, OtTrace]
        );
    }

    #[test]
    fn names_are_trimmed_case_folded_and_deduplicated_in_first_order() {
        use Format::*;
        assert_eq!(
            env(" B3 , TraceContext,\tJAEGER "),
            [B3, TraceContext, Jaeger]
        );
        assert_eq!(
            env("b3,tracecontext,B3,b3, tracecontext"),
            [B3, TraceContext]
        );
        assert_eq!(env("b3,,b3multi,"), [B3, B3Multi]);
        assert_eq!(
            select(["xray", " OTTRACE ", "xray"], "test"),
            [Xray, OtTrace]
        );
    }

    #[test]
    fn empty_and_unknown_lists_give_the_default() {
        for value in ["", "  ", ",", " , ,", "zipkin", "Zipkin,xray-lambda"] {
            assert_eq!(env(value), DEFAULT, "{value:?}");
        }
        assert_eq!(select([], "test"), DEFAULT);
    }

    #[test]
    fn unknown_names_are_skipped() {
        assert_eq!(env("zipkin,b3,w3c"), [Format::B3]);
    }

    #[test]
    fn none_anywhere_means_no_propagator() {
        for value in [
            "none",
            "NONE",
            " none ",
            "b3,none",
            "none,tracecontext",
            "foo,none",
        ] {
            assert_eq!(env(value), [], "{value:?}");
        }
    }

    #[test]
    fn the_composite_injects_and_extracts_every_selected_format() {
        let trace_id = TraceId::from(0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793);
        let span_id = SpanId::from(0x5399_5c3f_42cd_8ad8);
        let cx = remote_context(trace_id, span_id, true).with_baggage([KeyValue::new("k", "v")]);
        let propagator = from_env_value("xray,b3multi,jaeger,baggage");
        let mut headers = HashMap::new();
        propagator.inject_context(&cx, &mut headers);
        let mut names: Vec<_> = headers.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "baggage",
                "uber-trace-id",
                "uberctx-k",
                "x-amzn-trace-id",
                "x-b3-sampled",
                "x-b3-spanid",
                "x-b3-traceid"
            ]
        );
        // Each format alone is enough to extract the parent.
        for name in ["xray", "b3multi", "jaeger"] {
            let back = from_env_value(name).extract(&headers);
            assert_eq!(span_context_of(&back).trace_id(), trace_id, "{name}");
            assert_eq!(span_context_of(&back).span_id(), span_id, "{name}");
        }
        let back = propagator.extract(&headers);
        assert_eq!(span_context_of(&back).trace_id(), trace_id);
        assert_eq!(back.baggage().get("k").map(|v| v.as_str()), Some("v"));
    }

    #[test]
    fn the_default_and_none_composites() {
        let mut fields: Vec<_> = from_env_value("").fields().map(str::to_owned).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["baggage", "traceparent", "tracestate"]);

        let cx = remote_context(TraceId::from(1), SpanId::from(2), true);
        let mut headers = HashMap::new();
        from_env_value("none").inject_context(&cx, &mut headers);
        propagator(&["b3", "none"]).inject_context(&cx, &mut headers);
        assert!(headers.is_empty());
        let b3 = carrier(&[("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")]);
        assert!(!from_env_value("none").extract(&b3).has_active_span());
    }
}
