use traced::traced;

#[derive(Debug)]
struct Database;

#[traced(
    name = "load user",
    kind = client,
    skip(db),
    fields(user.tier = "gold", "request.id" = 7),
    ret,
    err = true,
    crate = traced
)]
fn load_user(db: &Database, id: u64) -> Result<String, std::io::Error> {
    let _ = db;
    Ok(format!("user-{id}"))
}

#[traced(name = "quiet", kind = server, skip_all, err = false)]
fn quiet(secret: &str) -> Result<(), std::io::Error> {
    let _ = secret;
    Ok(())
}

#[traced(kind = internal)]
fn internal() {}

#[traced(kind = producer, fields(queue = "jobs"))]
fn produce() {}

#[traced(kind = consumer, ret)]
fn consume() -> u8 {
    1
}

#[traced()]
fn empty_arguments() {}

// A trailing comma is accepted (kept out of rustfmt's reach, which would remove it).
#[rustfmt::skip]
#[traced(ret,)]
fn trailing_comma() -> u8 {
    2
}

fn main() {
    assert_eq!(load_user(&Database, 7).unwrap(), "user-7");
    quiet("hunter2").unwrap();
    internal();
    produce();
    assert_eq!(consume(), 1);
    empty_arguments();
    assert_eq!(trailing_comma(), 2);
}
