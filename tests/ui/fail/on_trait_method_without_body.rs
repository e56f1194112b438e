use traced::traced;

trait Handler {
    #[traced]
    fn handle(&self) -> u32;
}

struct Service;

impl Handler for Service {
    fn handle(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Service.handle();
}
