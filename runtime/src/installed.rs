//! The tracer `#[traced]` spans go to, and the flag that makes the uninstalled path a branch.
//!
//! `#[traced]` does not ask the OpenTelemetry global provider for a tracer on every call:
//! that is a lock, an `Arc` clone and a boxed tracer each time, even when nothing is
//! installed. Instead [`set_tracer_provider`] (which [`crate::init`] calls) installs the
//! provider globally *and* keeps one tracer here, and [`is_enabled`] is a relaxed atomic
//! load that the hot path checks first. Each thread keeps its own reference to the
//! installed tracer, refreshed when an install bumps the generation: starting a span takes
//! no lock and writes no shared cache line.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use opentelemetry::InstrumentationScope;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::config::SamplerSetting;
use crate::outcome;
use crate::pipeline::sink::SpanSink;
use crate::span::tracer::PipelineProvider;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Bumped by every install and [`disable`], after [`CURRENT`] changed.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static CURRENT: RwLock<Option<Arc<Installed>>> = RwLock::new(None);
/// Whether the installed pipeline is `traced`'s own with the SDK's parent-based sampler:
/// a `#[traced]` span under a parent neither sampled nor recording then adds nothing
/// ([`crate::span`]), known without reading the pipeline itself (a thread-local access).
static FOLLOWS_PARENT: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// This thread's copy of [`CURRENT`] and the generation it was taken at.
    static CACHED: RefCell<(u64, Option<Arc<Installed>>)> = const { RefCell::new((u64::MAX, None)) };
}

/// What `#[traced]` spans go to.
pub(crate) struct Installed {
    /// The tracer of the installed provider.
    pub(crate) tracer: BoxedTracer,
    /// Set when the provider is `traced`'s own pipeline: `#[traced]` then samples before
    /// anything is built and builds its sampled spans itself.
    pub(crate) own: Option<Arc<OwnSpans>>,
}

/// How `#[traced]` and the OpenTelemetry API's tracers
/// ([`crate::span::tracer::PipelineTracer`]) make their spans for `traced`'s own pipeline.
#[derive(Debug)]
pub(crate) struct OwnSpans {
    /// The provider's sampler.
    pub(crate) sampler: SamplerSetting,
    /// The provider's processors, which the spans end in.
    pub(crate) sink: SpanSink,
}

/// The instrumentation scope of every `#[traced]` span.
pub(crate) fn scope() -> &'static InstrumentationScope {
    static SCOPE: LazyLock<InstrumentationScope> = LazyLock::new(|| {
        InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
            .with_version(env!("CARGO_PKG_VERSION"))
            .with_schema_url(opentelemetry_semantic_conventions::SCHEMA_URL)
            .build()
    });
    &SCOPE
}

/// Installs `provider` as the OpenTelemetry global tracer provider and routes `#[traced]`
/// spans to it.
///
/// [`crate::init`] calls this for you. Call it yourself when you build the provider by hand;
/// installing a provider only with `opentelemetry::global::set_tracer_provider` leaves
/// `#[traced]` functions on their no-op path, because they do not consult the global on every
/// call. It also chains the panic hook that records panics on spans (the hook already
/// installed keeps running after it).
///
/// # Example
///
/// ```
/// use traced::opentelemetry_sdk::trace::SdkTracerProvider;
///
/// let provider = SdkTracerProvider::builder().build();
/// traced::set_tracer_provider(provider.clone());
/// assert!(traced::is_enabled());
/// # let _ = provider.shutdown();
/// # traced::disable();
/// ```
pub fn set_tracer_provider<P, T, S>(provider: P)
where
    S: Span + Send + Sync + 'static,
    T: Tracer<Span = S> + Send + Sync + 'static,
    P: TracerProvider<Tracer = T> + Send + Sync + 'static,
{
    install(provider, None);
}

/// Installs a provider of `traced`'s own pipeline: its sampler is `sampler` and its
/// processors are shared with `sink`. The OpenTelemetry API gets the pipeline's own tracers
/// ([`PipelineProvider`]), which build their spans as `#[traced]` does.
pub(crate) fn set_pipeline_provider(
    provider: SdkTracerProvider,
    sampler: SamplerSetting,
    sink: SpanSink,
) {
    // The clock is chosen before any of the pipeline's spans reads it.
    crate::clock::start();
    let own = Arc::new(OwnSpans { sampler, sink });
    let provider = PipelineProvider::new(provider, Arc::clone(&own));
    install(provider, Some(own));
}

/// Installs `provider` globally and for `#[traced]`, which makes its own spans when `own`
/// says how.
fn install<P, T, S>(provider: P, own: Option<Arc<OwnSpans>>)
where
    S: Span + Send + Sync + 'static,
    T: Tracer<Span = S> + Send + Sync + 'static,
    P: TracerProvider<Tracer = T> + Send + Sync + 'static,
{
    let tracer = BoxedTracer::new(Box::new(provider.tracer_with_scope(scope().clone())));
    global::set_tracer_provider(provider);
    outcome::install_panic_hook();
    let follows_parent = own.as_ref().is_some_and(|own| own.sampler.follows_parent());
    replace(Some(Arc::new(Installed { tracer, own })));
    FOLLOWS_PARENT.store(follows_parent, Ordering::Relaxed);
    ENABLED.store(true, Ordering::Release);
}

/// Replaces what is installed and tells every thread to refresh its copy.
fn replace(installed: Option<Arc<Installed>>) {
    // A poisoned lock only means another thread panicked mid-swap; the slot is still valid.
    *CURRENT.write().unwrap_or_else(PoisonError::into_inner) = installed;
    GENERATION.fetch_add(1, Ordering::Release);
}

/// Stops routing `#[traced]` spans anywhere: every instrumented function is back on its
/// no-op path. The shutdown of [`crate::init`]'s guard calls this before flushing.
///
/// # Example
///
/// ```
/// traced::disable();
/// assert!(!traced::is_enabled());
/// ```
pub fn disable() {
    ENABLED.store(false, Ordering::Release);
    FOLLOWS_PARENT.store(false, Ordering::Relaxed);
    replace(None);
}

/// Whether a provider is installed for `#[traced]` spans.
///
/// # Example
///
/// ```
/// // Nothing installed yet in this doctest's process.
/// assert!(!traced::is_enabled());
/// ```
#[inline(always)]
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Whether the installed pipeline is `traced`'s own and its sampler the SDK's parent-based
/// one, which drops every span under a parent that is not sampled.
#[inline(always)]
pub(crate) fn follows_parent() -> bool {
    FOLLOWS_PARENT.load(Ordering::Relaxed)
}

/// Runs `f` with what is installed, if anything: this thread's copy when it is current.
#[inline(always)]
pub(crate) fn with_installed<R>(f: impl FnOnce(&Installed) -> R) -> Option<R> {
    // `f` stays in this (inlined) frame and is reached through a pointer: moving a closure
    // that captures a span's arguments into `visit_installed` cost a store-forwarding stall.
    let mut f = Some(f);
    let mut output = None;
    visit_installed(&mut |installed| {
        if let Some(f) = f.take() {
            output = Some(f(installed));
        }
    });
    output
}

/// Calls `visit` with what is installed, unless nothing is.
fn visit_installed(visit: &mut dyn FnMut(&Installed)) {
    let generation = GENERATION.load(Ordering::Acquire);
    // A shared borrow, so a span started while `visit` runs (by an instrumented processor or
    // sampler) still reads the cache; `visit` runs inside it, so no reference count is
    // touched.
    let cached = CACHED.try_with(|cached| match cached.try_borrow() {
        Ok(cached) if cached.0 == generation => {
            if let Some(installed) = cached.1.as_deref() {
                visit(installed);
            }
            true
        }
        _ => false,
    });
    if cached == Ok(true) {
        return;
    }
    // Stale, or this thread's storage is being torn down: read the shared slot.
    let current = CURRENT
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let _ = CACHED.try_with(|cached| {
        if let Ok(mut cached) = cached.try_borrow_mut() {
            *cached = (generation, current.clone());
        }
    });
    if let Some(installed) = current.as_deref() {
        visit(installed);
    }
}
