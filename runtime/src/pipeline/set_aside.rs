//! The attributes of queued records that did not fit inline, kept beside the queue rather
//! than in the buffers their application threads allocated.
//!
//! A record with more attributes than it holds inline (an HTTP server span's dozen) keeps
//! them in a heap buffer its thread allocated. Queued as it was, the export thread freed
//! that buffer: with glibc, a chunk too large for its per-thread cache goes back to the
//! allocating thread's arena under that arena's lock, which the application's next
//! allocation then waited for (`futex` wake-ups from `malloc` were 7 % of a sampled request
//! in `benches/http_server.rs`). So the batch processor moves such attributes into this
//! list, which keeps its capacity from batch to batch, and frees the buffer on the thread
//! that allocated it; the export thread puts them back into their records, in buffers of
//! its own, before exporting.
//!
//! A record's texts on the heap go the same way for the same reason, with every record:
//! attributes too long to be inline (a query, a URL, a UUID), a name made for the span (an
//! HTTP request's `GET /users/{id}`) and an Error status's description (an error's
//! message); its events go to [`super::events_aside`]. Each was an allocation of the
//! application's thread freed by the export thread, so that thread's allocations of that
//! size never found memory in glibc's per-thread cache (a sampled call with a 52-byte
//! argument cost 330 ns against 170 with a short one, `_int_malloc` a quarter of it).
//! Their bytes are copied into one text buffer here, and each is freed where it was
//! allocated.

use std::borrow::Cow;
use std::mem;

use opentelemetry::trace::{Event, Status};
use smallvec::SmallVec;

use super::events_aside::EventsAside;
use super::export::Queued;
use crate::span::lean::{Attributes, SpanRecord};
use crate::span::recorded::RecordedAttribute;

/// Attributes moved out of queued records, and which record each run belongs to.
#[derive(Debug, Default)]
pub(super) struct SetAside {
    attributes: Vec<RecordedAttribute>,
    /// The queue index of a record, and how many of [`Self::attributes`] are its own (in
    /// queue order, so each record's run follows the previous one's).
    owners: Vec<(usize, usize)>,
    /// The texts taken out of queued records.
    text: TextBuffer,
    /// Where each of [`Self::text`]'s texts goes back, in the order they were added.
    texts: Vec<TextPlace>,
    events: EventsAside,
}

/// Where a text set aside goes back: `of` the record at `record` in the queue. Its bytes in
/// [`SetAside::text`] end at `end`.
#[derive(Debug)]
struct TextPlace {
    record: usize,
    of: TextOf,
    end: usize,
}

/// Texts copied one after another into one buffer that keeps its capacity from batch to
/// batch, and read back in the order they were copied.
#[derive(Debug, Default)]
pub(super) struct TextBuffer {
    text: String,
}

impl TextBuffer {
    /// Copies `text` in; returns where it ends, for [`TextReader::next`].
    pub(super) fn push(&mut self, text: &str) -> usize {
        self.text.push_str(text);
        self.text.len()
    }

    /// Reads the texts back, from the first one copied.
    pub(super) fn reader(&self) -> TextReader<'_> {
        TextReader {
            text: &self.text,
            start: 0,
        }
    }

    /// Empties it, keeping its capacity.
    pub(super) fn clear(&mut self) {
        self.text.clear();
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Reads a [`TextBuffer`]'s texts in the order they were copied.
pub(super) struct TextReader<'a> {
    text: &'a str,
    start: usize,
}

impl<'a> TextReader<'a> {
    /// The next text, which ends at `end` ([`TextBuffer::push`]).
    pub(super) fn next(&mut self, end: usize) -> &'a str {
        let text = self.text.get(self.start..end).unwrap_or_default();
        self.start = end;
        text
    }
}

/// Which of a record's texts one set aside is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TextOf {
    /// The span's name, when it was made for the span (an HTTP request's, a `#[traced]`
    /// name template's).
    Name,
    /// The long text of the attribute at this index.
    Attribute(usize),
    /// The description of an Error status, when it was made for the span (an error's
    /// message).
    Status,
}

/// A record's heap texts, taken out before it is queued ([`take_heap_texts`]); inline up to
/// a few.
pub(super) type HeapTexts = SmallVec<[(TextOf, Box<str>); 4]>;

/// Whether `record` holds anything on the heap to set aside: attributes past the inline
/// ones, text ([`take_heap_texts`]), events.
#[inline(always)]
pub(super) fn has_heap_parts(record: &SpanRecord) -> bool {
    record.attributes.spilled()
        || matches!(record.name, Cow::Owned(_))
        || record
            .attributes
            .iter()
            .any(RecordedAttribute::is_long_text)
        || !record.events.events.is_empty()
        || matches!(
            &record.status,
            Status::Error {
                description: Cow::Owned(_)
            }
        )
}

/// Takes the heap texts out of `record`: an owned name, an Error status's owned
/// description, and long texts of its attributes, leaving empty text in their place until
/// the export thread gives them back ([`SetAside::restore`]).
pub(super) fn take_heap_texts(record: &mut SpanRecord) -> HeapTexts {
    let mut texts = HeapTexts::new();
    if let Cow::Owned(name) = &mut record.name {
        let name = mem::take(name);
        record.name = Cow::Borrowed("");
        texts.push((TextOf::Name, name.into_boxed_str()));
    }
    if let Status::Error {
        description: Cow::Owned(description),
    } = &mut record.status
    {
        let description = mem::take(description);
        texts.push((TextOf::Status, description.into_boxed_str()));
    }
    let attributes = record.attributes.iter_mut().enumerate();
    for (index, attribute) in attributes {
        if let Some(text) = attribute.take_long_text() {
            texts.push((TextOf::Attribute(index), text));
        }
    }
    texts
}

impl SetAside {
    /// Moves `attributes`, those of the record about to be queued at `at`, into this list in
    /// one copy; returns the buffer they leave, empty, for the caller to free.
    pub(super) fn put(&mut self, at: usize, attributes: Attributes) -> Vec<RecordedAttribute> {
        // A spilled list's heap buffer becomes the `Vec` as it is: appended in one `memcpy`,
        // where moving them one by one (`extend(drain(..))`) went through the stack.
        let mut attributes = attributes.into_vec();
        self.owners.push((at, attributes.len()));
        self.attributes.append(&mut attributes);
        attributes
    }

    /// Copies `texts`, those of the record about to be queued at `at`, into this list's text
    /// buffer; the caller frees them.
    pub(super) fn put_texts(&mut self, at: usize, texts: &HeapTexts) {
        for (of, text) in texts {
            let end = self.text.push(text);
            self.texts.push(TextPlace {
                record: at,
                of: *of,
                end,
            });
        }
    }

    /// Moves `events`, those of the record about to be queued at `at`, aside
    /// ([`EventsAside`]); what they leave is freed as they drop, on the caller's thread.
    pub(super) fn put_events(&mut self, at: usize, events: Vec<Event>) {
        self.events.put(at, events);
    }

    /// Gives the records of `queue` back the attributes, texts and events set aside from
    /// them, emptying this list but keeping its capacity.
    pub(super) fn restore(&mut self, queue: &mut [Queued]) {
        let mut attributes = self.attributes.drain(..);
        for (at, count) in self.owners.drain(..) {
            let run = attributes.by_ref().take(count);
            match queue.get_mut(at) {
                Some(Queued::Traced(record)) => record.attributes.extend(run),
                // Not a record's place: cannot happen, as the queue is only pushed to
                // between two swaps; the run is skipped rather than given to another span.
                _ => run.for_each(drop),
            }
        }
        // After the runs: a text's index counts the attributes the run brings back.
        let mut text = self.text.reader();
        for place in self.texts.drain(..) {
            let text = text.next(place.end);
            // Not a record's place, or no such attribute: cannot happen, as above.
            let Some(Queued::Traced(record)) = queue.get_mut(place.record) else {
                continue;
            };
            match place.of {
                TextOf::Name => record.name = Cow::Owned(text.to_owned()),
                TextOf::Status => record.status = Status::error(text.to_owned()),
                TextOf::Attribute(index) => {
                    if let Some(attribute) = record.attributes.get_mut(index) {
                        attribute.restore_long_text(text);
                    }
                }
            }
        }
        self.text.clear();
        self.events.restore(queue);
    }

    /// Whether nothing is set aside.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.owners.is_empty()
            && self.attributes.is_empty()
            && self.texts.is_empty()
            && self.text.is_empty()
            && self.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::SpanContext;
    use opentelemetry::{Key, KeyValue, Value};

    use super::*;
    use crate::span::lean::SpanRecord;

    fn record() -> SpanRecord {
        SpanRecord::empty("GET /users/{id}", SpanContext::empty_context())
    }

    fn attributes(prefix: &str, count: usize) -> Attributes {
        (0..count)
            .map(|index| {
                RecordedAttribute::new(Key::from(format!("{prefix}{index}")), Value::I64(1))
            })
            .collect()
    }

    /// The attributes of `queued`, as exported.
    fn exported(queued: &Queued) -> Vec<KeyValue> {
        match queued {
            Queued::Traced(record) => record
                .attributes
                .iter()
                .map(|attribute| attribute.clone().into_key_value())
                .collect(),
            Queued::Sdk(data) => data.attributes.clone(),
        }
    }

    fn keys(queued: &Queued) -> Vec<String> {
        let exported = exported(queued).into_iter();
        exported.map(|kv| kv.key.to_string()).collect()
    }

    fn expected(prefix: &str, count: usize) -> Vec<String> {
        (0..count).map(|index| format!("{prefix}{index}")).collect()
    }

    #[test]
    fn each_record_gets_its_own_attributes_back_in_order() {
        let mut set_aside = SetAside::default();
        let mut queue = Vec::new();
        for (prefix, count) in [("a", 7), ("b", 0), ("c", 12), ("d", 2)] {
            let own = attributes(prefix, count);
            let mut queued = record();
            if own.spilled() {
                let emptied = set_aside.put(queue.len(), own);
                assert!(emptied.is_empty() && emptied.capacity() >= count);
            } else {
                queued.attributes = own;
            }
            queue.push(Queued::Traced(queued));
        }
        // Queued without them until restored.
        assert_eq!(keys(&queue[0]), expected("a", 0));

        let mut taken = SetAside::default();
        std::mem::swap(&mut set_aside, &mut taken);
        assert!(set_aside.is_empty() && !taken.is_empty());
        taken.restore(&mut queue);
        assert!(taken.is_empty());
        assert_eq!(keys(&queue[0]), expected("a", 7));
        assert_eq!(keys(&queue[1]), expected("b", 0));
        assert_eq!(keys(&queue[2]), expected("c", 12));
        assert_eq!(keys(&queue[3]), expected("d", 2));
    }

    /// The text of each attribute of `queued`, as exported.
    fn values(queued: &Queued) -> Vec<String> {
        let exported = exported(queued).into_iter();
        exported.map(|kv| kv.value.to_string()).collect()
    }

    #[test]
    fn heap_texts_go_back_to_their_own_attributes_inline_or_set_aside_and_names() {
        let long = |record: &str, index: usize| format!("{record}{index}, too long to be inline");
        let short = |index: usize| format!("short {index}");
        // Which attributes of each record hold long text, of how many.
        let records = [("a", 3, vec![0, 2]), ("b", 9, vec![1, 8]), ("c", 2, vec![])];
        let mut set_aside = SetAside::default();
        let mut queue = Vec::new();
        let mut expected = Vec::new();
        for (name, count, long_ones) in &records {
            let mut attributes = Attributes::new();
            let mut texts = Vec::new();
            for index in 0..*count {
                let text = if long_ones.contains(&index) {
                    long(name, index)
                } else {
                    short(index)
                };
                attributes.push(RecordedAttribute::text(
                    Key::from(format!("k{index}")),
                    &text,
                ));
                texts.push(text);
            }
            expected.push(texts);
            let mut queued = record();
            queued.attributes = attributes;
            if *name == "b" {
                queued.name = Cow::Owned(format!("{name}, a name made for the span"));
            }
            let taken = take_heap_texts(&mut queued);
            let named = usize::from(*name == "b");
            assert_eq!(taken.len(), long_ones.len() + named);
            assert!(
                !queued
                    .attributes
                    .iter()
                    .any(RecordedAttribute::is_long_text)
            );
            set_aside.put_texts(queue.len(), &taken);
            if queued.attributes.spilled() {
                let attributes = mem::take(&mut queued.attributes);
                set_aside.put(queue.len(), attributes);
            }
            queue.push(Queued::Traced(queued));
        }
        // Until given back, a long text's place holds none of it.
        assert!(!values(&queue[0]).contains(&long("a", 0)));

        set_aside.restore(&mut queue);
        assert!(set_aside.is_empty());
        for (queued, texts) in queue.iter().zip(&expected) {
            assert_eq!(&values(queued), texts);
        }
        let names: Vec<&str> = queue
            .iter()
            .map(|queued| match queued {
                Queued::Traced(record) => &*record.name,
                Queued::Sdk(data) => &*data.name,
            })
            .collect();
        let made = "b, a name made for the span";
        assert_eq!(names, ["GET /users/{id}", made, "GET /users/{id}"]);
    }

    #[test]
    fn a_run_whose_place_holds_no_record_is_given_to_no_other() {
        let mut set_aside = SetAside::default();
        set_aside.put(0, attributes("a", 6));
        set_aside.put(1, attributes("b", 6));
        let mut queue = vec![
            Queued::Sdk(record().into_span_data()),
            Queued::Traced(record()),
        ];
        set_aside.restore(&mut queue);
        assert_eq!(keys(&queue[0]), expected("a", 0));
        assert_eq!(keys(&queue[1]), expected("b", 6));
    }
}
