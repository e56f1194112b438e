use traced::traced;

#[traced(ignore)]
fn handler() {}

fn main() {
    handler();
}
