// `#[traced]` on a trait instruments its default methods and leaves required ones alone.
use traced::traced;

#[traced(kind = internal)]
trait Store {
    fn key(&self) -> String;

    fn describe(&self, verbose: bool) -> String {
        if verbose {
            format!("store {}", self.key())
        } else {
            self.key()
        }
    }
}

struct Memory;

impl Store for Memory {
    fn key(&self) -> String {
        "memory".to_owned()
    }
}

fn main() {
    assert_eq!(Memory.describe(true), "store memory");
    assert_eq!(Memory.key(), "memory");
}
