use traced::traced;

struct Service;

#[traced(name = "service")]
impl Service {
    fn handle(&self) {}

    fn close(&self) {}
}

fn main() {
    Service.handle();
    Service.close();
}
