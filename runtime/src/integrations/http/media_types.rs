//! Which `Content-Type`s have their bodies captured: media ranges such as
//! `application/json`, `text/*` or `application/*+json`, matched on the media type alone
//! (case-insensitive, parameters such as `charset` ignored).

/// The media types whose bodies are captured unless code says otherwise: the textual,
/// structured formats an API carries (JSON and XML with their `+json`/`+xml` variants,
/// forms, GraphQL, any `text/*`). Binary and multipart bodies (files, images) are left out.
pub(crate) const DEFAULT_BODY_CONTENT_TYPES: [&str; 7] = [
    "application/json",
    "application/*+json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/*+xml",
    "application/graphql",
    "text/*",
];

/// One media range.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Range {
    /// `type/subtype`.
    Exact { kind: String, subtype: String },
    /// `type/*`.
    AnySubtype(String),
    /// `type/*+suffix`: a structured-syntax suffix (`application/problem+json`).
    Suffix { kind: String, suffix: String },
    /// `*/*`.
    Any,
}

/// A list of media ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MediaTypes(Vec<Range>);

impl Default for MediaTypes {
    fn default() -> Self {
        Self::new(DEFAULT_BODY_CONTENT_TYPES)
    }
}

impl MediaTypes {
    /// The ranges of `patterns`; a pattern that is not `type/subtype`, `type/*`,
    /// `type/*+suffix` or `*/*` matches nothing and is dropped.
    pub(crate) fn new<I, P>(patterns: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        Self(
            patterns
                .into_iter()
                .filter_map(|pattern| parse(pattern.as_ref()))
                .collect(),
        )
    }

    /// Whether a `Content-Type` value is one of the ranges.
    pub(crate) fn matches(&self, content_type: &str) -> bool {
        let Some((kind, subtype)) = media_type(content_type) else {
            return false;
        };
        self.0.iter().any(|range| match range {
            Range::Exact {
                kind: wanted_kind,
                subtype: wanted_subtype,
            } => *wanted_kind == kind && *wanted_subtype == subtype,
            Range::AnySubtype(wanted) => *wanted == kind,
            Range::Suffix {
                kind: wanted,
                suffix,
            } => *wanted == kind && subtype.ends_with(suffix.as_str()),
            Range::Any => true,
        })
    }
}

/// The lower-cased `type` and `subtype` of a `Content-Type` value, without parameters.
fn media_type(value: &str) -> Option<(String, String)> {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let (kind, subtype) = essence.split_once('/')?;
    let (kind, subtype) = (kind.trim(), subtype.trim());
    if kind.is_empty() || subtype.is_empty() {
        return None;
    }
    Some((kind.to_ascii_lowercase(), subtype.to_ascii_lowercase()))
}

fn parse(pattern: &str) -> Option<Range> {
    let (kind, subtype) = media_type(pattern)?;
    Some(match (kind.as_str(), subtype.as_str()) {
        ("*", "*") => Range::Any,
        ("*", _) => return None,
        (_, "*") => Range::AnySubtype(kind),
        (_, wildcard) => match wildcard.strip_prefix("*+") {
            Some(suffix) if !suffix.is_empty() => Range::Suffix {
                suffix: format!("+{suffix}"),
                kind,
            },
            Some(_) => return None,
            None if wildcard.contains('*') => return None,
            None => Range::Exact { kind, subtype },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_case_are_ignored() {
        let types = MediaTypes::default();
        assert!(types.matches("application/json"));
        assert!(types.matches("Application/JSON; charset=utf-8"));
        assert!(types.matches(" application/problem+json "));
        assert!(types.matches("text/plain;charset=latin1"));
        assert!(types.matches("application/atom+xml"));
        assert!(types.matches("application/x-www-form-urlencoded"));
        assert!(!types.matches("application/octet-stream"));
        assert!(!types.matches("multipart/form-data; boundary=x"));
        assert!(!types.matches("image/png"));
        assert!(!types.matches("application/jsonx"));
        assert!(!types.matches("json"));
        assert!(!types.matches(""));
    }

    #[test]
    fn patterns() {
        let types = MediaTypes::new(["image/*", "application/vnd.custom", "bad", "*/json"]);
        assert_eq!(types.0.len(), 2);
        assert!(types.matches("image/png"));
        assert!(types.matches("application/VND.custom"));
        assert!(!types.matches("application/json"));
        assert!(MediaTypes::new(["*/*"]).matches("application/octet-stream"));
        assert!(!MediaTypes::new(Vec::<String>::new()).matches("text/plain"));
    }
}
