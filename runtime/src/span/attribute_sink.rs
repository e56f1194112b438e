//! Where an integration writes the attributes it knows when a span starts: the OpenTelemetry
//! API's `Vec<KeyValue>` (a provider installed by hand, a sampler that reads them), or
//! straight into the record of a span of `traced`'s pipeline, where short text stays inline
//! ([`super::recorded`]) instead of becoming a `String` copied again into the record.

use opentelemetry::{KeyValue, Value};

use super::lean::Attributes;
use super::recorded::RecordedAttribute;

/// Takes a span's attributes as an integration writes them, keys being the semantic
/// conventions' constants.
pub(crate) trait AttributeSink {
    /// `key = text`, copied.
    fn text(&mut self, key: &'static str, text: &str);
    /// `key = text`, where the text lives for the whole program.
    fn static_text(&mut self, key: &'static str, text: &'static str);
    /// `key = value`.
    fn int(&mut self, key: &'static str, value: i64);
    /// Attributes made as the OpenTelemetry API has them (captured headers).
    fn key_values(&mut self, attributes: Vec<KeyValue>);
}

impl AttributeSink for Vec<KeyValue> {
    fn text(&mut self, key: &'static str, text: &str) {
        self.push(KeyValue::new(key, text.to_owned()));
    }

    fn static_text(&mut self, key: &'static str, text: &'static str) {
        self.push(KeyValue::new(key, text));
    }

    fn int(&mut self, key: &'static str, value: i64) {
        self.push(KeyValue::new(key, value));
    }

    fn key_values(&mut self, mut attributes: Vec<KeyValue>) {
        self.append(&mut attributes);
    }
}

impl AttributeSink for Attributes {
    fn text(&mut self, key: &'static str, text: &str) {
        RecordedAttribute::push_text(self, key, text);
    }

    fn static_text(&mut self, key: &'static str, text: &'static str) {
        RecordedAttribute::push(self, key, Value::from(text));
    }

    fn int(&mut self, key: &'static str, value: i64) {
        RecordedAttribute::push(self, key, Value::I64(value));
    }

    fn key_values(&mut self, attributes: Vec<KeyValue>) {
        RecordedAttribute::extend_given(self, attributes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a record holds, as exported.
    fn exported(record: Attributes) -> Vec<KeyValue> {
        record
            .into_iter()
            .map(RecordedAttribute::into_key_value)
            .collect()
    }

    /// Writes the same attributes into `sink`: text past the inline room, inline text, text
    /// that lives for the whole program, a number.
    fn attributes(sink: &mut impl AttributeSink) {
        sink.text("url.path", "/users/42/orders/with/a/long/path");
        sink.text("server.address", "example.com");
        sink.static_text("http.request.method", "GET");
        sink.int("server.port", 8080);
    }

    #[test]
    fn a_record_exports_what_the_api_list_holds() {
        let mut api = Vec::new();
        attributes(&mut api);
        let mut record = Attributes::new();
        attributes(&mut record);
        assert_eq!(exported(record), api);
        assert_eq!(
            api,
            [
                KeyValue::new("url.path", "/users/42/orders/with/a/long/path"),
                KeyValue::new("server.address", "example.com"),
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("server.port", 8080),
            ]
        );
    }

    #[test]
    fn key_values_are_appended_as_they_are() {
        let given = || vec![KeyValue::new("user.id", "7"), KeyValue::new("n", 1.5)];
        let mut api = vec![KeyValue::new("first", 1)];
        api.key_values(given());
        let mut record = Attributes::new();
        record.int("first", 1);
        record.key_values(given());
        assert_eq!(exported(record), api);
        assert_eq!(api.len(), 3);
        assert_eq!(api[2], KeyValue::new("n", 1.5));
    }
}
