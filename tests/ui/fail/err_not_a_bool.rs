use traced::traced;

#[traced(err = "no")]
fn handler() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
