//! The one place a `CLIENT` span is started, carried to the server, and ended: the middleware
//! and `send_traced` both go through [`ClientSpan`].

use std::error::Error;

use opentelemetry::trace::{SpanKind, SpanRef, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE,
};
use reqwest::{Request, Response};

use super::super::headers::Side;
use super::super::span_start::RequestSpan;
use super::attributes::{self, ClientRequest};
use super::options::Options;
use crate::context::HeaderInjector;
use crate::installed;
use crate::outcome::{CANCELLED_EVENT, EXCEPTION_EVENT, source_chain};
use crate::span::{SpanHandle, may_record};
use crate::value::truncated_display;

/// An outgoing request's span, from the moment the request is handed over until its
/// response headers arrive. Dropped before [`finish`](Self::finish) (the caller gave up on
/// the request), it ends with a `cancelled` event.
pub(crate) struct ClientSpan<'a> {
    cx: Context,
    options: &'a Options,
    open: bool,
}

impl<'a> ClientSpan<'a> {
    /// Starts the span of `request` as a child of the current context, writes the span's
    /// context into the request's headers with the global propagator, records the captured
    /// request headers and runs the request hook. `None` when nothing is installed.
    pub(crate) fn start(options: &'a Options, request: &mut Request) -> Option<Self> {
        if !installed::is_enabled() {
            return None;
        }
        let span = RequestSpan {
            kind: SpanKind::Client,
            side: Side::Client,
            names: options.names,
            request: &ClientRequest(request),
        };
        // In a trace not sampled, under a sampler that follows it, no span is built: the
        // parent's context goes out, telling the server the same trace and decision.
        let cx = span.start(Context::current())?;
        // Injected even when the span is not recording: the server must learn that this
        // trace is not sampled.
        global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&cx, &mut HeaderInjector(request.headers_mut()));
        });
        let span = cx.span();
        if may_record(&span) {
            let mut captured = Vec::new();
            options
                .headers
                .request_attributes(request.headers(), &mut captured);
            if !captured.is_empty() {
                span.set_attributes(captured);
            }
            if let Some(hook) = &options.request_hook {
                hook(&SpanHandle::from_context(cx.clone()), request);
            }
        }
        Some(Self {
            cx,
            options,
            open: true,
        })
    }

    /// The context holding the span, current while the request is in flight.
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    /// Records the response, or the transport error, and ends the span; gives `result` back
    /// unchanged.
    pub(crate) fn finish<E: TransportError>(
        mut self,
        result: Result<Response, E>,
    ) -> Result<Response, E> {
        self.open = false;
        let span = self.cx.span();
        if !may_record(&span) {
            // Nothing to record, and nothing to end: a span that does not record keeps no
            // end time (ending it would read the clock for nothing).
            return result;
        }
        let result = match result {
            Ok(response) => {
                let mut attributes = Vec::new();
                let error = attributes::response(&response, &mut attributes);
                self.options
                    .names
                    .add_old_names(Side::Client, &mut attributes);
                self.options
                    .headers
                    .response_attributes(response.headers(), &mut attributes);
                span.set_attributes(attributes);
                if error {
                    // The status code says it all; the conventions leave the description empty.
                    span.set_status(Status::error(""));
                }
                if let Some(hook) = &self.options.response_hook {
                    hook(&SpanHandle::from_context(self.cx.clone()), &response);
                }
                Ok(response)
            }
            Err(error) => Err(error.record(&span)),
        };
        span.end();
        result
    }
}

impl Drop for ClientSpan<'_> {
    fn drop(&mut self) {
        if self.open {
            let span = self.cx.span();
            if may_record(&span) {
                span.add_event(CANCELLED_EVENT, Vec::new());
                span.end();
            }
        }
    }
}

/// An error a request can fail with before a response arrives.
pub(crate) trait TransportError: Sized {
    /// Records the error on `span` (`error.type`, an `exception` event, status Error with the
    /// message) and gives it back unchanged.
    fn record(self, span: &SpanRef<'_>) -> Self;
}

impl TransportError for reqwest::Error {
    fn record(self, span: &SpanRef<'_>) -> Self {
        // reqwest's message ends with the URL, credentials and all: it is recorded without
        // it (`url.full` holds the redacted URL) and the caller gets the error as it was.
        let url = self.url().cloned();
        let bare = self.without_url();
        record_exception(
            span,
            attributes::transport_error_type(&bare),
            std::any::type_name::<reqwest::Error>(),
            &bare,
        );
        match url {
            Some(url) => bare.with_url(url),
            None => bare,
        }
    }
}

impl TransportError for reqwest_middleware::Error {
    fn record(self, span: &SpanRef<'_>) -> Self {
        match self {
            Self::Reqwest(error) => Self::Reqwest(error.record(span)),
            Self::Middleware(error) => {
                record_exception(
                    span,
                    "middleware",
                    std::any::type_name::<reqwest_middleware::Error>(),
                    error.as_ref(),
                );
                Self::Middleware(error)
            }
        }
    }
}

/// Records a failure: `error.type`, the `exception` event, status Error with the message.
fn record_exception(
    span: &SpanRef<'_>,
    error_type: &'static str,
    exception_type: &'static str,
    error: &(dyn Error + 'static),
) {
    let message = truncated_display(error);
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
    span.add_event(
        EXCEPTION_EVENT,
        vec![
            KeyValue::new(EXCEPTION_TYPE, exception_type),
            KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
            KeyValue::new(EXCEPTION_STACKTRACE, source_chain(&message, error)),
        ],
    );
    span.set_status(Status::error(message));
}
