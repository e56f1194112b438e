//! The events of queued records (an error's `exception`, events added by hand), kept beside
//! the queue rather than in the memory their application threads allocated, for the reason
//! [`super::set_aside`] gives: memory the export thread frees never goes back to the
//! allocating thread's cache in glibc, and the frees fight that thread's allocations for its
//! arena's lock. A sampled call returning an error allocated five blocks the export thread
//! freed (the message twice, the stack trace, the event's attribute list, the record's event
//! list): 737 ns against 164 for one returning `Ok`, `_int_malloc` 12 % of all samples on
//! the application's thread and the kernel's `_raw_spin_unlock_irqrestore` (waking a
//! waiter) 11 % (`perf`).
//!
//! Each event is moved here as its parts: its attributes into one list, their text values
//! copied into one text buffer, both keeping their capacity from batch to batch. The event
//! lists and texts the application allocated are freed on its thread; the export thread
//! makes each event again, in memory of its own, before exporting.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::Event;
use opentelemetry::{Key, KeyValue, Value};

use super::export::Queued;
use super::set_aside::TextBuffer;

/// Events moved out of queued records.
#[derive(Debug, Default)]
pub(super) struct EventsAside {
    events: Vec<EventAside>,
    /// The events' attributes, each event's after the previous one's.
    attributes: Vec<(Key, AsideValue)>,
    /// The attributes' text values.
    text: TextBuffer,
}

/// An event without its attributes, and where it goes back.
#[derive(Debug)]
struct EventAside {
    /// The queue index of its record.
    record: usize,
    name: Cow<'static, str>,
    timestamp: SystemTime,
    dropped_attributes_count: u32,
    /// How many of [`EventsAside::attributes`] are its own.
    attributes: usize,
}

/// An event attribute's value: text is kept in [`EventsAside::text`], ending at `end`.
#[derive(Debug)]
enum AsideValue {
    Text { end: usize },
    Other(Value),
}

impl EventsAside {
    /// Moves `events`, those of the record about to be queued at `at`, here; the lists and
    /// texts they leave are freed as `events` drops, on the caller's thread.
    pub(super) fn put(&mut self, at: usize, events: Vec<Event>) {
        for event in events {
            let Event {
                name,
                timestamp,
                attributes,
                dropped_attributes_count,
                ..
            } = event;
            self.events.push(EventAside {
                record: at,
                name,
                timestamp,
                dropped_attributes_count,
                attributes: attributes.len(),
            });
            for KeyValue { key, value, .. } in attributes {
                let value = match value {
                    Value::String(text) => AsideValue::Text {
                        end: self.text.push(text.as_str()),
                    },
                    value => AsideValue::Other(value),
                };
                self.attributes.push((key, value));
            }
        }
    }

    /// Gives the records of `queue` back their events, made here, emptying this list but
    /// keeping its capacity.
    pub(super) fn restore(&mut self, queue: &mut [Queued]) {
        let mut attributes = self.attributes.drain(..);
        let mut text = self.text.reader();
        for event in self.events.drain(..) {
            let own = attributes.by_ref().take(event.attributes);
            let own = own.map(|(key, value)| {
                let value = match value {
                    AsideValue::Text { end } => Value::String(text.next(end).to_owned().into()),
                    AsideValue::Other(value) => value,
                };
                KeyValue::new(key, value)
            });
            let own: Vec<KeyValue> = own.collect();
            // Not a record's place: cannot happen, as the queue is only pushed to between
            // two swaps; the event is dropped rather than given to another span.
            if let Some(Queued::Traced(record)) = queue.get_mut(event.record) {
                let timestamp = event.timestamp;
                let dropped = event.dropped_attributes_count;
                let made = Event::new(event.name, timestamp, own, dropped);
                record.events.events.push(made);
            }
        }
        self.text.clear();
    }

    /// Whether nothing is set aside.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.events.is_empty() && self.attributes.is_empty() && self.text.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opentelemetry::trace::SpanContext;

    use super::*;
    use crate::span::lean::SpanRecord;

    fn event(name: &'static str, seconds: u64, attributes: Vec<KeyValue>) -> Event {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
        Event::new(name, at, attributes, 2)
    }

    fn exception(message: &str) -> Event {
        event(
            "exception",
            7,
            vec![
                KeyValue::new("exception.type", "std::io::Error"),
                KeyValue::new("exception.message", message.to_owned()),
                KeyValue::new("exception.escaped", false),
                KeyValue::new("exception.stacktrace", format!("{message}\ncaused by: io")),
            ],
        )
    }

    #[test]
    fn each_record_gets_its_own_events_back_as_they_were() {
        let records: [Vec<Event>; 3] = [
            vec![exception("the disk is full")],
            Vec::new(),
            vec![
                event("cache miss", 3, vec![KeyValue::new("cache.key", "user:7")]),
                event("retrying", 4, Vec::new()),
                exception("a message too long to be kept inline in a record anyway"),
            ],
        ];
        let mut aside = EventsAside::default();
        let mut queue = Vec::new();
        for events in records.clone() {
            aside.put(queue.len(), events);
            let record = SpanRecord::empty("step", SpanContext::empty_context());
            queue.push(Queued::Traced(record));
        }
        aside.restore(&mut queue);
        assert!(aside.is_empty());
        for (queued, expected) in queue.iter().zip(records) {
            let Queued::Traced(record) = queued else {
                panic!("a record");
            };
            assert_eq!(record.events.events, expected);
        }
    }

    #[test]
    fn an_event_whose_place_holds_no_record_is_given_to_no_other() {
        let mut aside = EventsAside::default();
        aside.put(0, vec![exception("lost")]);
        aside.put(1, vec![exception("kept")]);
        let record = SpanRecord::empty("step", SpanContext::empty_context());
        let mut queue = vec![
            Queued::Sdk(record.clone().into_span_data()),
            Queued::Traced(record),
        ];
        aside.restore(&mut queue);
        let Queued::Traced(record) = &queue[1] else {
            panic!("a record");
        };
        assert_eq!(record.events.events, [exception("kept")]);
    }
}
