//! Arguments become typed attributes; `skip`, `skip_all`, `fields`, `ret`, `name`, `kind`
//! and the static `code.*` attributes.

use std::borrow::Cow;
use std::fmt;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, StringValue, Value};
use traced::testing::{attribute, capture};
use traced::traced;

fn string(text: &str) -> Value {
    Value::String(text.to_owned().into())
}

#[allow(clippy::too_many_arguments)]
#[traced]
fn integers(a: i8, b: i16, c: i32, d: i64, e: u8, f: u16, g: u32, h: isize) {}

#[traced]
fn wide(small: u64, big: u64, huge: u128, negative: i128, size: usize) {}

#[traced]
fn scalars(ratio: f64, single: f32, flag: bool, letter: char) {}

#[traced]
fn strings(borrowed: &str, owned: String, cow: Cow<'_, str>, nested: &&str) {}

#[traced]
fn optional(present: Option<i32>, absent: Option<&str>) {}

#[traced]
fn sequences(ids: &[u32], names: Vec<String>, flags: [bool; 2], ratios: Vec<f64>, wide: Vec<u64>) {}

struct Money(u64);
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.0)
    }
}

#[derive(Debug)]
#[allow(dead_code)]
struct Order {
    id: u32,
    note: String,
}

struct Opaque;

#[traced]
fn fallbacks(price: Money, order: &Order, opaque: Opaque, long: Vec<Order>) {
    let _ = opaque;
}

#[test]
fn every_integer_width_is_an_i64() {
    let ((), spans) = capture(|| integers(-8, -16, -32, -64, 8, 16, 32, -1));
    let span = spans.one("integers");
    for (key, value) in [
        ("a", -8),
        ("b", -16),
        ("c", -32),
        ("d", -64),
        ("e", 8),
        ("f", 16),
        ("g", 32),
        ("h", -1),
    ] {
        assert_eq!(attribute(span, key), Some(&Value::I64(value)), "{key}");
    }
}

#[test]
fn integers_beyond_i64_are_decimal_strings_not_wrapped() {
    let ((), spans) = capture(|| wide(7, u64::MAX, u128::MAX, i128::MIN, 9));
    let span = spans.one("wide");
    assert_eq!(attribute(span, "small"), Some(&Value::I64(7)));
    assert_eq!(
        attribute(span, "big"),
        Some(&string("18446744073709551615"))
    );
    assert_eq!(
        attribute(span, "huge"),
        Some(&string(&u128::MAX.to_string()))
    );
    assert_eq!(
        attribute(span, "negative"),
        Some(&string(&i128::MIN.to_string()))
    );
    assert_eq!(attribute(span, "size"), Some(&Value::I64(9)));
}

#[test]
fn floats_bools_and_chars_keep_their_types() {
    let ((), spans) = capture(|| scalars(0.25, 1.5, true, 'x'));
    let span = spans.one("scalars");
    assert_eq!(attribute(span, "ratio"), Some(&Value::F64(0.25)));
    assert_eq!(attribute(span, "single"), Some(&Value::F64(1.5)));
    assert_eq!(attribute(span, "flag"), Some(&Value::Bool(true)));
    assert_eq!(attribute(span, "letter"), Some(&string("x")));
}

#[test]
fn every_string_type_is_a_string() {
    let ((), spans) = capture(|| strings("a", "b".to_owned(), Cow::Borrowed("c"), &"d"));
    let span = spans.one("strings");
    for (key, value) in [
        ("borrowed", "a"),
        ("owned", "b"),
        ("cow", "c"),
        ("nested", "d"),
    ] {
        assert_eq!(attribute(span, key), Some(&string(value)), "{key}");
    }
}

/// `Display`s its text `.1` times, one piece at a time.
struct Repeated(&'static str, usize);
impl fmt::Display for Repeated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (0..self.1).try_for_each(|_| f.write_str(self.0))
    }
}

#[traced]
fn texts(a: &str, b: &str, c: String, d: &str, e: Money, f: Repeated) {}

#[test]
fn text_of_any_length_and_script_is_recorded_whole() {
    // Short text travels inside the span's record, longer text in a `String`: around the
    // boundary (22 bytes), empty, multi-byte characters across it, `Display` output short and long.
    let exactly_inline = "x".repeat(22);
    let one_more = "y".repeat(23);
    let multi_byte = "ünïcødé ☕ straddles the limit";
    let ((), spans) = capture(|| {
        texts(
            "",
            &exactly_inline,
            one_more.clone(),
            multi_byte,
            Money(u64::MAX),
            Repeated("ab", 20),
        )
    });
    let span = spans.one("texts");
    for (key, value) in [
        ("a", ""),
        ("b", exactly_inline.as_str()),
        ("c", one_more.as_str()),
        ("d", multi_byte),
        ("e", "$18446744073709551615"),
        ("f", "ab".repeat(20).as_str()),
    ] {
        assert_eq!(attribute(span, key), Some(&string(value)), "{key}");
    }
}

#[test]
fn options_record_their_value_or_nothing() {
    let ((), spans) = capture(|| optional(Some(3), None));
    let span = spans.one("optional");
    assert_eq!(attribute(span, "present"), Some(&Value::I64(3)));
    assert_eq!(attribute(span, "absent"), None);
}

#[test]
fn slices_vecs_and_arrays_are_homogeneous_arrays() {
    let ((), spans) = capture(|| {
        sequences(
            &[1, 2],
            vec!["x".into(), "y".into()],
            [true, false],
            vec![0.5],
            vec![1, u64::MAX],
        )
    });
    let span = spans.one("sequences");
    assert_eq!(
        attribute(span, "ids"),
        Some(&Value::Array(Array::I64(vec![1, 2])))
    );
    assert_eq!(
        attribute(span, "names"),
        Some(&Value::Array(Array::String(vec![
            StringValue::from("x"),
            StringValue::from("y")
        ])))
    );
    assert_eq!(
        attribute(span, "flags"),
        Some(&Value::Array(Array::Bool(vec![true, false])))
    );
    assert_eq!(
        attribute(span, "ratios"),
        Some(&Value::Array(Array::F64(vec![0.5])))
    );
    assert_eq!(
        attribute(span, "wide"),
        Some(&Value::Array(Array::String(vec![
            "1".into(),
            u64::MAX.to_string().into()
        ])))
    );
}

#[test]
fn display_then_debug_then_nothing() {
    let order = Order {
        id: 7,
        note: "gift".into(),
    };
    let long: Vec<Order> = (0..200)
        .map(|id| Order {
            id,
            note: "x".repeat(20),
        })
        .collect();
    let ((), spans) = capture(|| fallbacks(Money(5), &order, Opaque, long));
    let span = spans.one("fallbacks");
    assert_eq!(attribute(span, "price"), Some(&string("$5")));
    assert_eq!(
        attribute(span, "order"),
        Some(&string(r#"Order { id: 7, note: "gift" }"#))
    );
    assert_eq!(
        attribute(span, "opaque"),
        None,
        "a type with no formatting trait is not recorded"
    );
    let Some(Value::String(long)) = attribute(span, "long") else {
        panic!("long Debug is recorded")
    };
    assert!(
        long.as_str().ends_with('…'),
        "long Debug output is truncated: {} bytes",
        long.as_str().len()
    );
    assert!(long.as_str().len() < 1100);
}

/// Arguments are recorded as they were passed: copies of small ones, the others borrowed
/// (`__private::Capture`), whatever the body does with them afterwards.
#[traced]
fn consumed<'a, T: fmt::Display>(
    mut remaining: u32,
    digest: [u8; 64],
    buffer: &'a mut Vec<u8>,
    label: T,
    owned: String,
) -> &'a mut Vec<u8> {
    remaining -= 1;
    buffer.push(u8::try_from(remaining).unwrap_or(u8::MAX));
    buffer.push(digest[63]);
    drop((label, owned));
    buffer
}

#[test]
fn arguments_are_recorded_as_passed_whatever_the_body_does_with_them() {
    let mut buffer = vec![1_u8];
    let mut digest = [0_u8; 64];
    digest[63] = 9;
    let (returned, spans) = capture(|| consumed(5, digest, &mut buffer, 'x', "kept".into()).len());
    assert_eq!(returned, 3);
    assert_eq!(buffer, [1, 4, 9]);
    let span = spans.one("consumed");
    assert_eq!(attribute(span, "remaining"), Some(&Value::I64(5)));
    assert_eq!(
        attribute(span, "buffer"),
        Some(&Value::Array(Array::I64(vec![1])))
    );
    assert_eq!(attribute(span, "label"), Some(&string("x")));
    assert_eq!(attribute(span, "owned"), Some(&string("kept")));
    let Some(Value::Array(Array::I64(digest))) = attribute(span, "digest") else {
        panic!("a large Copy array is recorded like any array")
    };
    assert_eq!((digest.len(), digest[63]), (64, 9));
}

#[traced(skip(password), fields(user.tier = "gold", "login.attempt" = attempt + 1, masked = password.len()))]
fn login(user: &str, password: &str, attempt: u32) {}

#[traced(skip_all, fields(count = items.len()))]
fn bulk(items: &[u8], secret: &str) {
    let _ = secret;
}

#[test]
fn skip_keeps_an_argument_out_and_fields_add_computed_ones() {
    let ((), spans) = capture(|| login("ada", "hunter2", 2));
    let span = spans.one("login");
    assert_eq!(attribute(span, "user"), Some(&string("ada")));
    assert_eq!(attribute(span, "password"), None);
    assert_eq!(attribute(span, "attempt"), Some(&Value::I64(2)));
    assert_eq!(attribute(span, "user.tier"), Some(&string("gold")));
    assert_eq!(attribute(span, "login.attempt"), Some(&Value::I64(3)));
    assert_eq!(attribute(span, "masked"), Some(&Value::I64(7)));
}

#[test]
fn skip_all_records_only_fields() {
    let ((), spans) = capture(|| bulk(&[1, 2, 3], "s3cr3t"));
    let span = spans.one("bulk");
    assert_eq!(attribute(span, "items"), None);
    assert_eq!(attribute(span, "secret"), None);
    assert_eq!(attribute(span, "count"), Some(&Value::I64(3)));
}

#[traced(ret)]
fn doubled(n: i64) -> i64 {
    n * 2
}

#[traced(ret)]
fn parsed(text: &str) -> Result<u16, std::num::ParseIntError> {
    text.parse()
}

#[traced(ret)]
fn described(n: u8) -> Money {
    Money(u64::from(n))
}

#[test]
fn ret_records_the_value_or_the_ok_value_typed() {
    let (value, spans) = capture(|| doubled(21));
    assert_eq!(value, 42);
    assert_eq!(
        attribute(spans.one("doubled"), "return"),
        Some(&Value::I64(42))
    );

    let (ok, spans) = capture(|| parsed("8080"));
    assert_eq!(ok, Ok(8080));
    assert_eq!(
        attribute(spans.one("parsed"), "return"),
        Some(&Value::I64(8080))
    );

    let (err, spans) = capture(|| parsed("port"));
    assert!(err.is_err());
    assert_eq!(
        attribute(spans.one("parsed"), "return"),
        None,
        "an Err has no returned value"
    );

    let (_, spans) = capture(|| described(3));
    assert_eq!(
        attribute(spans.one("described"), "return"),
        Some(&string("$3"))
    );
}

#[test]
fn without_ret_the_value_is_not_recorded() {
    let (_, spans) = capture(|| parsed("1"));
    assert_eq!(
        attribute(spans.one("parsed"), "return"),
        Some(&Value::I64(1))
    );
    let (_, spans) = capture(|| login("a", "b", 0));
    assert_eq!(attribute(spans.one("login"), "return"), None);
}

#[traced(name = "checkout cart", kind = server)]
fn renamed() {}

#[traced(kind = client)]
fn calls_out() {}

#[traced(kind = producer)]
fn publishes() {}

#[traced(kind = consumer)]
fn consumes() {}

#[test]
fn name_and_kind_arguments() {
    let ((), spans) = capture(|| {
        renamed();
        calls_out();
        publishes();
        consumes();
    });
    assert_eq!(spans.one("checkout cart").span_kind, SpanKind::Server);
    assert_eq!(spans.one("calls_out").span_kind, SpanKind::Client);
    assert_eq!(spans.one("publishes").span_kind, SpanKind::Producer);
    assert_eq!(spans.one("consumes").span_kind, SpanKind::Consumer);
    let ((), spans) = capture(doubled_unit);
    assert_eq!(spans.one("doubled_unit").span_kind, SpanKind::Internal);
}

/// The line of `fn doubled_unit`, two below.
const DOUBLED_UNIT_LINE: u32 = line!() + 2;
#[traced]
fn doubled_unit() {}

mod shop {
    pub(crate) struct Cart;

    impl Cart {
        #[traced::traced]
        pub(crate) fn total(&self, items: u32) -> u32 {
            items * 3
        }
    }
}

#[test]
fn code_attributes_name_the_function_file_and_line() {
    let ((), spans) = capture(doubled_unit);
    let span = spans.one("doubled_unit");
    assert_eq!(
        attribute(span, "code.function.name"),
        Some(&string("attributes::doubled_unit"))
    );
    assert_eq!(attribute(span, "code.file.path"), Some(&string(file!())));
    assert_eq!(
        attribute(span, "code.line.number"),
        Some(&Value::I64(i64::from(DOUBLED_UNIT_LINE)))
    );

    let (total, spans) = capture(|| shop::Cart.total(2));
    assert_eq!(total, 6);
    let span = spans.one("Cart::total");
    assert_eq!(
        attribute(span, "code.function.name"),
        Some(&string("attributes::shop::Cart::total"))
    );
    assert_eq!(attribute(span, "items"), Some(&Value::I64(2)));
    assert_eq!(attribute(span, "self"), None, "self is never recorded");
}
