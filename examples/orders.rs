//! `#[traced]` on a whole impl block, a consumer joining a remote trace from message headers,
//! and work spawned onto tokio tasks, a blocking pool and a thread, all in one trace.
//!
//! ```console
//! $ cargo run --example orders
//! ```
//!
//! prints the trace as an indented tree (`OTEL_RUST_CONSOLE_FORMAT=json` for Python's JSON;
//! `OTEL_TRACES_EXPORTER` chooses another exporter).

use std::collections::HashMap;
use std::fmt;

use traced::opentelemetry::global;
use traced::{KeyValue, traced};

#[derive(Debug)]
struct OutOfStock {
    item: u32,
}

impl fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {} is out of stock", self.item)
    }
}

impl std::error::Error for OutOfStock {}

struct Warehouse {
    stock: HashMap<u32, u32>,
}

/// Every method gets a span named `Warehouse::<method>`; `secret` is never recorded.
#[traced(skip(secret))]
impl Warehouse {
    fn reserve(&self, item: u32, quantity: u32) -> Result<u32, OutOfStock> {
        match self.stock.get(&item) {
            Some(&available) if available >= quantity => Ok(available - quantity),
            _ => Err(OutOfStock { item }),
        }
    }

    async fn ship(&self, order_id: u64, address: &str, secret: &str) -> usize {
        tokio::task::yield_now().await;
        traced::current_span().add_event("label printed", [KeyValue::new("carrier", "post")]);
        address.len() + secret.len() + order_id as usize
    }

    #[traced(ignore)]
    fn is_open(&self) -> bool {
        true
    }
}

#[traced(kind = producer)]
fn publish(order_id: u64) -> HashMap<String, String> {
    let mut headers = HashMap::new();
    // The propagators of OTEL_PROPAGATORS (W3C trace context and baggage by default).
    global::get_text_map_propagator(|propagator| propagator.inject(&mut headers));
    headers.insert("order-id".to_owned(), order_id.to_string());
    headers
}

/// Joins the producer's trace through the `traceparent` in the message headers.
#[traced(kind = consumer, context = headers, fields(messaging.system = "in-memory"))]
async fn consume(headers: &HashMap<String, String>, order_id: u64) -> Result<usize, OutOfStock> {
    let warehouse = Warehouse {
        stock: HashMap::from([(7, 3)]),
    };
    if !warehouse.is_open() {
        return Ok(0);
    }
    warehouse.reserve(7, 2)?;
    // Spawned work keeps the consumer span as its parent.
    let shipped = traced::spawn(async move { warehouse.ship(order_id, "1 Main St", "pin").await });
    let checksum = traced::spawn_blocking(move || checksum(order_id));
    let audit = traced::thread::spawn(move || audit(order_id));
    let shipped = shipped.await.unwrap_or(0);
    let _ = (checksum.await, audit.join());
    Ok(shipped)
}

#[traced]
fn checksum(order_id: u64) -> u64 {
    order_id.wrapping_mul(31)
}

#[traced]
fn audit(order_id: u64) {
    let _ = order_id;
}

#[traced(kind = server)]
async fn place_order(order_id: u64) -> Result<usize, OutOfStock> {
    let headers = publish(order_id);
    // A different service would receive these headers over the wire; here it is a call.
    consume(&headers, order_id).await
}

fn main() {
    let mut config = traced::Config::from_env().with_service_name("orders");
    if std::env::var_os("OTEL_TRACES_EXPORTER").is_none() {
        config = config.with_exporters([traced::ExporterKind::Console]);
    }
    if std::env::var_os("OTEL_RUST_CONSOLE_FORMAT").is_none() {
        config = config.with_console_format(traced::ConsoleFormat::Tree);
    }
    let _otel = config.install();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build();
    let Ok(runtime) = runtime else {
        eprintln!("could not start the tokio runtime");
        return;
    };
    match runtime.block_on(place_order(42)) {
        Ok(shipped) => println!("order 42 shipped ({shipped})"),
        Err(err) => println!("order 42 failed: {err}"),
    }
}
