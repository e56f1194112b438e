use traced::traced;

#[traced]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|value| value % 2 == 0)
}

#[traced(ret)]
fn borrowed(values: &[u32]) -> impl Iterator<Item = &u32> + '_ {
    values.iter().rev()
}

fn main() {
    assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
    assert_eq!(borrowed(&[1, 2]).copied().collect::<Vec<_>>(), [2, 1]);
}
