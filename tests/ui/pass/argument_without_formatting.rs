use traced::traced;

struct Opaque {
    value: u32,
}

#[traced(ret, fields(extra = Opaque { value: 1 }))]
fn unwrap(opaque: Opaque) -> Opaque {
    Opaque {
        value: opaque.value + 1,
    }
}

#[traced]
fn by_reference(opaque: &Opaque) -> Result<Opaque, Opaque> {
    Err(Opaque {
        value: opaque.value,
    })
}

fn main() {
    assert_eq!(unwrap(Opaque { value: 1 }).value, 2);
    assert!(by_reference(&Opaque { value: 3 }).is_err());
}
