//! The span name: given, `Prefix::method`, derived from the method's path, or the fn name.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::args::Args;
use crate::function::Function;

/// How the span of one function is named.
pub(crate) enum SpanName {
    /// A fixed name.
    Static(String),
    /// A `format!` template over the arguments (`"GET /users/{id}"`): the template names the
    /// span when it starts (so samplers see a low-cardinality name) and the formatted text
    /// replaces it for a recording span.
    Template(LitStr),
    /// `Type::method`, derived at run time from the method's path (a method whose impl
    /// block the attribute cannot see).
    FromPath,
}

impl SpanName {
    /// The name for `function` under `args`; `prefix` is the enclosing type or trait when the
    /// attribute was put on the whole block.
    pub(crate) fn resolve(args: &Args, function: &Function, block_prefix: Option<&str>) -> Self {
        if let Some(name) = &args.name {
            return if has_placeholders(&name.value()) {
                SpanName::Template(name.clone())
            } else {
                SpanName::Static(name.value())
            };
        }
        let fn_name = unraw(&function.sig.ident.to_string());
        let prefix = args.prefix.as_ref().map(LitStr::value);
        match prefix.as_deref().or(block_prefix) {
            Some("") => SpanName::Static(fn_name),
            Some(prefix) => SpanName::Static(format!("{prefix}::{fn_name}")),
            None if function.sig.receiver().is_some() => SpanName::FromPath,
            None => SpanName::Static(fn_name),
        }
    }

    /// The name given to the span when it starts (a template unformatted).
    pub(crate) fn initial(&self) -> Option<TokenStream> {
        match self {
            SpanName::Static(name) => Some(quote!(#name)),
            SpanName::Template(template) => Some(quote!(#template)),
            SpanName::FromPath => None,
        }
    }
}

/// `r#type` is named `type`.
pub(crate) fn unraw(ident: &str) -> String {
    ident.strip_prefix("r#").unwrap_or(ident).to_owned()
}

/// Whether a name has `{..}` placeholders (`{{` and `}}` are escaped braces).
fn has_placeholders(name: &str) -> bool {
    name.replace("{{", "").replace("}}", "").contains('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_braces_are_not_placeholders() {
        assert!(has_placeholders("GET /users/{id}"));
        assert!(!has_placeholders("literal {{braces}}"));
        assert!(!has_placeholders("plain"));
    }
}
