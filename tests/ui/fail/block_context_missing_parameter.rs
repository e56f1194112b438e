// A block-level `context = headers` names a parameter every method must have.
use std::collections::HashMap;

use traced::traced;

struct Consumer;

#[traced(context = headers)]
impl Consumer {
    fn handle(&self, headers: &HashMap<String, String>) {}
    fn flush(&self) {}
}

fn main() {}
