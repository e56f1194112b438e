// A block-level error is reported once: the members' own attributes do not expand alone.
use traced::traced;

struct Service;

#[traced(name = "service")]
impl Service {
    #[traced(ignore)]
    fn health(&self) {}
}

fn main() {}
