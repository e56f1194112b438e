//! Serving one request through a tower service on the benchmark's own thread, shared by the
//! benchmarks of HTTP servers.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::request::Builder;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use tower_service::Service;

use crate::poll::run;

/// A caller's `traceparent` whose flags say "sampled".
#[allow(dead_code)] // used by the server run only
pub const SAMPLED_PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// The same caller's span, not sampled.
pub const UNSAMPLED_PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

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

/// The request `builder` makes, as a server builds it from the wire: with `traceparent` when
/// given, the peer address axum's `into_make_service_with_connect_info` adds, and no body.
pub fn arrived(mut builder: Builder, traceparent: Option<&'static str>) -> Request<Body> {
    if let Some(traceparent) = traceparent {
        builder = builder.header("traceparent", traceparent);
    }
    let peer = SocketAddr::from(([192, 0, 2, 7], 52_114));
    builder
        .extension(ConnectInfo(peer))
        .body(Body::empty())
        .expect("a valid request")
}
