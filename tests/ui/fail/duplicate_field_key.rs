use traced::traced;

#[traced(fields(a = 1, a = 2))]
fn handler() {}

fn main() {}
