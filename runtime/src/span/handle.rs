//! [`SpanHandle`]: what an application adds to a span by hand, through [`current_span`].

use std::borrow::Cow;
use std::error::Error;

use opentelemetry::trace::{SpanContext, SpanRef, Status, TraceContextExt};
use opentelemetry::{Context, Key, KeyValue};

use crate::outcome;
use crate::value::AttributeValue;

/// A handle to a span: by default the one current on this thread, see [`current_span`].
///
/// Every method is a no-op, never a panic, when there is no span or it is not recording.
///
/// # Example
///
/// ```
/// use traced::KeyValue;
///
/// let span = traced::current_span();
/// span.set_attribute("user.tier", "gold");
/// span.set_attribute("cart.items", 3);
/// span.add_event("credentials checked", [KeyValue::new("attempt", 1)]);
/// ```
#[derive(Clone, Debug)]
pub struct SpanHandle {
    cx: Context,
}

/// The span current on this thread: the innermost `#[traced]` call, or any span made
/// current through the OpenTelemetry API.
///
/// # Example
///
/// ```
/// #[traced::traced]
/// fn checkout(items: u32) {
///     traced::current_span().set_attribute("cart.items.checked", items > 0);
/// }
/// checkout(2);
/// ```
pub fn current_span() -> SpanHandle {
    SpanHandle {
        cx: Context::current(),
    }
}

impl SpanHandle {
    /// The handle of the span in `cx`.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::opentelemetry::Context;
    ///
    /// let span = traced::SpanHandle::from_context(Context::new());
    /// assert!(!span.is_recording());
    /// ```
    pub fn from_context(cx: Context) -> Self {
        Self { cx }
    }

    /// The context holding this span, for explicit propagation.
    ///
    /// # Example
    ///
    /// ```
    /// let cx = traced::current_span().context().clone();
    /// # let _ = cx;
    /// ```
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Sets an attribute with the same typed conversion as `#[traced]` arguments: numbers
    /// stay numbers, `None` records nothing.
    ///
    /// # Example
    ///
    /// ```
    /// traced::current_span().set_attribute("http.response.status_code", 200u16);
    /// traced::current_span().set_attribute("user.id", None::<&str>);
    /// ```
    pub fn set_attribute(&self, key: impl Into<Key>, value: impl AttributeValue) {
        let span = self.cx.span();
        if !may_record(&span) {
            return;
        }
        if let Some(value) = value.to_attribute_value() {
            span.set_attribute(KeyValue::new(key, value));
        }
    }

    /// Adds an event with attributes.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::KeyValue;
    ///
    /// traced::current_span().add_event("cache miss", [KeyValue::new("cache.key", "user:7")]);
    /// traced::current_span().add_event("retrying", []);
    /// ```
    pub fn add_event(
        &self,
        name: impl Into<Cow<'static, str>>,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) {
        let span = self.cx.span();
        if may_record(&span) {
            span.add_event(name, attributes.into_iter().collect());
        }
    }

    /// Records `error` as an `exception` event (`exception.type`, `exception.message`,
    /// `exception.stacktrace` with the `source()` chain) and sets the status to Error.
    ///
    /// # Example
    ///
    /// ```
    /// let err = std::io::Error::other("disk full");
    /// traced::current_span().record_error(&err);
    /// ```
    pub fn record_error<E: Error + ?Sized + 'static>(&self, error: &E) {
        outcome::record_error(&self.cx.span(), std::any::type_name::<E>(), error);
    }

    /// Sets the span status.
    ///
    /// # Example
    ///
    /// ```
    /// use traced::Status;
    ///
    /// traced::current_span().set_status(Status::error("upstream timed out"));
    /// ```
    pub fn set_status(&self, status: Status) {
        self.cx.span().set_status(status);
    }

    /// Renames the span.
    ///
    /// # Example
    ///
    /// ```
    /// traced::current_span().update_name("GET /users/{id}");
    /// ```
    pub fn update_name(&self, name: impl Into<Cow<'static, str>>) {
        self.cx.span().update_name(name);
    }

    /// The span's identity: trace id, span id, flags and trace state. Invalid when there is
    /// no span.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!traced::current_span().span_context().is_valid());
    /// ```
    pub fn span_context(&self) -> SpanContext {
        self.cx.span().span_context().clone()
    }

    /// Whether the span records what is added to it (it exists and is sampled).
    ///
    /// # Example
    ///
    /// ```
    /// if traced::current_span().is_recording() {
    ///     // compute something expensive to attach
    /// }
    /// ```
    pub fn is_recording(&self) -> bool {
        self.cx.span().is_recording()
    }
}

/// Whether `span` may record what is added to it, asked without locking it when its flags
/// answer: a sampled span records (a span that no longer does, ended or only a remote
/// parent's context, drops what it is given). Only a span not sampled is asked, which locks
/// its mutex unless it is a bare span context: a span recording without being sampled is
/// possible (a sampler's `RecordOnly`). Each lock is two locked instructions: with one fewer
/// per [`SpanHandle::set_attribute`], a sampled call setting one attribute through
/// [`current_span`] cost 13 ns less (`benches/README.md`). The HTTP integrations ask it too,
/// as a request starts and ends.
#[inline]
pub(crate) fn may_record(span: &SpanRef<'_>) -> bool {
    span.span_context().is_sampled() || span.is_recording()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::Duration;

    use opentelemetry::Value;
    use opentelemetry::trace::{
        Link, SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState, Tracer as _,
        TracerProvider as _,
    };
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{
        SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample, SpanData, SpanProcessor,
    };

    use super::*;

    /// Records every span without sampling it (a sampler's `RecordOnly`).
    #[derive(Clone, Debug)]
    struct RecordOnly;

    impl ShouldSample for RecordOnly {
        fn should_sample(
            &self,
            _parent: Option<&Context>,
            _trace_id: TraceId,
            _name: &str,
            _kind: &SpanKind,
            _attributes: &[KeyValue],
            _links: &[Link],
        ) -> SamplingResult {
            SamplingResult {
                decision: SamplingDecision::RecordOnly,
                attributes: Vec::new(),
                trace_state: TraceState::default(),
            }
        }
    }

    /// Keeps every span that ends, sampled or not.
    #[derive(Debug)]
    struct KeepsAll(Arc<Mutex<Vec<SpanData>>>);

    impl SpanProcessor for KeepsAll {
        fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

        fn on_end(&self, span: SpanData) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(span);
        }

        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }

        fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
            Ok(())
        }
    }

    #[test]
    fn a_span_recording_without_being_sampled_takes_what_the_handle_adds() {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let provider = SdkTracerProvider::builder()
            .with_sampler(RecordOnly)
            .with_span_processor(KeepsAll(Arc::clone(&kept)))
            .build();
        let cx = Context::new().with_span(provider.tracer("test").start("recorded"));
        let handle = SpanHandle::from_context(cx.clone());
        assert!(!handle.span_context().is_sampled() && handle.is_recording());
        handle.set_attribute("rows", 3);
        handle.add_event("retried", [KeyValue::new("attempt", 2)]);
        handle.record_error(&std::io::Error::other("disk full"));
        cx.span().end();

        let kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
        let [span] = kept.as_slice() else {
            panic!("one span ends: {kept:#?}");
        };
        let rows = span.attributes.iter().find(|kv| kv.key.as_str() == "rows");
        assert_eq!(rows.map(|kv| &kv.value), Some(&Value::I64(3)));
        let events: Vec<_> = span
            .events
            .iter()
            .map(|event| event.name.as_ref())
            .collect();
        assert_eq!(events, ["retried", "exception"]);
        assert_eq!(span.status, Status::error("disk full"));
    }

    #[test]
    fn a_bare_span_context_may_record_only_when_sampled_and_takes_nothing() {
        for (flags, may) in [
            (TraceFlags::SAMPLED, true),
            (TraceFlags::NOT_SAMPLED, false),
        ] {
            let remote = SpanContext::new(
                TraceId::from(1),
                SpanId::from(2),
                flags,
                true,
                TraceState::default(),
            );
            let cx = Context::new().with_remote_span_context(remote);
            assert_eq!(may_record(&cx.span()), may, "{flags:?}");
            let handle = SpanHandle::from_context(cx);
            handle.set_attribute("rows", 3);
            handle.add_event("retried", []);
            assert!(!handle.is_recording());
        }
    }
}
