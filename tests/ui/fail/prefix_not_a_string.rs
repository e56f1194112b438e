use traced::traced;

struct Service;

#[traced(prefix = Service)]
impl Service {
    fn handle(&self) {}
}

fn main() {
    Service.handle();
}
