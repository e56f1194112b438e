// PENDING: accepted without any error, although `b` is named twice in `skip(..)` (a typo for
// another parameter, most likely). Expected: "duplicate `b` in `skip(..)`" on the second `b`.
// Move to `tests/ui/fail/` once the macro rejects it.
use traced::traced;

#[traced(skip(b, b))]
fn handler(a: u32, b: u32) -> u32 {
    a + b
}

fn main() {}
