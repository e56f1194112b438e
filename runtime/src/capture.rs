//! How a `#[traced]` function's arguments reach its span: copied when they fit in a register
//! or two ([`Small`]: numbers, `bool`, `char`, references), borrowed otherwise, and only once
//! a provider is installed.
//!
//! A closure that records the arguments through references takes their addresses, and an
//! address that escapes (into the out-of-line start of a span) makes the compiler keep the
//! argument in memory for the whole call: every call then stores its arguments on entry
//! and the body reads them back, even when nothing is installed and the closure never runs
//! (one store-to-load hop more than the same function uninstrumented, `objdump`). Copies
//! taken in the branch that starts a span leave the arguments in registers everywhere else.
//! Larger values are passed in memory anyway, and are borrowed: a copy of a large `Copy`
//! array would grow every call's stack frame by its size, used or not.
//!
//! Chosen by autoref specialisation, like the [`crate::value`] conversions: a generic type
//! not known to be [`Small`] is borrowed.

use std::time::Duration;

/// The argument types copied for the span: those passed in registers.
#[doc(hidden)]
pub trait Small: Copy {}

macro_rules! small {
    ($($ty:ty),* $(,)?) => {$(impl Small for $ty {})*};
}
small!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char
);
small!(Duration);
impl<T: ?Sized> Small for &T {}
impl<T: Small> Small for Option<T> {}

/// An argument, before it is captured. `(&&Capture(&arg)).__traced_capture()` copies it or
/// borrows it.
#[doc(hidden)]
#[derive(Debug)]
pub struct Capture<'a, T>(pub &'a T);

/// An argument copied for the span.
#[doc(hidden)]
#[derive(Debug)]
pub struct Copied<T>(T);

impl<T> Copied<T> {
    /// The copy.
    #[inline(always)]
    pub fn get(&self) -> &T {
        &self.0
    }
}

/// An argument borrowed for the span.
#[doc(hidden)]
#[derive(Debug)]
pub struct Borrowed<'a, T>(&'a T);

impl<'a, T> Borrowed<'a, T> {
    /// The argument.
    #[inline(always)]
    pub fn get(&self) -> &'a T {
        self.0
    }
}

/// First choice: a copy, for [`Small`] types.
#[doc(hidden)]
pub trait ViaCopy {
    type Held;
    fn __traced_capture(&self) -> Self::Held;
}

impl<T: Small> ViaCopy for &Capture<'_, T> {
    type Held = Copied<T>;
    #[inline(always)]
    fn __traced_capture(&self) -> Copied<T> {
        Copied(*self.0)
    }
}

/// Otherwise a reference.
#[doc(hidden)]
pub trait ViaBorrow {
    type Held;
    fn __traced_capture(&self) -> Self::Held;
}

impl<'a, T> ViaBorrow for Capture<'a, T> {
    type Held = Borrowed<'a, T>;
    #[inline(always)]
    fn __traced_capture(&self) -> Borrowed<'a, T> {
        Borrowed(self.0)
    }
}

#[cfg(test)]
// The borrows choose the implementation, as in the macro's output.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[test]
    fn small_types_are_copied_and_others_borrowed() {
        let number = 7_u64;
        let name = "seven";
        let text = String::from("seven");
        let digest = [7_u8; 64];
        let copied: Copied<u64> = (&&Capture(&number)).__traced_capture();
        let reference: Copied<&str> = (&&Capture(&name)).__traced_capture();
        let borrowed: Borrowed<'_, String> = (&&Capture(&text)).__traced_capture();
        let array: Borrowed<'_, [u8; 64]> = (&&Capture(&digest)).__traced_capture();
        assert_eq!((*copied.get(), *reference.get()), (7, "seven"));
        assert!(std::ptr::eq(borrowed.get(), &text));
        assert!(
            std::ptr::eq(array.get(), &digest),
            "a large Copy array is borrowed"
        );
    }

    #[test]
    fn a_generic_type_not_known_to_be_small_is_borrowed() {
        fn capture<T: Copy>(value: &T) -> bool {
            let held: Borrowed<'_, T> = (&&Capture(value)).__traced_capture();
            std::ptr::eq(held.get(), value)
        }
        assert!(capture(&3_u8));
    }
}
