use traced::traced;

#[traced(fields("http.request.method" = "GET", url.path = path.trim_start_matches('/'), a.b = 1 + 1))]
fn get(path: &str) -> usize {
    path.len()
}

fn main() {
    assert_eq!(get("/index.html"), 11);
}
