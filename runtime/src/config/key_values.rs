//! The `key1=value1,key2=value2` lists of `OTEL_RESOURCE_ATTRIBUTES` and
//! `OTEL_EXPORTER_OTLP_HEADERS`: the W3C Baggage format without properties, keys and values
//! percent-decoded, whitespace around them trimmed.

use percent_encoding::percent_decode_str;

/// Why one entry of a list is unusable. Never holds a value: header values are secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PairError {
    /// The entry has no `=`; it is not shown, since it may be a secret.
    MissingEquals {
        /// 1-based position of the entry in the list.
        position: usize,
    },
    /// The entry's key is empty.
    EmptyKey {
        /// 1-based position of the entry in the list.
        position: usize,
    },
    /// The key does not decode: a `%` not followed by two hex digits, or not UTF-8.
    BadKey {
        /// 1-based position of the entry in the list.
        position: usize,
    },
    /// The value does not decode: a `%` not followed by two hex digits, or not UTF-8.
    BadValue {
        /// The entry's (decoded) key.
        key: String,
    },
}

impl PairError {
    /// What is wrong, naming the entry by its key when the key is readable.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::MissingEquals { position } => {
                format!("entry {position} is not key=value")
            }
            Self::EmptyKey { position } => format!("entry {position} has an empty key"),
            Self::BadKey { position } => {
                format!("the key of entry {position} is not valid percent-encoded UTF-8")
            }
            Self::BadValue { key } => {
                format!("the value of {key:?} is not valid percent-encoded UTF-8")
            }
        }
    }
}

/// Splits and decodes a list; each entry is decoded on its own, so a caller can keep the
/// good ones (headers) or drop the whole list (resource attributes). Empty entries (a
/// trailing comma) are skipped.
pub(crate) fn parse_key_values(text: &str) -> Vec<Result<(String, String), PairError>> {
    text.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .enumerate()
        .map(|(index, entry)| parse_entry(index + 1, entry))
        .collect()
}

fn parse_entry(position: usize, entry: &str) -> Result<(String, String), PairError> {
    let Some((key, value)) = entry.split_once('=') else {
        return Err(PairError::MissingEquals { position });
    };
    let key = percent_decode(key.trim()).ok_or(PairError::BadKey { position })?;
    if key.is_empty() {
        return Err(PairError::EmptyKey { position });
    }
    let value =
        percent_decode(value.trim()).ok_or_else(|| PairError::BadValue { key: key.clone() })?;
    Ok((key, value))
}

/// Percent-decodes `text`, or `None` when a `%` is not followed by two hex digits or the
/// decoded bytes are not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(index, byte)| {
        *byte != b'%'
            || (bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(key: &str, value: &str) -> Result<(String, String), PairError> {
        Ok((key.to_owned(), value.to_owned()))
    }

    #[test]
    fn entries_are_trimmed_and_percent_decoded() {
        assert_eq!(
            parse_key_values(" a = 1 ,b=x%2Cy%3Dz, c%20d=%E2%9C%93 ,,"),
            vec![ok("a", "1"), ok("b", "x,y=z"), ok("c d", "\u{2713}")]
        );
    }

    #[test]
    fn an_empty_value_is_allowed_and_only_the_first_equals_splits() {
        assert_eq!(
            parse_key_values("k=,e=a=b"),
            vec![ok("k", ""), ok("e", "a=b")]
        );
    }

    #[test]
    fn malformed_entries_are_reported_without_their_values() {
        let parsed = parse_key_values("secret-token,=v,k%zz=v,auth=%zz,u=%FF");
        assert_eq!(
            parsed,
            vec![
                Err(PairError::MissingEquals { position: 1 }),
                Err(PairError::EmptyKey { position: 2 }),
                Err(PairError::BadKey { position: 3 }),
                Err(PairError::BadValue {
                    key: "auth".to_owned()
                }),
                Err(PairError::BadValue {
                    key: "u".to_owned()
                }),
            ]
        );
        for error in parsed.iter().filter_map(|entry| entry.as_ref().err()) {
            assert!(!error.describe().contains("secret-token"));
        }
    }

    #[test]
    fn percent_escapes_must_be_complete() {
        assert_eq!(percent_decode("100%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%41%42").as_deref(), Some("AB"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
    }
}
