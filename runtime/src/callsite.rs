//! Per-function static metadata: one `static` per `#[traced]` function.

use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanBuilder, SpanKind};
use opentelemetry_semantic_conventions::attribute::{
    CODE_FILE_PATH, CODE_FUNCTION_NAME, CODE_LINE_NUMBER,
};

/// What `#[traced]` knows about a function at compile time. The macro emits one `static`
/// of this per instrumented function, so a call pays for none of it.
#[doc(hidden)]
#[derive(Debug)]
pub struct CallSite {
    /// The span name, or `None` to derive `Type::method` from the function's path.
    name: Option<&'static str>,
    kind: SpanKind,
    file: &'static str,
    line: u32,
    /// The type name of a marker fn item nested in the function, whose path is the function's
    /// fully qualified path plus [`MARKER_SUFFIX`]. A fn pointer rather than a string because
    /// `type_name` is not `const`; it is only called when a span starts.
    marker_type_name: fn() -> &'static str,
    /// The derived name, computed once.
    derived_name: OnceLock<&'static str>,
    /// The `code.*` attributes, built once: every span refers to them or clones them cheaply.
    code_attributes: OnceLock<CodeAttributes>,
}

/// How many `code.*` attributes every span of a call site has.
pub(crate) const CODE_ATTRIBUTES: usize = 3;

/// A call site's `code.*` attributes, the same in every span it starts, and their OTLP
/// protobuf and JSON, written once for all those spans.
#[derive(Debug)]
pub(crate) struct CodeAttributes {
    attributes: [KeyValue; CODE_ATTRIBUTES],
    /// The attributes as each span's protobuf holds them, made by the first export that
    /// writes one: written anew for every span, they were a sixth of the OTLP export
    /// thread's time a `#[traced]` span.
    #[cfg(feature = "otlp")]
    span_protobuf: OnceLock<Box<[u8]>>,
    /// The same in JSON.
    #[cfg(feature = "otlp")]
    span_json: OnceLock<Box<[u8]>>,
}

impl CodeAttributes {
    /// Shares `attributes` between a call site's spans.
    pub(crate) fn new(attributes: [KeyValue; CODE_ATTRIBUTES]) -> Self {
        Self {
            attributes,
            #[cfg(feature = "otlp")]
            span_protobuf: OnceLock::new(),
            #[cfg(feature = "otlp")]
            span_json: OnceLock::new(),
        }
    }

    /// The attributes.
    pub(crate) fn attributes(&self) -> &[KeyValue; CODE_ATTRIBUTES] {
        &self.attributes
    }

    /// The attributes as a span's OTLP protobuf holds them: `encode` makes those bytes, the
    /// first time only (always given the same encoder: the one the OTLP exporter writes
    /// spans with).
    #[cfg(feature = "otlp")]
    pub(crate) fn span_protobuf(&self, encode: impl FnOnce(&[KeyValue]) -> Vec<u8>) -> &[u8] {
        self.span_protobuf
            .get_or_init(|| encode(&self.attributes).into_boxed_slice())
    }

    /// The attributes as a span's OTLP JSON holds them, made by `encode` the first time
    /// only, as [`Self::span_protobuf`].
    #[cfg(feature = "otlp")]
    pub(crate) fn span_json(&self, encode: impl FnOnce(&[KeyValue]) -> Vec<u8>) -> &[u8] {
        self.span_json
            .get_or_init(|| encode(&self.attributes).into_boxed_slice())
    }
}

/// The name of the marker fn item the macro nests in every instrumented function.
pub(crate) const MARKER_SUFFIX: &str = "::__traced_function";

impl CallSite {
    /// A call site with a fixed span name.
    pub const fn new(
        name: &'static str,
        kind: SpanKind,
        file: &'static str,
        line: u32,
        marker_type_name: fn() -> &'static str,
    ) -> Self {
        Self::named(Some(name), kind, file, line, marker_type_name)
    }

    /// A method's call site, named `Type::method` from its path.
    pub const fn method(
        kind: SpanKind,
        file: &'static str,
        line: u32,
        marker_type_name: fn() -> &'static str,
    ) -> Self {
        Self::named(None, kind, file, line, marker_type_name)
    }

    const fn named(
        name: Option<&'static str>,
        kind: SpanKind,
        file: &'static str,
        line: u32,
        marker_type_name: fn() -> &'static str,
    ) -> Self {
        Self {
            name,
            kind,
            file,
            line,
            marker_type_name,
            derived_name: OnceLock::new(),
            code_attributes: OnceLock::new(),
        }
    }

    /// The fully qualified function path, e.g. `shop::cart::Cart::checkout` or
    /// `<shop::Db as shop::Store>::get`.
    pub fn qualified_name(&self) -> &'static str {
        let marker = (self.marker_type_name)();
        marker.strip_suffix(MARKER_SUFFIX).unwrap_or(marker)
    }

    /// The span name.
    pub fn name(&self) -> &'static str {
        match self.name {
            Some(name) => name,
            None => self
                .derived_name
                .get_or_init(|| type_and_method(self.qualified_name())),
        }
    }

    /// The span kind.
    pub(crate) fn kind(&self) -> &SpanKind {
        &self.kind
    }

    /// `code.function.name`, `code.file.path` and `code.line.number`. Their values are
    /// `&'static str` and integers, so cloning them allocates nothing.
    pub(crate) fn code_attributes(&self) -> &CodeAttributes {
        self.code_attributes.get_or_init(|| {
            CodeAttributes::new([
                KeyValue::new(CODE_FUNCTION_NAME, self.qualified_name()),
                KeyValue::new(CODE_FILE_PATH, self.file),
                KeyValue::new(CODE_LINE_NUMBER, i64::from(self.line)),
            ])
        })
    }

    /// The builder of a span for this function, with its static attributes.
    pub(crate) fn span_builder(&self) -> SpanBuilder {
        SpanBuilder::from_name(self.name())
            .with_kind(self.kind.clone())
            .with_attributes(self.code_attributes().attributes().clone())
    }
}

/// `Cart::total` from `shop::Cart::total`, `<shop::Cart as shop::Store>::get` or
/// `shop::Wrapper<T>::get`: the type's own name (no path, no generics) and the method.
fn type_and_method(path: &'static str) -> &'static str {
    let Some((owner, method)) = path.rsplit_once("::") else {
        return path;
    };
    // `<Type as Trait>`: the type is what comes before ` as `.
    let owner = match owner
        .strip_prefix('<')
        .and_then(|inner| inner.split_once(" as "))
    {
        Some((ty, _)) => ty,
        None => owner,
    };
    // Drop generic arguments, then the path.
    let owner = owner.split('<').next().unwrap_or(owner);
    let type_name = owner.rsplit("::").next().unwrap_or(owner);
    if type_name.is_empty() {
        return path;
    }
    // Built once per call site (the caller caches it), so leaking it is bounded.
    Box::leak(format!("{type_name}::{method}").into_boxed_str())
}

/// The type name of a value's type; the macro applies it to its marker fn item.
#[doc(hidden)]
#[inline]
pub fn type_name_of<T>(_: T) -> &'static str {
    std::any::type_name::<T>()
}

#[cfg(test)]
mod tests {
    use super::type_and_method;

    #[test]
    fn method_names_are_type_and_method() {
        assert_eq!(type_and_method("shop::cart::Cart::total"), "Cart::total");
        assert_eq!(
            type_and_method("<shop::Cart as shop::Store>::get"),
            "Cart::get"
        );
        assert_eq!(type_and_method("shop::Wrapper<T>::get"), "Wrapper::get");
        assert_eq!(type_and_method("free"), "free");
    }
}
