//! The batch span processor: ended spans go into a bounded buffer, and an export thread
//! takes the whole buffer at once and hands it to the exporter in batches.
//!
//! Why not opentelemetry_sdk's `BatchSpanProcessor`: it sends every span through a bounded
//! channel and the export thread receives them one by one, so each span costs a channel
//! operation (often a thread wake-up) on the application's thread, and the export thread
//! falls behind from about 1 M spans/s, dropping silently. Here a producer takes an
//! uncontended lock, pushes, and wakes the export thread only when a full batch is waiting;
//! the export thread swaps the buffer for an empty one in one step. Spans are counted when
//! the queue drops them, and finished (duplicate keys, the value length limit) on the
//! export thread, off the application's path. `#[traced]` spans are queued as they ended
//! and handed to the exporter so ([`super::export`]): made [`SpanData`] on the export thread
//! if at all, so what it frees it allocated itself.

use std::mem;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::export::{BatchExporter, Queued};
use super::sink::EndedSpanProcessor;
use crate::config::BatchSettings;
use crate::diagnostics::warn_once;
use crate::span::lean::SpanRecord;

/// A batch span processor on its own export thread.
#[derive(Debug)]
pub(crate) struct BatchProcessor<E: BatchExporter> {
    shared: Arc<Shared>,
    exporter: Arc<Mutex<E>>,
}

/// What the application's threads and the export thread share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the export thread: a full batch, a flush, or shutdown.
    work: Condvar,
    /// Wakes those waiting for a flush or for the export thread to stop.
    progress: Condvar,
    settings: BatchSettings,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, applied before export.
    value_length_limit: Option<usize>,
    /// Spans dropped because the queue was full (or the export thread could not start).
    dropped: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    queue: Vec<Queued>,
    /// Flush requests made, and the latest one the export thread has completed.
    flush_requested: u64,
    flush_done: u64,
    shutdown: bool,
    /// The export thread has exported everything and stopped.
    stopped: bool,
}

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
                ..State::default()
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            settings,
            value_length_limit,
            dropped: AtomicU64::new(0),
        });
        let exporter = Arc::new(Mutex::new(exporter));
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

    /// Spans dropped so far: by a full queue, plus those still queued.
    pub(crate) fn dropped_counter(&self) -> impl Fn() -> u64 + Send + Sync + use<E> {
        let shared = Arc::clone(&self.shared);
        move || shared.dropped.load(Ordering::Relaxed) + shared.lock().queue.len() as u64
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` inconsistent (every update
        // is a single assignment or push), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `span`, or drops and counts it when the queue is full or the processor
    /// stopping; wakes the export thread when a batch is ready. Converted only as it is
    /// pushed, so that a boxed record is copied once, from its box into the queue.
    fn enqueue(&self, span: impl Into<Queued>) {
        let mut state = self.lock();
        if state.shutdown || state.stopped || state.queue.len() >= self.settings.max_queue_size {
            drop(state);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return; // `span` is freed here, outside the lock.
        }
        state.queue.push(span.into());
        let batch_ready = state.queue.len() == self.settings.max_export_batch_size;
        drop(state);
        if batch_ready {
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
        lock_exporter(&self.exporter).shutdown_with_timeout(remaining)
    }

    fn set_resource(&mut self, resource: &Resource) {
        lock_exporter(&self.exporter).set_resource(resource);
    }
}

impl<E: BatchExporter> EndedSpanProcessor for BatchProcessor<E> {
    fn on_end_record(&self, span: Box<SpanRecord>) {
        if span.is_sampled() {
            // Copied into the queue: the box is freed on this thread, which allocated it.
            self.shared.enqueue(span);
        }
    }
}

/// The exporter, even if an export panicked while holding it.
fn lock_exporter<E>(exporter: &Mutex<E>) -> MutexGuard<'_, E> {
    exporter.lock().unwrap_or_else(PoisonError::into_inner)
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
fn export_loop<E: BatchExporter>(shared: &Shared, exporter: &Mutex<E>) {
    let settings = &shared.settings;
    // Swapped with the shared queue: the two take turns, so taking spans allocates nothing.
    let mut taken = Vec::with_capacity(settings.max_export_batch_size);
    loop {
        let (flush, shutdown) = {
            let state = shared.lock();
            let (mut state, _) = shared
                .work
                .wait_timeout_while(state, settings.schedule_delay, |state| {
                    state.queue.len() < settings.max_export_batch_size
                        && state.flush_requested == state.flush_done
                        && !state.shutdown
                })
                .unwrap_or_else(PoisonError::into_inner);
            mem::swap(&mut state.queue, &mut taken);
            (state.flush_requested, state.shutdown)
        };
        export(shared, exporter, &mut taken);
        let mut state = shared.lock();
        state.flush_done = flush;
        // Spans that arrived during the export are taken on the next turn; on shutdown the
        // queue no longer grows, so it empties.
        if shutdown && state.queue.is_empty() {
            state.stopped = true;
        }
        let stopped = state.stopped;
        drop(state);
        shared.progress.notify_all();
        if stopped {
            return;
        }
    }
}

/// Exports `queued` (emptying it) in batches of at most the configured size, finished by
/// the exporter out of the lock, one batch at a time while it is in this core's cache.
fn export<E: BatchExporter>(shared: &Shared, exporter: &Mutex<E>, queued: &mut Vec<Queued>) {
    if queued.is_empty() {
        return;
    }
    let mut queued = queued.drain(..);
    let exporter = lock_exporter(exporter);
    while queued.len() > 0 {
        let batch = queued.by_ref().take(shared.settings.max_export_batch_size);
        // The exporters count and report their own failures (the OTLP exporter's dropped
        // counter); a failed batch is not retried here.
        let _ = exporter.export_queued(batch, shared.value_length_limit);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Tracer, TracerProvider};
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanExporter};

    use super::*;
    use crate::pipeline::export::ViaSpanData;

    /// Keeps every batch it is handed; optionally holds each export until released.
    #[derive(Clone, Debug, Default)]
    struct Collect {
        batches: Arc<Mutex<Vec<Vec<SpanData>>>>,
        blocked: Arc<AtomicBool>,
    }

    impl Collect {
        fn sizes(&self) -> Vec<usize> {
            lock_exporter(&self.batches).iter().map(Vec::len).collect()
        }
    }

    impl SpanExporter for Collect {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            while self.blocked.load(Ordering::Acquire) {
                thread::sleep(Duration::from_millis(1));
            }
            lock_exporter(&self.batches).push(batch);
            Ok(())
        }
    }

    fn settings(max_queue_size: usize, max_export_batch_size: usize) -> BatchSettings {
        BatchSettings {
            schedule_delay: Duration::from_secs(3600),
            export_timeout: Duration::from_secs(10),
            max_queue_size,
            max_export_batch_size,
        }
    }

    fn pipeline(
        settings: BatchSettings,
        limit: Option<usize>,
        sampler: Sampler,
    ) -> (SdkTracerProvider, Collect, impl Fn() -> u64) {
        let exporter = Collect::default();
        let processor = BatchProcessor::new(ViaSpanData(exporter.clone()), settings, limit);
        let dropped = processor.dropped_counter();
        let provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_span_processor(processor)
            .build();
        (provider, exporter, dropped)
    }

    fn end_spans(provider: &SdkTracerProvider, count: usize) {
        let tracer = provider.tracer("test");
        for index in 0..count {
            tracer.in_span(format!("span {index}"), |_| {});
        }
    }

    #[test]
    fn flush_exports_everything_in_batches_of_the_configured_size() {
        let (provider, exporter, dropped) = pipeline(settings(100, 4), None, Sampler::AlwaysOn);
        exporter.blocked.store(true, Ordering::Release);
        end_spans(&provider, 10);
        exporter.blocked.store(false, Ordering::Release);
        provider.force_flush().unwrap();
        let sizes = exporter.sizes();
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.iter().all(|size| *size <= 4), "{sizes:?}");
        assert_eq!(dropped(), 0);
        provider.shutdown().unwrap();
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (provider, exporter, dropped) = pipeline(settings(5, 5), None, Sampler::AlwaysOn);
        // The first full batch wakes the export thread, which blocks in the exporter with
        // it: the queue then fills up behind.
        exporter.blocked.store(true, Ordering::Release);
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
        exporter.blocked.store(false, Ordering::Release);
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
        let start = Instant::now();
        while exporter.sizes().iter().sum::<usize>() < 2 {
            assert!(start.elapsed() < Duration::from_secs(10), "never exported");
            thread::sleep(Duration::from_millis(5));
        }
        provider.shutdown().unwrap();
    }

    #[test]
    fn long_values_are_cut_before_export() {
        let (provider, exporter, _) = pipeline(settings(10, 10), Some(3), Sampler::AlwaysOn);
        provider.tracer("test").in_span("s", |cx| {
            use opentelemetry::trace::TraceContextExt as _;
            cx.span().set_attribute(KeyValue::new("k", "abcdef"));
        });
        provider.force_flush().unwrap();
        let batches = lock_exporter(&exporter.batches);
        assert_eq!(batches[0][0].attributes[0].value, "abc".into());
        drop(batches);
        provider.shutdown().unwrap();
    }
}
