//! The tracer `#[traced]` spans go to, and the flag that makes the uninstalled path a branch.
//!
//! `#[traced]` does not ask the OpenTelemetry global provider for a tracer on every call:
//! that is a lock, an `Arc` clone and a boxed tracer each time, even when nothing is
//! installed. Instead [`set_tracer_provider`] (which [`crate::init`] calls) installs the
//! provider globally *and* caches one tracer here, and [`is_enabled`] is a relaxed atomic
//! load that the hot path checks first.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::InstrumentationScope;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{Span, Tracer, TracerProvider};

use crate::outcome;

static ENABLED: AtomicBool = AtomicBool::new(false);
static TRACER: RwLock<Option<BoxedTracer>> = RwLock::new(None);

/// The instrumentation scope of every `#[traced]` span.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(opentelemetry_semantic_conventions::SCHEMA_URL)
        .build()
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
    let tracer = BoxedTracer::new(Box::new(provider.tracer_with_scope(scope())));
    global::set_tracer_provider(provider);
    outcome::install_panic_hook();
    // A poisoned lock only means another thread panicked mid-swap; the slot is still valid.
    *TRACER
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(tracer);
    ENABLED.store(true, Ordering::Release);
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
    *TRACER
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
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

/// Runs `f` with the installed tracer, if any.
pub(crate) fn with_tracer<R>(f: impl FnOnce(&BoxedTracer) -> R) -> Option<R> {
    let slot = TRACER
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    slot.as_ref().map(f)
}
