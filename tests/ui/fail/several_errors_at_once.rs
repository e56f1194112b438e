use traced::traced;

#[traced(nmae = "x", kind = sever, ret = true, skip(missing), name = 5, err = "no")]
fn handler(present: u32) -> Result<u32, std::io::Error> {
    Ok(present)
}

fn main() {}
