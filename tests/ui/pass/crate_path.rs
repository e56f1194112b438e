use traced::traced;

mod reexport {
    pub use traced;
}

#[traced(crate = ::traced)]
fn absolute() -> u32 {
    1
}

#[traced(crate = reexport::traced)]
fn through_reexport() -> u32 {
    2
}

fn main() {
    assert_eq!(absolute(), 1);
    assert_eq!(through_reexport(), 2);
}
