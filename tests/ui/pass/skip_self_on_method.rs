// `skip(self)` is accepted on a method (`self` is never recorded anyway).
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

    #[traced(skip(self))]
    async fn first_digit(&self) -> &str {
        &"0123456789"[usize::from(self.port % 10)..][..1]
    }
}

fn main() {
    let service = Service { port: 80 };
    assert_eq!(service.port(1), 81);
    assert_eq!(futures::executor::block_on(service.first_digit()), "0");
    assert_eq!(service.consume(2), 82);
}
