// PENDING: accepted without any error. `skip()` is empty, so the `skip_all` contradiction check
// (`!self.skip.is_empty()`) does not fire, and the empty `skip()` itself is not reported.
// Expected: "`skip()` is empty" or the same contradiction error as `skip(a), skip_all`.
// Move to `tests/ui/fail/` once the macro rejects it.
use traced::traced;

#[traced(skip(), skip_all)]
fn handler(a: u32) -> u32 {
    a
}

fn main() {}
