//! Where both HTTP integrations start a request's span. On `traced`'s own pipeline it is
//! built straight into its record (its attributes written there, short text inline), as
//! `#[traced]` builds its spans: a sampled server request spent a third of what tracing
//! added to it making a dozen `KeyValue`s, their `String`s, and copying them into the record
//! (`perf`, `benches/http_server.rs`). With a provider installed by hand it goes through that
//! provider's tracer, as a `SpanBuilder`.

use std::borrow::Cow;

use opentelemetry::Context;
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt, Tracer};

use super::headers::Side;
use super::stability::HttpNames;
use crate::installed;
use crate::span::attribute_sink::AttributeSink;
use crate::span::tracer::start_integration_span;

/// The attributes a request's span starts with, written into whichever sink takes them.
pub(crate) trait RequestAttributes {
    /// About how many there are, room for them made at once: past a record's inline ones,
    /// the list would grow (and copy itself) on the way; below, it stays inline.
    const USUALLY: usize;

    /// Writes them into `attributes`.
    fn write(&self, attributes: &mut impl AttributeSink);
}

/// How a request's span is named and recorded.
pub(crate) struct RequestSpan<'a, A> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    /// Which end of the call: the old attribute names differ.
    pub(crate) side: Side,
    pub(crate) names: HttpNames,
    pub(crate) attributes: &'a A,
}

impl<A: RequestAttributes> RequestSpan<'_, A> {
    /// Starts the span under `parent`; returns `parent` with it, or `None` when no provider
    /// is installed.
    pub(crate) fn start(self, parent: Context) -> Option<Context> {
        let Self {
            name,
            kind,
            side,
            names,
            attributes,
        } = self;
        let key_values = || {
            let mut key_values = Vec::with_capacity(A::USUALLY);
            attributes.write(&mut key_values);
            names.add_old_names(side, &mut key_values);
            key_values
        };
        installed::with_installed(|installed| {
            let Some(own) = &installed.own else {
                let builder = SpanBuilder::from_name(name)
                    .with_kind(kind)
                    .with_attributes(key_values());
                let span = installed.tracer.build_with_context(builder, &parent);
                return parent.with_span(span);
            };
            let span = start_integration_span(own, &parent, name, kind, key_values, |recorded| {
                // The old names are made from the stable ones, as `KeyValue`s.
                if names == HttpNames::Stable {
                    recorded.reserve(A::USUALLY);
                    attributes.write(recorded);
                } else {
                    recorded.key_values(key_values());
                }
            });
            parent.with_span(span)
        })
    }
}
