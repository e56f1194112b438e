use traced::traced;

#[traced(skip(a))]
fn handler() {}

fn main() {}
