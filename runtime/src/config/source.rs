//! Reading variables through an injectable lookup, and collecting one warning per invalid
//! value instead of printing it, so the whole resolution is testable without touching the
//! process environment.

use std::str::FromStr;
use std::time::Duration;

/// One problem found while resolving the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Warning {
    /// The variable at fault (`OTEL_CONFIG_FILE` or `HT_CONFIG_FILE` for a problem inside
    /// a file).
    pub(crate) variable: String,
    /// What makes this warning distinct, for printing it once per process. Never holds a
    /// secret.
    pub(crate) topic: String,
    /// The full message: the variable, the value (unless secret) and what is used instead.
    pub(crate) message: String,
}

/// How a resolved value is named in a warning's "using ..." part.
pub(crate) trait Describe {
    /// The value as a user would write it.
    fn describe(&self) -> String;
}

impl Describe for bool {
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl Describe for u32 {
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl Describe for usize {
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl Describe for f64 {
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl Describe for Duration {
    fn describe(&self) -> String {
        format!("{} ms", self.as_millis())
    }
}

impl Describe for String {
    fn describe(&self) -> String {
        self.clone()
    }
}

impl<T: Describe> Describe for Option<T> {
    fn describe(&self) -> String {
        self.as_ref()
            .map_or_else(|| "no limit".to_owned(), Describe::describe)
    }
}

/// Reads variables through a lookup function and gathers the warnings.
pub(crate) struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    warnings: Vec<Warning>,
}

impl<'a> Reader<'a> {
    /// A reader over `lookup` (for the process: `|name| std::env::var(name).ok()`).
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            warnings: Vec::new(),
        }
    }

    /// The variable's value, trimmed; unset and empty both give `None`, which is what the
    /// specification asks ("an empty value is treated as unset").
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The lookup itself, exactly as given (for `${VAR}` substitution).
    pub(crate) fn lookup(&self) -> &'a dyn Fn(&str) -> Option<String> {
        self.lookup
    }

    /// Whether the variable is set to something non-blank.
    pub(crate) fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Records a warning about `variable`. `detail` distinguishes warnings about the same
    /// variable for printing once per process; it must not hold a secret.
    pub(crate) fn warn(&mut self, variable: &str, detail: &str, message: String) {
        self.warnings.push(Warning {
            variable: variable.to_owned(),
            topic: format!("{variable}:{detail}"),
            message,
        });
    }

    /// Records the usual warning for a value that does not parse:
    /// `NAME="value" is not <expected>; using <instead>`.
    pub(crate) fn invalid(&mut self, variable: &str, value: &str, expected: &str, instead: &str) {
        self.warn(
            variable,
            value,
            format!("{variable}={value:?} is not {expected}; using {instead}"),
        );
    }

    /// Reads `name` with `parse`; unset gives `fallback` silently, a value `parse` rejects
    /// gives `fallback` with one warning that says what was `expected`.
    pub(crate) fn parse<T: Describe>(
        &mut self,
        name: &str,
        fallback: T,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> T {
        let Some(value) = self.get(name) else {
            return fallback;
        };
        match parse(&value) {
            Some(parsed) => parsed,
            None => {
                self.invalid(name, &value, expected, &fallback.describe());
                fallback
            }
        }
    }

    /// `true` or `false`, case-insensitive.
    pub(crate) fn bool(&mut self, name: &str, fallback: bool) -> bool {
        self.parse(name, fallback, "true or false", parse_bool)
    }

    /// A non-negative integer.
    pub(crate) fn count<T: FromStr + Describe>(&mut self, name: &str, fallback: T) -> T {
        self.parse(name, fallback, "a non-negative integer", |value| {
            parse_count(value)
        })
    }

    /// A non-negative integer of milliseconds.
    pub(crate) fn millis(&mut self, name: &str, fallback: Duration) -> Duration {
        self.parse(
            name,
            fallback,
            "a non-negative integer of milliseconds",
            parse_millis,
        )
    }

    /// The warnings gathered so far, in the order they were found.
    pub(crate) fn into_warnings(self) -> Vec<Warning> {
        self.warnings
    }
}

/// `true`/`false`, case-insensitive; anything else is `None`.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A decimal non-negative integer (no sign, no unit, no exponent).
pub(crate) fn parse_count<T: FromStr>(value: &str) -> Option<T> {
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// A decimal non-negative integer of milliseconds.
pub(crate) fn parse_millis(value: &str) -> Option<Duration> {
    parse_count::<u64>(value).map(Duration::from_millis)
}

/// Splits a comma list, trimming each item and dropping empty ones.
pub(crate) fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_count_as_unset() {
        let lookup = |name: &str| match name {
            "BLANK" => Some("   ".to_owned()),
            "PADDED" => Some(" 12 ".to_owned()),
            _ => None,
        };
        let reader = Reader::new(&lookup);
        assert_eq!(reader.get("BLANK"), None);
        assert_eq!(reader.get("UNSET"), None);
        assert_eq!(reader.get("PADDED").as_deref(), Some("12"));
        assert_eq!((reader.lookup())("PADDED").as_deref(), Some(" 12 "));
    }

    #[test]
    fn counts_reject_signs_units_and_overflow() {
        assert_eq!(parse_count::<u32>("0"), Some(0));
        assert_eq!(parse_count::<u32>("128"), Some(128));
        assert_eq!(parse_count::<u32>("-1"), None);
        assert_eq!(parse_count::<u32>("+1"), None);
        assert_eq!(parse_count::<u32>("1e3"), None);
        assert_eq!(parse_count::<u32>("10ms"), None);
        assert_eq!(parse_count::<u32>("99999999999"), None);
    }

    #[test]
    fn an_invalid_value_warns_once_and_uses_the_fallback() {
        let lookup = |_: &str| Some("soon".to_owned());
        let mut reader = Reader::new(&lookup);
        let delay = reader.millis("OTEL_X", Duration::from_millis(5));
        assert_eq!(delay, Duration::from_millis(5));
        let warnings = reader.into_warnings();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].variable, "OTEL_X");
        assert!(warnings[0].message.contains("\"soon\""));
        assert!(warnings[0].message.contains("using 5 ms"));
    }

    #[test]
    fn booleans_are_case_insensitive() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("1"), None);
        assert_eq!(parse_bool("yes"), None);
    }
}
