use traced::traced;

#[traced]
struct Config {
    port: u16,
}

fn main() {
    let config = Config { port: 80 };
    let _ = config.port;
}
