//! Sender threads: with `OTEL_BSP_MAX_CONCURRENT_EXPORTS` above 1, the batch processor's
//! export thread prepares each batch (finishes and encodes it) and hands it to one of these
//! threads, which sends it (compresses, posts, retries) while the export thread goes on with
//! the next. With a collector a network round trip away, one export at a time leaves the
//! export thread waiting on every request; several in flight keep it busy.
//!
//! At most one request per thread is in flight, and the export thread waits to hand over a
//! request until a thread is free: memory stays bounded by the thread count, and a slow
//! collector fills the processor's queue (which drops and counts) as it does with a single
//! export.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::{self, JoinHandle};

use super::export::{BatchExporter, read_exporter};
use super::failures::ExportFailures;
use crate::diagnostics::warn_once;

/// A pool of threads sending an exporter's prepared requests.
#[derive(Debug)]
pub(super) struct Senders<E: BatchExporter> {
    queue: Arc<SendQueue<E::Request>>,
    threads: Vec<JoinHandle<()>>,
}

/// What the export thread and the sender threads share.
#[derive(Debug)]
struct SendQueue<R> {
    state: Mutex<SendState<R>>,
    /// Signalled when a request is handed over, one is sent, or the pool closes.
    changed: Condvar,
}

#[derive(Debug)]
struct SendState<R> {
    /// Requests handed over and not taken by a thread yet (at most one per idle thread).
    waiting: VecDeque<R>,
    /// Requests being sent.
    sending: usize,
    /// Threads still running.
    threads: usize,
    /// No more requests come: the threads stop once `waiting` is empty.
    closed: bool,
}

impl<R> SendQueue<R> {
    fn lock(&self) -> MutexGuard<'_, SendState<R>> {
        // Every update is a single field change or push/pop: a panic under the lock cannot
        // leave the state inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, state: MutexGuard<'a, SendState<R>>) -> MutexGuard<'a, SendState<R>> {
        self.changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<E: BatchExporter> Senders<E> {
    /// Starts `count` sender threads for `exporter`, noting failed exports in `failures`,
    /// or `None` when one export at a time is asked for, the exporter cannot send
    /// concurrently, or no thread could start (a warning says why; the export thread then
    /// sends itself).
    pub(super) fn start(
        exporter: &Arc<RwLock<E>>,
        count: usize,
        failures: &Arc<ExportFailures>,
    ) -> Option<Self> {
        if count <= 1 || !E::CONCURRENT {
            return None;
        }
        let queue = Arc::new(SendQueue {
            state: Mutex::new(SendState {
                waiting: VecDeque::with_capacity(count),
                sending: 0,
                threads: 0,
                closed: false,
            }),
            changed: Condvar::new(),
        });
        let mut threads = Vec::with_capacity(count);
        for index in 0..count {
            let queue_for_thread = Arc::clone(&queue);
            let (exporter, failures) = (Arc::clone(exporter), Arc::clone(failures));
            let started = thread::Builder::new()
                .name(format!("traced-export-send-{index}"))
                .spawn(move || send_loop(&queue_for_thread, &exporter, &failures));
            match started {
                Ok(handle) => threads.push(handle),
                Err(err) => {
                    warn_once("sender-threads", || {
                        format!(
                            "only {index} of {count} export sender threads could start ({err}); \
                             fewer exports run at once"
                        )
                    });
                    break;
                }
            }
        }
        queue.lock().threads = threads.len();
        if threads.is_empty() {
            return None;
        }
        Some(Self { queue, threads })
    }

    /// Hands `request` to a sender thread, first waiting until one is free; gives it back
    /// when no thread is left (each one's exporter panicked), for the caller to send.
    pub(super) fn submit(&self, request: E::Request) -> Result<(), E::Request> {
        let mut state = self.queue.lock();
        while state.threads > 0 && state.sending + state.waiting.len() >= state.threads {
            state = self.queue.wait(state);
        }
        if state.threads == 0 {
            return Err(request);
        }
        state.waiting.push_back(request);
        drop(state);
        self.queue.changed.notify_all();
        Ok(())
    }

    /// Waits until every request handed over has been sent (a flush), or no thread is left
    /// to send it.
    pub(super) fn wait_until_idle(&self) {
        let mut state = self.queue.lock();
        while state.threads > 0 && state.sending + state.waiting.len() > 0 {
            state = self.queue.wait(state);
        }
    }

    /// Sends what was handed over, then stops the threads and waits for them.
    pub(super) fn stop(self) {
        self.queue.lock().closed = true;
        self.queue.changed.notify_all();
        for thread in self.threads {
            // A thread that panicked in an exporter has nothing left to send.
            let _ = thread.join();
        }
    }
}

/// A sender thread: takes requests until the pool closes and nothing is waiting.
fn send_loop<E: BatchExporter>(
    queue: &SendQueue<E::Request>,
    exporter: &RwLock<E>,
    failures: &ExportFailures,
) {
    loop {
        let mut state = queue.lock();
        let request = loop {
            if let Some(request) = state.waiting.pop_front() {
                break request;
            }
            if state.closed {
                state.threads -= 1;
                return;
            }
            state = queue.wait(state);
        };
        state.sending += 1;
        drop(state);
        let sending = Sending(queue);
        // The exporter counts the spans of a failed export (the OTLP exporter's dropped
        // counter), as when the export thread sends.
        failures.note(&read_exporter(exporter).send(request));
        drop(sending);
    }
}

/// One request being sent: its end is counted even if the exporter panics, which also ends
/// the thread, so that nobody waits for it.
struct Sending<'a, R>(&'a SendQueue<R>);

impl<R> Drop for Sending<'_, R> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.sending -= 1;
        if thread::panicking() {
            state.threads -= 1;
        }
        drop(state);
        self.0.changed.notify_all();
    }
}
