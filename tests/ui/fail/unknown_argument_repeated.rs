use traced::traced;

#[traced(nmae = "x", nmae = "y")]
fn handler() {}

fn main() {}
