use traced::traced;

#[traced(name = 5)]
fn handler() {}

fn main() {}
