use traced::traced;

#[traced(fields("" = 1))]
fn handler() {}

fn main() {}
