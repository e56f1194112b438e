//! Attributes as a sampled span records them: short text stays inside the span's record.
//!
//! A string argument used to become a `String` on the application's thread, freed on the
//! export thread once the exporter was done with it. With glibc's allocator, memory freed by
//! another thread never returns to the allocating thread's cache, so every such allocation
//! took the allocator's slow path: 15 % of a sampled call with one `&str` argument. Text that
//! fits in [`InlineText`] travels inside the record instead, and becomes a `String` on the
//! export thread, which also frees it.

use std::fmt::{self, Debug, Display, Write as _};

use opentelemetry::{Key, KeyValue, Value};

use super::lean::Attributes;
use crate::value::{truncated_debug, truncated_display};

/// Bytes of text kept inline: what fits beside a length and a tag in the space of an
/// OpenTelemetry [`Value`], so an attribute grows no larger than a [`KeyValue`].
pub(crate) const INLINE_TEXT_BYTES: usize = 22;

/// An attribute of a span's record.
#[derive(Clone, Debug)]
pub(crate) struct RecordedAttribute {
    key: Key,
    value: RecordedValue,
}

#[derive(Clone, Debug)]
enum RecordedValue {
    Value(Value),
    Text(InlineText),
    /// Text too long to be inline, allocated by the thread that recorded it. The batch
    /// processor copies it beside its queue and frees it on that thread
    /// (`pipeline/set_aside.rs`). It used to travel to the export thread and be freed
    /// there: a 52-byte argument doubled a sampled call (170 → 330 ns), `malloc` a quarter
    /// of it, as glibc's per-thread cache never got the memory back.
    LongText(Box<str>),
}

/// A recorded attribute's value, borrowed: what an exporter reads without converting.
#[cfg(feature = "otlp")]
#[derive(Clone, Copy, Debug)]
pub(crate) enum ValueRef<'a> {
    Value(&'a Value),
    Text(&'a str),
}

impl RecordedAttribute {
    /// `key = value`.
    #[inline]
    pub(crate) fn new(key: Key, value: Value) -> Self {
        Self {
            key,
            value: RecordedValue::Value(value),
        }
    }

    /// Appends an attribute given through the OpenTelemetry API, short text copied inline:
    /// the `String` it most likely came in is then freed here, on the thread that allocated
    /// it, rather than by the export thread (see the module's documentation); longer text is
    /// kept as long text, which the batch queue frees here too (a span with a 52-byte
    /// `String` attribute: 437–464 → 321–327 ns, `benches/README.md`). Written where
    /// the list keeps it, as [`Self::push_in_place`] explains: built first and pushed, it
    /// was copied through the stack in loads wider than its stores (`perf annotate`); a
    /// span started with three attributes through the API's builder, 335–354 → 305–324 ns
    /// (`otel_api/sampled` async, alternating runs).
    #[inline(always)]
    pub(crate) fn push_given(attributes: &mut Attributes, attribute: KeyValue) {
        let KeyValue { key, value, .. } = attribute;
        match value {
            Value::String(text) if text.as_str().len() <= INLINE_TEXT_BYTES => {
                Self::push_text(attributes, key, text.as_str());
            }
            // Held as long text, freed on this thread once queued (`RecordedValue::LongText`):
            // a `String` given is moved, not copied. A `&'static str` this long (rare) is
            // copied, one allocation freed here where it cost none before: the API does not
            // tell the two apart.
            Value::String(text) => {
                Self::push_long_text(attributes, key, String::from(text).into_boxed_str());
            }
            value => Self::push(attributes, key, value),
        }
    }

    /// Appends each of `given` as [`Self::push_given`] does.
    #[inline(always)]
    pub(crate) fn extend_given(
        attributes: &mut Attributes,
        given: impl IntoIterator<Item = KeyValue>,
    ) {
        for attribute in given {
            Self::push_given(attributes, attribute);
        }
    }

    /// Appends `key = value` to `attributes`.
    #[inline(always)]
    pub(crate) fn push(attributes: &mut Attributes, key: impl Into<Key>, value: Value) {
        Self::push_in_place(attributes, || Self::new(key.into(), value));
    }

    /// Appends `key = text` to `attributes`, held as long text (`RecordedValue::LongText`).
    #[inline(always)]
    fn push_long_text(attributes: &mut Attributes, key: impl Into<Key>, text: Box<str>) {
        let value = RecordedValue::LongText(text);
        Self::push_in_place(attributes, || Self {
            key: key.into(),
            value,
        });
    }

    /// Appends `key = text` to `attributes`, inline when it fits.
    #[inline(always)]
    pub(crate) fn push_text(attributes: &mut Attributes, key: impl Into<Key>, text: &str) {
        if text.len() > INLINE_TEXT_BYTES {
            Self::push_long_text(attributes, key, text.into());
            return;
        }
        let attribute = Self::push_in_place(attributes, || Self::empty_text(key.into()));
        if let Some(Self {
            value: RecordedValue::Text(inline),
            ..
        }) = attribute
        {
            // It fits: checked above.
            let _ = inline.write_str(text);
        }
    }

    /// Appends `key =` the `Display` rendering of `value`, inline when it fits.
    pub(crate) fn push_display<T: Display + ?Sized>(
        attributes: &mut Attributes,
        key: impl Into<Key>,
        value: &T,
    ) {
        Self::push_rendered(attributes, key, format_args!("{value}"), || {
            truncated_display(value)
        });
    }

    /// Appends `key =` the `Debug` rendering of `value`, inline when it fits.
    pub(crate) fn push_debug<T: Debug + ?Sized>(
        attributes: &mut Attributes,
        key: impl Into<Key>,
        value: &T,
    ) {
        Self::push_rendered(attributes, key, format_args!("{value:?}"), || {
            truncated_debug(value)
        });
    }

    /// Renders `text` inline, in place; when it does not fit (the formatter stops at the
    /// first piece that overflows), `fallback` renders it again, bounded, into a `String`.
    fn push_rendered(
        attributes: &mut Attributes,
        key: impl Into<Key>,
        text: fmt::Arguments<'_>,
        fallback: impl FnOnce() -> String,
    ) {
        let attribute = Self::push_in_place(attributes, || Self::empty_text(key.into()));
        if let Some(Self { value, .. }) = attribute {
            let fits = match value {
                RecordedValue::Text(inline) => inline.write_fmt(text).is_ok(),
                RecordedValue::Value(_) | RecordedValue::LongText(_) => true,
            };
            if !fits {
                *value = RecordedValue::LongText(fallback().into_boxed_str());
            }
        }
    }

    /// `key` with empty inline text, to be written where the attribute is kept.
    #[inline(always)]
    fn empty_text(key: Key) -> Self {
        Self {
            key,
            value: RecordedValue::Text(InlineText::EMPTY),
        }
    }

    /// Appends `attribute` and returns it where it is kept, for its text to be written
    /// there: text built on the stack and moved into the list was read back in 16-byte
    /// loads right after being written in smaller stores, a store-forwarding stall per
    /// argument (`perf annotate`).
    ///
    /// The same stall came back for the attribute itself while `SmallVec::push` had two
    /// places to write it (inline, or on the heap): the attribute was built on the stack
    /// and copied into whichever slot, in loads wider than its stores (71 % of a `u64`
    /// argument's recording). Reached only when the list is inline with room to spare,
    /// `push` keeps one write, and the attribute is built right in its slot: 7 ns less a
    /// sampled three-argument call (`benches/README.md`). It is made (`make`, which takes
    /// the key as the `&'static str` a call site names it by) in each branch: made once
    /// before them, it was kept on the stack for both, and the slot's copy of the key read
    /// back in loads wider than its stores again.
    #[inline(always)]
    fn push_in_place(
        attributes: &mut Attributes,
        make: impl FnOnce() -> Self,
    ) -> Option<&mut Self> {
        if !attributes.spilled() && attributes.len() < attributes.inline_size() {
            attributes.push(make());
        } else {
            push_spilling(attributes, make());
        }
        attributes.last_mut()
    }

    /// `key = text` on its own, as recorded (tests build records from these).
    #[cfg(test)]
    pub(crate) fn text(key: Key, text: &str) -> Self {
        let mut one = Attributes::new();
        Self::push_text(&mut one, key, text);
        one.swap_remove(0)
    }

    pub(crate) fn key(&self) -> &Key {
        &self.key
    }

    #[cfg(feature = "otlp")]
    pub(crate) fn value(&self) -> ValueRef<'_> {
        match &self.value {
            RecordedValue::Value(value) => ValueRef::Value(value),
            RecordedValue::Text(text) => ValueRef::Text(text.as_str()),
            RecordedValue::LongText(text) => ValueRef::Text(text),
        }
    }

    /// Whether its value is text held on the heap ([`RecordedValue::LongText`]).
    #[inline(always)]
    pub(crate) fn is_long_text(&self) -> bool {
        matches!(self.value, RecordedValue::LongText(_))
    }

    /// Takes its long text out, leaving empty text in its place, for the batch processor to
    /// copy beside its queue; `None` (and nothing changed) for any other value.
    pub(crate) fn take_long_text(&mut self) -> Option<Box<str>> {
        let RecordedValue::LongText(text) = &mut self.value else {
            return None;
        };
        let text = std::mem::take(text);
        self.value = RecordedValue::Text(InlineText::EMPTY);
        Some(text)
    }

    /// Gives it `text` back as its value (copied, on the export thread), after
    /// [`Self::take_long_text`].
    pub(crate) fn restore_long_text(&mut self, text: &str) {
        self.value = RecordedValue::LongText(text.into());
    }

    /// Cuts a text value (or the texts of a string array) to `limit` characters, with
    /// `truncate_value` for the values held as OpenTelemetry has them.
    pub(crate) fn truncate(&mut self, limit: usize, truncate_value: impl FnOnce(&mut Value)) {
        match &mut self.value {
            RecordedValue::Value(value) => truncate_value(value),
            RecordedValue::Text(text) => text.truncate_chars(limit),
            RecordedValue::LongText(text) => {
                if let Some((cut, _)) = text.char_indices().nth(limit) {
                    *text = text[..cut].into();
                }
            }
        }
    }

    /// The attribute as OpenTelemetry has it (inline text becomes a `String` here).
    ///
    /// Inlined where records become `SpanData` on the export thread: called, it took the
    /// attribute just moved out of the record onto the stack (in 8-byte stores) and read
    /// it back in 16-byte loads, a store-forwarding stall (half its samples by `perf
    /// annotate`; 248–272 → 228–239 ns a span on the export thread, three alternating runs
    /// of `benches/throughput.rs`).
    #[inline(always)]
    pub(crate) fn into_key_value(self) -> KeyValue {
        let value = match self.value {
            RecordedValue::Value(value) => value,
            RecordedValue::Text(text) => Value::String(text.as_str().to_owned().into()),
            RecordedValue::LongText(text) => Value::String(String::from(text).into()),
        };
        KeyValue::new(self.key, value)
    }
}

/// Appends `attribute` to a list that is on the heap or has to move there: out of line, so
/// that [`RecordedAttribute::push_in_place`]'s common case keeps a single place to write.
#[inline(never)]
fn push_spilling(attributes: &mut Attributes, attribute: RecordedAttribute) {
    attributes.push(attribute);
}

impl From<KeyValue> for RecordedAttribute {
    fn from(attribute: KeyValue) -> Self {
        Self::new(attribute.key, attribute.value)
    }
}

/// Up to [`INLINE_TEXT_BYTES`] bytes of UTF-8, without a heap allocation.
#[derive(Clone, Copy)]
pub(crate) struct InlineText {
    len: u8,
    bytes: [u8; INLINE_TEXT_BYTES],
}

impl InlineText {
    const EMPTY: Self = Self {
        len: 0,
        bytes: [0; INLINE_TEXT_BYTES],
    };

    /// Keeps the first `limit` characters.
    fn truncate_chars(&mut self, limit: usize) {
        if let Some((cut, _)) = self.as_str().char_indices().nth(limit) {
            // `cut` < `len`, which fits in a `u8`.
            self.len = u8::try_from(cut).unwrap_or(self.len);
        }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended, so the bytes are UTF-8; the fallback is
        // unreachable, and checking costs a few nanoseconds on the export thread.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Write for InlineText {
    /// Appends `text`, or fails (changing nothing) when it does not fit: the formatter then
    /// stops early, and the caller falls back to a `String`.
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let start = usize::from(self.len);
        let end = start + text.len();
        let target = self.bytes.get_mut(start..end).ok_or(fmt::Error)?;
        target.copy_from_slice(text.as_bytes());
        // `end` fits: it is at most `INLINE_TEXT_BYTES`.
        self.len = u8::try_from(end).map_err(|_| fmt::Error)?;
        Ok(())
    }
}

impl Debug for InlineText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exported(attribute: RecordedAttribute) -> KeyValue {
        attribute.into_key_value()
    }

    /// The one attribute `push` appends to an empty list, as key `k`.
    fn rendered(push: impl FnOnce(&mut Attributes, Key)) -> RecordedAttribute {
        let mut list = Attributes::new();
        push(&mut list, Key::from_static_str("k"));
        assert_eq!(list.len(), 1);
        list.swap_remove(0)
    }

    // The inline capacity is chosen for 64-bit layouts.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn an_attribute_is_no_larger_than_an_opentelemetry_one() {
        assert_eq!(size_of::<RecordedAttribute>(), size_of::<KeyValue>());
    }

    #[test]
    fn short_text_is_inline_and_exported_as_the_same_string() {
        let attribute = RecordedAttribute::text(Key::from_static_str("user"), "ada");
        assert!(matches!(attribute.value, RecordedValue::Text(_)));
        assert_eq!(exported(attribute), KeyValue::new("user", "ada"));
    }

    #[test]
    fn long_text_taken_out_and_given_back_exports_as_it_was_and_truncates_by_characters() {
        let text = "naïve café, a text too long to be inline";
        let mut attribute = RecordedAttribute::text(Key::from_static_str("k"), text);
        assert!(attribute.is_long_text());
        assert_eq!(attribute.take_long_text().as_deref(), Some(text));
        assert!(!attribute.is_long_text());
        assert_eq!(attribute.take_long_text(), None);
        assert_eq!(exported(attribute.clone()), KeyValue::new("k", ""));

        attribute.restore_long_text(text);
        assert_eq!(exported(attribute.clone()), KeyValue::new("k", text));
        attribute.truncate(4, |_| panic!("text, not a value"));
        assert_eq!(exported(attribute), KeyValue::new("k", "naïv"));
    }

    #[test]
    fn text_at_the_inline_limit_stays_inline_and_one_byte_more_does_not() {
        let at_limit = "x".repeat(INLINE_TEXT_BYTES);
        let attribute = RecordedAttribute::text(Key::from_static_str("k"), &at_limit);
        assert!(matches!(attribute.value, RecordedValue::Text(_)));
        assert_eq!(exported(attribute), KeyValue::new("k", at_limit.clone()));

        let longer = format!("{at_limit}y");
        let attribute = RecordedAttribute::text(Key::from_static_str("k"), &longer);
        assert!(matches!(attribute.value, RecordedValue::LongText(_)));
        assert_eq!(exported(attribute), KeyValue::new("k", longer));
    }

    #[test]
    fn given_text_is_copied_inline_or_held_as_long_text_and_everything_else_kept_as_given() {
        let given = |attribute: KeyValue| {
            rendered(|list, _| RecordedAttribute::push_given(list, attribute))
        };
        let short = given(KeyValue::new("user", String::from("ada")));
        assert!(matches!(short.value, RecordedValue::Text(_)));
        assert_eq!(exported(short), KeyValue::new("user", "ada"));

        // Owned or static, set aside by the batch queue either way.
        let long_text = "x".repeat(INLINE_TEXT_BYTES + 1);
        let long = given(KeyValue::new("k", long_text.clone()));
        assert!(long.is_long_text());
        assert_eq!(exported(long), KeyValue::new("k", long_text));
        let long_static = "a &'static str too long to be inline";
        let long = given(KeyValue::new("k", long_static));
        assert!(long.is_long_text());
        assert_eq!(exported(long), KeyValue::new("k", long_static));

        let number = given(KeyValue::new("n", 1.5));
        assert_eq!(exported(number), KeyValue::new("n", 1.5));
    }

    #[test]
    fn multi_byte_text_is_kept_whole() {
        let text = "naïve café ☕";
        assert_eq!(
            exported(RecordedAttribute::text(Key::from_static_str("k"), text)),
            KeyValue::new("k", text)
        );
    }

    #[test]
    fn short_renderings_are_inline_and_long_ones_are_cut_strings() {
        let short = rendered(|list, key| RecordedAttribute::push_debug(list, key, &[1, 2]));
        assert!(matches!(short.value, RecordedValue::Text(_)));
        assert_eq!(exported(short), KeyValue::new("k", "[1, 2]"));

        let long_text = "y".repeat(5000);
        let long = rendered(|list, key| RecordedAttribute::push_display(list, key, &long_text));
        let KeyValue { value, .. } = exported(long);
        let text = value.as_str();
        assert!(text.starts_with("yyy") && text.ends_with('…'), "{text}");
        assert!(text.len() < 5000);
    }

    #[test]
    fn inline_text_is_cut_in_characters() {
        let mut attribute = RecordedAttribute::text(Key::from_static_str("k"), "héllo");
        attribute.truncate(2, |_| unreachable!("inline text"));
        assert_eq!(exported(attribute), KeyValue::new("k", "hé"));
        let mut short = RecordedAttribute::text(Key::from_static_str("k"), "ab");
        short.truncate(2, |_| unreachable!("inline text"));
        assert_eq!(exported(short), KeyValue::new("k", "ab"));
    }

    #[test]
    fn a_failed_write_leaves_the_text_unchanged() {
        let mut text = InlineText::EMPTY;
        assert!(text.write_str("abc").is_ok());
        assert!(text.write_str(&"z".repeat(INLINE_TEXT_BYTES)).is_err());
        assert_eq!(text.as_str(), "abc");
    }
}
