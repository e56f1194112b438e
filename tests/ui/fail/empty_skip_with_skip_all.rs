// `skip()`, even empty, contradicts `skip_all`.
use traced::traced;

#[traced(skip(), skip_all)]
fn handler(a: u32) -> u32 {
    a
}

fn main() {}
