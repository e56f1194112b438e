// A block-level field may not record a member's parameter a second time.
use traced::traced;

struct Service;

#[traced(fields(id = 0))]
impl Service {
    fn handle(&self, id: u32) -> u32 {
        id
    }
}

fn main() {
    Service.handle(1);
}
