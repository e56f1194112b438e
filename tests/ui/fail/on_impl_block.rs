use traced::traced;

struct Service;

#[traced]
impl Service {
    fn handle(&self) {}
}

fn main() {
    Service.handle();
}
