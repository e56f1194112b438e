//! `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.

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

/// The default sampler: parent-based, sampling every root.
pub(crate) fn default_sampler() -> Box<dyn ShouldSample> {
    Box::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
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
pub(crate) fn sampler_from_env(reader: &mut Reader<'_>) -> Box<dyn ShouldSample> {
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
        "always_on" => Box::new(Sampler::AlwaysOn),
        "always_off" => Box::new(Sampler::AlwaysOff),
        "traceidratio" => Box::new(Sampler::TraceIdRatioBased(ratio(reader))),
        "parentbased_always_on" => default_sampler(),
        "parentbased_always_off" => Box::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))),
        "parentbased_traceidratio" => Box::new(Sampler::ParentBased(Box::new(
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
        (format!("{sampler:?}"), reader.into_warnings().len())
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
