// `root` starts a new trace.
use traced::traced;

#[traced(root)]
fn background(job: u32) -> u32 {
    job + 1
}

#[traced(root, kind = consumer)]
async fn background_async(job: u32) -> u32 {
    job + 2
}

fn main() {
    assert_eq!(background(1), 2);
    assert_eq!(futures::executor::block_on(background_async(1)), 3);
}
