//! Where an integration writes the attributes it knows when a span starts: the OpenTelemetry
//! API's `Vec<KeyValue>` (a provider installed by hand, a sampler that reads them), or
//! straight into the record of a span of `traced`'s pipeline, where short text stays inline
//! ([`super::recorded`]) instead of becoming a `String` copied again into the record.

use opentelemetry::{Key, KeyValue, Value};

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
        RecordedAttribute::push_text(self, Key::from_static_str(key), text);
    }

    fn static_text(&mut self, key: &'static str, text: &'static str) {
        RecordedAttribute::push(self, Key::from_static_str(key), Value::from(text));
    }

    fn int(&mut self, key: &'static str, value: i64) {
        RecordedAttribute::push(self, Key::from_static_str(key), Value::I64(value));
    }

    fn key_values(&mut self, attributes: Vec<KeyValue>) {
        self.extend(attributes.into_iter().map(RecordedAttribute::given));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the same attributes into `sink`.
    fn write(sink: &mut impl AttributeSink) {
        sink.text("url.path", "/users/42/orders/with/a/long/path");
        sink.static_text("http.request.method", "GET");
        sink.int("server.port", 8080);
        sink.key_values(vec![KeyValue::new("user.id", "7"), KeyValue::new("n", 1.5)]);
    }

    #[test]
    fn a_record_exports_what_the_api_list_holds() {
        let mut api = Vec::new();
        write(&mut api);
        let mut record = Attributes::new();
        write(&mut record);
        let exported: Vec<KeyValue> = record
            .into_iter()
            .map(RecordedAttribute::into_key_value)
            .collect();
        assert_eq!(exported, api);
        assert_eq!(api.len(), 5);
        assert_eq!(
            api[0],
            KeyValue::new("url.path", "/users/42/orders/with/a/long/path")
        );
        assert_eq!(api[2], KeyValue::new("server.port", 8080));
        assert_eq!(api[4], KeyValue::new("n", 1.5));
    }
}
