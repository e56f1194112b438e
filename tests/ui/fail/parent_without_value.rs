use traced::traced;

#[traced(parent)]
fn handler() {}

fn main() {}
