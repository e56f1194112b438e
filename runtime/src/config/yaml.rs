//! Loading a YAML configuration file into a `serde_json::Value` tree, with the declarative
//! configuration's `${VAR}` substitution applied to scalar values (never to keys) before
//! their type is resolved: `disabled: ${OTEL_SDK_DISABLED:-false}` is a boolean, and a
//! variable holding `a\nkey: b` stays one string, it cannot inject structure.

use std::borrow::Cow;

use saphyr::{Scalar, ScalarStyle, Tag, Yaml, YamlLoader};
use saphyr_parser::Parser;
use serde_json::{Map, Number, Value};

use super::substitution::substitute;

/// Where `${VAR}` references are looked up; `None` leaves values as written.
pub(crate) type Substitution<'a> = Option<&'a dyn Fn(&str) -> Option<String>>;

/// Parses the first document of `text`. An empty document is `Value::Null`. The error
/// describes the problem (with its line and column for syntax errors) and never quotes a
/// value.
pub(crate) fn load_yaml(text: &str, substitution: Substitution<'_>) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(text);
    let mut loader: YamlLoader<'_, Yaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    parser
        .load(&mut loader, false)
        .map_err(|error| error.to_string())?;
    if let Some(error) = loader.error() {
        return Err(error.to_string());
    }
    match loader.into_documents().into_iter().next() {
        Some(document) => convert(document, substitution, 0),
        None => Ok(Value::Null),
    }
}

/// Deeper than any configuration needs; a bound keeps the recursion off the stack's end.
const MAX_DEPTH: usize = 64;

fn convert(node: Yaml<'_>, substitution: Substitution<'_>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested more than {MAX_DEPTH} levels deep"));
    }
    Ok(match node {
        Yaml::Representation(text, style, tag) => scalar(text, style, tag, substitution)?,
        Yaml::Value(value) => from_scalar(value),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(|item| convert(item, substitution, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, value) in entries {
                map.insert(key_text(key)?, convert(value, substitution, depth + 1)?);
            }
            Value::Object(map)
        }
        Yaml::Tagged(_, inner) => convert(*inner, substitution, depth + 1)?,
        Yaml::Alias(_) | Yaml::BadValue => Value::Null,
    })
}

fn scalar(
    text: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<Cow<'_, Tag>>,
    substitution: Substitution<'_>,
) -> Result<Value, String> {
    let text = match substitution {
        Some(lookup) if text.contains('$') => {
            Cow::Owned(substitute(&text, lookup).map_err(|error| format!("substitution: {error}"))?)
        }
        _ => text,
    };
    Scalar::parse_from_cow_and_metadata(text, style, tag.as_ref())
        .map(from_scalar)
        .ok_or_else(|| match tag {
            Some(tag) => format!("a value does not match its tag {tag}"),
            None => "a value cannot be read".to_owned(),
        })
}

fn from_scalar(value: Scalar<'_>) -> Value {
    match value {
        Scalar::Null => Value::Null,
        Scalar::Boolean(value) => Value::Bool(value),
        Scalar::Integer(value) => Value::Number(value.into()),
        Scalar::FloatingPoint(value) => Number::from_f64(value.into_inner())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Scalar::String(value) => Value::String(value.into_owned()),
    }
}

fn key_text(key: Yaml<'_>) -> Result<String, String> {
    match key {
        Yaml::Representation(text, _, _) => Ok(text.into_owned()),
        Yaml::Value(Scalar::String(text)) => Ok(text.into_owned()),
        Yaml::Value(Scalar::Integer(number)) => Ok(number.to_string()),
        Yaml::Value(Scalar::Boolean(flag)) => Ok(flag.to_string()),
        Yaml::Tagged(_, inner) => key_text(*inner),
        _ => Err("a mapping key is not a plain scalar".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "DISABLED" => Some("true".to_owned()),
            "DELAY" => Some("250".to_owned()),
            "EVIL" => Some("x\ninjected: true".to_owned()),
            "KEY" => Some("renamed".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn substituted_plain_scalars_get_their_type_after_substitution() {
        let text = "disabled: ${DISABLED}\ndelay: ${DELAY:-5000}\nquoted: \"${DELAY}\"\nmissing: ${NOPE}\n";
        let value = load_yaml(text, Some(&env));
        assert_eq!(
            value,
            Ok(json!({"disabled": true, "delay": 250, "quoted": "250", "missing": null}))
        );
    }

    #[test]
    fn a_substituted_value_cannot_inject_structure_and_keys_are_not_substituted() {
        let value = load_yaml("a: ${EVIL}\n${KEY}: 1\n", Some(&env));
        assert_eq!(value, Ok(json!({"a": "x\ninjected: true", "${KEY}": 1})));
    }

    #[test]
    fn without_substitution_references_stay_as_written() {
        assert_eq!(load_yaml("a: ${DELAY}", None), Ok(json!({"a": "${DELAY}"})));
    }

    #[test]
    fn nested_structures_and_empty_values_load() {
        let text = "list:\n  - always_on:\n  - name: x\n    value: [1, 2.5, true]\n";
        assert_eq!(
            load_yaml(text, None),
            Ok(json!({"list": [{"always_on": null}, {"name": "x", "value": [1, 2.5, true]}]}))
        );
        assert_eq!(load_yaml("", None), Ok(Value::Null));
    }

    #[test]
    fn syntax_errors_and_bad_references_are_errors() {
        assert!(load_yaml("a: [1, 2", None).is_err());
        assert!(load_yaml("a: 1\na: 2\n", None).is_err());
        assert!(load_yaml("a: ${1BAD}", Some(&env)).is_err());
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(load_yaml(&deep, None).is_err());
    }
}
