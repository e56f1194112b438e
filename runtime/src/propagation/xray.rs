//! AWS X-Ray, to the X-Ray tracing header documentation:
//! `X-Amzn-Trace-Id: Root=1-{8 hex epoch}-{24 hex};Parent={16 hex};Sampled={0|1}`.

use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceId};

use super::ids::{span_id_lower_hex, trace_id_lower_hex};
use super::{remote_span_context, with_remote_parent};

const HEADER: &str = "x-amzn-trace-id";
const LOW_96_BITS: u128 = (1 << 96) - 1;

static FIELDS: LazyLock<[String; 1]> = LazyLock::new(|| [HEADER.to_owned()]);

/// The AWS X-Ray propagator: `xray` in `OTEL_PROPAGATORS`.
///
/// Reads `X-Amzn-Trace-Id`, whose `Root` (version `1`, 8 hex digits of epoch seconds, 24 of
/// unique id) becomes the 128-bit trace id and whose `Parent` the remote parent span id.
/// `Sampled=1` is sampled; `Sampled=0`, `Sampled=?` (decision requested) and a missing
/// `Sampled` are not. Other fields (`Self`, `Lineage`, ...) are ignored, and a header without a
/// `Parent` (as a load balancer writes it) carries no parent. Writes `Root`, `Parent` and
/// `Sampled`; the trace id's first 8 hex digits become the epoch part, so X-Ray accepts the
/// traces only when the ids come from an X-Ray-compatible id generator. Malformed headers
/// leave the context unchanged.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use traced::XrayPropagator;
/// use traced::opentelemetry::propagation::TextMapPropagator;
/// use traced::opentelemetry::trace::TraceContextExt;
///
/// let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
/// let mut headers = HashMap::new();
/// headers.insert("x-amzn-trace-id".to_owned(), header.to_owned());
/// let cx = XrayPropagator::new().extract(&headers);
/// assert_eq!(
///     cx.span().span_context().trace_id().to_string(),
///     "5759e988bd862e3fe1be46a994272793"
/// );
///
/// let mut outgoing = HashMap::new();
/// XrayPropagator::new().inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing["x-amzn-trace-id"], header);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XrayPropagator {
    _private: (),
}

impl XrayPropagator {
    /// The AWS X-Ray propagator.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry::propagation::TextMapPropagator;
    ///
    /// let xray = traced::XrayPropagator::new();
    /// assert_eq!(xray.fields().collect::<Vec<_>>(), ["x-amzn-trace-id"]);
    /// ```
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

/// `1-{8 hex}-{24 hex}` into a trace id.
fn parse_root(root: &str) -> Option<TraceId> {
    let mut parts = root.split('-');
    let (version, epoch, unique) = (parts.next()?, parts.next()?, parts.next()?);
    if version != "1" || epoch.len() != 8 || unique.len() != 24 || parts.next().is_some() {
        return None;
    }
    trace_id_lower_hex(&format!("{epoch}{unique}"), false)
}

fn parse(value: &str) -> Option<SpanContext> {
    let (mut root, mut parent, mut sampled) = (None, None, None);
    for field in value.split(';') {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        // The first occurrence of a field counts, as for any header field list.
        let slot = match key.trim() {
            "Root" => &mut root,
            "Parent" => &mut parent,
            "Sampled" => &mut sampled,
            _ => continue,
        };
        slot.get_or_insert(value.trim());
    }
    let trace_id = parse_root(root?)?;
    let span_id = span_id_lower_hex(parent?)?;
    let sampled = match sampled {
        Some("1") => true,
        Some("0" | "?") | None => false,
        Some(_) => return None,
    };
    Some(remote_span_context(trace_id, span_id, sampled))
}

impl TextMapPropagator for XrayPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        let trace_id = u128::from_be_bytes(span_context.trace_id().to_bytes());
        injector.set(
            HEADER,
            format!(
                "Root=1-{:08x}-{:024x};Parent={};Sampled={}",
                trace_id >> 96,
                trace_id & LOW_96_BITS,
                span_context.span_id(),
                u8::from(span_context.is_sampled()),
            ),
        );
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extractor.get(HEADER).and_then(parse) {
            Some(span_context) => with_remote_parent(cx, span_context, false),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::trace::SpanId;

    use super::*;
    use crate::propagation::tests::{assert_unchanged, carrier, remote_context, span_context_of};

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
    const PARENT: &str = "53995c3f42cd8ad8";

    fn trace_id() -> TraceId {
        TraceId::from(0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793)
    }

    fn extract(value: &str) -> SpanContext {
        span_context_of(&XrayPropagator::new().extract(&carrier(&[(HEADER, value)])))
    }

    #[test]
    fn round_trips() {
        let span_id = SpanId::from(0x5399_5c3f_42cd_8ad8);
        for sampled in [true, false] {
            let cx = remote_context(trace_id(), span_id, sampled);
            let mut headers = HashMap::new();
            XrayPropagator::new().inject_context(&cx, &mut headers);
            assert_eq!(
                headers[HEADER],
                format!("Root={ROOT};Parent={PARENT};Sampled={}", u8::from(sampled))
            );
            let extracted = span_context_of(&XrayPropagator::new().extract(&headers));
            assert_eq!(extracted.trace_id(), trace_id());
            assert_eq!(extracted.span_id(), span_id);
            assert_eq!(extracted.is_sampled(), sampled);
            assert!(extracted.is_remote());
        }
    }

    #[test]
    fn extracts_what_aws_writes() {
        let extracted = extract(&format!("Root={ROOT};Parent={PARENT};Sampled=1"));
        assert_eq!(extracted.trace_id(), trace_id());
        assert_eq!(extracted.span_id(), SpanId::from(0x5399_5c3f_42cd_8ad8));
        assert!(extracted.is_sampled());

        for (value, sampled) in [
            (format!("Root={ROOT};Parent={PARENT};Sampled=0"), false),
            (format!("Root={ROOT};Parent={PARENT};Sampled=?"), false),
            (format!("Root={ROOT};Parent={PARENT}"), false),
            (format!("Sampled=1;Parent={PARENT};Root={ROOT}"), true),
            (
                format!(" Root={ROOT} ; Parent={PARENT} ; Sampled=1 ;"),
                true,
            ),
            (
                format!(
                    "Self=1-67891234-12456789abcdef012345678;Root={ROOT};Parent={PARENT};Sampled=1;Lineage=a87bd80c:1|68fd508a:5"
                ),
                true,
            ),
            (
                format!(
                    "Root={ROOT};Parent={PARENT};Sampled=1;Root=1-00000000-000000000000000000000001"
                ),
                true,
            ),
        ] {
            let extracted = extract(&value);
            assert_eq!(extracted.trace_id(), trace_id(), "{value}");
            assert_eq!(extracted.is_sampled(), sampled, "{value}");
        }
    }

    #[test]
    fn malformed_headers_leave_the_context_unchanged() {
        for value in [
            String::new(),
            format!("Root={ROOT}"), // a load balancer's header: no parent
            format!("Parent={PARENT};Sampled=1"),
            format!("Root=2-5759e988-bd862e3fe1be46a994272793;Parent={PARENT}"),
            format!("Root=1-5759e98-bd862e3fe1be46a994272793;Parent={PARENT}"),
            format!("Root=1-5759e988-bd862e3fe1be46a99427279;Parent={PARENT}"),
            format!("Root=1-5759e9880-bd862e3fe1be46a99427279;Parent={PARENT}"),
            format!("Root=1-5759e988bd862e3fe1be46a994272793;Parent={PARENT}"),
            format!("Root=1-5759e988-bd862e3fe1be46a994272793-1;Parent={PARENT}"),
            format!("Root=1-5759e988-bd862e3fe1be46a99427279z;Parent={PARENT}"),
            format!("Root=1-00000000-000000000000000000000000;Parent={PARENT}"),
            format!("Root={ROOT};Parent=53995c3f42cd8ad"),
            format!("Root={ROOT};Parent=53995C3F42CD8AD8"),
            format!("Root={ROOT};Parent=0000000000000000"),
            format!("Root={ROOT};Parent={PARENT};Sampled=2"),
            format!("root={ROOT};parent={PARENT}"),
        ] {
            assert_unchanged(&XrayPropagator::new(), &carrier(&[(HEADER, &value)]));
        }
    }
}
