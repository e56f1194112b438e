use traced::traced;

#[traced(root = true)]
fn handler() {}

fn main() {}
