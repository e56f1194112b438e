//! [`RequestBuilderExt`]: the same client span for a plain `reqwest::Client`, without
//! reqwest-middleware.

use std::future::Future;
use std::sync::OnceLock;

use opentelemetry::context::FutureExt as _;
use reqwest::{RequestBuilder, Response};

use super::client_span::ClientSpan;
use super::middleware::TracingMiddleware;
use super::options::Options;
use crate::installed;

/// Sends a plain reqwest request inside the `CLIENT` span [`TracingMiddleware`] would give
/// it: same name, attributes, status, propagation headers and end.
///
/// # Example
///
/// ```no_run
/// use traced::http::reqwest::RequestBuilderExt;
///
/// # async fn run() -> reqwest::Result<()> {
/// let client = reqwest::Client::new();
/// let response = client.get("http://localhost:8080/users/7").send_traced().await?;
/// # let _ = response;
/// # Ok(())
/// # }
/// ```
pub trait RequestBuilderExt {
    /// Sends the request like `send`, traced with the options the environment gives (see
    /// [`TracingMiddleware::from_env`], read once per process).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use traced::http::reqwest::RequestBuilderExt;
    ///
    /// # async fn run() -> reqwest::Result<()> {
    /// let status = reqwest::Client::new()
    ///     .post("http://localhost:8080/orders")
    ///     .body("{}")
    ///     .send_traced()
    ///     .await?
    ///     .status();
    /// # let _ = status;
    /// # Ok(())
    /// # }
    /// ```
    fn send_traced(self) -> impl Future<Output = reqwest::Result<Response>> + Send;

    /// Sends the request like `send`, traced with `middleware`'s options.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use traced::http::reqwest::{RequestBuilderExt, TracingMiddleware};
    ///
    /// # async fn run() -> reqwest::Result<()> {
    /// let tracing = TracingMiddleware::new().capture_response_headers(["content-type"]);
    /// let response = reqwest::Client::new()
    ///     .get("http://localhost:8080/users/7")
    ///     .send_traced_with(&tracing)
    ///     .await?;
    /// # let _ = response;
    /// # Ok(())
    /// # }
    /// ```
    fn send_traced_with(
        self,
        middleware: &TracingMiddleware,
    ) -> impl Future<Output = reqwest::Result<Response>> + Send;
}

impl RequestBuilderExt for RequestBuilder {
    fn send_traced(self) -> impl Future<Output = reqwest::Result<Response>> + Send {
        static FROM_ENV: OnceLock<TracingMiddleware> = OnceLock::new();
        send(
            self,
            FROM_ENV
                .get_or_init(TracingMiddleware::from_env)
                .options_ref(),
        )
    }

    fn send_traced_with(
        self,
        middleware: &TracingMiddleware,
    ) -> impl Future<Output = reqwest::Result<Response>> + Send {
        send(self, middleware.options_ref())
    }
}

/// `builder.send()` inside the request's span.
async fn send(builder: RequestBuilder, options: &Options) -> reqwest::Result<Response> {
    if !installed::is_enabled() {
        return builder.send().await;
    }
    let (client, request) = builder.build_split();
    let mut request = request?;
    let Some(span) = ClientSpan::start(options, &mut request) else {
        return client.execute(request).await;
    };
    let result = client
        .execute(request)
        .with_context(span.context().clone())
        .await;
    span.finish(result)
}
