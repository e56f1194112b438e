use traced::traced;

#[traced("handler")]
fn handler() {}

fn main() {}
