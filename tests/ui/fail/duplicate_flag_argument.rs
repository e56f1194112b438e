use traced::traced;

#[traced(ret, ret)]
fn handler() -> u32 {
    1
}

fn main() {}
