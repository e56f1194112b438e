// `name` on a block nested in an instrumented module is an error too.
#[traced::traced]
mod shop {
    pub struct Cart;

    #[traced(name = "cart")]
    impl Cart {
        pub fn total(&self) -> u32 {
            0
        }
    }
}

fn main() {}
