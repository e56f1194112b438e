use traced::traced;

struct Catalog {
    items: Vec<String>,
}

impl Catalog {
    #[traced]
    async fn first(&self) -> &str {
        &self.items[0]
    }

    #[traced(ret)]
    async fn first_of<'a>(&self, other: &'a [String]) -> &'a str {
        let _ = self;
        &other[0]
    }
}

#[traced(ret)]
async fn longest(words: &[String]) -> &str {
    words
        .iter()
        .max_by_key(|word| word.len())
        .map_or("", String::as_str)
}

fn main() {
    let catalog = Catalog {
        items: vec!["apple".to_owned()],
    };
    assert_eq!(futures::executor::block_on(catalog.first()), "apple");
    let others = ["pear".to_owned(), "banana".to_owned()];
    assert_eq!(
        futures::executor::block_on(catalog.first_of(&others)),
        "pear"
    );
    assert_eq!(futures::executor::block_on(longest(&others)), "banana");
}
