//! Expected attribute values, as `traced::testing::attribute` returns them.

#![allow(dead_code)]

use opentelemetry::{Array, StringValue, Value};

/// A string attribute value.
pub fn string(value: &str) -> Option<Value> {
    Some(Value::String(value.to_owned().into()))
}

/// A string-array attribute value.
pub fn strings(values: &[&str]) -> Option<Value> {
    let values = values.iter().map(|v| StringValue::from(v.to_string()));
    Some(Value::Array(Array::String(values.collect())))
}
