use traced::traced;

#[traced]
async fn parse(input: &str) -> u32 {
    let length: u32 = input.len();
    length
}

fn main() {}
