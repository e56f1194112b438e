use traced::traced;

#[traced(nmae = "x")]
fn handler() {}

fn main() {}
