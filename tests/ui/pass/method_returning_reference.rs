use traced::traced;

struct User {
    name: String,
}

impl User {
    #[traced]
    fn name(&self) -> &str {
        &self.name
    }

    #[traced(ret)]
    fn longer<'a>(&'a self, other: &'a str) -> &'a str {
        if other.len() > self.name.len() {
            other
        } else {
            &self.name
        }
    }
}

#[traced]
fn first_word(text: &str) -> &str {
    text.split(' ').next().unwrap_or("")
}

fn main() {
    let user = User {
        name: "ada".to_owned(),
    };
    assert_eq!(user.name(), "ada");
    assert_eq!(user.longer("grace"), "grace");
    assert_eq!(first_word("hello world"), "hello");
}
