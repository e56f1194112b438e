use std::collections::HashMap;

use traced::traced;

#[traced(context = headers, parent = None)]
fn handler(headers: &HashMap<String, String>) -> usize {
    headers.len()
}

fn main() {}
