use std::future::Future;

use traced::traced;

#[traced]
fn parse(input: String) -> impl Future<Output = u32> {
    async move {
        let length: u32 = input.len();
        length
    }
}

fn main() {}
