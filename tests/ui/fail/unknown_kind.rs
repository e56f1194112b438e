use traced::traced;

#[traced(kind = sever)]
fn handler() {}

fn main() {}
