//! The span of a request. On `traced`'s own pipeline it is built straight into its record
//! (its attributes written there, short text inline), as `#[traced]` builds its spans: a
//! sampled request spent a third of what tracing added to it making a dozen `KeyValue`s,
//! their `String`s, and copying them into the record (`perf`, `benches/http_server.rs`).
//! With a provider installed by hand it goes through that provider's tracer.

use http::Request;
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};

use super::super::headers::{HeaderCapture, Side};
use super::super::stability::HttpNames;
use super::attributes;
use super::options::Options;
use crate::installed;
use crate::span::attribute_sink::AttributeSink;
use crate::span::tracer::start_integration_span;

/// About how many attributes a request starts with, reserved at once (past the record's
/// inline ones, the list would grow, and copy itself, twice).
const REQUEST_ATTRIBUTES: usize = 12;

/// Starts the span of `req` (of `kind`: server, or internal under a local parent) under
/// `parent`, whose headers `headers` captures; returns `parent` with the span, or `None`
/// when no provider is installed.
pub(super) fn start<B>(
    options: &Options,
    headers: &HeaderCapture,
    req: &Request<B>,
    parent: Context,
    kind: SpanKind,
) -> Option<Context> {
    let name = attributes::name(req);
    let key_values = || {
        let mut attributes = Vec::with_capacity(REQUEST_ATTRIBUTES);
        write_attributes(options, headers, req, &mut attributes);
        options.names.add_old_names(Side::Server, &mut attributes);
        attributes
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
            if options.names == HttpNames::Stable {
                recorded.reserve(REQUEST_ATTRIBUTES);
                write_attributes(options, headers, req, recorded);
            } else {
                recorded.key_values(key_values());
            }
        });
        parent.with_span(span)
    })
}

/// The attributes the request starts with: the conventions', then the captured headers.
fn write_attributes<B>(
    options: &Options,
    headers: &HeaderCapture,
    req: &Request<B>,
    attributes: &mut impl AttributeSink,
) {
    attributes::request(req, options.forwarded_proto, attributes);
    let mut captured: Vec<KeyValue> = Vec::new();
    headers.request_attributes(req.headers(), &mut captured);
    if !captured.is_empty() {
        attributes.key_values(captured);
    }
}
