// A `name` with `{..}` placeholders is a template over the arguments.
use traced::traced;

#[traced(name = "GET /users/{id}", kind = server)]
fn get_user(id: u64) -> String {
    format!("user-{id}")
}

#[traced(name = "literal {{braces}}")]
fn escaped() {}

fn main() {
    assert_eq!(get_user(7), "user-7");
    escaped();
}
