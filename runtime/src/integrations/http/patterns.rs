//! The comma lists and regular expressions of the HTTP options, built so that no pattern a
//! user writes can fail: an invalid regular expression is matched as literal text.

use regex::Regex;

/// The non-empty, trimmed items of a comma list.
pub(crate) fn split(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `pattern` as a regular expression searched anywhere; literal text when it is not valid.
#[cfg_attr(not(feature = "http-server"), allow(dead_code))] // excluded URLs are server-only
pub(crate) fn search(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| literal(pattern, false))
}

/// `pattern` as a case-insensitive regular expression matching a whole header name; literal
/// text when it is not valid.
pub(crate) fn name(pattern: &str) -> Regex {
    Regex::new(&format!("(?i)^(?:{pattern})$")).unwrap_or_else(|_| literal(pattern, true))
}

/// `text` matched literally (a whole, case-insensitive name when `whole`).
fn literal(text: &str, whole: bool) -> Regex {
    let escaped = regex::escape(text);
    let pattern = if whole {
        format!("(?i)^{escaped}$")
    } else {
        escaped
    };
    // An escaped literal always compiles; the fallback matches nothing.
    Regex::new(&pattern).unwrap_or_else(|_| never())
}

/// A regular expression that matches nothing.
fn never() -> Regex {
    // `[^\s\S]` is a valid class matching no character; should it fail, an empty pattern is
    // the last resort (it cannot fail to compile).
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| Regex::new("").unwrap_or_else(|_| never()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_trimmed() {
        assert_eq!(split(" a, ,b ,"), ["a", "b"]);
    }

    #[test]
    fn invalid_patterns_are_literal() {
        assert!(search("/a(").is_match("/a(/b"));
        assert!(name("x-(").is_match("X-("));
        assert!(!name("x-id").is_match("x-idx"));
        assert!(!never().is_match("anything"));
    }
}
