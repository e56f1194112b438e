//! The functions under measurement: one body (three arguments XORed through `black_box`),
//! sync and async, without instrumentation and instrumented by `#[traced]` and each peer.
//! Every one is `#[inline(never)]`, so each variant pays for one real call and differs from
//! `plain` only by what its instrumentation adds. Each instrumented variant records the three
//! arguments (`id: u64`, `name: &str`, `flag: bool`) on its span.
//!
//! `#[inline(never)]` on an `async fn` keeps only its constructor out of line: whether its
//! poll is inlined where it is polled is the compiler's choice, and a poll polled from
//! several loops is less likely to be. So every `async fn` here takes a `COPY` const
//! parameter and each variant polls a copy of its own ([`copy`]), as an application's
//! `async fn` awaited at one place is polled from one place. (Shared by the six `#[traced]`
//! variants, the one poll was called where `plain`'s was inlined: 1.6 ns of
//! `async/traced/no_provider`, `benches/README.md`.)

use std::borrow::Cow;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{
    FutureExt as _, SpanContext, Status, TraceContextExt as _, TraceFlags, TraceState, Tracer,
};
use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};

/// What the application does between two calls in the `spaced` variants: about 240 ns of
/// dependent arithmetic on the machine of `README.md`. Sampled spans then end at about 2 M/s,
/// fewer than the export thread takes (about 5 M/s), so it sleeps between batches, as it does
/// under nearly every application; back to back (`traced/sampled`), they keep it busy.
#[inline(never)]
pub fn between_calls() -> u64 {
    let mut value = 0_u64;
    for step in 0..300_u64 {
        value = black_box(value.wrapping_mul(31).wrapping_add(step));
    }
    value
}

/// The body every variant shares.
#[inline(always)]
fn body(id: u64, name: &str, flag: bool) -> u64 {
    black_box(id) ^ black_box(name.len() as u64) ^ u64::from(black_box(flag))
}

#[inline(never)]
pub fn plain(id: u64, name: &str, flag: bool) -> u64 {
    body(id, name, flag)
}

/// Which copy of an `async fn` subject a variant polls: each variant of a subject its own,
/// named after the variant (`plain/poll_called`: `POLL_CALLED`; `otel_api/sampled`: `API`).
pub mod copy {
    pub const PLAIN: u8 = 0;
    pub const POLL_CALLED: u8 = 1;
    pub const NO_PROVIDER: u8 = 2;
    pub const SDK_DISABLED: u8 = 3;
    pub const UNSAMPLED: u8 = 4;
    pub const UNSAMPLED_CHILD: u8 = 5;
    pub const SAMPLED: u8 = 6;
    pub const NO_EXPORTER: u8 = 7;
    pub const API: u8 = 8;
}

#[inline(never)]
pub async fn plain_async<const COPY: u8>(id: u64, name: &str, flag: bool) -> u64 {
    std::future::ready(()).await;
    body(id, name, flag)
}

#[traced::traced]
#[inline(never)]
pub fn with_traced(id: u64, name: &str, flag: bool) -> u64 {
    body(id, name, flag)
}

/// [`with_traced`] returning an error when `flag` is set, which its span records (status
/// Error, an `exception` event with the message and the `source()` chain).
#[traced::traced]
#[inline(never)]
pub fn with_traced_err(id: u64, name: &str, flag: bool) -> Result<u64, std::io::Error> {
    if flag {
        Err(std::io::Error::other("the disk is full"))
    } else {
        Ok(body(id, name, flag))
    }
}

/// An error with a message of its own and the error it wraps as its `source()`, as
/// `thiserror`'s `#[source]` and anyhow's `context` make them.
#[derive(Debug)]
pub struct Wrapped<E> {
    message: &'static str,
    source: E,
}

impl<E> std::fmt::Display for Wrapped<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Wrapped<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// [`with_traced_err`] with the error wrapped twice, so its `source()` chain has two causes
/// (`starting service`, caused by `loading config`, caused by `permission denied`).
#[traced::traced]
#[inline(never)]
pub fn with_traced_err_chain(
    id: u64,
    name: &str,
    flag: bool,
) -> Result<u64, Wrapped<Wrapped<std::io::Error>>> {
    if flag {
        let denied = std::io::Error::other("permission denied");
        Err(Wrapped {
            message: "starting service",
            source: Wrapped {
                message: "loading config",
                source: denied,
            },
        })
    } else {
        Ok(body(id, name, flag))
    }
}

/// [`with_traced`] setting one more attribute on its span from inside, through
/// [`traced::current_span`], as a handler records what it learns (a row count, a user id).
#[traced::traced]
#[inline(never)]
pub fn with_traced_set_attribute(id: u64, name: &str, flag: bool) -> u64 {
    traced::current_span().set_attribute("rows", id);
    body(id, name, flag)
}

/// [`with_traced`] adding an event with one attribute to its span, through
/// [`traced::current_span`] (a cache miss, a retry).
#[traced::traced]
#[inline(never)]
pub fn with_traced_event(id: u64, name: &str, flag: bool) -> u64 {
    traced::current_span().add_event("cache miss", [KeyValue::new("attempt", id as i64)]);
    body(id, name, flag)
}

#[traced::traced]
#[inline(never)]
pub async fn with_traced_async<const COPY: u8>(id: u64, name: &str, flag: bool) -> u64 {
    std::future::ready(()).await;
    body(id, name, flag)
}

/// Suspends once: `Pending` (after waking its task) on the first poll, `Ready` on the
/// second, as an `.await` on I/O that is not ready yet.
#[derive(Default)]
pub struct SuspendOnce {
    polled: bool,
}

impl Future for SuspendOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.polled, true) {
            return Poll::Ready(());
        }
        task.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The async shape again, its `.await` suspending once: the future is polled twice.
#[inline(never)]
pub async fn plain_suspending<const COPY: u8>(id: u64, name: &str, flag: bool) -> u64 {
    SuspendOnce::default().await;
    body(id, name, flag)
}

#[traced::traced]
#[inline(never)]
pub async fn with_traced_suspending<const COPY: u8>(id: u64, name: &str, flag: bool) -> u64 {
    SuspendOnce::default().await;
    body(id, name, flag)
}

/// A local root's span context with new random ids (the SDK's generator) and `flags`.
#[inline(always)]
fn new_span_context(ids: &RandomIdGenerator, flags: TraceFlags) -> SpanContext {
    SpanContext::new(
        ids.new_trace_id(),
        ids.new_span_id(),
        flags,
        false,
        TraceState::NONE,
    )
}

/// The least a root span that is not sampled can cost while the OpenTelemetry API sees it,
/// as `#[traced]` keeps it seen (`Context::current()` holds it, a span started inside is its
/// child, an injected `traceparent` carries its ids): new random ids (the SDK's generator),
/// the span context put in a new `Context`, attached around the body and detached. Only the
/// OpenTelemetry API's part of `traced/unsampled`: no sampler, no attributes, no `traced`.
#[inline(never)]
pub fn with_context_only(ids: &RandomIdGenerator, id: u64, name: &str, flag: bool) -> u64 {
    let span = new_span_context(ids, TraceFlags::NOT_SAMPLED);
    let _attached = opentelemetry::Context::current()
        .with_remote_span_context(span)
        .attach();
    body(id, name, flag)
}

/// A span that records nothing and is exported nowhere, but says it records: what the
/// OpenTelemetry API holds for a recording span, without the recording.
#[derive(Debug)]
pub struct RecordsNothing(SpanContext);

impl opentelemetry::trace::Span for RecordsNothing {
    fn add_event_with_timestamp<T>(&mut self, _: T, _: SystemTime, _: Vec<KeyValue>)
    where
        T: Into<Cow<'static, str>>,
    {
    }

    fn span_context(&self) -> &SpanContext {
        &self.0
    }

    fn is_recording(&self) -> bool {
        true
    }

    fn set_attribute(&mut self, _: KeyValue) {}

    fn set_status(&mut self, _: Status) {}

    fn update_name<T>(&mut self, _: T)
    where
        T: Into<Cow<'static, str>>,
    {
    }

    fn add_link(&mut self, _: SpanContext, _: Vec<KeyValue>) {}

    fn end_with_timestamp(&mut self, _: SystemTime) {}
}

/// The least a sampled span costs in the OpenTelemetry API alone, recording and exporting
/// aside: new random ids, a span that records nothing put in a new `Context` (`with_span`
/// boxes it and shares it with the `Context`), attached around the body (the `Context`
/// itself, not a clone), ended through the current context (its lock), and detached, with no
/// clock read.
#[inline(never)]
pub fn with_recording_only(ids: &RandomIdGenerator, id: u64, name: &str, flag: bool) -> u64 {
    let span = new_span_context(ids, TraceFlags::SAMPLED);
    let attached = opentelemetry::Context::current_with_span(RecordsNothing(span)).attach();
    let result = body(id, name, flag);
    opentelemetry::Context::map_current(|cx| cx.span().end_with_timestamp(SystemTime::UNIX_EPOCH));
    drop(attached);
    result
}

/// `#[instrument]` records the three arguments as typed fields (`u64`, `&str` and `bool` are
/// `tracing::Value`s), at its default INFO level.
#[tracing::instrument]
#[inline(never)]
pub fn with_tracing(id: u64, name: &str, flag: bool) -> u64 {
    body(id, name, flag)
}

#[tracing::instrument]
#[inline(never)]
pub async fn with_tracing_async<const COPY: u8>(id: u64, name: &str, flag: bool) -> u64 {
    std::future::ready(()).await;
    body(id, name, flag)
}

/// The raw OpenTelemetry API as its documentation shows it: `in_span`, the attributes set on
/// the active span (the string copied, as a `KeyValue` needs an owned or static value).
#[inline(never)]
pub fn with_otel_sdk<T>(tracer: &T, id: u64, name: &str, flag: bool) -> u64
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    tracer.in_span("with_otel_sdk", |cx| {
        let span = cx.span();
        span.set_attribute(KeyValue::new("id", id as i64));
        span.set_attribute(KeyValue::new("name", name.to_owned()));
        span.set_attribute(KeyValue::new("flag", flag));
        body(id, name, flag)
    })
}

/// The async form: the span started with its attributes, its context carried by the future
/// (`FutureExt::with_context` attaches it on every poll); it ends when the future completes
/// and drops the context.
#[inline(never)]
pub async fn with_otel_sdk_async<const COPY: u8, T>(
    tracer: &T,
    id: u64,
    name: &str,
    flag: bool,
) -> u64
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    let span = tracer
        .span_builder("with_otel_sdk_async")
        .with_attributes([
            KeyValue::new("id", id as i64),
            KeyValue::new("name", name.to_owned()),
            KeyValue::new("flag", flag),
        ])
        .start(tracer);
    let cx = opentelemetry::Context::current_with_span(span);
    async move {
        std::future::ready(()).await;
        body(id, name, flag)
    }
    .with_context(cx)
    .await
}

/// fastrace's properties are strings: each argument is formatted.
#[fastrace::trace(properties = { "id": "{id}", "name": "{name}", "flag": "{flag}" })]
#[inline(never)]
pub fn with_fastrace(id: u64, name: &str, flag: bool) -> u64 {
    body(id, name, flag)
}

#[fastrace::trace(properties = { "id": "{id}", "name": "{name}", "flag": "{flag}" })]
#[inline(never)]
pub async fn with_fastrace_async<const COPY: u8>(id: u64, name: &str, flag: bool) -> u64 {
    std::future::ready(()).await;
    body(id, name, flag)
}

/// fastrace without properties: the span alone, the figure fastrace usually quotes.
#[fastrace::trace]
#[inline(never)]
pub fn with_fastrace_bare(id: u64, name: &str, flag: bool) -> u64 {
    body(id, name, flag)
}

#[fastrace::trace]
#[inline(never)]
pub async fn with_fastrace_bare_async<const COPY: u8>(id: u64, name: &str, flag: bool) -> u64 {
    std::future::ready(()).await;
    body(id, name, flag)
}
