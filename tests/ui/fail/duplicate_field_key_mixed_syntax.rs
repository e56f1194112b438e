use traced::traced;

#[traced(fields(user.id = 1, "user.id" = 2))]
fn handler() {}

fn main() {}
