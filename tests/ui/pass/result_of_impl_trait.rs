// A sync fn returning `Result<impl Trait, E>` compiles, and its `Err` is still recorded.
use std::fmt::Display;

use traced::traced;

#[traced]
fn parse(input: &str) -> Result<impl Display, std::num::ParseIntError> {
    let value: u32 = input.parse()?;
    Ok(value)
}

#[traced]
fn count_to(input: &str) -> Result<impl Iterator<Item = u32>, std::num::ParseIntError> {
    Ok(0..input.parse::<u32>()?)
}

fn main() {
    assert_eq!(
        parse("7").map(|value| value.to_string()).ok().as_deref(),
        Some("7")
    );
    assert_eq!(count_to("3").map(Iterator::count).ok(), Some(3));
}
