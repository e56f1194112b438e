//! Turning Rust values into typed OpenTelemetry attribute values.
//!
//! [`AttributeValue`] is the typed conversion: numbers stay numbers, strings stay strings,
//! `Option` disappears when `None`, slices become homogeneous arrays. `#[traced]` falls back
//! to `Display`, then to `Debug`, for argument types without it; that choice is made at
//! compile time by [`Wrap`] and the `Via*` traits (autoref specialisation), so recording an
//! argument never tests a type at run time.

use std::borrow::Cow;
use std::fmt::{self, Debug, Display, Write as _};
use std::rc::Rc;
use std::sync::Arc;

use opentelemetry::{Array, StringValue, Value};

use crate::span::Recorder;

/// How many bytes of a `Debug` rendering are kept before it is cut (on a character
/// boundary) and marked with `…`. Derived `Debug` output of large structures is otherwise
/// unbounded, and a span attribute is no place for a megabyte of text.
pub(crate) const DEBUG_VALUE_MAX_BYTES: usize = 1024;

/// A value that can be recorded as a typed OpenTelemetry attribute.
///
/// Implemented for every integer width, floats, `bool`, `char`, string types, `Option<T>`
/// (no attribute when `None`), slices, arrays and `Vec`s of those (homogeneous arrays), smart
/// pointers and references to them, and the OpenTelemetry [`Value`] itself.
///
/// Integers become `i64`; an unsigned or 128-bit integer that does not fit in `i64` is
/// recorded as its decimal string rather than silently wrapped.
///
/// # Example
///
/// ```
/// use traced::AttributeValue;
/// use traced::opentelemetry::{Array, Value};
///
/// assert_eq!(42u8.to_attribute_value(), Some(Value::I64(42)));
/// assert_eq!(u64::MAX.to_attribute_value(), Some(Value::from("18446744073709551615")));
/// assert_eq!(None::<i32>.to_attribute_value(), None);
/// assert_eq!(
///     vec!["a", "b"].to_attribute_value(),
///     Some(Value::Array(Array::String(vec!["a".into(), "b".into()]))),
/// );
/// ```
pub trait AttributeValue {
    /// The attribute value, or `None` when nothing should be recorded.
    fn to_attribute_value(&self) -> Option<Value>;

    /// Records the value as `key` on the span `#[traced]` is starting. Text types override
    /// it to copy short text into the span's record instead of allocating a `String`.
    #[doc(hidden)]
    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record(key, self.to_attribute_value());
    }
}

macro_rules! lossless_integers {
    ($($int:ty),*) => {$(
        impl AttributeValue for $int {
            #[inline]
            fn to_attribute_value(&self) -> Option<Value> {
                Some(Value::I64(i64::from(*self)))
            }

            #[inline]
            fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
                recorder.record_i64(key, i64::from(*self));
            }
        }
    )*};
}
lossless_integers!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! wide_integers {
    ($($int:ty),*) => {$(
        impl AttributeValue for $int {
            #[inline]
            fn to_attribute_value(&self) -> Option<Value> {
                Some(match i64::try_from(*self) {
                    Ok(fits) => Value::I64(fits),
                    Err(_) => Value::String(self.to_string().into()),
                })
            }

            #[inline]
            fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
                match i64::try_from(*self) {
                    Ok(fits) => recorder.record_i64(key, fits),
                    // Its decimal digits, as `to_attribute_value` gives them: inline text when
                    // they fit (any `u64`), no `String` allocated.
                    Err(_) => recorder.record_display(key, self),
                }
            }
        }
    )*};
}
wide_integers!(isize, usize, u64, i128, u128);

impl AttributeValue for f64 {
    #[inline]
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::F64(*self))
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_f64(key, *self);
    }
}

impl AttributeValue for f32 {
    #[inline]
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::F64(f64::from(*self)))
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_f64(key, f64::from(*self));
    }
}

impl AttributeValue for bool {
    #[inline]
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_bool(key, *self);
    }
}

impl AttributeValue for char {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::String(self.to_string().into()))
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_text(key, self.encode_utf8(&mut [0; 4]));
    }
}

impl AttributeValue for str {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::String(self.to_owned().into()))
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_text(key, self);
    }
}

impl AttributeValue for String {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_str().to_attribute_value()
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_text(key, self);
    }
}

impl AttributeValue for Cow<'_, str> {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_ref().to_attribute_value()
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_text(key, self);
    }
}

impl AttributeValue for Value {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(self.clone())
    }
}

impl AttributeValue for StringValue {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::String(self.clone()))
    }
}

impl<T: AttributeValue> AttributeValue for Option<T> {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_ref().and_then(T::to_attribute_value)
    }

    #[inline]
    fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        if let Some(value) = self {
            value.__record(key, recorder);
        }
    }
}

macro_rules! forwarding_pointers {
    ($($pointer:ty),*) => {$(
        impl<T: AttributeValue + ?Sized> AttributeValue for $pointer {
            fn to_attribute_value(&self) -> Option<Value> {
                (**self).to_attribute_value()
            }

            #[inline]
            fn __record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
                (**self).__record(key, recorder);
            }
        }
    )*};
}
forwarding_pointers!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

impl<T: ArrayElement> AttributeValue for [T] {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::Array(T::collect_array(self.iter())))
    }
}

impl<T: ArrayElement, const N: usize> AttributeValue for [T; N] {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_slice().to_attribute_value()
    }
}

impl<T: ArrayElement> AttributeValue for Vec<T> {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_slice().to_attribute_value()
    }
}

/// An element type of a homogeneous attribute array.
///
/// Implemented for the integer widths, floats, `bool` and string types, and references to
/// them. An array of wide integers in which any element does not fit in `i64` is recorded as
/// an array of decimal strings, because OpenTelemetry arrays cannot mix types.
///
/// # Example
///
/// ```
/// use traced::AttributeValue;
/// use traced::opentelemetry::{Array, Value};
///
/// assert_eq!([1u16, 2].to_attribute_value(), Some(Value::Array(Array::I64(vec![1, 2]))));
/// ```
pub trait ArrayElement {
    /// Builds the array from the elements.
    fn collect_array<'a>(items: impl Iterator<Item = &'a Self>) -> Array
    where
        Self: 'a;
}

macro_rules! integer_elements {
    ($($int:ty),*) => {$(
        impl ArrayElement for $int {
            fn collect_array<'a>(items: impl Iterator<Item = &'a Self>) -> Array {
                let items: Vec<$int> = items.copied().collect();
                let exact: Result<Vec<i64>, _> = items.iter().map(|&v| i64::try_from(v)).collect();
                match exact {
                    Ok(ints) => Array::I64(ints),
                    Err(_) => Array::String(items.iter().map(|v| v.to_string().into()).collect()),
                }
            }
        }
    )*};
}
integer_elements!(
    i8, i16, i32, i64, u8, u16, u32, isize, usize, u64, i128, u128
);

impl ArrayElement for f64 {
    fn collect_array<'a>(items: impl Iterator<Item = &'a Self>) -> Array {
        Array::F64(items.copied().collect())
    }
}

impl ArrayElement for f32 {
    fn collect_array<'a>(items: impl Iterator<Item = &'a Self>) -> Array {
        Array::F64(items.map(|&v| f64::from(v)).collect())
    }
}

impl ArrayElement for bool {
    fn collect_array<'a>(items: impl Iterator<Item = &'a Self>) -> Array {
        Array::Bool(items.copied().collect())
    }
}

macro_rules! string_elements {
    ($($string:ty),*) => {$(
        impl ArrayElement for $string {
            fn collect_array<'a>(items: impl Iterator<Item = &'a Self>) -> Array
            where
                Self: 'a,
            {
                Array::String(items.map(|s| StringValue::from(s.to_string())).collect())
            }
        }
    )*};
}
string_elements!(str, String, Cow<'_, str>);

impl<T: ArrayElement + ?Sized> ArrayElement for &T {
    fn collect_array<'a>(items: impl Iterator<Item = &'a Self>) -> Array
    where
        Self: 'a,
    {
        T::collect_array(items.map(|item| &**item))
    }
}

/// Renders `Debug` output, cut at [`DEBUG_VALUE_MAX_BYTES`] on a character boundary.
pub(crate) fn truncated_debug(value: &(impl Debug + ?Sized)) -> String {
    let mut out = BoundedWriter::new(DEBUG_VALUE_MAX_BYTES);
    // A `Debug` impl that fails still leaves what it wrote; the error itself is not useful.
    let _ = write!(out, "{value:?}");
    out.finish()
}

/// Renders `Display` output, cut like [`truncated_debug`].
pub(crate) fn truncated_display(value: &(impl Display + ?Sized)) -> String {
    let mut text = String::new();
    push_truncated_display(&mut text, value);
    text
}

/// Appends the `Display` output of `value` to `text`, cut like [`truncated_debug`]: what
/// [`truncated_display`] renders, without a `String` of its own.
pub(crate) fn push_truncated_display(text: &mut String, value: &(impl Display + ?Sized)) {
    let mut out = BoundedWriter {
        limit: text.len() + DEBUG_VALUE_MAX_BYTES,
        text: std::mem::take(text),
        cut: false,
    };
    let _ = write!(out, "{value}");
    *text = out.finish();
}

/// A `fmt::Write` that keeps at most `limit` bytes and remembers whether it dropped any, so
/// a huge `Debug` rendering costs at most `limit` bytes of memory.
struct BoundedWriter {
    text: String,
    limit: usize,
    cut: bool,
}

impl BoundedWriter {
    fn new(limit: usize) -> Self {
        Self {
            text: String::new(),
            limit,
            cut: false,
        }
    }

    fn finish(mut self) -> String {
        if self.cut {
            self.text.push('…');
        }
        self.text
    }
}

impl fmt::Write for BoundedWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.cut = true;
        // Stop the formatter early: nothing more will be kept.
        Err(fmt::Error)
    }
}

/// Borrowed value under autoref specialisation; see the `Via*` traits.
#[doc(hidden)]
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

/// First choice: the typed conversion of [`AttributeValue`].
#[doc(hidden)]
pub trait ViaAttributeValue {
    fn __traced_value(&self) -> Option<Value>;
    fn __traced_record(&self, key: &'static str, recorder: &mut Recorder<'_>);
}
impl<T: AttributeValue + ?Sized> ViaAttributeValue for &&&Wrap<'_, T> {
    #[inline]
    fn __traced_value(&self) -> Option<Value> {
        self.0.to_attribute_value()
    }
    #[inline]
    fn __traced_record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        self.0.__record(key, recorder);
    }
}

/// Second choice: the `Display` text.
#[doc(hidden)]
pub trait ViaDisplay {
    fn __traced_value(&self) -> Option<Value>;
    fn __traced_record(&self, key: &'static str, recorder: &mut Recorder<'_>);
}
impl<T: Display + ?Sized> ViaDisplay for &&Wrap<'_, T> {
    #[inline]
    fn __traced_value(&self) -> Option<Value> {
        Some(Value::String(truncated_display(self.0).into()))
    }
    #[inline]
    fn __traced_record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_display(key, self.0);
    }
}

/// Third choice: the `Debug` text, truncated.
#[doc(hidden)]
pub trait ViaDebug {
    fn __traced_value(&self) -> Option<Value>;
    fn __traced_record(&self, key: &'static str, recorder: &mut Recorder<'_>);
}
impl<T: Debug + ?Sized> ViaDebug for &Wrap<'_, T> {
    #[inline]
    fn __traced_value(&self) -> Option<Value> {
        Some(Value::String(truncated_debug(self.0).into()))
    }
    #[inline]
    fn __traced_record(&self, key: &'static str, recorder: &mut Recorder<'_>) {
        recorder.record_debug(key, self.0);
    }
}

/// Last resort: a type with no way to show it is not recorded.
#[doc(hidden)]
pub trait ViaNothing {
    fn __traced_value(&self) -> Option<Value>;
    fn __traced_record(&self, key: &'static str, recorder: &mut Recorder<'_>);
}
impl<T: ?Sized> ViaNothing for Wrap<'_, T> {
    #[inline]
    fn __traced_value(&self) -> Option<Value> {
        None
    }
    #[inline]
    fn __traced_record(&self, _key: &'static str, _recorder: &mut Recorder<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_integers_that_do_not_fit_become_strings() {
        assert_eq!(
            (i64::MAX as u64).to_attribute_value(),
            Some(Value::I64(i64::MAX))
        );
        assert_eq!(
            (i64::MAX as u64 + 1).to_attribute_value(),
            Some(Value::from("9223372036854775808"))
        );
        assert_eq!(
            i128::MIN.to_attribute_value(),
            Some(Value::String(i128::MIN.to_string().into()))
        );
    }

    #[test]
    fn arrays_of_wide_integers_fall_back_to_strings_as_a_whole() {
        assert_eq!(
            [1u64, 2].to_attribute_value(),
            Some(Value::Array(Array::I64(vec![1, 2])))
        );
        let mixed = [1u64, u64::MAX].to_attribute_value();
        assert_eq!(
            mixed,
            Some(Value::Array(Array::String(vec![
                "1".into(),
                u64::MAX.to_string().into()
            ])))
        );
    }

    #[test]
    fn debug_rendering_is_cut_on_a_char_boundary() {
        let long = "é".repeat(DEBUG_VALUE_MAX_BYTES);
        let out = truncated_debug(&long);
        assert!(out.ends_with('…'));
        assert!(out.len() <= DEBUG_VALUE_MAX_BYTES + '…'.len_utf8());
        assert!(out.starts_with("\"éé"));
    }

    #[test]
    fn an_appended_rendering_is_cut_on_its_own_length_and_keeps_what_came_before() {
        let mut text = "cause: ".to_owned();
        push_truncated_display(&mut text, &"é".repeat(DEBUG_VALUE_MAX_BYTES));
        assert!(text.starts_with("cause: éé"));
        assert!(text.ends_with('…'));
        let appended = text.len() - "cause: ".len();
        assert!(appended <= DEBUG_VALUE_MAX_BYTES + '…'.len_utf8());
        assert!(appended > DEBUG_VALUE_MAX_BYTES - 'é'.len_utf8());

        let mut short = "cause: ".to_owned();
        push_truncated_display(&mut short, &"disk full");
        assert_eq!(short, "cause: disk full");
    }

    #[test]
    fn short_renderings_are_untouched() {
        assert_eq!(truncated_debug(&Some(3)), "Some(3)");
        assert_eq!(truncated_display(&"plain"), "plain");
    }
}
