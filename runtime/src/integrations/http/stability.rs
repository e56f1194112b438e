//! `OTEL_SEMCONV_STABILITY_OPT_IN`: with `http/dup` the HTTP integrations record the
//! pre-1.21 attribute names beside the stable ones, for dashboards that still query them.

use std::sync::OnceLock;

use opentelemetry::KeyValue;

use super::headers::Side;

/// The variable: a comma list of categories (`http`, `http/dup`, ...).
pub(crate) const OTEL_SEMCONV_STABILITY_OPT_IN: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";

/// Which HTTP attribute names to emit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum HttpNames {
    /// The stable names only (the default, and `http`).
    #[default]
    Stable,
    /// The stable names and the old ones (`http/dup`).
    Duplicate,
}

impl HttpNames {
    /// The choice `value` (the variable's value) makes.
    pub(crate) fn parse(value: &str) -> Self {
        if value.split(',').any(|item| item.trim() == "http/dup") {
            Self::Duplicate
        } else {
            Self::Stable
        }
    }

    /// The process's choice, read from the environment once.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))] // the server reads it by lookup
    pub(crate) fn from_env() -> Self {
        static NAMES: OnceLock<HttpNames> = OnceLock::new();
        *NAMES.get_or_init(|| {
            std::env::var(OTEL_SEMCONV_STABILITY_OPT_IN)
                .map(|value| Self::parse(&value))
                .unwrap_or_default()
        })
    }

    /// With `http/dup`, appends the old-name twin of every stable attribute in `attributes`
    /// that has one (`http.request.method` → `http.method`, ...).
    /// `side` decides the old names of `server.*` (`net.host.*` on a server, `net.peer.*` on
    /// a client).
    pub(crate) fn add_old_names(self, side: Side, attributes: &mut Vec<KeyValue>) {
        if self == Self::Stable {
            return;
        }
        let query = attributes
            .iter()
            .find(|kv| kv.key.as_str() == "url.query")
            .map(|kv| kv.value.as_str().into_owned());
        let old: Vec<KeyValue> = attributes
            .iter()
            .filter_map(|kv| {
                let name = old_name(side, kv.key.as_str())?;
                // The old `http.target` is the path and the query.
                let value = match (&query, kv.key.as_str()) {
                    (Some(query), "url.path") => format!("{}?{query}", kv.value.as_str()).into(),
                    _ => kv.value.clone(),
                };
                Some(KeyValue::new(name, value))
            })
            .collect();
        attributes.extend(old);
    }
}

/// The pre-1.21 name of a stable HTTP attribute on `side`.
fn old_name(side: Side, stable: &str) -> Option<&'static str> {
    Some(match (side, stable) {
        (Side::Server, "server.address") => "net.host.name",
        (Side::Server, "server.port") => "net.host.port",
        (Side::Client, "server.address") => "net.peer.name",
        (Side::Client, "server.port") => "net.peer.port",
        (_, stable) => return old_common_name(stable),
    })
}

/// The pre-1.21 name of a stable HTTP attribute named the same on both sides.
fn old_common_name(stable: &str) -> Option<&'static str> {
    Some(match stable {
        "http.request.method" => "http.method",
        "http.response.status_code" => "http.status_code",
        "url.full" => "http.url",
        "url.scheme" => "http.scheme",
        "url.path" => "http.target",
        "client.address" => "net.sock.peer.addr",
        "client.port" => "net.sock.peer.port",
        "network.protocol.version" => "http.flavor",
        "user_agent.original" => "http.user_agent",
        "http.request.body.size" => "http.request_content_length",
        "http.response.body.size" => "http.response_content_length",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dup_is_one_item_of_the_list() {
        assert_eq!(HttpNames::parse("database, http/dup"), HttpNames::Duplicate);
        assert_eq!(HttpNames::parse("http"), HttpNames::Stable);
        assert_eq!(HttpNames::parse("http/dupe"), HttpNames::Stable);
    }

    #[test]
    fn old_names_are_added_with_the_same_values() {
        let mut attributes = vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("http.route", "/x"),
        ];
        attributes.push(KeyValue::new("server.port", 8082_i64));
        HttpNames::Duplicate.add_old_names(Side::Client, &mut attributes);
        assert!(attributes.contains(&KeyValue::new("http.method", "GET")));
        assert!(attributes.contains(&KeyValue::new("http.status_code", 200_i64)));
        assert!(attributes.contains(&KeyValue::new("net.peer.port", 8082_i64)));
        assert_eq!(attributes.len(), 7);
        let mut target = vec![
            KeyValue::new("url.path", "/a"),
            KeyValue::new("url.query", "q=1"),
        ];
        HttpNames::Duplicate.add_old_names(Side::Server, &mut target);
        assert!(target.contains(&KeyValue::new("http.target", "/a?q=1")));
        let mut stable = vec![KeyValue::new("http.request.method", "GET")];
        HttpNames::Stable.add_old_names(Side::Server, &mut stable);
        assert_eq!(stable.len(), 1);
    }
}
