//! [`TraceService`]: starts the span of each request, wraps the request body, and hands the
//! rest to the [`ResponseFuture`].

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{Request, Response};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, global};
use tower_service::Service;

use super::super::body::{Tap, TracedBody};
use super::super::headers::Side;
use super::super::span_start::RequestSpan;
use super::attributes::ServerRequest;
use super::capture::{HTTP_REQUEST_BODY, Plan};
use super::future::{ResponseFuture, State};
use super::options::Options;
use crate::context::HeaderExtractor;
use crate::installed;
use crate::span::{SpanHandle, may_record};

/// The service [`TraceLayer`](super::TraceLayer) wraps around an HTTP service. The inner
/// service receives the request with its body in a [`TracedBody`] and the response body
/// comes back in one, so that body capture and the end of the span can follow the bodies.
///
/// # Example
///
/// ```
/// use traced::http::{TraceLayer, TraceService};
/// use tower_layer::Layer;
///
/// let service: TraceService<()> = TraceLayer::new().layer(());
/// # let _ = service;
/// ```
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    options: Arc<Options>,
}

impl<S> TraceService<S> {
    /// `inner` traced with `options`.
    pub(crate) fn new(inner: S, options: Arc<Options>) -> Self {
        Self { inner, options }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TraceService<S>
where
    S: Service<Request<TracedBody<ReqBody>>, Response = Response<ResBody>>,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let Some((cx, plan)) = start(&self.options, &req) else {
            // Not traced: no provider installed, or an excluded URL.
            let inner = self.inner.call(req.map(TracedBody::plain));
            return ResponseFuture::new(inner, None);
        };
        let req = prepare(&self.options, &cx, &plan, req);
        let inner = {
            let _attached = cx.clone().attach();
            self.inner.call(req)
        };
        let state = State::new(cx, Arc::clone(&self.options), plan);
        ResponseFuture::new(inner, Some(state))
    }
}

/// Starts the span of `req`, unless the request is not traced; returns its context and what
/// the request captures.
fn start<B>(options: &Options, req: &Request<B>) -> Option<(Context, Plan)> {
    if !installed::is_enabled() || options.is_excluded(req.uri().path()) {
        return None;
    }
    let current = Context::current();
    let local_parent = {
        let span = current.span();
        let span_context = span.span_context();
        span_context.is_valid() && !span_context.is_remote()
    };
    let (parent, kind) = if local_parent {
        (current, SpanKind::Internal)
    } else {
        let parent = global::get_text_map_propagator(|propagator| {
            propagator.extract_with_context(&current, &HeaderExtractor(req.headers()))
        });
        (parent, SpanKind::Server)
    };
    let plan = options.capture.plan();
    let headers = if plan.all_request_headers {
        &options.all_headers
    } else {
        &options.headers
    };
    let span = RequestSpan {
        kind,
        side: Side::Server,
        names: options.names,
        request: &ServerRequest {
            req,
            forwarded: options.forwarded_proto,
            headers,
        },
    };
    Some((span.start(parent)?, plan))
}

/// Runs the request hook and wraps the body: a copy for `http.request.body` when it is
/// captured, recorded when the handler has read the body (or dropped it).
fn prepare<B>(
    options: &Options,
    cx: &Context,
    plan: &Plan,
    req: Request<B>,
) -> Request<TracedBody<B>> {
    let (parts, body) = req.into_parts();
    if !may_record(&cx.span()) {
        return Request::from_parts(parts, TracedBody::plain(body));
    }
    if let Some(hook) = &options.request_hook {
        hook(&SpanHandle::from_context(cx.clone()), &parts);
    }
    let copy = options
        .capture
        .copy(plan.request_body, plan, &parts.headers, HTTP_REQUEST_BODY);
    let body = match copy {
        Some(copy) => TracedBody::tapped(body, Tap::new(cx.clone(), Some(copy), false)),
        None => TracedBody::plain(body),
    };
    Request::from_parts(parts, body)
}
