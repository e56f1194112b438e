//! What opentelemetry_sdk 0.33 leaves undone before a span reaches the exporter:
//!
//! - an attribute set twice with the same key is kept twice (the specification says the
//!   later value overwrites the earlier one): the later value is kept, at the first one's
//!   place;
//! - `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` is not implemented: string values (and strings in
//!   arrays) of spans, events and links are cut to the limit, in characters.
//!
//! The batch processor does both on its export thread; [`Finishing`] wraps the processors
//! that export as each span ends.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::sink::EndedSpanProcessor;

/// A processor that finishes spans ([`finish_span`]), then hands them on: for the simple
/// processor (the batch processor finishes them on its own thread).
#[derive(Debug)]
pub(crate) struct Finishing {
    inner: Box<dyn SpanProcessor>,
    limit: Option<usize>,
}

impl Finishing {
    pub(crate) fn new(inner: Box<dyn SpanProcessor>, limit: Option<usize>) -> Self {
        Self { inner, limit }
    }
}

impl SpanProcessor for Finishing {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        finish_span(&mut span, self.limit);
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl EndedSpanProcessor for Finishing {}

/// Removes `span`'s duplicate attribute keys, and cuts the string values of its attributes,
/// events and links to `limit` characters.
pub(crate) fn finish_span(span: &mut SpanData, limit: Option<usize>) {
    keep_last_values(&mut span.attributes);
    if let Some(limit) = limit {
        truncate_span(span, limit);
    }
}

/// Keeps one attribute per key: the last value set, at the place the key first appeared.
fn keep_last_values(attributes: &mut Vec<KeyValue>) {
    let duplicated = attributes.iter().enumerate().any(|(index, kv)| {
        attributes[..index]
            .iter()
            .any(|earlier| earlier.key == kv.key)
    });
    if !duplicated {
        return;
    }
    let mut kept: Vec<KeyValue> = Vec::with_capacity(attributes.len());
    let mut places = HashMap::with_capacity(attributes.len());
    for kv in attributes.drain(..) {
        match places.get(&kv.key) {
            Some(&place) => kept[place] = kv,
            None => {
                places.insert(kv.key.clone(), kept.len());
                kept.push(kv);
            }
        }
    }
    *attributes = kept;
}

/// Cuts the string values of `span`'s attributes, events and links to `limit` characters.
fn truncate_span(span: &mut SpanData, limit: usize) {
    truncate_all(&mut span.attributes, limit);
    for event in span.events.events.iter_mut() {
        truncate_all(&mut event.attributes, limit);
    }
    for link in span.links.links.iter_mut() {
        truncate_all(&mut link.attributes, limit);
    }
}

fn truncate_all(attributes: &mut [KeyValue], limit: usize) {
    for attribute in attributes {
        truncate_value(&mut attribute.value, limit);
    }
}

fn truncate_value(value: &mut Value, limit: usize) {
    match value {
        Value::String(text) => truncate_string(text, limit),
        Value::Array(Array::String(items)) => items
            .iter_mut()
            .for_each(|text| truncate_string(text, limit)),
        _ => {}
    }
}

fn truncate_string(text: &mut StringValue, limit: usize) {
    if let Some((cut, _)) = text.as_str().char_indices().nth(limit) {
        *text = StringValue::from(text.as_str()[..cut].to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_value_of_a_key_wins_at_its_first_place() {
        let mut attributes = vec![
            KeyValue::new("error.type", "my::Error"),
            KeyValue::new("a", 1),
            KeyValue::new("error.type", "500"),
            KeyValue::new("b", 2),
            KeyValue::new("a", 3),
        ];
        keep_last_values(&mut attributes);
        assert_eq!(
            attributes,
            [
                KeyValue::new("error.type", "500"),
                KeyValue::new("a", 3),
                KeyValue::new("b", 2),
            ]
        );
        let mut unique = vec![KeyValue::new("x", 1), KeyValue::new("y", 2)];
        keep_last_values(&mut unique);
        assert_eq!(unique.len(), 2);
    }

    #[test]
    fn strings_and_string_arrays_are_cut_in_characters() {
        let mut attributes = vec![
            KeyValue::new("s", "héllo wörld"),
            KeyValue::new(
                "a",
                Value::Array(Array::String(vec!["abcdef".into(), "ab".into()])),
            ),
            KeyValue::new("n", 123_456_789_i64),
        ];
        truncate_all(&mut attributes, 4);
        assert_eq!(attributes[0].value, Value::from("héll"));
        assert_eq!(
            attributes[1].value,
            Value::Array(Array::String(vec!["abcd".into(), "ab".into()]))
        );
        assert_eq!(attributes[2].value, Value::I64(123_456_789));
    }
}
