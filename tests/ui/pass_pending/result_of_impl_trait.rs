// PENDING: a sync fn returning `Result<impl Trait, E>` (or any `impl Trait` nested in a `Result`)
// does not compile: "the trait bound `ParseIntError: Deref` is not satisfied", spanned on
// `#[traced]`. The closure's return type cannot be annotated (it holds `impl Trait`), so it is
// still an inference variable when the autoref dispatch on `Outcome` runs, which then picks the
// `ViaDynSendError` impl. Move back to `tests/ui/pass/` once fixed.
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
    assert_eq!(parse("7").map(|value| value.to_string()).ok().as_deref(), Some("7"));
    assert_eq!(count_to("3").map(Iterator::count).ok(), Some(3));
}
