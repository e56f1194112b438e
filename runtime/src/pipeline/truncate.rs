//! `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, which opentelemetry_sdk 0.33 does not implement:
//! string values (and strings in arrays) of spans, events and links are cut to the limit, in
//! characters, before they reach the exporter. The batch processor applies it on its export
//! thread; [`Truncating`] wraps the processors that export as each span ends.

use std::time::Duration;

use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

/// A processor that truncates long string attribute values, then hands the span on: for the
/// simple processor (the batch processor truncates on its own thread).
#[derive(Debug)]
pub(crate) struct Truncating {
    inner: Box<dyn SpanProcessor>,
    limit: Option<usize>,
}

impl Truncating {
    pub(crate) fn new(inner: Box<dyn SpanProcessor>, limit: Option<usize>) -> Self {
        Self { inner, limit }
    }
}

impl SpanProcessor for Truncating {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        if let Some(limit) = self.limit {
            truncate_span(&mut span, limit);
        }
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

/// Cuts the string values of `span`'s attributes, events and links to `limit` characters.
pub(crate) fn truncate_span(span: &mut SpanData, limit: usize) {
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
