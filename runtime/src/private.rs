//! The only items `#[traced]` output calls. Not a public API: anything here may change in any
//! release, together with the macro that uses it.

pub use opentelemetry::trace::SpanKind;

pub use crate::callsite::{CallSite, type_name_of};
pub use crate::capture::{Capture, ViaBorrow, ViaCopy};
pub use crate::context::{
    Carrier, Instrumented, LinkArg, ViaExtractor, ViaExtractorRef, ViaHeaderMap, ViaHeaderMapRef,
    ViaLinkIterator, ViaLinkSource, current_context, no_links, parent_context, root_context,
};
pub use crate::outcome::{
    Outcome, ViaDebugError, ViaDisplayError, ViaDynError, ViaDynSendError, ViaNoError, ViaOkValue,
    ViaPlainValue, ViaStdError, record_return,
};
pub use crate::span::{ActiveSpan, Entered, Recorder};
pub use crate::value::{ViaAttributeValue, ViaDebug, ViaDisplay, ViaNothing, Wrap};

/// Calls `body` once. Taking `FnOnce` makes the macro's body closure `FnOnce`, so the body
/// may return a borrow of a captured `&mut` parameter.
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}
