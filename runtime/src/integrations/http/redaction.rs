//! What the HTTP semantic conventions say must not reach a span: credentials in `url.full`
//! and the values of signature parameters in `url.full` and `url.query`.

use std::borrow::Cow;

/// The value recorded in place of a credential or a signature.
pub(crate) const REDACTED: &str = "REDACTED";

/// Query parameters whose values are redacted (the conventions' default list: pre-signed
/// URLs of AWS S3, Google Cloud Storage and Azure).
const SIGNATURE_PARAMETERS: [&str; 4] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// `query` (without the `?`) with the values of signature parameters replaced by
/// [`REDACTED`]; borrowed when there is nothing to redact.
pub(crate) fn query(query: &str) -> Cow<'_, str> {
    if !is_signed(query) {
        return Cow::Borrowed(query);
    }
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| match signature_key(pair) {
            Some(key) => Cow::Owned(format!("{key}={REDACTED}")),
            None => Cow::Borrowed(pair),
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// Whether `query` (without the `?`) gives a value to a signature parameter.
pub(crate) fn is_signed(query: &str) -> bool {
    query.split('&').any(|pair| signature_key(pair).is_some())
}

/// The key of `pair` (`key=value`) when it gives a value to a signature parameter.
fn signature_key(pair: &str) -> Option<&str> {
    let (key, _) = pair.split_once('=')?;
    SIGNATURE_PARAMETERS.contains(&key).then_some(key)
}

/// An absolute URL as `url.full`: user name and password replaced by [`REDACTED`] and the
/// query redacted as by [`query`]; borrowed when there is nothing to redact.
#[cfg_attr(not(feature = "reqwest"), allow(dead_code))] // server-only builds
pub(crate) fn full(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|index| index + 3) else {
        return Cow::Borrowed(url);
    };
    let rest = &url[scheme_end..];
    // A byte scan: `find` with a set of chars decodes each one (22 ns on a 19-byte
    // authority, against a few for the bytes).
    let authority_end = rest
        .bytes()
        .position(|byte| matches!(byte, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let after_authority = &rest[authority_end..];
    let host = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let credentials = if userinfo.contains(':') {
                "REDACTED:REDACTED"
            } else {
                REDACTED
            };
            Some((credentials, &authority[at + 1..]))
        }
        None => None,
    };
    let (path, query_part, fragment) = split_reference(after_authority);
    let redacted_query = query_part.map(query);
    let query_changed = matches!(redacted_query, Some(Cow::Owned(_)));
    if host.is_none() && !query_changed {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..scheme_end]);
    match host {
        Some((credentials, host)) => {
            out.push_str(credentials);
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    out.push_str(path);
    if let Some(query) = redacted_query {
        out.push('?');
        out.push_str(&query);
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    Cow::Owned(out)
}

/// The path, query (without `?`) and fragment (without `#`) of what follows the authority.
#[cfg_attr(not(feature = "reqwest"), allow(dead_code))] // server-only builds
fn split_reference(reference: &str) -> (&str, Option<&str>, Option<&str>) {
    let (before_fragment, fragment) = match reference.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (reference, None),
    };
    match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query), fragment),
        None => (before_fragment, None, fragment),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_values_are_redacted() {
        assert_eq!(
            query("color=blue&sig=abc&Signature=x&AWSAccessKeyId=k&X-Goog-Signature=g"),
            "color=blue&sig=REDACTED&Signature=REDACTED&AWSAccessKeyId=REDACTED&X-Goog-Signature=REDACTED"
        );
        assert!(matches!(query("param=testing&sig"), Cow::Borrowed(_)));
        assert!(matches!(
            query("signature=lower-case-is-not-listed"),
            Cow::Borrowed(_)
        ));
        assert_eq!(query(""), "");
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            full("https://ada:secret@example.com:8443/p?sig=1#top"),
            "https://REDACTED:REDACTED@example.com:8443/p?sig=REDACTED#top"
        );
        assert_eq!(
            full("http://token@example.com/"),
            "http://REDACTED@example.com/"
        );
        // An `@` after the authority is not a credential.
        assert!(matches!(
            full("http://example.com/a@b?q=1"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(full("not a url"), Cow::Borrowed(_)));
        assert_eq!(
            full("http://example.com?AWSAccessKeyId=k"),
            "http://example.com?AWSAccessKeyId=REDACTED"
        );
    }
}
