//! The batch span processor: ended spans go into a bounded buffer, and an export thread
//! takes the whole buffer at once and hands it to the exporter in batches.
//!
//! Why not opentelemetry_sdk's `BatchSpanProcessor`: it sends every span through a bounded
//! channel and the export thread receives them one by one, so each span costs a channel
//! operation (often a thread wake-up) on the application's thread, and the export thread
//! falls behind from about 1 M spans/s, dropping silently. Here a producer takes an
//! uncontended lock and pushes (into a slot made ready for it when the previous span was
//! queued, [`super::next_slot`]); the export thread, which mostly wakes on a timer of its
//! own set for when a batch is due ([`super::pacing`]), swaps the buffer for an empty one
//! in one step. Spans are counted when the queue drops them, and finished (duplicate keys,
//! the value length limit) on the export thread, off the application's path. `#[traced]`
//! spans are queued as they ended and handed to the exporter so ([`super::export`]): made
//! [`SpanData`] on the export thread if at all, so what it frees it allocated itself. An
//! exporter that may send concurrently (OTLP) has each prepared batch sent by
//! [`super::senders`] when `OTEL_BSP_MAX_CONCURRENT_EXPORTS` is above 1.

use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::export::{BatchExporter, Enqueue, Queued, read_exporter, write_exporter};
use super::failures::ExportFailures;
use super::next_slot::NextSlot;
use super::overflow::QueueOverflow;
use super::pacing::Pacing;
use super::scheduling;
use super::senders::Senders;
use super::set_aside::{self, SetAside};
use super::sink::EndedSpanProcessor;
use crate::config::BatchSettings;
use crate::diagnostics::warn_once;
use crate::span::lean::SpanRecord;

/// A batch span processor on its own export thread.
#[derive(Debug)]
pub(crate) struct BatchProcessor<E: BatchExporter> {
    shared: Arc<Shared>,
    /// Written only to set the resource and to shut down, read by the threads exporting.
    exporter: Arc<RwLock<E>>,
}

/// What the application's threads and the export thread share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the export thread: a span making the queue [`State::wake_at`] long, a flush, or
    /// shutdown.
    work: Condvar,
    /// Wakes those waiting for a flush or for the export thread to stop.
    progress: Condvar,
    settings: BatchSettings,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, applied before export.
    value_length_limit: Option<usize>,
    /// Spans dropped because the queue was full.
    overflowed: AtomicU64,
    /// Spans dropped because the processor was stopping (or the export thread could not
    /// start).
    refused: AtomicU64,
    /// The exports that failed, printed as they happen.
    failures: Arc<ExportFailures>,
    /// Readies the queue's next slot for the span that fills it.
    next_slot: NextSlot,
}

#[derive(Debug, Default)]
struct State {
    queue: Vec<Queued>,
    /// The attributes of queued records that did not fit inline ([`SetAside`]).
    set_aside: SetAside,
    /// Flush requests made, and the latest one the export thread has completed.
    flush_requested: u64,
    flush_done: u64,
    shutdown: bool,
    /// The export thread has exported everything and stopped.
    stopped: bool,
    /// The queue length at which the span making it so wakes the sleeping export thread
    /// ([`super::pacing`]); [`AWAKE`] while it is not sleeping, so that no application thread
    /// makes a system call to wake a thread that is running.
    wake_at: usize,
}

/// [`State::wake_at`] while the export thread is not sleeping: a length no queue reaches.
const AWAKE: usize = usize::MAX;

impl<E: BatchExporter> BatchProcessor<E> {
    /// Starts the export thread. If the thread cannot be started, every span is dropped and
    /// counted, and a warning says why.
    pub(crate) fn new(
        exporter: E,
        settings: BatchSettings,
        value_length_limit: Option<usize>,
    ) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: Vec::with_capacity(settings.max_export_batch_size),
                wake_at: AWAKE,
                ..State::default()
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            settings,
            value_length_limit,
            overflowed: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            failures: Arc::default(),
            next_slot: NextSlot::detect(),
        });
        let exporter = Arc::new(RwLock::new(exporter));
        let worker = {
            let shared = Arc::clone(&shared);
            let exporter = Arc::clone(&exporter);
            thread::Builder::new()
                .name("traced-batch-export".to_owned())
                .spawn(move || export_loop(&shared, &exporter))
        };
        if let Err(err) = worker {
            warn_once("batch-thread", || {
                format!("the batch export thread could not start ({err}); spans are dropped")
            });
            shared.lock().stopped = true;
        }
        Self { shared, exporter }
    }

    /// Spans dropped so far because the queue was full.
    pub(crate) fn full_queue_counter(&self) -> impl Fn() -> u64 + Send + Sync + use<E> {
        let shared = Arc::clone(&self.shared);
        move || shared.overflowed.load(Ordering::Relaxed)
    }

    /// Spans not exported for another reason so far: ended while the processor was stopping
    /// (or with no export thread), plus those still queued, which a completed shutdown
    /// exports.
    pub(crate) fn unexported_counter(&self) -> impl Fn() -> u64 + Send + Sync + use<E> {
        let shared = Arc::clone(&self.shared);
        move || shared.refused.load(Ordering::Relaxed) + shared.lock().queue.len() as u64
    }

    /// The exports that failed, for the report at shutdown.
    pub(crate) fn failures(&self) -> Arc<ExportFailures> {
        Arc::clone(&self.shared.failures)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` inconsistent (every update
        // is a single assignment or push), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `span`, or drops and counts it when the queue is full or the processor
    /// stopping; wakes the export thread when the queue reaches the length it asked for
    /// ([`State::wake_at`]). A boxed record is copied once, from its box into the queue
    /// ([`Enqueue`]). Out of line, as it was before [`Self::enqueue_set_aside`] shared its
    /// body: inlined into `on_end_record`, a sampled call measured 5–10 ns slower
    /// (alternating runs).
    #[inline(never)]
    fn enqueue(&self, span: impl Enqueue) {
        self.enqueue_with(span, |_| {});
    }

    /// Queues a record that holds anything on the heap (attributes past the inline ones,
    /// long text, a name or status description made for it, events): those are set aside
    /// beside it ([`SetAside`]), and what they leave is freed on this thread, which
    /// allocated it.
    #[cold]
    #[inline(never)]
    fn enqueue_set_aside(&self, mut span: Box<SpanRecord>) {
        // Taken out first, while the attributes are all in the record: their indices are
        // where they go back.
        let texts = set_aside::take_heap_texts(&mut span);
        let events = mem::take(&mut span.events.events);
        let spilled = span
            .attributes
            .spilled()
            .then(|| mem::take(&mut span.attributes));
        // Freed after the lock is released (or with `spilled`, if the span is dropped).
        let mut emptied = Vec::new();
        self.enqueue_with(span, |state| {
            let at = state.queue.len();
            if let Some(spilled) = spilled {
                emptied = state.set_aside.put(at, spilled);
            }
            state.set_aside.put_texts(at, &texts);
            state.set_aside.put_events(at, events);
        });
        drop(emptied);
        drop(texts);
    }

    /// [`Self::enqueue`], calling `before_push` under the lock when the span is queued.
    #[inline(always)]
    fn enqueue_with(&self, span: impl Enqueue, before_push: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        let stopping = state.shutdown || state.stopped;
        if stopping || state.queue.len() >= self.settings.max_queue_size {
            drop(state);
            let counter = if stopping {
                &self.refused
            } else {
                &self.overflowed
            };
            counter.fetch_add(1, Ordering::Relaxed);
            return; // `span` is freed here, outside the lock.
        }
        before_push(&mut state);
        span.push_onto(&mut state.queue);
        self.next_slot.prefetch(&mut state.queue);
        let wake_exporter = state.queue.len() == state.wake_at;
        drop(state);
        if wake_exporter {
            self.work.notify_one();
        }
    }
}

impl<E: BatchExporter> SpanProcessor for BatchProcessor<E> {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.shared.enqueue(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let shared = &*self.shared;
        let mut state = shared.lock();
        if state.stopped {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        state.flush_requested += 1;
        let request = state.flush_requested;
        shared.work.notify_one();
        let timeout = export_timeout(&shared.settings);
        let (state, waited) = shared
            .progress
            .wait_timeout_while(state, timeout, |state| {
                state.flush_done < request && !state.stopped
            })
            .unwrap_or_else(PoisonError::into_inner);
        if waited.timed_out() && state.flush_done < request {
            return Err(OTelSdkError::Timeout(timeout));
        }
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let start = Instant::now();
        let shared = &*self.shared;
        let mut state = shared.lock();
        if state.shutdown {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        state.shutdown = true;
        shared.work.notify_one();
        let (state, waited) = shared
            .progress
            .wait_timeout_while(state, timeout, |state| !state.stopped)
            .unwrap_or_else(PoisonError::into_inner);
        drop(state);
        if waited.timed_out() {
            return Err(OTelSdkError::Timeout(timeout));
        }
        let remaining = timeout.saturating_sub(start.elapsed());
        write_exporter(&self.exporter).shutdown_with_timeout(remaining)
    }

    fn set_resource(&mut self, resource: &Resource) {
        write_exporter(&self.exporter).set_resource(resource);
    }
}

impl<E: BatchExporter> EndedSpanProcessor for BatchProcessor<E> {
    fn on_end_record(&self, span: Box<SpanRecord>) {
        if !span.is_sampled() {
            return;
        }
        // Copied into the queue: the box is freed on this thread, which allocated it, and
        // so is whatever else of it is on the heap ([`SetAside`]).
        if set_aside::has_heap_parts(&span) {
            self.shared.enqueue_set_aside(span);
        } else {
            self.shared.enqueue(span);
        }
    }
}

/// The flush deadline: the export timeout, or 30 s when it is 0 ("no limit").
fn export_timeout(settings: &BatchSettings) -> Duration {
    if settings.export_timeout.is_zero() {
        Duration::from_secs(30)
    } else {
        settings.export_timeout
    }
}

/// The export thread: waits for a full batch, the schedule delay, a flush or shutdown, takes
/// the whole queue and exports it.
fn export_loop<E: BatchExporter>(shared: &Shared, exporter: &Arc<RwLock<E>>) {
    // Before the sender threads start: they inherit it.
    scheduling::prefer_prompt_wakeups();
    let settings = &shared.settings;
    let senders = Senders::start(exporter, settings.max_concurrent_exports, &shared.failures);
    // Swapped with the shared queue: the two take turns, so taking spans allocates nothing.
    let mut taken = Vec::with_capacity(settings.max_export_batch_size);
    let mut taken_aside = SetAside::default();
    let mut overflow = QueueOverflow::new(settings.max_queue_size);
    // The latest flush done, as `State::flush_done` (written only here) holds it.
    let mut flush_done = 0;
    let mut pacing = Pacing::new(
        settings.max_export_batch_size,
        settings.max_queue_size,
        Instant::now(),
    );
    loop {
        let (flush, shutdown) = {
            let mut state = wait_for_turn(shared, &mut pacing);
            pacing.took(state.queue.len(), Instant::now());
            mem::swap(&mut state.queue, &mut taken);
            mem::swap(&mut state.set_aside, &mut taken_aside);
            (state.flush_requested, state.shutdown)
        };
        taken_aside.restore(&mut taken);
        export(shared, exporter, senders.as_ref(), &mut taken);
        // Spans the application dropped while this turn exported: printed from here, not
        // from its threads.
        overflow.note(shared.overflowed.load(Ordering::Relaxed));
        if flush == flush_done && !shutdown {
            // Nobody waits for this turn: no lock to take, and nobody to wake (`notify_all`
            // makes its system call even so).
            continue;
        }
        // A flush or shutdown is done when what was taken has been sent, not only handed to
        // a sender thread.
        if let Some(senders) = &senders {
            senders.wait_until_idle();
        }
        let mut state = shared.lock();
        state.flush_done = flush;
        flush_done = flush;
        // Spans that arrived during the export are taken on the next turn; on shutdown the
        // queue no longer grows, so it empties.
        if shutdown && state.queue.is_empty() {
            state.stopped = true;
        }
        let stopped = state.stopped;
        drop(state);
        if stopped {
            // Idle since the shutdown waited for them: the sender threads end at once, and
            // before the shutdown returns.
            if let Some(senders) = senders {
                senders.stop();
            }
            shared.progress.notify_all();
            return;
        }
        shared.progress.notify_all();
    }
}

/// Sleeps until a batch is queued, the schedule delay has passed, or a flush or shutdown is
/// asked for; returns with the lock held. Asleep, it leaves the application's threads the
/// queue length at which to wake it, and sets its own timeout for when [`Pacing`] expects a
/// batch.
fn wait_for_turn<'a>(shared: &'a Shared, pacing: &mut Pacing) -> MutexGuard<'a, State> {
    let settings = &shared.settings;
    // `None`: a delay too long to add to the clock, never reached.
    let deadline = Instant::now().checked_add(settings.schedule_delay);
    let mut state = shared.lock();
    loop {
        if state.queue.len() >= settings.max_export_batch_size
            || state.flush_requested != state.flush_done
            || state.shutdown
        {
            return state;
        }
        let now = Instant::now();
        let left = deadline.map_or(Duration::MAX, |deadline| {
            deadline.saturating_duration_since(now)
        });
        if left.is_zero() {
            return state;
        }
        let sleep = pacing.sleep(state.queue.len(), now, left);
        state.wake_at = sleep.wake_at;
        state = shared
            .work
            .wait_timeout(state, sleep.duration)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        state.wake_at = AWAKE;
    }
}

/// Exports `queued` (emptying it) in batches of at most the configured size, each prepared
/// by the exporter out of the lock while it is in this core's cache, then sent here or
/// handed to a sender thread.
fn export<E: BatchExporter>(
    shared: &Shared,
    exporter: &RwLock<E>,
    senders: Option<&Senders<E>>,
    queued: &mut Vec<Queued>,
) {
    if queued.is_empty() {
        return;
    }
    let exporter = read_exporter(exporter);
    for batch in queued.chunks_mut(shared.settings.max_export_batch_size) {
        let request = exporter.prepare(batch, shared.value_length_limit);
        let unsent = match senders {
            Some(senders) => senders.submit(request).err(),
            None => Some(request),
        };
        if let Some(request) = unsent {
            // The exporters count the spans of a failed batch (the OTLP exporter's dropped
            // counter); it is not retried here.
            shared.failures.note(&exporter.send(request));
        }
    }
    queued.clear();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Tracer, TracerProvider};
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanExporter};

    use super::*;
    use crate::pipeline::export::ViaSpanData;

    /// Holds exports while closed and counts how many are in it at once.
    #[derive(Clone, Debug, Default)]
    struct Gate {
        closed: Arc<AtomicBool>,
        inside: Arc<AtomicUsize>,
        most_inside: Arc<AtomicUsize>,
    }

    impl Gate {
        fn close(&self) {
            self.closed.store(true, Ordering::Release);
        }

        fn open(&self) {
            self.closed.store(false, Ordering::Release);
        }

        /// Enters, waits while closed, leaves.
        fn pass(&self) {
            let inside = self.inside.fetch_add(1, Ordering::AcqRel) + 1;
            self.most_inside.fetch_max(inside, Ordering::AcqRel);
            while self.closed.load(Ordering::Acquire) {
                thread::sleep(Duration::from_millis(1));
            }
            self.inside.fetch_sub(1, Ordering::AcqRel);
        }

        fn wait_until_inside(&self, count: usize) {
            let start = Instant::now();
            while self.inside.load(Ordering::Acquire) < count {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "{count} never inside"
                );
                thread::sleep(Duration::from_millis(1));
            }
        }

        fn most_inside(&self) -> usize {
            self.most_inside.load(Ordering::Acquire)
        }
    }

    /// An SDK exporter keeping every batch it is handed, through a gate.
    #[derive(Clone, Debug, Default)]
    struct Collect {
        batches: Arc<Mutex<Vec<Vec<SpanData>>>>,
        gate: Gate,
    }

    impl Collect {
        fn sizes(&self) -> Vec<usize> {
            self.batches.lock().unwrap().iter().map(Vec::len).collect()
        }
    }

    impl SpanExporter for Collect {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.gate.pass();
            self.batches.lock().unwrap().push(batch);
            Ok(())
        }
    }

    /// An exporter that may send concurrently, as the OTLP exporter does: counts the spans
    /// it sends through a gate, and those still being sent when it is shut down.
    #[derive(Clone, Debug, Default)]
    struct Concurrent {
        sent: Arc<AtomicUsize>,
        gate: Gate,
        inside_at_shutdown: Arc<AtomicUsize>,
    }

    impl BatchExporter for Concurrent {
        type Request = usize;

        const CONCURRENT: bool = true;

        fn prepare(&self, batch: &mut [Queued], _limit: Option<usize>) -> usize {
            batch.len()
        }

        fn send(&self, spans: usize) -> OTelSdkResult {
            self.gate.pass();
            self.sent.fetch_add(spans, Ordering::AcqRel);
            Ok(())
        }

        fn shutdown_with_timeout(&mut self, _timeout: Duration) -> OTelSdkResult {
            let inside = self.gate.inside.load(Ordering::Acquire);
            self.inside_at_shutdown.store(inside, Ordering::Release);
            Ok(())
        }

        fn set_resource(&mut self, _resource: &Resource) {}
    }

    fn settings(max_queue_size: usize, max_export_batch_size: usize) -> BatchSettings {
        BatchSettings {
            schedule_delay: Duration::from_secs(3600),
            export_timeout: Duration::from_secs(10),
            max_queue_size,
            max_export_batch_size,
            max_concurrent_exports: 1,
        }
    }

    fn concurrent_pipeline(
        max_concurrent_exports: usize,
    ) -> (SdkTracerProvider, Concurrent, impl Fn() -> u64) {
        let exporter = Concurrent::default();
        let settings = BatchSettings {
            max_concurrent_exports,
            ..settings(100, 2)
        };
        let processor = BatchProcessor::new(exporter.clone(), settings, None);
        let dropped = dropped_counter(&processor);
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .build();
        (provider, exporter, dropped)
    }

    fn pipeline(
        settings: BatchSettings,
        limit: Option<usize>,
        sampler: Sampler,
    ) -> (SdkTracerProvider, Collect, impl Fn() -> u64) {
        let exporter = Collect::default();
        let processor = BatchProcessor::new(ViaSpanData(exporter.clone()), settings, limit);
        let dropped = dropped_counter(&processor);
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_span_processor(processor)
            .build();
        (provider, exporter, dropped)
    }

    /// Every span the processor has not exported: dropped, or still queued.
    fn dropped_counter<E: BatchExporter>(
        processor: &BatchProcessor<E>,
    ) -> impl Fn() -> u64 + use<E> {
        let (full_queue, unexported) = (
            processor.full_queue_counter(),
            processor.unexported_counter(),
        );
        move || full_queue() + unexported()
    }

    fn end_spans(provider: &SdkTracerProvider, count: usize) {
        let tracer = provider.tracer("test");
        for index in 0..count {
            tracer.in_span(format!("span {index}"), |_| {});
        }
    }

    #[test]
    fn flush_exports_everything_in_order_in_batches_of_the_configured_size() {
        let (provider, exporter, dropped) = pipeline(settings(100, 4), None, Sampler::AlwaysOn);
        // The export thread blocks in the exporter with what it took first; the rest (more
        // than one batch, as 10 > 2 × 4) waits and is taken in one turn, in several batches.
        exporter.gate.close();
        end_spans(&provider, 10);
        exporter.gate.open();
        provider.force_flush().unwrap();
        let sizes = exporter.sizes();
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.iter().all(|size| *size <= 4), "{sizes:?}");
        let names: Vec<String> = exporter
            .batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .map(|span| span.name.to_string())
            .collect();
        let expected: Vec<String> = (0..10).map(|index| format!("span {index}")).collect();
        assert_eq!(names, expected, "spans leave in the order they ended");
        assert_eq!(dropped(), 0);
        provider.shutdown().unwrap();
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (provider, exporter, dropped) = pipeline(settings(5, 5), None, Sampler::AlwaysOn);
        // The first full batch wakes the export thread, which blocks in the exporter with
        // it: the queue then fills up behind.
        exporter.gate.close();
        end_spans(&provider, 5);
        // The counter includes queued spans: it reaches 0 once the export thread has them.
        let start = Instant::now();
        while dropped() != 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "batch never taken"
            );
            thread::sleep(Duration::from_millis(1));
        }
        end_spans(&provider, 12);
        assert_eq!(dropped(), 7 + 5, "7 dropped and 5 queued");
        exporter.gate.open();
        provider.force_flush().unwrap();
        assert_eq!(exporter.sizes(), [5, 5]);
        assert_eq!(dropped(), 7);
        provider.shutdown().unwrap();
    }

    #[test]
    fn unsampled_spans_are_not_queued() {
        let (provider, exporter, dropped) = pipeline(settings(10, 10), None, Sampler::AlwaysOff);
        end_spans(&provider, 3);
        provider.force_flush().unwrap();
        assert_eq!(exporter.sizes().iter().sum::<usize>(), 0);
        assert_eq!(dropped(), 0);
        provider.shutdown().unwrap();
    }

    #[test]
    fn shutdown_exports_what_is_queued_and_then_drops() {
        let (provider, exporter, _) = pipeline(settings(10, 10), None, Sampler::AlwaysOn);
        end_spans(&provider, 3);
        let tracer = provider.tracer("late");
        provider.shutdown().unwrap();
        assert_eq!(exporter.sizes(), [3]);
        tracer.in_span("after shutdown", |_| {});
        assert_eq!(exporter.sizes(), [3]);
        assert!(provider.shutdown().is_err());
    }

    #[test]
    fn the_schedule_delay_exports_without_a_flush() {
        let mut settings = settings(10, 10);
        settings.schedule_delay = Duration::from_millis(20);
        let (provider, exporter, _) = pipeline(settings, None, Sampler::AlwaysOn);
        end_spans(&provider, 2);
        wait_until_exported(&exporter, 2);
        provider.shutdown().unwrap();
    }

    /// Waits until `exporter` has been handed `count` spans in all.
    fn wait_until_exported(exporter: &Collect, count: usize) {
        let start = Instant::now();
        while exporter.sizes().iter().sum::<usize>() < count {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{count} never exported"
            );
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn after_the_first_batch_the_export_thread_wakes_by_itself_for_the_next() {
        // No schedule delay to fall back on (an hour). A first batch spread over 60 ms: the
        // span completing it wakes the export thread (it has no estimate yet), which then
        // expects the next batch 60 ms after taking this one.
        let (provider, exporter, dropped) = pipeline(settings(100, 4), None, Sampler::AlwaysOn);
        for _ in 0..4 {
            thread::sleep(Duration::from_millis(20));
            end_spans(&provider, 1);
        }
        wait_until_exported(&exporter, 4);
        // One span at once, three 20 ms later: a batch queued, but fewer than the twice a
        // batch at which the application's thread would wake the export thread sleeping on
        // its estimate. Only its own timer exports them.
        end_spans(&provider, 1);
        thread::sleep(Duration::from_millis(20));
        end_spans(&provider, 3);
        wait_until_exported(&exporter, 8);
        assert_eq!(dropped(), 0);
        provider.shutdown().unwrap();
    }

    #[test]
    fn records_export_with_their_own_attributes_inline_or_set_aside() {
        use opentelemetry::Value;
        use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

        use crate::span::recorded::RecordedAttribute;

        let exporter = Collect::default();
        let processor = BatchProcessor::new(ViaSpanData(exporter.clone()), settings(100, 4), None);
        let sampled = |id: u64| {
            SpanContext::new(
                TraceId::from(u128::from(id)),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            )
        };
        // Every third text too long to be inline: set aside with the record's other long
        // texts, whether its attributes are inline or not, and given back in place.
        let value_of = |key: &str, index: usize| {
            if index % 3 == 1 {
                format!("{key}: a text too long to be kept inline")
            } else {
                "value".to_owned()
            }
        };
        let names = ["a", "b", "c", "d", "e", "f"];
        let counts = [3, 9, 0, 14, 6, 5];
        for (index, (name, count)) in names.into_iter().zip(counts).enumerate() {
            let id = index as u64 + 1;
            let mut record = Box::new(SpanRecord::empty(name, sampled(id)));
            for attribute in 0..count {
                let key = format!("{name}{attribute}");
                let value = value_of(&key, attribute);
                record
                    .attributes
                    .push(RecordedAttribute::text(key.into(), &value));
            }
            processor.on_end_record(record);
            // An SDK span between each two records: queued as `SpanData`.
            let mut sdk = SpanRecord::empty("sdk", sampled(100 + id)).into_span_data();
            sdk.attributes.push(KeyValue::new("sdk", Value::I64(1)));
            processor.on_end(sdk);
        }
        processor.force_flush().unwrap();
        let batches = exporter.batches.lock().unwrap();
        let exported: Vec<&SpanData> = batches.iter().flatten().collect();
        assert_eq!(exported.len(), 12);
        for (name, count) in names.into_iter().zip(counts) {
            let span = exported.iter().find(|span| span.name == name).unwrap();
            let keys: Vec<String> = span
                .attributes
                .iter()
                .map(|kv| kv.key.to_string())
                .collect();
            let expected: Vec<String> = (0..count).map(|index| format!("{name}{index}")).collect();
            assert_eq!(keys, expected, "{name}");
            for (index, attribute) in span.attributes.iter().enumerate() {
                let expected = value_of(attribute.key.as_str(), index);
                assert_eq!(attribute.value, Value::from(expected), "{name}");
            }
        }
        for span in exported.iter().filter(|span| span.name == "sdk") {
            assert_eq!(span.attributes, [KeyValue::new("sdk", 1)]);
        }
        drop(batches);
        processor
            .shutdown_with_timeout(Duration::from_secs(10))
            .unwrap();
    }

    #[test]
    fn long_values_are_cut_before_export() {
        let (provider, exporter, _) = pipeline(settings(10, 10), Some(3), Sampler::AlwaysOn);
        provider.tracer("test").in_span("s", |cx| {
            use opentelemetry::trace::TraceContextExt as _;
            cx.span().set_attribute(KeyValue::new("k", "abcdef"));
        });
        provider.force_flush().unwrap();
        let batches = exporter.batches.lock().unwrap();
        assert_eq!(batches[0][0].attributes[0].value, "abc".into());
        drop(batches);
        provider.shutdown().unwrap();
    }

    #[test]
    fn several_exports_are_in_flight_at_once_and_a_flush_waits_for_all() {
        let (provider, exporter, dropped) = concurrent_pipeline(3);
        exporter.gate.close();
        end_spans(&provider, 6);
        exporter.gate.wait_until_inside(3);
        let flushing = {
            let provider = provider.clone();
            thread::spawn(move || provider.force_flush())
        };
        thread::sleep(Duration::from_millis(50));
        assert!(!flushing.is_finished(), "a flush waits for the sends");
        exporter.gate.open();
        flushing.join().unwrap().unwrap();
        assert_eq!(exporter.sent.load(Ordering::Acquire), 6);
        assert_eq!(exporter.gate.most_inside(), 3);
        assert_eq!(dropped(), 0);
        provider.shutdown().unwrap();
    }

    #[test]
    fn one_export_at_a_time_by_default() {
        let (provider, exporter, _) = concurrent_pipeline(1);
        end_spans(&provider, 8);
        provider.force_flush().unwrap();
        assert_eq!(exporter.sent.load(Ordering::Acquire), 8);
        assert_eq!(exporter.gate.most_inside(), 1);
        provider.shutdown().unwrap();
    }

    #[test]
    fn sdk_exporters_get_one_batch_at_a_time_whatever_the_setting() {
        let settings = BatchSettings {
            max_concurrent_exports: 4,
            ..settings(100, 2)
        };
        let (provider, exporter, _) = pipeline(settings, None, Sampler::AlwaysOn);
        exporter.gate.close();
        end_spans(&provider, 8);
        exporter.gate.wait_until_inside(1);
        thread::sleep(Duration::from_millis(50));
        exporter.gate.open();
        provider.force_flush().unwrap();
        assert_eq!(exporter.sizes().iter().sum::<usize>(), 8);
        assert!(exporter.sizes().len() >= 4, "{:?}", exporter.sizes());
        assert_eq!(exporter.gate.most_inside(), 1);
        provider.shutdown().unwrap();
    }

    #[test]
    fn shutdown_waits_for_the_exports_in_flight() {
        let (provider, exporter, _) = concurrent_pipeline(2);
        exporter.gate.close();
        end_spans(&provider, 5);
        exporter.gate.wait_until_inside(2);
        let shutting_down = {
            let provider = provider.clone();
            thread::spawn(move || provider.shutdown())
        };
        thread::sleep(Duration::from_millis(50));
        exporter.gate.open();
        shutting_down.join().unwrap().unwrap();
        assert_eq!(
            exporter.sent.load(Ordering::Acquire),
            5,
            "the last, partial batch too"
        );
        assert_eq!(exporter.inside_at_shutdown.load(Ordering::Acquire), 0);
    }
}
