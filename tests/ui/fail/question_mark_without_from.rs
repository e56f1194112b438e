use traced::traced;

#[derive(Debug)]
struct AppError;

#[traced]
fn parse(input: &str) -> Result<u32, AppError> {
    let value = input.parse::<u32>()?;
    Ok(value)
}

fn main() {}
