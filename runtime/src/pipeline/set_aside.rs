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

use super::export::Queued;
use crate::span::lean::Attributes;
use crate::span::recorded::RecordedAttribute;

/// Attributes moved out of queued records, and which record each run belongs to.
#[derive(Debug, Default)]
pub(super) struct SetAside {
    attributes: Vec<RecordedAttribute>,
    /// The queue index of a record, and how many of [`Self::attributes`] are its own (in
    /// queue order, so each record's run follows the previous one's).
    owners: Vec<(usize, usize)>,
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

    /// Gives the records of `queue` back the attributes set aside from them, emptying this
    /// list but keeping its capacity.
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
    }

    /// Whether nothing is set aside.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.owners.is_empty() && self.attributes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::SpanContext;
    use opentelemetry::{Key, Value};

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

    fn keys(queued: &Queued) -> Vec<String> {
        match queued {
            Queued::Traced(record) => record
                .attributes
                .iter()
                .map(|attribute| attribute.clone().into_key_value().key.to_string())
                .collect(),
            Queued::Sdk(data) => data
                .attributes
                .iter()
                .map(|kv| kv.key.to_string())
                .collect(),
        }
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
