//! Attribute, event and link limits: `OTEL_ATTRIBUTE_*`, `OTEL_SPAN_*`, `OTEL_EVENT_*`,
//! `OTEL_LINK_*`. A span-specific limit wins over the general one.

use opentelemetry_sdk::trace::SpanLimits;

use super::source::{Reader, parse_count};

/// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: the general longest attribute value (no limit).
pub(crate) const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// `OTEL_ATTRIBUTE_COUNT_LIMIT`: the general most attributes per span, event or link.
pub(crate) const OTEL_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_ATTRIBUTE_COUNT_LIMIT";
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`: the longest span attribute value.
pub(crate) const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str =
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`: the most attributes per span.
pub(crate) const OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT";
/// `OTEL_SPAN_EVENT_COUNT_LIMIT`: the most events per span.
pub(crate) const OTEL_SPAN_EVENT_COUNT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
/// `OTEL_SPAN_LINK_COUNT_LIMIT`: the most links per span.
pub(crate) const OTEL_SPAN_LINK_COUNT_LIMIT: &str = "OTEL_SPAN_LINK_COUNT_LIMIT";
/// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`: the most attributes per span event.
pub(crate) const OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT";
/// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`: the most attributes per span link.
pub(crate) const OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT";

/// The specification's default for every count limit.
pub(crate) const COUNT_LIMIT_DEFAULT: u32 = 128;

/// The resolved limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Attribute, event and link counts, for the SDK's tracer provider.
    pub(crate) span: SpanLimits,
    /// The longest span attribute value in bytes (`None`: no limit); the SDK has no such
    /// limit, so `traced` truncates its own values to it.
    pub(crate) attribute_value_length: Option<usize>,
}

impl PartialEq for Limits {
    // `SpanLimits` is not `PartialEq`.
    fn eq(&self, other: &Self) -> bool {
        let counts = |limits: &SpanLimits| {
            (
                limits.max_attributes_per_span,
                limits.max_events_per_span,
                limits.max_links_per_span,
                limits.max_attributes_per_event,
                limits.max_attributes_per_link,
            )
        };
        counts(&self.span) == counts(&other.span)
            && self.attribute_value_length == other.attribute_value_length
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::resolve(LimitValues::default())
    }
}

/// The limits as written (env or file), before the general ones fill the gaps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LimitValues {
    pub(crate) attribute_value_length: Option<usize>,
    pub(crate) attribute_count: Option<u32>,
    pub(crate) span_attribute_value_length: Option<usize>,
    pub(crate) span_attribute_count: Option<u32>,
    pub(crate) span_event_count: Option<u32>,
    pub(crate) span_link_count: Option<u32>,
    pub(crate) event_attribute_count: Option<u32>,
    pub(crate) link_attribute_count: Option<u32>,
}

impl Limits {
    /// Span-specific values over general ones over the defaults.
    pub(crate) fn resolve(values: LimitValues) -> Self {
        let attribute_count = values.attribute_count.unwrap_or(COUNT_LIMIT_DEFAULT);
        Self {
            span: SpanLimits {
                max_attributes_per_span: values.span_attribute_count.unwrap_or(attribute_count),
                max_events_per_span: values.span_event_count.unwrap_or(COUNT_LIMIT_DEFAULT),
                max_links_per_span: values.span_link_count.unwrap_or(COUNT_LIMIT_DEFAULT),
                max_attributes_per_event: values.event_attribute_count.unwrap_or(attribute_count),
                max_attributes_per_link: values.link_attribute_count.unwrap_or(attribute_count),
            },
            attribute_value_length: values
                .span_attribute_value_length
                .or(values.attribute_value_length),
        }
    }
}

/// Reads the eight variables. An invalid value warns and is replaced by what the variable
/// would have been without it (the general limit, then the default).
pub(crate) fn limits_from_env(reader: &mut Reader<'_>) -> Limits {
    let general_length = length(reader, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, None);
    let general_count = reader.count(OTEL_ATTRIBUTE_COUNT_LIMIT, COUNT_LIMIT_DEFAULT);
    Limits::resolve(LimitValues {
        attribute_value_length: general_length,
        attribute_count: Some(general_count),
        span_attribute_value_length: length(
            reader,
            OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            general_length,
        ),
        span_attribute_count: Some(reader.count(OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, general_count)),
        span_event_count: Some(reader.count(OTEL_SPAN_EVENT_COUNT_LIMIT, COUNT_LIMIT_DEFAULT)),
        span_link_count: Some(reader.count(OTEL_SPAN_LINK_COUNT_LIMIT, COUNT_LIMIT_DEFAULT)),
        event_attribute_count: Some(reader.count(OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, general_count)),
        link_attribute_count: Some(reader.count(OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, general_count)),
    })
}

fn length(reader: &mut Reader<'_>, name: &str, fallback: Option<usize>) -> Option<usize> {
    reader.parse(name, fallback, "a non-negative integer", |value| {
        parse_count::<usize>(value).map(Some)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(vars: &[(&str, &str)]) -> (Limits, Vec<String>) {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let mut reader = Reader::new(&lookup);
        let limits = limits_from_env(&mut reader);
        let warned = reader
            .into_warnings()
            .into_iter()
            .map(|warning| warning.variable)
            .collect();
        (limits, warned)
    }

    #[test]
    fn the_defaults_are_128_and_no_length_limit() {
        let (limits, warned) = limits(&[]);
        assert_eq!(limits, Limits::default());
        assert_eq!(limits.span.max_attributes_per_span, 128);
        assert_eq!(limits.span.max_events_per_span, 128);
        assert_eq!(limits.span.max_links_per_span, 128);
        assert_eq!(limits.span.max_attributes_per_event, 128);
        assert_eq!(limits.span.max_attributes_per_link, 128);
        assert_eq!(limits.attribute_value_length, None);
        assert!(warned.is_empty());
    }

    #[test]
    fn general_limits_fill_in_for_the_specific_ones() {
        let (limits, _) = limits(&[
            (OTEL_ATTRIBUTE_COUNT_LIMIT, "10"),
            (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "100"),
        ]);
        assert_eq!(limits.span.max_attributes_per_span, 10);
        assert_eq!(limits.span.max_attributes_per_event, 10);
        assert_eq!(limits.span.max_attributes_per_link, 10);
        assert_eq!(limits.span.max_events_per_span, 128);
        assert_eq!(limits.attribute_value_length, Some(100));
    }

    #[test]
    fn span_specific_limits_win_over_general_ones() {
        let (limits, _) = limits(&[
            (OTEL_ATTRIBUTE_COUNT_LIMIT, "10"),
            (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, "20"),
            (OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, "3"),
            (OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, "4"),
            (OTEL_SPAN_EVENT_COUNT_LIMIT, "5"),
            (OTEL_SPAN_LINK_COUNT_LIMIT, "6"),
            (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "100"),
            (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, "50"),
        ]);
        assert_eq!(limits.span.max_attributes_per_span, 20);
        assert_eq!(limits.span.max_attributes_per_event, 3);
        assert_eq!(limits.span.max_attributes_per_link, 4);
        assert_eq!(limits.span.max_events_per_span, 5);
        assert_eq!(limits.span.max_links_per_span, 6);
        assert_eq!(limits.attribute_value_length, Some(50));
    }

    #[test]
    fn an_invalid_specific_limit_falls_back_to_the_general_one() {
        let (limits, warned) = limits(&[
            (OTEL_ATTRIBUTE_COUNT_LIMIT, "10"),
            (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, "-1"),
            (OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, "64"),
            (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, "big"),
        ]);
        assert_eq!(limits.span.max_attributes_per_span, 10);
        assert_eq!(limits.attribute_value_length, Some(64));
        assert_eq!(
            warned,
            vec![
                OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT.to_owned(),
                OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT.to_owned()
            ]
        );
    }
}
