use traced::traced;

#[traced]
static LIMIT: u32 = 10;

fn main() {
    let _ = LIMIT;
}
