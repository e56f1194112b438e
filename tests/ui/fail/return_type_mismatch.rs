use traced::traced;

#[traced]
fn answer() -> u32 {
    "forty-two"
}

#[traced]
fn early(flag: bool) -> u32 {
    if flag {
        return "zero";
    }
    1
}

fn main() {}
