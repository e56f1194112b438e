//! `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.

use std::any::Any;

use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};

use super::source::{Describe, Reader};

/// `OTEL_TRACES_SAMPLER`: `always_on`, `always_off`, `traceidratio`,
/// `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`
/// (case-insensitive).
pub(crate) const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The specification's default for [`OTEL_TRACES_SAMPLER`].
pub(crate) const OTEL_TRACES_SAMPLER_DEFAULT: &str = "parentbased_always_on";

/// `OTEL_TRACES_SAMPLER_ARG`: the ratio of the `*traceidratio` samplers, in `[0, 1]`.
pub(crate) const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// The specification's default for [`OTEL_TRACES_SAMPLER_ARG`].
pub(crate) const OTEL_TRACES_SAMPLER_ARG_DEFAULT: f64 = 1.0;

/// The samplers the specification names that this build does not have.
const UNSUPPORTED: [&str; 3] = ["jaeger_remote", "parentbased_jaeger_remote", "xray"];

/// The pipeline's sampler, and what `#[traced]` may know of it without asking it.
#[derive(Clone, Debug)]
pub(crate) struct SamplerSetting {
    /// The sampler, ready for `SdkTracerProvider::builder().with_sampler(..)`. A boxed
    /// `ShouldSample` rather than a `Sampler`, because the file's `parent_based` sampler
    /// with non-default branches is an SDK `ParentBasedSampler`.
    pub(crate) sampler: Box<dyn ShouldSample>,
    /// Set when it is one of the SDK's `Sampler`s, which `#[traced]` then reads without
    /// asking it for a whole `SamplingResult` (see [`Builtin`]).
    pub(crate) builtin: Option<Builtin>,
    /// Whether it may read a span's name or attributes: false only where it is known to be
    /// made of the SDK's `AlwaysOn`, `AlwaysOff` and ratio samplers, which never do. An
    /// integration then need not make its name, nor its attributes as `KeyValue`s, only to
    /// show them to it.
    #[cfg_attr(
        not(any(feature = "http-server", feature = "reqwest")),
        allow(dead_code)
    )]
    pub(crate) reads_name_and_attributes: bool,
}

/// One of the SDK's `Sampler`s. They add no attributes and keep the parent's trace state,
/// so only their decision is needed; where it follows from the sampler's kind and the
/// parent, `#[traced]` and the pipeline's API tracers make it as the SDK would, without a
/// call (whose `SamplingResult`, returned through memory and moved on, cost
/// store-forwarding stalls).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Builtin {
    /// `AlwaysOn`, `AlwaysOff` or `TraceIdRatioBased`: the parent plays no part.
    Root(RootSampler),
    /// `ParentBased`: under a parent span, the parent's decision; for a root, the root
    /// sampler's, made here when it is one of those (`Some`), else by the SDK.
    ParentBased { root: Option<RootSampler> },
    /// Any other kind: the SDK decides.
    Other,
}

/// One of the SDK's samplers that decide without a parent, whose decision `traced` makes as
/// the SDK makes it. A ratio decided by a call cost a dropped `#[traced]` root 9.5 ns more
/// than `AlwaysOff` (`benches/README.md`): `parentbased_traceidratio` is how most services
/// sample, and most of their roots are dropped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RootSampler {
    /// `AlwaysOn` (`true`) or `AlwaysOff`: the same decision for every span.
    Fixed(bool),
    /// `TraceIdRatioBased`, with its ratio.
    Ratio(f64),
}

impl RootSampler {
    /// The sampler's decision when it is the same for every trace.
    #[inline]
    fn fixed(self) -> Option<bool> {
        match self {
            Self::Fixed(sampled) => Some(sampled),
            Self::Ratio(_) => None,
        }
    }

    /// Whether a span of `trace_id` is sampled, as the SDK decides (`opentelemetry_sdk`
    /// 0.33's `sample_based_on_probability`, compared with it in the tests): a ratio of 1 or
    /// more samples every trace; otherwise the trace id's low 64 bits, shifted right once,
    /// must fall below the ratio times 2^63.
    #[inline]
    fn samples(self, trace_id: TraceId) -> bool {
        match self {
            Self::Fixed(sampled) => sampled,
            Self::Ratio(ratio) if ratio >= 1.0 => true,
            Self::Ratio(ratio) => {
                let bound = (ratio.max(0.0) * (1_u64 << 63) as f64) as u64;
                let low = u128::from_be_bytes(trace_id.to_bytes()) as u64;
                (low >> 1) < bound
            }
        }
    }
}

impl Builtin {
    /// Whether a span under `parent` is sampled, when that follows from the sampler's kind
    /// and the parent alone, whatever its trace (`None`: it depends on the trace, or the
    /// SDK decides).
    #[inline]
    fn known_decision(self, parent: &Context) -> Option<bool> {
        match self {
            Self::Root(root) => root.fixed(),
            // As the SDK's `ParentBased` tells a parent: any span in the context, even
            // one with an invalid span context (which then counts as not sampled).
            Self::ParentBased { .. } if parent.has_active_span() => {
                Some(parent.span().span_context().is_sampled())
            }
            Self::ParentBased { root } => root.and_then(RootSampler::fixed),
            Self::Other => None,
        }
    }

    /// The decision for a span of `trace_id` under `parent`: the SDK's own (`sdk`) only
    /// when the sampler's kind is not one `traced` decides as the SDK does.
    #[inline]
    pub(crate) fn decision(
        self,
        parent: &Context,
        trace_id: TraceId,
        sdk: impl FnOnce() -> SamplingDecision,
    ) -> SamplingDecision {
        // What the trace does not decide; else a ratio, itself or a root's with no parent.
        let sampled = self.known_decision(parent).or_else(|| match self {
            Self::Root(root) | Self::ParentBased { root: Some(root) } => {
                Some(root.samples(trace_id))
            }
            Self::ParentBased { root: None } | Self::Other => None,
        });
        match sampled {
            Some(true) => SamplingDecision::RecordAndSample,
            Some(false) => SamplingDecision::Drop,
            None => sdk(),
        }
    }
}

/// A copy of `state`. Most are empty: the constant is then written where the span context is
/// built, instead of a clone returned through memory and read back in wider loads (a
/// store-forwarding stall, by `perf annotate`).
#[inline(always)]
fn same_trace_state(state: &TraceState) -> TraceState {
    if *state == TraceState::NONE {
        TraceState::NONE
    } else {
        state.clone()
    }
}

impl SamplerSetting {
    /// What the sampler says of a span under `parent` (whose span context is
    /// `parent_context`): its decision, trace state and attributes; `ask` asks it. The SDK's
    /// samplers add no attributes and keep the parent's trace state: only their decision is
    /// read, made here without asking when it follows from the sampler's kind.
    #[inline(always)]
    pub(crate) fn sample(
        &self,
        parent: &Context,
        parent_context: &SpanContext,
        trace_id: TraceId,
        ask: impl FnOnce() -> SamplingResult,
    ) -> (SamplingDecision, TraceState, Vec<KeyValue>) {
        match self.builtin {
            Some(builtin) => (
                builtin.decision(parent, trace_id, || ask().decision),
                same_trace_state(parent_context.trace_state()),
                Vec::new(),
            ),
            None => {
                let result = ask();
                (result.decision, result.trace_state, result.attributes)
            }
        }
    }

    /// One of the SDK's samplers.
    pub(crate) fn sdk(sampler: Sampler) -> Self {
        let reads_name_and_attributes = !matches!(
            sampler,
            Sampler::AlwaysOn | Sampler::AlwaysOff | Sampler::TraceIdRatioBased(_)
        );
        let builtin = match &sampler {
            Sampler::AlwaysOn => Builtin::Root(RootSampler::Fixed(true)),
            Sampler::AlwaysOff => Builtin::Root(RootSampler::Fixed(false)),
            Sampler::TraceIdRatioBased(ratio) => Builtin::Root(RootSampler::Ratio(*ratio)),
            // The root is a boxed `ShouldSample`: not known from here (see `parent_based`).
            Sampler::ParentBased(_) => Builtin::ParentBased { root: None },
            // `Sampler` is `#[non_exhaustive]`: Jaeger's remote sampler, and any to come.
            _ => Builtin::Other,
        };
        Self {
            sampler: Box::new(sampler),
            builtin: Some(builtin),
            reads_name_and_attributes,
        }
    }

    /// The SDK's `ParentBased` sampler with `root` for roots.
    pub(crate) fn parent_based(root: Self) -> Self {
        let root_sampler = match root.builtin {
            Some(Builtin::Root(root)) => Some(root),
            _ => None,
        };
        Self {
            sampler: Box::new(Sampler::ParentBased(root.sampler)),
            builtin: Some(Builtin::ParentBased { root: root_sampler }),
            // Its other branches are the SDK's `AlwaysOn` and `AlwaysOff`.
            reads_name_and_attributes: root.reads_name_and_attributes,
        }
    }

    /// Any sampler: recognised when it is one of the SDK's.
    pub(crate) fn any(sampler: impl ShouldSample + 'static) -> Self {
        match (&sampler as &dyn Any).downcast_ref::<Sampler>() {
            Some(sdk) => Self::sdk(sdk.clone()),
            None => Self {
                sampler: Box::new(sampler),
                builtin: None,
                reads_name_and_attributes: true,
            },
        }
    }

    /// It is the SDK's `Sampler::ParentBased`, which drops every span whose parent is not
    /// sampled (keeping the parent's trace state), whatever its root sampler.
    pub(crate) fn follows_parent(&self) -> bool {
        matches!(self.builtin, Some(Builtin::ParentBased { .. }))
    }

    /// Whether a span started under `parent` would add nothing to it, whatever its name,
    /// kind and attributes: the parent is a valid span context that is neither sampled nor
    /// recording, and this sampler is one of the SDK's, known to drop the span there (and
    /// keep the parent's trace state). The parent's context then carries the trace and the
    /// decision the span's children follow, as `#[traced]`'s children inherit it. Read by
    /// the HTTP integrations, before they build a span's name and attributes.
    #[cfg(any(test, feature = "http-server", feature = "reqwest"))]
    pub(crate) fn adds_nothing_under(&self, parent: &Context) -> bool {
        crate::span::sampled_out(parent)
            && self
                .builtin
                .is_some_and(|builtin| builtin.known_decision(parent) == Some(false))
    }
}

/// The default sampler: parent-based, sampling every root.
pub(crate) fn default_sampler() -> SamplerSetting {
    SamplerSetting::parent_based(SamplerSetting::sdk(Sampler::AlwaysOn))
}

/// A ratio in `[0, 1]`.
pub(crate) fn parse_ratio(value: &str) -> Option<f64> {
    value
        .parse::<f64>()
        .ok()
        .filter(|ratio| (0.0..=1.0).contains(ratio))
}

/// Reads both variables into a sampler. `OTEL_TRACES_SAMPLER_ARG` is only read for the
/// ratio samplers (the specification says to ignore it otherwise).
pub(crate) fn sampler_from_env(reader: &mut Reader<'_>) -> SamplerSetting {
    let Some(value) = reader.get(OTEL_TRACES_SAMPLER) else {
        return default_sampler();
    };
    let name = value.to_ascii_lowercase();
    let ratio = |reader: &mut Reader<'_>| {
        reader.parse(
            OTEL_TRACES_SAMPLER_ARG,
            OTEL_TRACES_SAMPLER_ARG_DEFAULT,
            "a number between 0 and 1",
            parse_ratio,
        )
    };
    match name.as_str() {
        "always_on" => SamplerSetting::sdk(Sampler::AlwaysOn),
        "always_off" => SamplerSetting::sdk(Sampler::AlwaysOff),
        "traceidratio" => SamplerSetting::sdk(Sampler::TraceIdRatioBased(ratio(reader))),
        "parentbased_always_on" => default_sampler(),
        "parentbased_always_off" => {
            SamplerSetting::parent_based(SamplerSetting::sdk(Sampler::AlwaysOff))
        }
        "parentbased_traceidratio" => SamplerSetting::parent_based(SamplerSetting::sdk(
            Sampler::TraceIdRatioBased(ratio(reader)),
        )),
        unsupported if UNSUPPORTED.contains(&unsupported) => {
            reader.warn(
                OTEL_TRACES_SAMPLER,
                &value,
                format!(
                    "{OTEL_TRACES_SAMPLER}={value:?}: this sampler is not available in traced; \
                     using {OTEL_TRACES_SAMPLER_DEFAULT}"
                ),
            );
            default_sampler()
        }
        _ => {
            reader.invalid(
                OTEL_TRACES_SAMPLER,
                &value,
                "one of always_on, always_off, traceidratio, parentbased_always_on, \
                 parentbased_always_off, parentbased_traceidratio",
                &OTEL_TRACES_SAMPLER_DEFAULT.to_owned().describe(),
            );
            default_sampler()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(vars: &[(&str, &str)]) -> (String, usize) {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let mut reader = Reader::new(&lookup);
        let sampler = sampler_from_env(&mut reader);
        (
            format!("{:?}", sampler.sampler),
            reader.into_warnings().len(),
        )
    }

    fn follows_parent(value: &str) -> bool {
        let lookup = |name: &str| (name == OTEL_TRACES_SAMPLER).then(|| value.to_owned());
        sampler_from_env(&mut Reader::new(&lookup)).follows_parent()
    }

    #[test]
    fn only_samplers_of_the_applications_own_may_read_attributes() {
        let from_env = |value: &str| {
            let lookup = |name: &str| (name == OTEL_TRACES_SAMPLER).then(|| value.to_owned());
            sampler_from_env(&mut Reader::new(&lookup)).reads_name_and_attributes
        };
        for name in [
            "always_on",
            "always_off",
            "traceidratio",
            "parentbased_always_on",
            "parentbased_always_off",
            "parentbased_traceidratio",
        ] {
            assert!(!from_env(name), "{name}");
        }
        assert!(!default_sampler().reads_name_and_attributes);
        assert!(!SamplerSetting::any(Sampler::TraceIdRatioBased(0.1)).reads_name_and_attributes);
        // A root given inside the SDK's enum is a `ShouldSample` this cannot look into.
        let boxed_root = Sampler::ParentBased(Box::new(Sampler::AlwaysOn));
        assert!(SamplerSetting::any(boxed_root).reads_name_and_attributes);
        let custom = opentelemetry_sdk::trace::ParentBasedSampler::new(Sampler::AlwaysOn);
        assert!(SamplerSetting::any(custom).reads_name_and_attributes);
    }

    #[test]
    fn only_the_sdk_parent_based_samplers_are_known_to_follow_the_parent() {
        for name in [
            "parentbased_always_on",
            "parentbased_always_off",
            "parentbased_traceidratio",
        ] {
            assert!(follows_parent(name), "{name}");
        }
        for name in ["always_on", "always_off", "traceidratio"] {
            assert!(!follows_parent(name), "{name}");
        }
        assert!(default_sampler().follows_parent());
        // Given as a value: recognised when it is the SDK's enum, never otherwise (a sampler
        // of the application's own may decide anything under any parent).
        assert!(
            SamplerSetting::any(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
                .follows_parent()
        );
        assert!(!SamplerSetting::any(Sampler::AlwaysOn).follows_parent());
        let custom = opentelemetry_sdk::trace::ParentBasedSampler::new(Sampler::AlwaysOn)
            .with_remote_parent_not_sampled(Sampler::AlwaysOn);
        let custom = SamplerSetting::any(custom);
        assert!(!custom.follows_parent());
        // Nor is any of its decisions made without asking it.
        assert_eq!(custom.builtin, None);
    }

    /// Parents of every kind a sampler tells apart: none, an invalid span, and a valid span
    /// remote or local, sampled or not (with a trace state).
    fn parents() -> [Context; 6] {
        use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

        let state = TraceState::from_key_value([("vendor", "value")]).expect("a valid state");
        let parent = |remote: bool, flags: TraceFlags| {
            let span = SpanContext::new(
                TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
                SpanId::from(0x00f0_67aa_0ba9_02b7),
                flags,
                remote,
                state.clone(),
            );
            Context::new().with_remote_span_context(span)
        };
        [
            Context::new(),
            // A span in the context, but an invalid one: a parent to `ParentBased`.
            Context::new().with_remote_span_context(SpanContext::empty_context()),
            parent(true, TraceFlags::SAMPLED),
            parent(true, TraceFlags::default()),
            parent(false, TraceFlags::SAMPLED),
            parent(false, TraceFlags::default()),
        ]
    }

    /// Each of the SDK's samplers, as the environment or the application gives them.
    fn builtin_settings() -> [SamplerSetting; 14] {
        let ratio = |ratio| SamplerSetting::sdk(Sampler::TraceIdRatioBased(ratio));
        [
            SamplerSetting::sdk(Sampler::AlwaysOn),
            SamplerSetting::sdk(Sampler::AlwaysOff),
            ratio(0.5),
            // The ratio's edges, and values outside its range, decided as the SDK does.
            ratio(0.0),
            ratio(1.0),
            ratio(0.01),
            ratio(0.999_999),
            ratio(-0.5),
            ratio(1.5),
            ratio(f64::NAN),
            default_sampler(),
            SamplerSetting::parent_based(SamplerSetting::sdk(Sampler::AlwaysOff)),
            SamplerSetting::parent_based(ratio(0.5)),
            // Given as a value: its root is not known, so roots are the SDK's to decide.
            SamplerSetting::any(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))),
        ]
    }

    /// Trace ids spread over the whole range, for the ratio samplers.
    fn trace_ids() -> impl Iterator<Item = opentelemetry::trace::TraceId> {
        (1..=64_u128).map(|id| {
            opentelemetry::trace::TraceId::from(
                id.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
            )
        })
    }

    #[test]
    fn builtin_decisions_are_the_sdk_samplers_own_and_ask_it_only_when_needed() {
        use opentelemetry::trace::SpanKind;

        let parents = parents();
        let mut decisions = [0_usize; 2];
        for setting in &builtin_settings() {
            let Some(builtin) = setting.builtin else {
                panic!("{:?} is one of the SDK's samplers", setting.sampler);
            };
            for parent in &parents {
                for trace_id in trace_ids() {
                    let sdk = setting.sampler.should_sample(
                        Some(parent),
                        trace_id,
                        "step",
                        &SpanKind::Internal,
                        &[],
                        &[],
                    );
                    // What `#[traced]` relies on to read the decision alone.
                    assert!(sdk.attributes.is_empty());
                    assert_eq!(sdk.trace_state, *parent.span().span_context().trace_state());
                    let mut asked = false;
                    let decision = builtin.decision(parent, trace_id, || {
                        asked = true;
                        sdk.decision.clone()
                    });
                    let case = format!("{:?} under {parent:?}", setting.sampler);
                    assert_eq!(decision, sdk.decision, "{case}");
                    let needs_sdk = match builtin {
                        Builtin::Root(_) => false,
                        Builtin::ParentBased { root } => {
                            !parent.has_active_span() && root.is_none()
                        }
                        Builtin::Other => true,
                    };
                    assert_eq!(asked, needs_sdk, "{case}");
                    decisions[usize::from(decision == SamplingDecision::RecordAndSample)] += 1;
                }
            }
        }
        // Both decisions were compared, many times over.
        assert!(decisions.iter().all(|&count| count > 100), "{decisions:?}");
    }

    #[test]
    fn a_span_adds_nothing_only_where_the_sdk_drops_it_under_a_parent_not_sampled() {
        use opentelemetry::trace::SpanKind;

        let mut adds_nothing = 0;
        for setting in &builtin_settings() {
            for parent in &parents() {
                if !setting.adds_nothing_under(parent) {
                    continue;
                }
                adds_nothing += 1;
                let case = format!("{:?} under {parent:?}", setting.sampler);
                let parent_context = parent.span().span_context().clone();
                assert!(
                    parent_context.is_valid() && !parent_context.is_sampled(),
                    "{case}"
                );
                // Whatever the span's trace, name, kind and attributes.
                for trace_id in trace_ids() {
                    let sdk = setting.sampler.should_sample(
                        Some(parent),
                        trace_id,
                        "GET /users/{id}",
                        &SpanKind::Server,
                        &[KeyValue::new("http.request.method", "GET")],
                        &[],
                    );
                    assert_eq!(sdk.decision, SamplingDecision::Drop, "{case}");
                    assert_eq!(sdk.trace_state, *parent_context.trace_state(), "{case}");
                }
            }
        }
        // The parent-based samplers (four) and `AlwaysOff`, each under both unsampled
        // parents (remote and local); never a ratio sampler, which decides by trace id.
        assert_eq!(adds_nothing, 10);
        let unsampled = &parents()[3];
        assert!(default_sampler().adds_nothing_under(unsampled));
        // A sampler of the application's own may decide anything: never assumed.
        let custom = opentelemetry_sdk::trace::ParentBasedSampler::new(Sampler::AlwaysOn);
        assert!(!SamplerSetting::any(custom).adds_nothing_under(unsampled));
    }

    #[test]
    fn every_name_is_case_insensitive() {
        let cases = [
            ("ALWAYS_ON", "AlwaysOn"),
            ("always_off", "AlwaysOff"),
            ("TraceIdRatio", "TraceIdRatioBased(1.0)"),
            ("parentbased_always_on", "ParentBased(AlwaysOn)"),
            ("parentbased_always_off", "ParentBased(AlwaysOff)"),
            (
                "parentbased_traceidratio",
                "ParentBased(TraceIdRatioBased(1.0))",
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(
                sampler(&[(OTEL_TRACES_SAMPLER, name)]),
                (expected.to_owned(), 0),
                "{name}"
            );
        }
    }

    #[test]
    fn the_ratio_is_read_only_for_ratio_samplers() {
        assert_eq!(
            sampler(&[
                (OTEL_TRACES_SAMPLER, "traceidratio"),
                (OTEL_TRACES_SAMPLER_ARG, "0.25")
            ]),
            ("TraceIdRatioBased(0.25)".to_owned(), 0)
        );
        assert_eq!(
            sampler(&[
                (OTEL_TRACES_SAMPLER, "always_on"),
                (OTEL_TRACES_SAMPLER_ARG, "junk")
            ]),
            ("AlwaysOn".to_owned(), 0)
        );
    }

    #[test]
    fn unavailable_samplers_fall_back_to_parent_based_always_on() {
        for name in ["jaeger_remote", "parentbased_jaeger_remote", "xray"] {
            assert_eq!(
                sampler(&[(OTEL_TRACES_SAMPLER, name)]),
                ("ParentBased(AlwaysOn)".to_owned(), 1),
                "{name}"
            );
        }
    }

    #[test]
    fn ratios_outside_zero_to_one_are_rejected() {
        assert_eq!(parse_ratio("0"), Some(0.0));
        assert_eq!(parse_ratio("1"), Some(1.0));
        assert_eq!(parse_ratio("1.5"), None);
        assert_eq!(parse_ratio("-0.1"), None);
        assert_eq!(parse_ratio("NaN"), None);
        assert_eq!(parse_ratio("half"), None);
    }
}
