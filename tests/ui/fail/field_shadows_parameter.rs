// `fields(a = ..)` would record the recorded parameter `a` a second time.
use traced::traced;

#[traced(fields(a = 2))]
fn handler(a: u32) -> u32 {
    a
}

fn main() {}
