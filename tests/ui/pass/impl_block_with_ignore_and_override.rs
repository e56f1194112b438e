// Members of an instrumented impl block opt out with `#[traced(ignore)]` or override the
// block's arguments with their own.
use traced::traced;

struct Cart {
    items: Vec<u32>,
}

#[traced(kind = server, skip(secret), ret)]
impl Cart {
    fn total(&self, discount: u32) -> u32 {
        self.items.iter().sum::<u32>() - discount
    }

    #[traced(name = "cart.sync", kind = client, skip_all)]
    fn sync(&self, secret: &str) -> usize {
        secret.len() + self.items.len()
    }

    #[traced(ignore)]
    fn len(&self) -> usize {
        self.items.len()
    }

    #[traced(ignore)]
    const fn capacity() -> usize {
        16
    }

    fn checkout(&mut self, secret: &str) -> Result<usize, std::fmt::Error> {
        self.items.clear();
        Ok(secret.len())
    }
}

fn main() {
    let mut cart = Cart { items: vec![3, 4] };
    assert_eq!(cart.total(1), 6);
    assert_eq!(cart.sync("pin"), 5);
    assert_eq!(cart.len(), 2);
    const CAPACITY: usize = Cart::capacity();
    assert_eq!(CAPACITY, 16);
    assert_eq!(cart.checkout("pin"), Ok(3));
}
