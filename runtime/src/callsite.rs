//! Per-function static metadata: one `static` per `#[traced]` function.

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
    /// The span name.
    pub name: &'static str,
    /// The span kind.
    pub kind: SpanKind,
    /// `file!()` of the function.
    pub file: &'static str,
    /// `line!()` of the function.
    pub line: u32,
    /// The type name of a marker fn item nested in the function, whose path is the function's
    /// fully qualified path plus [`MARKER_SUFFIX`]. A fn pointer rather than a string because
    /// `type_name` is not `const`; it is only called for recording spans.
    pub marker_type_name: fn() -> &'static str,
}

/// The name of the marker fn item the macro nests in every instrumented function.
pub(crate) const MARKER_SUFFIX: &str = "::__traced_function";

impl CallSite {
    /// The fully qualified function path, e.g. `shop::cart::Cart::checkout` or
    /// `<shop::Db as shop::Store>::get`.
    pub fn qualified_name(&self) -> &'static str {
        let marker = (self.marker_type_name)();
        marker.strip_suffix(MARKER_SUFFIX).unwrap_or(marker)
    }

    /// The builder of a span for this function, with its static attributes.
    pub(crate) fn span_builder(&self) -> SpanBuilder {
        SpanBuilder::from_name(self.name)
            .with_kind(self.kind.clone())
            .with_attributes([
                KeyValue::new(CODE_FUNCTION_NAME, self.qualified_name()),
                KeyValue::new(CODE_FILE_PATH, self.file),
                KeyValue::new(CODE_LINE_NUMBER, i64::from(self.line)),
            ])
    }
}

/// The type name of a value's type; the macro applies it to its marker fn item.
#[doc(hidden)]
#[inline]
pub fn type_name_of<T>(_: T) -> &'static str {
    std::any::type_name::<T>()
}
