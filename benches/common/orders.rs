//! The service the `service` and `load` benchmarks serve: an axum route whose handler awaits
//! an `async fn` that suspends once (as one waiting on a database does), calls a function of
//! three arguments, and asks another service through an `async fn` and a reqwest-middleware
//! client answered in process ([`crate::answer`]). One copy of the code for each
//! instrumentation (`plain`, `with_traced`, `with_tracing`), so each is measured on its own.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use http::header;
use reqwest_middleware::ClientWithMiddleware;

/// Pending once, waking its task, then ready: an `.await` that suspends, as one on a socket
/// or a database does.
#[derive(Default)]
pub struct SuspendOnce {
    suspended: bool,
}

impl Future for SuspendOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, task: &mut Context<'_>) -> Poll<()> {
        if self.suspended {
            return Poll::Ready(());
        }
        self.suspended = true;
        task.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The client the handler asks the other service with.
pub type Client = State<Arc<ClientWithMiddleware>>;

/// The service's code, in a module of its own for each instrumentation: `$each` is put on
/// the functions the handler calls but the one given the client, which gets `$with_client`
/// (which must not record the client: it is no attribute). The handler's own span is the
/// layer's.
macro_rules! service {
    ($module:ident, [$($each:tt)*], [$($with_client:tt)*]) => {
        pub mod $module {
            use super::*;

            /// The route's handler: the order `id` with its customer, price and stock.
            pub async fn order(State(client): Client, Path(id): Path<u64>) -> String {
                let customer = load_customer(id).await;
                let total = price(id, &customer, id % 2 == 0);
                let stock = check_stock(&client, id).await;
                format!(r#"{{"id":{id},"customer":"{customer}","total":{total},"stock":{stock}}}"#)
            }

            $($each)*
            async fn load_customer(id: u64) -> String {
                SuspendOnce::default().await;
                format!("customer-{id}")
            }

            $($each)*
            #[inline(never)]
            fn price(id: u64, customer: &str, express: bool) -> u64 {
                let base = black_box(id) * 100 + black_box(customer.len() as u64);
                if black_box(express) { base + 500 } else { base }
            }

            $($with_client)*
            async fn check_stock(client: &ClientWithMiddleware, id: u64) -> u16 {
                let url = format!("http://inventory.internal:8080/stock/{id}");
                let request = client.get(url).header(header::ACCEPT, "application/json");
                match request.send().await {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => 0,
                }
            }
        }
    };
}

service!(plain, [], []);
service!(with_traced, [#[traced::traced]], [#[traced::traced(skip(client))]]);
service!(
    with_tracing,
    [#[tracing::instrument]],
    [#[tracing::instrument(skip(client))]]
);

/// The route of `handler`, its client `client`.
pub fn routes<H, T>(handler: H, client: ClientWithMiddleware) -> Router
where
    H: axum::handler::Handler<T, Arc<ClientWithMiddleware>>,
    T: 'static,
{
    Router::new()
        .route("/orders/{id}", get(handler))
        .with_state(Arc::new(client))
}
