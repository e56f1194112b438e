use traced::traced;

#[traced(name)]
fn handler() {}

fn main() {}
