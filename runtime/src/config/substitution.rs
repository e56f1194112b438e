//! Environment variable substitution in configuration file values, as the declarative
//! configuration specifies: `${NAME}`, `${env:NAME}`, `${NAME:-default}` (the default is
//! used when the variable is unset or empty), and `$$` for a literal `$`. An unset variable
//! without a default becomes empty. Substituted text is not substituted again.

/// Replaces every reference in `text`; the error names the malformed reference.
pub(crate) fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_and_tail) = after.strip_prefix('{') {
            let Some(close) = body_and_tail.find('}') else {
                return Err(format!("unclosed reference {:?}", &rest[dollar..]));
            };
            let body = &body_and_tail[..close];
            out.push_str(&resolve(body, lookup)?);
            rest = &body_and_tail[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn resolve(body: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let reference = body.strip_prefix("env:").unwrap_or(body);
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    if !is_name(name) {
        return Err(format!("invalid reference \"${{{body}}}\""));
    }
    let value = lookup(name).filter(|value| !value.is_empty());
    Ok(value
        .or_else(|| default.map(str::to_owned))
        .unwrap_or_default())
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<String, String> {
        let lookup = |name: &str| match name {
            "HOST" => Some("collector".to_owned()),
            "EMPTY" => Some(String::new()),
            "DOLLAR" => Some("${HOST}".to_owned()),
            _ => None,
        };
        substitute(text, &lookup)
    }

    #[test]
    fn references_are_replaced() {
        assert_eq!(
            run("http://${HOST}:4318").as_deref(),
            Ok("http://collector:4318")
        );
        assert_eq!(run("${env:HOST}").as_deref(), Ok("collector"));
        assert_eq!(run("${UNSET}").as_deref(), Ok(""));
        assert_eq!(run("${UNSET:-fallback}").as_deref(), Ok("fallback"));
        assert_eq!(run("${EMPTY:-fallback}").as_deref(), Ok("fallback"));
        assert_eq!(run("${HOST:-fallback}").as_deref(), Ok("collector"));
        assert_eq!(run("${UNSET:-}").as_deref(), Ok(""));
        assert_eq!(run("${UNSET:-a:-b}").as_deref(), Ok("a:-b"));
    }

    #[test]
    fn double_dollar_escapes_and_lone_dollars_stay() {
        assert_eq!(run("$${HOST}").as_deref(), Ok("${HOST}"));
        assert_eq!(run("$$$${HOST}").as_deref(), Ok("$${HOST}"));
        assert_eq!(run("$$${HOST}").as_deref(), Ok("$collector"));
        assert_eq!(run("cost: 5$ or $x").as_deref(), Ok("cost: 5$ or $x"));
        assert_eq!(run("end$").as_deref(), Ok("end$"));
    }

    #[test]
    fn substituted_text_is_not_substituted_again() {
        assert_eq!(run("${DOLLAR}").as_deref(), Ok("${HOST}"));
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(run("${HOST").is_err());
        assert!(run("${1ST}").is_err());
        assert!(run("${}").is_err());
        assert!(run("${A-B}").is_err());
        assert!(run("${env:}").is_err());
    }
}
