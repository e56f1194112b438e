//! What tracing costs a service served over real sockets, where a request also costs what
//! the in-process benchmarks leave out: reading and writing the connection, parsing HTTP,
//! and caches shared with all of that. The `service` benchmark's service ([`orders`]: a
//! route whose handler awaits a function that suspends once, calls another and asks a
//! second service through the HTTP client, answered in process) is served by axum on a
//! loopback port, from a thread of its own running a current-thread tokio runtime. A hyper
//! client on this thread asks it from `BENCH_LOAD_CONNECTIONS` callers (default 16, each on
//! a kept-alive connection of its own), twice for each variant: flat out (each caller asks
//! again as soon as it is answered, enough to keep the server's thread busy) and paced (the
//! callers together at `BENCH_LOAD_RATE` requests/s, default 20 000, under every variant's
//! capacity, as servers mostly run). Each run lasts `BENCH_LOAD_SECS` seconds (default 2)
//! after a quarter of that to warm up; `BENCH_LOAD_ONLY=<variant>` runs only `plain` and the
//! variants whose names start so.
//!
//! Prints requests/s and, from the threads' `schedstat`, the CPU time the server's thread
//! spent a request (the figure to compare: the client shares the machine) and what the
//! export threads spent a request. Variants as in the `service` benchmark:
//!
//! - `plain`: no instrumentation;
//! - `traced/no_provider`: `traced`'s layer, `#[traced]` functions and client middleware, no
//!   pipeline installed;
//! - `tracing/no_subscriber`: tower-http's `TraceLayer`, `#[tracing::instrument]` and
//!   reqwest-tracing's middleware, no subscriber;
//! - `tracing/otel_sampled`: the same with tracing-opentelemetry onto the SDK's batch
//!   processor (set as the server thread's default subscriber), every span sampled;
//! - `traced/unsampled_child`: `traced`'s pipeline installed, each request's caller did not
//!   sample it (`traceparent` flags `00`);
//! - `traced/sampled`: the same, no `traceparent`: five spans a request;
//! - `traced/unsampled`: no `traceparent`, under `parentbased_traceidratio` with a ratio of
//!   0: each request's trace dropped at its root, the other service told so.
//!
//! Both pipelines export into a counting, discarding exporter. See `README.md`.

#[path = "common/answer.rs"]
mod answer;
#[path = "common/orders.rs"]
mod orders;
#[path = "common/pipeline.rs"]
mod pipeline;
#[path = "common/poll.rs"]
#[allow(dead_code)] // used by `serve`, which this benchmark does not call
mod poll;
#[path = "common/serve.rs"]
#[allow(dead_code)] // only the callers' `traceparent`s
mod serve;
#[path = "common/settings.rs"]
mod settings;
#[path = "common/threads.rs"]
mod threads;

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use futures::channel::oneshot;
use futures::future::join_all;
use http::{Request, Uri, header};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::Sampler;
use tracing_subscriber::layer::SubscriberExt as _;

use answer::client;
use orders::{plain, routes, with_traced, with_tracing};
use pipeline::{Pipeline, build_pipeline, install_configured, install_pipeline, sampled};
use serve::UNSAMPLED_PARENT;

/// The server thread's name, by which its `schedstat` is found.
const SERVER_THREAD: &str = "load-server";

/// A service served on a loopback port by a thread of its own, until dropped.
struct Server {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `app` with `dispatch` (if any) as the server thread's default tracing
    /// subscriber, as an application sets its global one.
    fn start(app: Router, dispatch: Option<tracing::Dispatch>) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(SERVER_THREAD.to_owned())
            .spawn(move || {
                let _default = dispatch.as_ref().map(tracing::dispatcher::set_default);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .expect("the server's runtime builds");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                    let service = app.into_make_service_with_connect_info::<SocketAddr>();
                    axum::serve(listener, service)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .expect("the server serves");
                });
            })?;
        Ok(Self {
            address,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What one variant's measured window gave.
struct Measured {
    requests: u64,
    window: Duration,
    /// The server thread's CPU time in the window (ns).
    server_cpu: u64,
    /// The export threads' CPU time in the window (ns), where there are any.
    export_cpu: Option<u64>,
    /// The body of the last response.
    body: Bytes,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }

    /// The server thread's CPU time a request (ns).
    fn server_cpu_a_request(&self) -> f64 {
        self.server_cpu as f64 / self.requests.max(1) as f64
    }
}

/// How long to warm up and to measure, how many requests to keep in flight, and the rate of
/// the paced runs.
struct Load {
    warm_up: Duration,
    window: Duration,
    connections: usize,
    rate: f64,
}

impl Load {
    /// Asks `server` for orders from `connections` callers, first for the warm-up, then for
    /// the measured window: each caller as soon as its last request is answered, or, `paced`,
    /// at its share of [`Self::rate`].
    fn run(&self, server: &Server, traceparent: Option<&'static str>, paced: bool) -> Measured {
        let caller = Caller::new(server);
        // Each caller's requests this far apart, the callers spread over the first interval.
        let interval = paced.then(|| Duration::from_secs_f64(self.connections as f64 / self.rate));
        runtime().block_on(async {
            let asking = |start: Instant, length| {
                let callers = (0..self.connections).map(|index| {
                    let schedule = interval.map(|interval| {
                        (
                            start + interval.mul_f64(index as f64 / self.connections as f64),
                            interval,
                        )
                    });
                    caller.ask_until(traceparent, start + length, schedule)
                });
                join_all(callers)
            };
            asking(Instant::now(), self.warm_up).await;
            let server_before = threads::times_of(&[SERVER_THREAD]);
            let export_before = threads::times_of(threads::EXPORT_THREADS);
            let start = Instant::now();
            let answered = asking(start, self.window).await;
            let window = start.elapsed();
            let server_after = threads::times_of(&[SERVER_THREAD]);
            let export_after = threads::times_of(threads::EXPORT_THREADS);
            let requests = answered.iter().map(|(count, _)| count).sum();
            let body = answered
                .into_iter()
                .find_map(|(_, body)| body)
                .unwrap_or_default();
            Measured {
                requests,
                window,
                server_cpu: threads::spent(&server_before, &server_after)
                    .map_or(0, |times| times.running),
                export_cpu: threads::spent(&export_before, &export_after)
                    .map(|times| times.running),
                body,
            }
        })
    }
}

/// A current-thread runtime for the client.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the client's runtime builds")
}

/// A client asking a server for the order, over connections it keeps alive.
struct Caller {
    client: Client<HttpConnector, Empty<Bytes>>,
    uri: Uri,
}

impl Caller {
    fn new(server: &Server) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            uri: format!("http://{}/orders/42", server.address)
                .parse()
                .expect("a valid URI"),
        }
    }

    /// Asks for the order once, with `traceparent` when given; returns the body.
    async fn ask(&self, traceparent: Option<&'static str>) -> Bytes {
        let mut request = Request::get(self.uri.clone())
            .header(header::USER_AGENT, "checkout/2.3.0")
            .header(header::ACCEPT, "application/json");
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let request = request.body(Empty::new()).expect("a valid request");
        let response = self
            .client
            .request(request)
            .await
            .expect("the server answers");
        assert!(response.status().is_success(), "{}", response.status());
        let body = response
            .into_body()
            .collect()
            .await
            .expect("the body is read");
        body.to_bytes()
    }

    /// Asks again and again until `deadline`, one request at a time, each as soon as the
    /// last is answered, or with a `schedule` (the first request's time and the interval) at
    /// its times (at once when late); returns how many were answered and the last body.
    async fn ask_until(
        &self,
        traceparent: Option<&'static str>,
        deadline: Instant,
        schedule: Option<(Instant, Duration)>,
    ) -> (u64, Option<Bytes>) {
        let mut answered = 0;
        let mut last = None;
        let mut next = schedule.map(|(first, _)| first);
        while next.unwrap_or_else(Instant::now) < deadline {
            if let (Some(at), Some((_, interval))) = (next.as_mut(), schedule) {
                tokio::time::sleep_until((*at).into()).await;
                *at += interval;
            }
            last = Some(self.ask(traceparent).await);
            answered += 1;
        }
        (answered, last)
    }
}

/// The server CPU a request of `plain`'s runs, flat out and paced, that the other rows are
/// set against.
struct Reference {
    flat_out: f64,
    paced: f64,
}

/// Prints one variant's row: flat out and paced runs.
fn print_row(name: &str, flat_out: &Measured, paced: &Measured, reference: Option<&Reference>) {
    let added = |cpu: f64, plain: Option<f64>| {
        plain.map_or("–".to_owned(), |plain| {
            format!(
                "{:+.2} µs ({:+.0} %)",
                (cpu - plain) / 1e3,
                100.0 * (cpu / plain - 1.0)
            )
        })
    };
    let export = paced.export_cpu.map_or("–".to_owned(), |cpu| {
        format!("{:.2} µs", cpu as f64 / paced.requests.max(1) as f64 / 1e3)
    });
    println!(
        "| {name} | {:.0} | {:.2} µs | {} | {:.0} | {:.2} µs | {} | {export} |",
        flat_out.per_second(),
        flat_out.server_cpu_a_request() / 1e3,
        added(
            flat_out.server_cpu_a_request(),
            reference.map(|r| r.flat_out)
        ),
        paced.per_second(),
        paced.server_cpu_a_request() / 1e3,
        added(paced.server_cpu_a_request(), reference.map(|r| r.paced)),
    );
}

/// How many spans `pipeline` exports for one request to `server`, the same work checked
/// before it is measured.
fn spans_of_one(pipeline: &Pipeline, server: &Server, traceparent: Option<&'static str>) -> u64 {
    pipeline.spans_exported_by(|| runtime().block_on(Caller::new(server).ask(traceparent)))
}

fn main() {
    // Under `cargo test --benches`, only check that every variant serves, briefly.
    let secs = if settings::benching() {
        settings::env_number("BENCH_LOAD_SECS", 2.0)
    } else {
        0.05
    };
    let load = Load {
        warm_up: Duration::from_secs_f64(secs / 4.0),
        window: Duration::from_secs_f64(secs),
        connections: settings::env_number("BENCH_LOAD_CONNECTIONS", 16.0).max(1.0) as usize,
        rate: settings::env_number("BENCH_LOAD_RATE", 20_000.0).max(1.0),
    };
    println!(
        "A whole service over loopback sockets, {} callers, {secs} s a run, flat out and paced \
         at {} requests/s:\n",
        load.connections, load.rate
    );
    println!(
        "| variant | flat out: requests/s | server CPU a request | − plain | paced: requests/s \
         | server CPU a request | − plain | export threads a request |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");

    let serve = |app: Router, dispatch| Server::start(app, dispatch).expect("the server starts");

    let plain_server = serve(routes(plain::order, client(None::<answer::Answer>)), None);
    let (plain_flat_out, plain_paced) = (
        load.run(&plain_server, None, false),
        load.run(&plain_server, None, true),
    );
    drop(plain_server);
    print_row("plain", &plain_flat_out, &plain_paced, None);
    let reference = Reference {
        flat_out: plain_flat_out.server_cpu_a_request(),
        paced: plain_paced.server_cpu_a_request(),
    };
    let measure = |name, server: &Server, traceparent| {
        let flat_out = load.run(server, traceparent, false);
        let paced = load.run(server, traceparent, true);
        for run in [&flat_out, &paced] {
            assert_eq!(run.body, plain_paced.body, "every variant answers the same");
        }
        print_row(name, &flat_out, &paced, Some(&reference));
    };

    let traced_app = || {
        let middleware = traced::http::reqwest::TracingMiddleware::new();
        routes(with_traced::order, client(Some(middleware))).layer(traced::http::TraceLayer::new())
    };
    if selected("traced/no_provider") {
        measure("traced/no_provider", &serve(traced_app(), None), None);
    }

    let peers_app = || {
        let middleware = reqwest_tracing::TracingMiddleware::default();
        routes(with_tracing::order, client(Some(middleware)))
            .layer(tower_http::trace::TraceLayer::new_for_http())
    };
    if selected("tracing/no_subscriber") {
        measure("tracing/no_subscriber", &serve(peers_app(), None), None);
    }
    if selected("tracing/otel_sampled") {
        let peer = build_pipeline(sampled());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(peer.provider.tracer("peers")));
        let server = serve(peers_app(), Some(tracing::Dispatch::new(subscriber)));
        assert_eq!(spans_of_one(&peer, &server, None), 5);
        measure("tracing/otel_sampled", &server, None);
        drop(server);
        peer.shutdown_reporting("tracing/otel_sampled");
    }

    let traced_runs = [
        ("traced/unsampled_child", Some(UNSAMPLED_PARENT)),
        ("traced/sampled", None),
    ];
    if traced_runs.iter().any(|(name, _)| selected(name)) {
        // Also installs the global propagator `traced::init()` does (`tracecontext,baggage`).
        let pipeline = install_pipeline(None);
        let server = serve(traced_app(), None);
        assert_eq!(spans_of_one(&pipeline, &server, None), 5);
        assert_eq!(spans_of_one(&pipeline, &server, Some(UNSAMPLED_PARENT)), 0);
        for (name, traceparent) in traced_runs {
            if selected(name) {
                measure(name, &server, traceparent);
            }
        }
        drop(server);
        pipeline.shutdown_reporting("traced");
    }
    if selected("traced/unsampled") {
        // `parentbased_traceidratio` with a ratio of 0: each request starts a trace, which the
        // ratio drops, as it drops most of them where a fraction is kept.
        let pipeline = install_configured(|config| {
            config.with_parent_based_sampler(Sampler::TraceIdRatioBased(0.0))
        });
        let server = serve(traced_app(), None);
        assert_eq!(spans_of_one(&pipeline, &server, None), 0);
        measure("traced/unsampled", &server, None);
        drop(server);
        pipeline.shutdown_reporting("traced/unsampled");
    }
}

/// Whether to run the variant `name`: every one, or with `BENCH_LOAD_ONLY` set, those whose
/// name starts with it (`plain` always runs: the others are set against it), to measure or
/// profile one alone.
fn selected(name: &str) -> bool {
    std::env::var("BENCH_LOAD_ONLY").map_or(true, |only| name.starts_with(&only))
}
