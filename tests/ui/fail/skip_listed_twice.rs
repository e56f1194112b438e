// `b` is named twice in `skip(..)`.
use traced::traced;

#[traced(skip(b, b))]
fn handler(a: u32, b: u32) -> u32 {
    a + b
}

fn main() {}
