// A fn returning `!` compiles, without an "unreachable" warning.
use traced::traced;

#[traced]
fn exit_with(code: i32) -> ! {
    std::process::exit(code)
}

fn main() {
    if std::env::args().count() > 100 {
        exit_with(1);
    }
}
