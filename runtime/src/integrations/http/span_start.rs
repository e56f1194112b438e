//! Where both HTTP integrations start a request's span. In a trace its caller did not
//! sample, under a sampler that follows the caller, none is built. On `traced`'s own
//! pipeline it is built straight into its record (its attributes written there, short text
//! inline), as `#[traced]` builds its spans: a sampled server request spent a third of what
//! tracing added to it making a dozen `KeyValue`s, their `String`s, and copying them into the
//! record (`perf`, `benches/http_server.rs`). With a provider installed by hand it goes
//! through that provider's tracer, as a `SpanBuilder`.

use std::borrow::Cow;

use opentelemetry::Context;
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt, Tracer};

use super::headers::Side;
use super::stability::HttpNames;
use crate::installed;
use crate::span::attribute_sink::AttributeSink;
use crate::span::tracer::start_integration_span;

/// A request whose span an integration starts: its name, and the attributes the span starts
/// with, written into whichever sink takes them.
pub(crate) trait TracedRequest {
    /// About how many attributes there are, room for them made at once: past a record's
    /// inline ones, the list would grow (and copy itself) on the way; below, it stays inline.
    const USUALLY: usize;

    /// The span's name.
    fn name(&self) -> Cow<'static, str>;

    /// Writes the attributes into `attributes`.
    fn write(&self, attributes: &mut impl AttributeSink);
}

/// How a request's span is started and recorded.
pub(crate) struct RequestSpan<'a, R> {
    pub(crate) kind: SpanKind,
    /// Which end of the call: the old attribute names differ.
    pub(crate) side: Side,
    pub(crate) names: HttpNames,
    pub(crate) request: &'a R,
}

impl<R: TracedRequest> RequestSpan<'_, R> {
    /// Starts the span under `parent`; returns `parent` with it, `parent` itself when the
    /// span would add nothing, or `None` when no provider is installed.
    pub(crate) fn start(self, parent: Context) -> Option<Context> {
        let Self {
            kind,
            side,
            names,
            request,
        } = self;
        let key_values = || {
            let mut key_values = Vec::with_capacity(R::USUALLY);
            request.write(&mut key_values);
            names.add_old_names(side, &mut key_values);
            key_values
        };
        // A request its caller did not sample, under a sampler that follows the caller:
        // the span would add nothing, so none is built (no name, no attributes). The
        // caller's context stays current and goes out with outgoing requests, telling them
        // the same trace and decision. Decided on its own, before anything is built: inside
        // the building closure below, the path measured 50 ns slower (alternating runs of
        // `traced/unsampled_child`).
        let adds_nothing = installed::with_installed(|installed| {
            let own = installed.own.as_ref();
            own.is_some_and(|own| own.sampler.adds_nothing_under(&parent))
        })?;
        if adds_nothing {
            return Some(parent);
        }
        installed::with_installed(|installed| {
            let Some(own) = &installed.own else {
                let builder = SpanBuilder::from_name(request.name())
                    .with_kind(kind)
                    .with_attributes(key_values());
                let span = installed.tracer.build_with_context(builder, &parent);
                return parent.with_span(span);
            };
            let name = || request.name();
            let span = start_integration_span(own, &parent, name, kind, key_values, |recorded| {
                // The old names are made from the stable ones, as `KeyValue`s.
                if names == HttpNames::Stable {
                    recorded.reserve(R::USUALLY);
                    request.write(recorded);
                } else {
                    recorded.key_values(key_values());
                }
            });
            span.in_context(&parent)
        })
    }
}
