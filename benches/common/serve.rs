//! Serving one request through a tower service on the benchmark's own thread, shared by the
//! benchmarks of HTTP servers.

use http::{Request, Response};
use http_body_util::BodyExt as _;
use tower_service::Service;

use crate::poll::run;

/// `request` through `service`, the response body read to its end (where a server's span
/// ends); returns the body's length.
pub fn serve<S, ReqBody, B>(service: &mut S, request: Request<ReqBody>) -> usize
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    run(std::future::poll_fn(|cx| service.poll_ready(cx))).expect("the service is ready");
    let response = run(service.call(request)).expect("the service answers");
    let body = run(response.into_body().collect()).expect("the body is read");
    body.to_bytes().len()
}
