use traced::traced;

#[traced(skip)]
fn handler(a: u32) -> u32 {
    a
}

fn main() {}
