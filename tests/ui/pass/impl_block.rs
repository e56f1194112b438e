// `#[traced]` on an impl block instruments every method.
use traced::traced;

struct Service;

#[traced]
impl Service {
    fn handle(&self) {}
}

fn main() {
    Service.handle();
}
