//! `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.

use std::any::Any;

use opentelemetry_sdk::trace::{Sampler, ShouldSample};

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
    /// It is the SDK's `Sampler::ParentBased`, which drops every span whose parent is not
    /// sampled (keeping the parent's trace state), whatever its root sampler.
    pub(crate) follows_parent: bool,
}

impl SamplerSetting {
    /// One of the SDK's samplers.
    pub(crate) fn sdk(sampler: Sampler) -> Self {
        Self {
            follows_parent: matches!(sampler, Sampler::ParentBased(_)),
            sampler: Box::new(sampler),
        }
    }

    /// Any sampler: recognised when it is one of the SDK's.
    pub(crate) fn any(sampler: impl ShouldSample + 'static) -> Self {
        match (&sampler as &dyn Any).downcast_ref::<Sampler>() {
            Some(sdk) => Self::sdk(sdk.clone()),
            None => Self {
                sampler: Box::new(sampler),
                follows_parent: false,
            },
        }
    }
}

/// The default sampler: parent-based, sampling every root.
pub(crate) fn default_sampler() -> SamplerSetting {
    SamplerSetting::sdk(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
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
            SamplerSetting::sdk(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
        }
        "parentbased_traceidratio" => SamplerSetting::sdk(Sampler::ParentBased(Box::new(
            Sampler::TraceIdRatioBased(ratio(reader)),
        ))),
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
        sampler_from_env(&mut Reader::new(&lookup)).follows_parent
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
        assert!(default_sampler().follows_parent);
        // Given as a value: recognised when it is the SDK's enum, never otherwise (a sampler
        // of the application's own may decide anything under any parent).
        assert!(
            SamplerSetting::any(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))).follows_parent
        );
        assert!(!SamplerSetting::any(Sampler::AlwaysOn).follows_parent);
        let custom = opentelemetry_sdk::trace::ParentBasedSampler::new(Sampler::AlwaysOn)
            .with_remote_parent_not_sampled(Sampler::AlwaysOn);
        assert!(!SamplerSetting::any(custom).follows_parent);
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
