//! Prints how many spans instrumented code produced: 0 when `traced` is built without its
//! `enable` feature, 3 with it.

use traced::traced;

#[traced(kind = server, fields(double = n * 2))]
fn work(n: u32) -> u32 {
    n + 1
}

struct Service;

#[traced(skip_all)]
impl Service {
    fn handle(&self, request: &str) -> usize {
        request.len()
    }

    #[traced(ignore)]
    fn health(&self) -> bool {
        true
    }

    #[traced(name = "service.reload", err = false)]
    fn reload(&self) -> Result<(), String> {
        Err("nothing to reload".to_owned())
    }
}

fn main() {
    let (value, spans) = traced::testing::capture(|| {
        let service = Service;
        assert!(service.health());
        assert!(service.reload().is_err());
        work(1) + service.handle("ping") as u32
    });
    assert_eq!(value, 6, "the functions behave the same in both states");
    println!("spans={}", spans.all().len());
}
