use traced::traced;

#[traced(ret = true)]
fn handler() -> u32 {
    1
}

fn main() {}
