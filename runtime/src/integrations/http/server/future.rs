//! [`ResponseFuture`]: polls the inner service with the span current, records the response
//! (or the service error, or a panic), and hands the span to the response body, which ends
//! it when the body is over.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::Response;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use pin_project_lite::pin_project;

use super::super::body::{Tap, TracedBody};
use super::super::headers::Side;
use super::attributes;
use super::capture::{HTTP_RESPONSE_BODY, Plan};
use super::options::Options;
use crate::outcome::{CANCELLED_EVENT, record_current_panic_event};
use crate::span::{SpanHandle, may_record};

/// The traced part of a [`ResponseFuture`].
pub(crate) struct State {
    cx: Context,
    options: Arc<Options>,
    plan: Plan,
}

impl State {
    /// The state of the span of `cx`.
    pub(crate) fn new(cx: Context, options: Arc<Options>, plan: Plan) -> Self {
        Self { cx, options, plan }
    }

    /// Records the response and gives the span to its body, or records the service error
    /// and ends the span. A span that does not record has nothing to record or end.
    fn finish<ResBody, E>(
        self,
        result: Result<Response<ResBody>, E>,
    ) -> Result<Response<TracedBody<ResBody>>, E> {
        let span = self.cx.span();
        if !may_record(&span) {
            // Nothing to end either: a span that does not record keeps no end time (ending
            // it would read the clock for nothing). The body is handed on as it came. Most
            // requests of a sampled service come this way: their caller did not sample them.
            return result.map(|response| response.map(TracedBody::plain));
        }
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                let kv: KeyValue = attributes::service_error::<E>();
                let description = kv.value.to_string();
                span.set_attribute(kv);
                span.set_status(Status::error(description));
                span.end();
                return Err(error);
            }
        };
        let (parts, body) = response.into_parts();
        let mut attributes = Vec::new();
        let error = attributes::response_status(parts.status, &mut attributes);
        let headers = if self.plan.all_response_headers {
            &self.options.all_headers
        } else {
            &self.options.headers
        };
        headers.response_attributes(&parts.headers, &mut attributes);
        self.options
            .names
            .add_old_names(Side::Server, &mut attributes);
        span.set_attributes(attributes);
        if error {
            span.set_status(Status::error(""));
        }
        if let Some(hook) = &self.options.response_hook {
            hook(&SpanHandle::from_context(self.cx.clone()), &parts);
        }
        let copy = self.options.capture.copy(
            self.plan.response_body,
            &self.plan,
            &parts.headers,
            HTTP_RESPONSE_BODY,
        );
        // The span covers the whole response: the body ends it.
        let body = TracedBody::tapped(body, Tap::new(self.cx, copy, true));
        Ok(Response::from_parts(parts, body))
    }

    /// Records the panic unwinding the handler (an `exception` event, status Error, and the
    /// `500` a server answers, or would answer, for it) and ends the span, if it records.
    fn panicked(self) {
        let span = self.cx.span();
        if may_record(&span) {
            record_current_panic_event(&span);
            let mut attributes = Vec::with_capacity(4);
            attributes::panicked(&mut attributes);
            self.options
                .names
                .add_old_names(Side::Server, &mut attributes);
            span.set_attributes(attributes);
            span.end();
        }
    }
}

pin_project! {
    /// The response future of [`TraceService`](super::TraceService): the span is current
    /// while the inner future is polled. When the response is ready its status and headers
    /// are recorded and the span moves into the response's [`TracedBody`], which ends it
    /// when the body is over. A service error ends it at once; so does a panic of the inner
    /// future, recorded and then resumed unchanged. Dropped before completion, it ends the
    /// span with a `cancelled` event. A span that does not record is left as it is: there
    /// is nothing to record on it, and ending it does nothing but read the clock.
    ///
    /// # Example
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::future::Ready;
    /// use traced::http::ResponseFuture;
    ///
    /// type Future = ResponseFuture<Ready<Result<http::Response<String>, Infallible>>>;
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        state: Option<State>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(state) = this.project().state.take() {
                let span = state.cx.span();
                if may_record(&span) {
                    span.add_event(CANCELLED_EVENT, Vec::new());
                    span.end();
                }
            }
        }
    }
}

impl<F> ResponseFuture<F> {
    /// The future of `inner`, traced when there is a `state`.
    pub(crate) fn new(inner: F, state: Option<State>) -> Self {
        Self { inner, state }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("traced", &self.state.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<TracedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(state) = this.state.as_ref() else {
            return this
                .inner
                .poll(task)
                .map(|result| result.map(|response| response.map(TracedBody::plain)));
        };
        let polled = {
            let _attached = state.cx.clone().attach();
            // The future is not used again after a panic: the panic is resumed below.
            panic::catch_unwind(AssertUnwindSafe(|| this.inner.poll(task)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => match this.state.take() {
                Some(state) => Poll::Ready(state.finish(result)),
                None => Poll::Ready(result.map(|response| response.map(TracedBody::plain))),
            },
            Err(payload) => {
                if let Some(state) = this.state.take() {
                    state.panicked();
                }
                panic::resume_unwind(payload)
            }
        }
    }
}
