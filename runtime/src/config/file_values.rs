//! Typed reading of a loaded configuration file (`OTEL_CONFIG_FILE`, `HT_CONFIG_FILE`):
//! each getter takes the value at a path, and a value of the wrong type or out of range
//! gives `None` with one warning naming the file, the path, the value and what is used.

use serde_json::Value;

use super::source::{Reader, parse_bool, parse_count};
use super::yaml::load_yaml;

/// Reads and parses the YAML file named by `variable` (whose value is `path`), with
/// `${VAR}` substitution when `substitute`. A file that cannot be read or parsed, or whose
/// top level is not a mapping, gives `None` and one warning ending with `instead`.
pub(crate) fn load_file(
    reader: &mut Reader<'_>,
    variable: &str,
    path: &str,
    substitute: bool,
    instead: &str,
) -> Option<Value> {
    let loaded = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot be read ({error})"))
        .and_then(|text| {
            let lookup = reader.lookup();
            load_yaml(&text, substitute.then_some(lookup))
                .map_err(|error| format!("cannot be parsed ({error})"))
        })
        .and_then(|value| match value {
            Value::Object(_) => Ok(value),
            other => Err(format!("holds {} instead of a mapping", kind(&other))),
        });
    match loaded {
        Ok(value) => Some(value),
        Err(problem) => {
            reader.warn(
                variable,
                path,
                format!("{variable}={path:?}: the file {problem}; {instead}"),
            );
            None
        }
    }
}

/// A file's values, read with warnings into a [`Reader`].
pub(crate) struct FileValues<'r, 'a> {
    reader: &'r mut Reader<'a>,
    variable: &'static str,
    file: String,
}

/// How a value's type is named in a warning.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl<'r, 'a> FileValues<'r, 'a> {
    /// Values of the file `file` named by the variable `variable`.
    pub(crate) fn new(reader: &'r mut Reader<'a>, variable: &'static str, file: &str) -> Self {
        Self {
            reader,
            variable,
            file: file.to_owned(),
        }
    }

    /// Records a warning about the value at `at`.
    pub(crate) fn warn(&mut self, at: &str, message: &str) {
        let variable = self.variable;
        let text = format!("{variable} ({}): {at}: {message}", self.file);
        self.reader
            .warn(variable, &format!("{}#{at}#{message}", self.file), text);
    }

    /// Records the usual warning: `at: <shown> is not <expected>; using <instead>`.
    fn invalid(&mut self, at: &str, shown: &str, expected: &str, instead: &str) {
        self.warn(at, &format!("{shown} is not {expected}; using {instead}"));
    }

    fn show(value: &Value) -> String {
        match value {
            Value::String(text) => format!("{text:?}"),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            other => kind(other).to_owned(),
        }
    }

    /// A boolean (a `true`/`false` string is accepted too).
    pub(crate) fn bool(&mut self, value: Option<&Value>, at: &str, instead: &str) -> Option<bool> {
        let value = value?;
        let flag = match value {
            Value::Null => return None,
            Value::Bool(flag) => Some(*flag),
            Value::String(text) => parse_bool(text.trim()),
            _ => None,
        };
        if flag.is_none() {
            self.invalid(at, &Self::show(value), "true or false", instead);
        }
        flag
    }

    /// A string; numbers and booleans are taken as their text.
    pub(crate) fn string(
        &mut self,
        value: Option<&Value>,
        at: &str,
        instead: &str,
    ) -> Option<String> {
        match value? {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            other => {
                self.warn(
                    at,
                    &format!("{} is not a string; using {instead}", kind(other)),
                );
                None
            }
        }
    }

    /// A non-negative integer (`positive`: at least 1) that fits `T`.
    pub(crate) fn count<T: TryFrom<u64>>(
        &mut self,
        value: Option<&Value>,
        at: &str,
        positive: bool,
        instead: &str,
    ) -> Option<T> {
        let value = value?;
        let number = match value {
            Value::Null => return None,
            Value::Number(number) => number.as_u64(),
            Value::String(text) => parse_count::<u64>(text.trim()),
            _ => None,
        };
        let fits = number
            .filter(|number| !positive || *number > 0)
            .and_then(|number| T::try_from(number).ok());
        if fits.is_none() {
            let expected = if positive {
                "a positive integer"
            } else {
                "a non-negative integer"
            };
            self.invalid(at, &Self::show(value), expected, instead);
        }
        fits
    }

    /// A number in `[0, 1]`.
    pub(crate) fn ratio(&mut self, value: Option<&Value>, at: &str, instead: &str) -> Option<f64> {
        let value = value?;
        let number = match value {
            Value::Null => return None,
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        let ratio = number.filter(|ratio| (0.0..=1.0).contains(ratio));
        if ratio.is_none() {
            self.invalid(at, &Self::show(value), "a number between 0 and 1", instead);
        }
        ratio
    }

    /// A value that must be a list (or absent).
    pub(crate) fn list<'v>(&mut self, value: Option<&'v Value>, at: &str) -> &'v [Value] {
        match value {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.warn(at, &format!("{} is not a list; it is ignored", kind(other)));
                &[]
            }
        }
    }

    /// A value that must be a mapping (or absent).
    pub(crate) fn mapping<'v>(
        &mut self,
        value: Option<&'v Value>,
        at: &str,
    ) -> Option<&'v serde_json::Map<String, Value>> {
        match value? {
            Value::Null => None,
            Value::Object(map) => Some(map),
            other => {
                self.warn(
                    at,
                    &format!("{} is not a mapping; it is ignored", kind(other)),
                );
                None
            }
        }
    }
}
