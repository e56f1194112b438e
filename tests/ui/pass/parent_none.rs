// `parent = None` starts a new trace.
use traced::traced;

#[traced(parent = None)]
fn detached(job: u32) -> u32 {
    job + 1
}

fn main() {
    assert_eq!(detached(1), 2);
}
