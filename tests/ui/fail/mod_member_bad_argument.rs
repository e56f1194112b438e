// A member's bad argument inside an instrumented `mod` (which has no `traced` in scope) is
// reported once, with no "cannot find attribute" follow-up.
#[traced::traced]
mod jobs {
    #[traced(ignore, kind = sever)]
    pub fn run() {}
}

fn main() {
    jobs::run();
}
