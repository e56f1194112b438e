// A sync fn may return a `&mut` borrowed from a `&mut` parameter (the body runs in an
// `FnOnce` closure).
use traced::traced;

struct Counter {
    value: u32,
}

impl Counter {
    #[traced]
    fn value_mut(&mut self) -> &mut u32 {
        &mut self.value
    }
}

#[traced]
fn first_mut(values: &mut [u32]) -> &mut u32 {
    &mut values[0]
}

fn main() {
    let mut counter = Counter { value: 1 };
    *counter.value_mut() += 1;
    assert_eq!(counter.value, 2);
    let mut values = [1, 2];
    *first_mut(&mut values) = 5;
    assert_eq!(values, [5, 2]);
}
