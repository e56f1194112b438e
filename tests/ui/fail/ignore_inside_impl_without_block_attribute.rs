use traced::traced;

struct Service;

impl Service {
    #[traced(ignore)]
    fn handle(&self) {}

    fn close(&self) {}
}

fn main() {
    Service.handle();
    Service.close();
}
