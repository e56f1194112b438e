// Methods of generic impl blocks: one attribute on a method, or one on the whole block.
use std::fmt::Debug;

use traced::traced;

struct Store<T> {
    items: Vec<T>,
}

impl<T: Clone + Debug> Store<T> {
    #[traced(ret)]
    fn first(&self) -> Option<T> {
        self.items.first().cloned()
    }

    #[traced]
    fn push<U: Into<T>>(&mut self, item: U) {
        self.items.push(item.into());
    }
}

struct Pair<A, B>(A, B);

#[traced(ret)]
impl<A, B> Pair<A, B>
where
    A: Copy + Debug,
    B: Copy,
{
    fn left(&self) -> A {
        self.0
    }

    fn right(&self) -> B {
        self.1
    }
}

fn main() {
    let mut store = Store { items: vec![1_u64] };
    store.push(2_u32);
    assert_eq!(store.first(), Some(1));
    let pair = Pair(1_u8, "b");
    assert_eq!(pair.left(), 1);
    assert_eq!(pair.right(), "b");
}
