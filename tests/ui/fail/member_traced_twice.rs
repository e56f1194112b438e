// A member with two `#[traced]` attributes would be instrumented twice.
use traced::traced;

struct Service;

#[traced]
impl Service {
    #[traced(ret)]
    #[traced(kind = server)]
    fn handle(&self) -> u32 {
        1
    }
}

fn main() {
    Service.handle();
}
