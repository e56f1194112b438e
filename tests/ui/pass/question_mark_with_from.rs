use std::num::ParseIntError;

use traced::traced;

#[derive(Debug)]
enum AppError {
    Parse(ParseIntError),
}

impl From<ParseIntError> for AppError {
    fn from(error: ParseIntError) -> Self {
        AppError::Parse(error)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Parse(error) => write!(f, "parse: {error}"),
        }
    }
}

impl std::error::Error for AppError {}

#[traced(ret)]
fn parse(input: &str) -> Result<u32, AppError> {
    let value: u32 = input.parse()?;
    if value == 0 {
        return Ok(1);
    }
    Ok(value)
}

#[traced]
fn parse_boxed(input: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(input.parse::<u32>()?)
}

#[traced]
async fn parse_async(input: &str) -> Result<u32, AppError> {
    Ok(input.parse::<u32>()?)
}

fn main() {
    assert_eq!(parse("0").unwrap(), 1);
    assert_eq!(parse("7").unwrap(), 7);
    assert!(matches!(parse("x"), Err(AppError::Parse(_))));
    assert!(parse_boxed("x").is_err());
    assert_eq!(futures::executor::block_on(parse_async("3")).unwrap(), 3);
}
