//! `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and the default service name.

use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_semantic_conventions::resource::SERVICE_NAME;

use super::key_values::{PairError, parse_key_values};
use super::source::Reader;

/// `OTEL_SERVICE_NAME`: the `service.name` resource attribute; it wins over a
/// `service.name` inside [`OTEL_RESOURCE_ATTRIBUTES`].
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, percent-decoded. A
/// malformed list is discarded whole, as the specification asks.
pub(crate) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// The prefix of the default service name, followed by the executable's name.
pub(crate) const UNKNOWN_SERVICE: &str = "unknown_service";

/// Parses a resource attribute list: every entry, or the reason the whole list is unusable.
pub(crate) fn parse_resource_attributes(value: &str) -> Result<Vec<KeyValue>, PairError> {
    parse_key_values(value)
        .into_iter()
        .map(|entry| entry.map(|(key, value)| KeyValue::new(key, value)))
        .collect()
}

/// Reads [`OTEL_RESOURCE_ATTRIBUTES`]; a malformed list gives no attributes and one warning.
pub(crate) fn resource_attributes_from_env(reader: &mut Reader<'_>) -> Vec<KeyValue> {
    let Some(value) = reader.get(OTEL_RESOURCE_ATTRIBUTES) else {
        return Vec::new();
    };
    match parse_resource_attributes(&value) {
        Ok(attributes) => attributes,
        Err(error) => {
            reader.warn(
                OTEL_RESOURCE_ATTRIBUTES,
                &value,
                format!(
                    "{OTEL_RESOURCE_ATTRIBUTES}={value:?} is not a list of key=value pairs \
                     with percent-encoded values ({}); the whole variable is ignored, \
                     using no attributes from it",
                    error.describe()
                ),
            );
            Vec::new()
        }
    }
}

/// The `service.name` among `attributes`, if any, as a string.
pub(crate) fn service_name_in(attributes: &[KeyValue]) -> Option<String> {
    attributes
        .iter()
        .rev()
        .find(|attribute| attribute.key.as_str() == SERVICE_NAME)
        .map(|attribute| attribute.value.as_str().into_owned())
}

/// Appends `higher` to `lower`, an attribute of `higher` replacing one of `lower` with the
/// same key (in place), and later duplicates inside one list replacing earlier ones.
pub(crate) fn merge_attributes(lower: Vec<KeyValue>, higher: Vec<KeyValue>) -> Vec<KeyValue> {
    let mut merged: Vec<KeyValue> = Vec::with_capacity(lower.len() + higher.len());
    for attribute in lower.into_iter().chain(higher) {
        match merged.iter_mut().find(|kept| kept.key == attribute.key) {
            Some(kept) => kept.value = attribute.value,
            None => merged.push(attribute),
        }
    }
    merged
}

/// The final attribute list: `service.name` first (from `service_name`, else the one in
/// `attributes`, else [`default_service_name`]), then the others in order.
pub(crate) fn with_service_name(
    attributes: Vec<KeyValue>,
    service_name: Option<String>,
) -> Vec<KeyValue> {
    let service_name = service_name
        .or_else(|| service_name_in(&attributes))
        .unwrap_or_else(default_service_name);
    let mut all = Vec::with_capacity(attributes.len() + 1);
    all.push(KeyValue::new(
        Key::from_static_str(SERVICE_NAME),
        Value::from(service_name),
    ));
    all.extend(
        attributes
            .into_iter()
            .filter(|attribute| attribute.key.as_str() != SERVICE_NAME),
    );
    all
}

/// `unknown_service:<executable name>`, or `unknown_service` when the executable's name
/// cannot be found, as the specification says.
pub(crate) fn default_service_name() -> String {
    let executable = std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .filter(|name| !name.is_empty());
    match executable {
        Some(name) => format!("{UNKNOWN_SERVICE}:{name}"),
        None => UNKNOWN_SERVICE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_percent_decoded() {
        let attributes = parse_resource_attributes("team=a%2Cb,env=prod%20eu").ok();
        assert_eq!(
            attributes,
            Some(vec![
                KeyValue::new("team", "a,b"),
                KeyValue::new("env", "prod eu"),
            ])
        );
    }

    #[test]
    fn one_bad_entry_discards_the_whole_list() {
        assert!(parse_resource_attributes("a=1,b=%zz").is_err());
        assert!(parse_resource_attributes("a=1,justakey").is_err());
    }

    #[test]
    fn service_name_comes_first_and_is_not_duplicated() {
        let attributes = vec![
            KeyValue::new("a", "1"),
            KeyValue::new(SERVICE_NAME, "from-attributes"),
        ];
        assert_eq!(
            with_service_name(attributes.clone(), Some("explicit".to_owned())),
            vec![
                KeyValue::new(SERVICE_NAME, "explicit"),
                KeyValue::new("a", "1")
            ]
        );
        assert_eq!(
            with_service_name(attributes, None),
            vec![
                KeyValue::new(SERVICE_NAME, "from-attributes"),
                KeyValue::new("a", "1")
            ]
        );
    }

    #[test]
    fn the_default_service_name_names_the_executable() {
        let name = default_service_name();
        assert!(name.starts_with("unknown_service:"), "{name}");
        assert!(name.len() > "unknown_service:".len());
    }

    #[test]
    fn merging_keeps_positions_and_lets_the_higher_list_win() {
        let merged = merge_attributes(
            vec![KeyValue::new("a", "low"), KeyValue::new("b", "low")],
            vec![KeyValue::new("a", "high"), KeyValue::new("c", "high")],
        );
        assert_eq!(
            merged,
            vec![
                KeyValue::new("a", "high"),
                KeyValue::new("b", "low"),
                KeyValue::new("c", "high"),
            ]
        );
    }
}
