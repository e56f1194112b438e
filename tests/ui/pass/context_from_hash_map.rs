// `context = headers` extracts the remote parent from a `&HashMap<String, String>`.
use std::collections::HashMap;

use traced::traced;

#[traced(kind = server, context = headers)]
fn handle(headers: &HashMap<String, String>, body: &str) -> usize {
    headers.len() + body.len()
}

fn main() {
    let headers = HashMap::from([("traceparent".to_owned(), "invalid".to_owned())]);
    assert_eq!(handle(&headers, "hi"), 3);
}
