use std::collections::HashMap;

use traced::traced;

#[traced(context = hedaers)]
fn handler(headers: &HashMap<String, String>) -> usize {
    headers.len()
}

fn main() {}
