use traced::traced;

#[traced]
fn handler(value: u32) -> u32 {
    let doubled = value * ;
    doubled
}

fn main() {}
