use traced::traced;

#[traced(kind = "server")]
fn handler() {}

fn main() {}
