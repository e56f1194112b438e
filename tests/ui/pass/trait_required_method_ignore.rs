// `#[traced(ignore)]` on a required method of an instrumented trait is accepted.
use traced::traced;

#[traced]
trait Store {
    #[traced(ignore)]
    fn key(&self) -> u8;

    fn describe(&self) -> u8 {
        self.key()
    }
}

struct Memory;

impl Store for Memory {
    fn key(&self) -> u8 {
        1
    }
}

fn main() {
    assert_eq!(Memory.describe(), 1);
}
