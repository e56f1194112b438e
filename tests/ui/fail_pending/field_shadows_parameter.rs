// PENDING: accepted without any error. `fields(a = ..)` uses the key of the recorded parameter
// `a`, so the span gets the attribute `a` twice (one value silently wins). Expected: an error on
// the field key, e.g. "field `a` has the same key as the parameter `a`: skip(a) or rename it".
// Move to `tests/ui/fail/` once the macro rejects it.
use traced::traced;

#[traced(fields(a = 2))]
fn handler(a: u32) -> u32 {
    a
}

fn main() {}
