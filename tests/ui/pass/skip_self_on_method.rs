use traced::traced;

struct Service {
    port: u16,
}

impl Service {
    #[traced(skip(self))]
    fn port(&self, offset: u16) -> u16 {
        self.port + offset
    }

    #[traced(skip(self, offset))]
    fn consume(self, offset: u16) -> u16 {
        self.port + offset
    }
}

fn main() {
    let service = Service { port: 80 };
    assert_eq!(service.port(1), 81);
    assert_eq!(service.consume(2), 82);
}
