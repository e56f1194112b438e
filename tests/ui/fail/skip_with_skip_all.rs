use traced::traced;

#[traced(skip(a), skip_all)]
fn handler(a: u32, b: u32) -> u32 {
    a + b
}

fn main() {}
