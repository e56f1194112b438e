//! A reqwest-middleware client answered in process, shared by the benchmarks of HTTP
//! clients: its last middleware answers every request as the other service would, without
//! sending it, so the figures hold no I/O.

use std::hint::black_box;

use http::{Extensions, header};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};

/// The last middleware: answers every request in process with a small JSON body.
pub struct Answer;

#[async_trait::async_trait]
impl Middleware for Answer {
    async fn handle(
        &self,
        req: reqwest::Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        black_box(&req);
        let response = http::Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "application/json")
            .body(r#"{"id":42,"name":"ada"}"#)
            .map_err(reqwest_middleware::Error::middleware)?;
        Ok(response.into())
    }
}

/// A client with `middleware` (if any) in front of [`Answer`].
pub fn client(middleware: Option<impl Middleware>) -> ClientWithMiddleware {
    let builder = ClientBuilder::new(reqwest::Client::new());
    match middleware {
        Some(middleware) => builder.with(middleware).with(Answer).build(),
        None => builder.with(Answer).build(),
    }
}
