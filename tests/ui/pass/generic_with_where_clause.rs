use std::fmt::Debug;
use std::ops::Add;

use traced::traced;

#[traced(ret)]
fn sum<T, U>(values: &[T], start: U) -> U
where
    T: Copy + Debug,
    U: Add<T, Output = U> + Debug,
{
    values.iter().fold(start, |total, value| total + *value)
}

#[traced]
fn describe<const N: usize, T: Debug>(items: [T; N]) -> String {
    format!("{N}: {items:?}")
}

fn main() {
    assert_eq!(sum(&[1, 2, 3], 10), 16);
    assert_eq!(sum(&[0.5_f64], 1.0_f64), 1.5);
    assert_eq!(describe([1, 2]), "2: [1, 2]");
}
