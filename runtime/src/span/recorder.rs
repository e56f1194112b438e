//! [`Recorder`]: where an instrumented function's arguments are recorded as its span's
//! attributes.

use std::fmt::{Debug, Display};

use opentelemetry::{KeyValue, Value};

use super::lean;
use super::recorded::RecordedAttribute;

/// Collects the attributes a recording span gets from its arguments, straight into the
/// list they are kept in (a sampled span's record, already on the heap: a record built
/// elsewhere and moved there cost a copy per move).
#[doc(hidden)]
#[derive(Debug)]
pub struct Recorder<'a> {
    attributes: &'a mut lean::Attributes,
    name: Option<String>,
}

impl<'a> Recorder<'a> {
    /// Records into `attributes`.
    pub(super) fn new(attributes: &'a mut lean::Attributes) -> Self {
        Self {
            attributes,
            name: None,
        }
    }

    /// Adds `attribute` as it is (a sampler's).
    pub(super) fn record_attribute(&mut self, attribute: KeyValue) {
        self.attributes.push(attribute.into());
    }

    /// The name given by [`Self::rename`], if any.
    pub(super) fn into_name(self) -> Option<String> {
        self.name
    }

    /// Replaces the span's name (a `name = "..{arg}.."` template, formatted).
    #[inline]
    pub fn rename(&mut self, name: String) {
        self.name = Some(name);
    }

    /// Adds `key = value` unless the value is `None`: what a value of any other
    /// [`AttributeValue`] records (numbers, `bool` and text have calls of their own, which
    /// take their value in registers rather than as an `Option` returned through memory).
    pub fn record(&mut self, key: &'static str, value: Option<Value>) {
        if let Some(value) = value {
            RecordedAttribute::push(self.attributes, key, value);
        }
    }

    /// Adds `key = value`: what an integer argument that fits in `i64` records.
    ///
    /// This and the other `record_*` calls are not generic and not `#[inline]`: an
    /// instrumented function calls them (the key and value in registers, written where the
    /// record keeps them), where with the attribute's writing inlined the optimiser compiled
    /// that writing once per argument of every function: 500 functions of three arguments
    /// took 6.5 s to build optimised instead of 2.8 (`benches/README.md`, compile time).
    /// Link-time optimisation may still inline them.
    pub fn record_i64(&mut self, key: &'static str, value: i64) {
        RecordedAttribute::push(self.attributes, key, Value::I64(value));
    }

    /// Adds `key = value`.
    pub fn record_f64(&mut self, key: &'static str, value: f64) {
        RecordedAttribute::push(self.attributes, key, Value::F64(value));
    }

    /// Adds `key = value`.
    pub fn record_bool(&mut self, key: &'static str, value: bool) {
        RecordedAttribute::push(self.attributes, key, Value::Bool(value));
    }

    /// Adds `key = text`; short text is copied into the span's record, not allocated.
    pub fn record_text(&mut self, key: &'static str, text: &str) {
        RecordedAttribute::push_text(self.attributes, key, text);
    }

    /// Adds `key =` the `Display` rendering of `value`, allocated only when long.
    #[inline]
    pub fn record_display<T: Display + ?Sized>(&mut self, key: &'static str, value: &T) {
        RecordedAttribute::push_display(self.attributes, key, value);
    }

    /// Adds `key =` the `Debug` rendering of `value`, allocated only when long.
    #[inline]
    pub fn record_debug<T: Debug + ?Sized>(&mut self, key: &'static str, value: &T) {
        RecordedAttribute::push_debug(self.attributes, key, value);
    }
}
