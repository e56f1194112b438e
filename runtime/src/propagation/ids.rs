//! Hex identifiers as the propagation formats write them, parsed without panicking: every
//! function validates the characters and the length first, and rejects the all-zero id.

use opentelemetry::trace::{SpanId, TraceId};

/// Lowercase hex only (`0-9a-f`), as W3C Trace Context, B3, X-Ray and OT Trace write
/// identifiers.
pub(super) fn is_lower_hex(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| LOWER_HEX_DIGITS[usize::from(byte)] != NOT_LOWER_HEX)
}

/// Hex of either case (`0-9a-fA-F`), as Jaeger clients' `%x`/`ParseUint` accept.
fn is_any_hex(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Marks a byte that is not a lowercase hex digit in [`LOWER_HEX_DIGITS`].
const NOT_LOWER_HEX: u8 = 0x10;

/// Each byte's value as a lowercase hex digit, or [`NOT_LOWER_HEX`].
const LOWER_HEX_DIGITS: [u8; 256] = {
    let mut digits = [NOT_LOWER_HEX; 256];
    let mut value = 0;
    while value < 16 {
        let digit = if value < 10 {
            b'0' + value
        } else {
            b'a' + value - 10
        };
        digits[digit as usize] = value;
        value += 1;
    }
    digits
};

/// The value of at most 32 lowercase hex digits, checked and read in one pass, where a
/// check and then `from_str_radix` went over the digits twice, the second time guarding
/// each against overflow (every traced request reads a `traceparent`). Each digit is looked
/// up in a table and the checks are gathered into one test at the end: no branch per
/// digit.
pub(super) fn lower_hex_value(text: &str) -> Option<u128> {
    if text.is_empty() || text.len() > 32 {
        return None;
    }
    let mut value = 0_u128;
    let mut marks = 0_u8;
    for byte in text.bytes() {
        let digit = LOWER_HEX_DIGITS[usize::from(byte)];
        marks |= digit;
        value = value << 4 | u128::from(digit & 0x0f);
    }
    (marks & NOT_LOWER_HEX == 0).then_some(value)
}

/// A trace id of exactly 32 lowercase hex digits, or of 16 when `allow_64_bit` (then
/// left-padded with zeros to 128 bits). `None` for anything else, and for the all-zero id.
pub(super) fn trace_id_lower_hex(text: &str, allow_64_bit: bool) -> Option<TraceId> {
    let length_ok = text.len() == 32 || (allow_64_bit && text.len() == 16);
    if !length_ok {
        return None;
    }
    lower_hex_value(text)
        .filter(|id| *id != 0)
        .map(TraceId::from)
}

/// A span id of exactly 16 lowercase hex digits, not all zero.
pub(super) fn span_id_lower_hex(text: &str) -> Option<SpanId> {
    if text.len() != 16 {
        return None;
    }
    lower_hex_value(text)
        .and_then(|id| u64::try_from(id).ok())
        .filter(|id| *id != 0)
        .map(SpanId::from)
}

/// 1 to 32 hex digits of either case, left-padded: Jaeger's variable-length trace id. May be
/// zero (the caller decides what zero means).
pub(super) fn variable_hex_u128(text: &str) -> Option<u128> {
    if text.len() > 32 || !is_any_hex(text) {
        return None;
    }
    u128::from_str_radix(text, 16).ok()
}

/// 1 to 16 hex digits of either case, left-padded: Jaeger's variable-length span ids.
pub(super) fn variable_hex_u64(text: &str) -> Option<u64> {
    if text.len() > 16 || !is_any_hex(text) {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_ids_are_strict() {
        assert_eq!(
            trace_id_lower_hex("4bf92f3577b34da6a3ce929d0e0e4736", false),
            Some(TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736))
        );
        assert_eq!(
            trace_id_lower_hex("a3ce929d0e0e4736", true),
            Some(TraceId::from(0xa3ce_929d_0e0e_4736))
        );
        for bad in [
            "a3ce929d0e0e4736", // 16 digits where only 32 are allowed
            "4bf92f3577b34da6a3ce929d0e0e473",
            "4bf92f3577b34da6a3ce929d0e0e47366",
            "4BF92F3577B34DA6A3CE929D0E0E4736",
            "+bf92f3577b34da6a3ce929d0e0e4736",
            "4bf92f3577b34da6a3ce929d0e0e473g",
            "00000000000000000000000000000000",
            "",
        ] {
            assert_eq!(trace_id_lower_hex(bad, false), None, "{bad:?}");
        }
        assert_eq!(trace_id_lower_hex("0000000000000000", true), None);
        assert_eq!(
            span_id_lower_hex("00f067aa0ba902b7"),
            Some(SpanId::from(0x00f0_67aa_0ba9_02b7))
        );
        for bad in [
            "0000000000000000",
            "00f067aa0ba902b",
            "00F067AA0BA902B7",
            "-0f067aa0ba902b7",
        ] {
            assert_eq!(span_id_lower_hex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lower_hex_reads_as_from_str_radix_for_lowercase_digits() {
        for text in [
            "0",
            "f",
            "09af",
            "ffffffffffffffffffffffffffffffff",
            "00f067aa0ba902b7",
        ] {
            assert_eq!(
                lower_hex_value(text),
                u128::from_str_radix(text, 16).ok(),
                "{text}"
            );
        }
        for bad in ["", "A", "g", "+1", "-1", " 1", "é", &"f".repeat(33)] {
            assert_eq!(lower_hex_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn variable_width_ids_pad_and_bound() {
        assert_eq!(variable_hex_u128("123"), Some(0x123));
        assert_eq!(variable_hex_u128("ABCdef"), Some(0xab_cdef));
        assert_eq!(variable_hex_u128(&"f".repeat(33)), None);
        assert_eq!(variable_hex_u128(""), None);
        assert_eq!(variable_hex_u128("+1"), None);
        assert_eq!(variable_hex_u64("0"), Some(0));
        assert_eq!(variable_hex_u64(&"1".repeat(17)), None);
        assert_eq!(variable_hex_u64("xyz"), None);
    }
}
