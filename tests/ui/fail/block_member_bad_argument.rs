use traced::traced;

struct Service {
    port: u16,
}

#[traced]
impl Service {
    #[traced(nmae = "x")]
    fn handle(&self) -> u16 {
        self.port
    }

    fn close(&self, code: u8) -> u8 {
        code
    }

    async fn drain(&self) -> u16 {
        self.port
    }
}

fn main() {
    let service = Service { port: 80 };
    let _ = service.handle();
    let _ = service.close(1);
    let _ = futures::executor::block_on(service.drain());
}
