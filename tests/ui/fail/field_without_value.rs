use traced::traced;

#[traced(fields(user.id))]
fn handler() {}

fn main() {}
