use traced::traced;

#[traced(crate = "traced")]
fn handler() {}

fn main() {}
