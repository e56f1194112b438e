use traced::traced;

#[traced(name = "first", name = "second")]
fn handler() {}

fn main() {}
