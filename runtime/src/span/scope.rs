//! The instrumentation scope a span is exported under, held without a shared count.
//!
//! A span of the OpenTelemetry API's tracers ([`super::tracer`]) used to hold its tracer's
//! scope in an `Arc`: cloned on the application's thread as the span started, dropped on
//! the export thread once exported, so the count's cache line crossed between the two cores
//! with every span (and the export thread copied the scope out, the tracer still sharing
//! it). `perf annotate` put four fifths of the API tracer's span building on that one
//! increment; without it `otel_api/sampled` costs about 45 ns less (`benches/README.md`).
//!
//! Scopes are few: one per instrumented library, asked for each time it takes a tracer. So
//! each distinct scope is kept once for the life of the process and spans refer to it. Past
//! [`MAX_KEPT`] distinct scopes (tracers named after something unbounded), a tracer shares
//! its scope as before: slower, but the memory kept stays bounded.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use opentelemetry::InstrumentationScope;

use crate::installed;

/// How many distinct scopes are kept for the life of the process.
const MAX_KEPT: usize = 256;

/// The scope a span is exported under.
#[derive(Clone, Debug)]
pub(crate) enum SpanScope {
    /// `traced`'s own ([`installed::scope`]): every `#[traced]` span's.
    Traced,
    /// A tracer's, kept for the life of the process.
    Kept(&'static InstrumentationScope),
    /// A tracer's, past the scopes kept: shared with the tracer.
    Shared(Arc<InstrumentationScope>),
}

impl SpanScope {
    /// A tracer's `scope`, kept if it is new and there is room.
    pub(crate) fn of(scope: InstrumentationScope) -> Self {
        static KEPT: LazyLock<KeptScopes> = LazyLock::new(|| KeptScopes::new(MAX_KEPT));
        KEPT.keep(scope)
    }

    /// The scope itself.
    #[cfg(feature = "otlp")]
    pub(crate) fn get(&self) -> &InstrumentationScope {
        match self {
            Self::Traced => installed::scope(),
            Self::Kept(scope) => scope,
            Self::Shared(scope) => scope,
        }
    }

    /// The scope as [`opentelemetry_sdk::trace::SpanData`] holds it.
    pub(crate) fn into_owned(self) -> InstrumentationScope {
        match self {
            Self::Traced => copy_kept(installed::scope()),
            Self::Kept(scope) => copy_kept(scope),
            Self::Shared(scope) => Arc::unwrap_or_clone(scope),
        }
    }
}

/// A copy of `scope`, which lives as long as the program: its text is referred to, not
/// copied, even where `scope` owns it.
///
/// Built from its parts rather than by `InstrumentationScope::clone`, whose out-of-line
/// `Vec::clone` of the (mostly empty) attributes returns the vector through memory, read back
/// at once in wider loads than it was written with: `perf annotate` put 82 % of the clone on
/// that load, 2.5 % of all samples of the two-producer throughput run.
fn copy_kept(scope: &'static InstrumentationScope) -> InstrumentationScope {
    let mut copy = InstrumentationScope::builder(scope.name());
    if let Some(version) = scope.version() {
        copy = copy.with_version(version);
    }
    if let Some(schema_url) = scope.schema_url() {
        copy = copy.with_schema_url(schema_url);
    }
    if scope.attributes().next().is_some() {
        copy = copy.with_attributes(scope.attributes().cloned());
    }
    copy.build()
}

/// The distinct scopes kept so far, at most `max` of them. Looked up far more often than
/// added to (a library may take a tracer for each operation), hence the read-write lock.
struct KeptScopes {
    scopes: RwLock<HashSet<&'static InstrumentationScope>>,
    max: usize,
}

impl KeptScopes {
    fn new(max: usize) -> Self {
        Self {
            scopes: RwLock::new(HashSet::new()),
            max,
        }
    }

    fn keep(&self, scope: InstrumentationScope) -> SpanScope {
        if scope == *installed::scope() {
            return SpanScope::Traced;
        }
        let read = self.scopes.read().unwrap_or_else(PoisonError::into_inner);
        let scope = match self.decide(&read, scope) {
            Ok(decided) => return decided,
            Err(new) => new,
        };
        drop(read);
        let mut kept = self.scopes.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have kept it, or the last place, in between.
        let scope = match self.decide(&kept, scope) {
            Ok(decided) => return decided,
            Err(new) => new,
        };
        // Kept until the process exits: the set refers to it, and bounds how many there are.
        let scope: &'static InstrumentationScope = Box::leak(Box::new(scope));
        kept.insert(scope);
        SpanScope::Kept(scope)
    }

    /// `scope` as `kept` already decides it: the one kept, or shared once no place is left.
    /// `Err` gives a new scope back, to be kept.
    fn decide(
        &self,
        kept: &HashSet<&'static InstrumentationScope>,
        scope: InstrumentationScope,
    ) -> Result<SpanScope, InstrumentationScope> {
        if let Some(known) = kept.get(&scope) {
            return Ok(SpanScope::Kept(known));
        }
        if kept.len() >= self.max {
            return Ok(SpanScope::Shared(Arc::new(scope)));
        }
        Err(scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(name: &'static str) -> InstrumentationScope {
        InstrumentationScope::builder(name)
            .with_version("1.2.0")
            .with_attributes([opentelemetry::KeyValue::new("db.system.name", "postgresql")])
            .build()
    }

    #[test]
    fn a_scope_asked_for_again_is_the_one_kept() {
        let kept = KeptScopes::new(4);
        let (SpanScope::Kept(first), SpanScope::Kept(again)) = (
            kept.keep(library("orders-db")),
            kept.keep(library("orders-db")),
        ) else {
            panic!("a new scope with room left is kept");
        };
        assert!(std::ptr::eq(first, again));
        assert_eq!(*first, library("orders-db"));
    }

    #[test]
    fn threads_asking_for_a_new_scope_at_once_get_the_same_one() {
        let kept = KeptScopes::new(4);
        let barrier = std::sync::Barrier::new(8);
        let addresses: Vec<usize> = std::thread::scope(|threads| {
            let asking: Vec<_> = (0..8)
                .map(|_| {
                    threads.spawn(|| {
                        barrier.wait();
                        match kept.keep(library("shared-db")) {
                            SpanScope::Kept(scope) => std::ptr::from_ref(scope) as usize,
                            other => panic!("not kept: {other:?}"),
                        }
                    })
                })
                .collect();
            asking
                .into_iter()
                .map(|thread| thread.join().unwrap())
                .collect()
        });
        assert!(addresses.iter().all(|&address| address == addresses[0]));
        assert_eq!(kept.scopes.read().unwrap().len(), 1);
    }

    #[test]
    fn traced_own_scope_is_not_kept_twice() {
        let kept = KeptScopes::new(4);
        let scope = kept.keep(installed::scope().clone());
        assert!(matches!(scope, SpanScope::Traced));
        assert_eq!(scope.into_owned(), *installed::scope());
        assert!(kept.scopes.read().unwrap().is_empty());
    }

    #[test]
    fn a_kept_scope_is_exported_whole_its_owned_text_included() {
        let kept = KeptScopes::new(4);
        let named_at_run_time = || {
            InstrumentationScope::builder(format!("tenant-{}-db", 7))
                .with_version(String::from("3.1.4"))
                .with_schema_url("https://opentelemetry.io/schemas/1.36.0")
                .with_attributes([opentelemetry::KeyValue::new("db.system.name", "sqlite")])
                .build()
        };
        let exported = kept.keep(named_at_run_time()).into_owned();
        assert_eq!(exported, named_at_run_time());
        assert_eq!(exported.name(), "tenant-7-db");
        assert_eq!(exported.version(), Some("3.1.4"));
        assert_eq!(exported.attributes().count(), 1);
        let bare = kept
            .keep(InstrumentationScope::builder("bare").build())
            .into_owned();
        assert_eq!(bare, InstrumentationScope::builder("bare").build());
        assert_eq!((bare.version(), bare.schema_url()), (None, None));
    }

    #[test]
    fn past_the_scopes_kept_a_tracer_shares_its_own() {
        let kept = KeptScopes::new(2);
        for name in ["first-db", "second-db"] {
            assert!(matches!(kept.keep(library(name)), SpanScope::Kept(_)));
        }
        let third = kept.keep(library("third-db"));
        assert!(matches!(third, SpanScope::Shared(_)));
        assert_eq!(third.into_owned(), library("third-db"));
        // One already kept still is, full or not.
        assert!(matches!(kept.keep(library("first-db")), SpanScope::Kept(_)));
        assert_eq!(kept.scopes.read().unwrap().len(), 2);
    }
}
