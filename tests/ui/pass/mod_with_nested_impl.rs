// `#[traced]` on an inline module instruments its functions and the methods of its impl
// blocks, nested modules included.
use traced::traced;

#[traced(kind = consumer)]
mod jobs {
    pub(crate) struct Worker {
        pub(crate) id: u32,
    }

    impl Worker {
        pub(crate) fn step(&self, amount: u32) -> u32 {
            self.id + amount
        }

        #[traced(ignore)]
        pub(crate) fn id(&self) -> u32 {
            self.id
        }
    }

    pub(crate) fn run(batch: u32) -> u32 {
        Worker { id: 1 }.step(batch)
    }

    pub(crate) mod nested {
        pub(crate) fn helper(value: u32) -> u32 {
            value * 2
        }
    }
}

fn main() {
    assert_eq!(jobs::run(2), 3);
    assert_eq!(jobs::Worker { id: 4 }.id(), 4);
    assert_eq!(jobs::nested::helper(3), 6);
}
