//! What opentelemetry_sdk 0.33 leaves undone before a span reaches the exporter:
//!
//! - an attribute set twice with the same key is kept twice (the specification says the
//!   later value overwrites the earlier one): the later value is kept, at the first one's
//!   place;
//! - `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` is not implemented: string values (and strings in
//!   arrays) of spans, events and links are cut to the limit, in characters.
//!
//! The batch processor's exporters do both on its export thread (to [`SpanData`], or to a
//! `#[traced]` span's record that the OTLP exporter encodes as it is); [`Finishing`] wraps
//! the processors that export as each span ends.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::{Array, Context, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanEvents, SpanLinks, SpanProcessor};

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
    if has_duplicate_keys(&span.attributes, |kv| &kv.key) {
        span.attributes = keep_last_values(span.attributes.drain(..), |kv| &kv.key);
    }
    if let Some(limit) = limit {
        truncate_all(&mut span.attributes, limit);
        truncate_events_and_links(&mut span.events, &mut span.links, limit);
    }
}

/// The same for a `#[traced]` span's record, which an exporter may read as it is, without
/// making it [`SpanData`]: the spans exported are the same either way.
pub(crate) fn finish_record(span: &mut crate::span::lean::SpanRecord, limit: Option<usize>) {
    use crate::span::recorded::RecordedAttribute;

    // The call site's attributes are shared by its spans; in the rare span where a later
    // attribute replaces one or the limit cuts one, the span takes its own copies first.
    if let Some(code) = span.code {
        let code = code.attributes();
        let replaced = code
            .iter()
            .any(|kv| span.attributes.iter().any(|other| *other.key() == kv.key));
        let cut = limit.is_some_and(|limit| code.iter().any(|kv| is_longer(&kv.value, limit)));
        if replaced || cut {
            span.own_code_attributes();
        }
    }
    if has_duplicate_keys(&span.attributes, RecordedAttribute::key) {
        let kept = keep_last_values(span.attributes.drain(..), RecordedAttribute::key);
        span.attributes = kept.into();
    }
    if let Some(limit) = limit {
        for attribute in &mut span.attributes {
            attribute.truncate(limit, |value| truncate_value(value, limit));
        }
        truncate_events_and_links(&mut span.events, &mut span.links, limit);
    }
}

fn has_duplicate_keys<T>(attributes: &[T], key: impl Fn(&T) -> &Key) -> bool {
    attributes.iter().enumerate().any(|(index, attribute)| {
        attributes[..index]
            .iter()
            .any(|earlier| key(earlier) == key(attribute))
    })
}

/// One attribute per key: the last value set, at the place the key first appeared.
fn keep_last_values<T>(
    attributes: impl ExactSizeIterator<Item = T>,
    key: impl Fn(&T) -> &Key,
) -> Vec<T> {
    let mut kept: Vec<T> = Vec::with_capacity(attributes.len());
    let mut places = HashMap::with_capacity(attributes.len());
    for attribute in attributes {
        match places.get(key(&attribute)) {
            Some(&place) => kept[place] = attribute,
            None => {
                places.insert(key(&attribute).clone(), kept.len());
                kept.push(attribute);
            }
        }
    }
    kept
}

/// Cuts the string values of the attributes of `events` and `links` to `limit` characters.
fn truncate_events_and_links(events: &mut SpanEvents, links: &mut SpanLinks, limit: usize) {
    for event in events.events.iter_mut() {
        truncate_all(&mut event.attributes, limit);
    }
    for link in links.links.iter_mut() {
        truncate_all(&mut link.attributes, limit);
    }
}

/// Whether [`truncate_value`] would cut `value`.
fn is_longer(value: &Value, limit: usize) -> bool {
    let longer = |text: &StringValue| text.as_str().chars().nth(limit).is_some();
    match value {
        Value::String(text) => longer(text),
        Value::Array(Array::String(items)) => items.iter().any(longer),
        _ => false,
    }
}

fn truncate_all(attributes: &mut [KeyValue], limit: usize) {
    for attribute in attributes {
        truncate_value(&mut attribute.value, limit);
    }
}

/// Cuts a string value, or the strings of an array, to `limit` characters.
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
        let attributes = vec![
            KeyValue::new("error.type", "my::Error"),
            KeyValue::new("a", 1),
            KeyValue::new("error.type", "500"),
            KeyValue::new("b", 2),
            KeyValue::new("a", 3),
        ];
        let attributes = keep_last_values(attributes.into_iter(), |kv| &kv.key);
        assert_eq!(
            attributes,
            [
                KeyValue::new("error.type", "500"),
                KeyValue::new("a", 3),
                KeyValue::new("b", 2),
            ]
        );
        let unique = [KeyValue::new("x", 1), KeyValue::new("y", 2)];
        assert!(!has_duplicate_keys(&unique, |kv| &kv.key));
        assert!(has_duplicate_keys(
            &[KeyValue::new("x", 1), KeyValue::new("x", 2)],
            |kv| &kv.key
        ));
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
