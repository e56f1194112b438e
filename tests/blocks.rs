//! `#[traced]` on whole blocks: impl blocks, traits, inline modules, and `#[async_trait]` in
//! both attribute orders. Block arguments are defaults; members override or opt out.

use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use traced::testing::{attribute, capture, capture_future};
use traced::traced;

struct Cart {
    items: Vec<u32>,
}

#[traced(kind = server, skip(secret))]
impl Cart {
    fn new(items: Vec<u32>) -> Self {
        Cart { items }
    }

    fn total(&self, discount: u32) -> u32 {
        self.items.iter().sum::<u32>() - discount
    }

    fn checkout(&mut self, secret: &str) -> usize {
        self.items.clear();
        secret.len()
    }

    #[traced(kind = client, name = "cart.sync")]
    fn sync_remote(&self) {}

    #[traced(ignore)]
    fn untraced(&self) -> usize {
        self.items.len()
    }

    const fn capacity() -> usize {
        16
    }

    async fn refresh(&self, reason: &str) -> usize {
        reason.len()
    }
}

#[test]
fn every_method_of_an_impl_block_is_instrumented_with_the_block_defaults() {
    let ((), spans) = capture(|| {
        let mut cart = Cart::new(vec![3, 4]);
        assert_eq!(cart.total(1), 6);
        cart.sync_remote();
        assert_eq!(cart.untraced(), 2);
        assert_eq!(cart.checkout("pin"), 3);
        const CAPACITY: usize = Cart::capacity();
        assert_eq!(CAPACITY, 16);
    });
    assert_eq!(
        spans.tree(),
        "Cart::new\nCart::total\ncart.sync\nCart::checkout\n"
    );
    let total = spans.one("Cart::total");
    assert_eq!(total.span_kind, SpanKind::Server, "the block's kind");
    assert_eq!(attribute(total, "discount"), Some(&Value::I64(1)));
    assert_eq!(
        attribute(spans.one("Cart::checkout"), "secret"),
        None,
        "the block's skip"
    );
    assert_eq!(
        spans.one("cart.sync").span_kind,
        SpanKind::Client,
        "the method's own kind wins"
    );
    assert_eq!(
        attribute(total, "code.function.name"),
        Some(&Value::from("blocks::Cart::total")),
        "the qualified path"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn async_methods_of_a_block_are_instrumented_too() {
    let cart = Cart { items: vec![] };
    let (n, spans) = capture_future(cart.refresh("stale")).await;
    assert_eq!(n, 5);
    assert_eq!(
        attribute(spans.one("Cart::refresh"), "reason"),
        Some(&Value::from("stale"))
    );
}

#[traced(prefix = "store")]
trait Store {
    fn key(&self) -> String;

    fn describe(&self, verbose: bool) -> String {
        if verbose {
            format!("store {}", self.key())
        } else {
            self.key()
        }
    }

    async fn load(&self, id: u32) -> Option<String> {
        (id > 0).then(|| self.key())
    }
}

struct Memory;

impl Store for Memory {
    fn key(&self) -> String {
        "memory".to_owned()
    }
}

#[test]
fn default_methods_of_a_trait_are_instrumented_and_required_ones_left_alone() {
    let (text, spans) = capture(|| Memory.describe(true));
    assert_eq!(text, "store memory");
    assert_eq!(
        spans.names(),
        ["store::describe"],
        "the prefix names the spans; `key` has no body"
    );
    assert_eq!(
        attribute(spans.one("store::describe"), "verbose"),
        Some(&Value::Bool(true))
    );
}

#[tokio::test(flavor = "current_thread")]
async fn async_fn_in_traits_works() {
    let (value, spans) = capture_future(Memory.load(2)).await;
    assert_eq!(value.as_deref(), Some("memory"));
    assert_eq!(
        attribute(spans.one("store::load"), "id"),
        Some(&Value::I64(2))
    );
}

#[traced(kind = consumer)]
mod jobs {
    pub(crate) fn run(batch: u32) -> u32 {
        helper(batch) + Worker.step(1)
    }

    fn helper(batch: u32) -> u32 {
        batch * 2
    }

    #[traced(ignore)]
    pub(crate) fn quiet() -> u32 {
        0
    }

    pub(crate) struct Worker;

    impl Worker {
        pub(crate) fn step(&self, n: u32) -> u32 {
            n
        }
    }

    #[traced(ignore)]
    impl Worker {
        pub(crate) fn hidden(&self) {}
    }

    pub(crate) mod nested {
        pub(crate) fn deep() {}
    }
}

#[test]
fn an_inline_module_instruments_its_functions_impls_and_nested_modules() {
    let (value, spans) = capture(|| {
        jobs::Worker.hidden();
        jobs::nested::deep();
        jobs::quiet() + jobs::run(2)
    });
    assert_eq!(value, 5);
    assert_eq!(spans.tree(), "deep\nrun\n  helper\n  Worker::step\n");
    assert!(
        spans
            .all()
            .iter()
            .all(|span| span.span_kind == SpanKind::Consumer)
    );
}

#[async_trait::async_trait]
trait Fetch {
    async fn fetch(&self, url: &str) -> Result<usize, std::io::Error>;
}

struct Client;

// `#[async_trait]` expands first; `#[traced]` sees its `Box::pin(async move { .. })` bodies.
#[async_trait::async_trait]
#[traced(kind = client)]
impl Fetch for Client {
    async fn fetch(&self, url: &str) -> Result<usize, std::io::Error> {
        tokio::task::yield_now().await;
        if url.is_empty() {
            return Err(std::io::Error::other("empty url"));
        }
        Ok(url.len())
    }
}

struct OtherClient;

// `#[traced]` expands first, then `#[async_trait]` boxes the instrumented future.
#[traced(kind = client)]
#[async_trait::async_trait]
impl Fetch for OtherClient {
    async fn fetch(&self, url: &str) -> Result<usize, std::io::Error> {
        tokio::task::yield_now().await;
        Ok(url.len() * 2)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn async_trait_in_either_attribute_order_spans_the_real_work() {
    let (result, spans) = capture_future(async {
        let client: &dyn Fetch = &Client;
        let created = client.fetch("");
        // The work has not run yet: no span may have ended.
        tokio::task::yield_now().await;
        created.await
    })
    .await;
    assert!(result.is_err());
    let span = spans.one("Client::fetch");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(attribute(span, "url"), Some(&Value::from("")));
    assert_eq!(
        traced::testing::events(span, "exception").len(),
        1,
        "the Err inside the box is recorded"
    );

    let (len, spans) = capture_future(OtherClient.fetch("abc")).await;
    assert_eq!(len.ok(), Some(6));
    assert_eq!(
        attribute(spans.one("OtherClient::fetch"), "url"),
        Some(&Value::from("abc"))
    );
}

mod generic {
    pub(crate) struct Wrapper<T>(pub(crate) T);

    impl<T: Clone> Wrapper<T> {
        #[traced::traced]
        pub(crate) fn get(&self) -> T {
            self.0.clone()
        }
    }
}

#[test]
fn a_method_level_attribute_names_the_span_type_and_method_even_in_generic_impls() {
    let (value, spans) = capture(|| generic::Wrapper(7).get());
    assert_eq!(value, 7);
    assert_eq!(spans.names(), ["Wrapper::get"]);
}
