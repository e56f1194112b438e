//! Explicit parents and links: what `#[traced(parent = .., root, links = ..)]` accept.

use opentelemetry::Context;
use opentelemetry::trace::{Link, SpanContext, TraceContextExt};

use crate::span::SpanHandle;

/// A value that can be a span's parent: a [`Context`], a [`SpanContext`] (a remote parent),
/// a [`SpanHandle`], a reference to one, or an `Option` of one (`None`: a new trace).
/// `#[traced(parent = expr)]` borrows `expr`, so the argument it names is still recorded.
///
/// # Example
///
/// ```
/// use traced::opentelemetry::trace::SpanContext;
///
/// #[traced::traced(parent = parent)]
/// fn continue_batch(parent: SpanContext, size: usize) {}
///
/// continue_batch(SpanContext::empty_context(), 3);
/// ```
pub trait IntoParentContext {
    /// The context to start the span in.
    fn parent_context(&self) -> Context;
}

impl IntoParentContext for Context {
    fn parent_context(&self) -> Context {
        self.clone()
    }
}

impl IntoParentContext for SpanContext {
    fn parent_context(&self) -> Context {
        if self.is_valid() {
            Context::current().with_remote_span_context(self.clone())
        } else {
            Context::new()
        }
    }
}

impl IntoParentContext for SpanHandle {
    fn parent_context(&self) -> Context {
        self.context().clone()
    }
}

impl<T: IntoParentContext> IntoParentContext for Option<T> {
    fn parent_context(&self) -> Context {
        self.as_ref()
            .map_or_else(Context::new, IntoParentContext::parent_context)
    }
}

impl<T: IntoParentContext + ?Sized> IntoParentContext for &T {
    fn parent_context(&self) -> Context {
        (**self).parent_context()
    }
}

/// A value that can be a span link: a [`SpanContext`] or a [`Link`], or a reference to one.
///
/// # Example
///
/// ```
/// use traced::opentelemetry::trace::SpanContext;
///
/// #[traced::traced(links = batch)]
/// fn process(batch: &[SpanContext]) {}
///
/// process(&[]);
/// ```
pub trait IntoLink {
    /// The link.
    fn to_link(&self) -> Link;
}

impl IntoLink for Link {
    fn to_link(&self) -> Link {
        self.clone()
    }
}

impl IntoLink for SpanContext {
    fn to_link(&self) -> Link {
        Link::with_context(self.clone())
    }
}

impl<T: IntoLink + ?Sized> IntoLink for &T {
    fn to_link(&self) -> Link {
        (**self).to_link()
    }
}

/// What `#[traced(links = expr)]` accepts besides an iterator of [`IntoLink`] values: a
/// slice, array, `Vec` or `Option` of them, or a reference to one. The expression is
/// borrowed, so the argument it names is still recorded.
///
/// # Example
///
/// ```
/// use traced::opentelemetry::trace::SpanContext;
///
/// #[traced::traced(links = Some(&cause))]
/// fn retry(cause: SpanContext) {}
///
/// retry(SpanContext::empty_context());
/// ```
pub trait LinkSource {
    /// The links, invalid span contexts included.
    fn to_links(&self) -> Vec<Link>;
}

impl<T: IntoLink> LinkSource for [T] {
    fn to_links(&self) -> Vec<Link> {
        self.iter().map(IntoLink::to_link).collect()
    }
}

impl<T: IntoLink, const N: usize> LinkSource for [T; N] {
    fn to_links(&self) -> Vec<Link> {
        self.as_slice().to_links()
    }
}

impl<T: IntoLink> LinkSource for Vec<T> {
    fn to_links(&self) -> Vec<Link> {
        self.as_slice().to_links()
    }
}

impl<T: IntoLink> LinkSource for Option<T> {
    fn to_links(&self) -> Vec<Link> {
        self.iter().map(IntoLink::to_link).collect()
    }
}

impl<T: LinkSource + ?Sized> LinkSource for &T {
    fn to_links(&self) -> Vec<Link> {
        (**self).to_links()
    }
}

/// The current context: the default parent.
#[doc(hidden)]
pub fn current_context() -> Context {
    Context::current()
}

/// An empty context: the span starts a new trace.
#[doc(hidden)]
pub fn root_context() -> Context {
    Context::new()
}

/// `parent = expr`.
#[doc(hidden)]
pub fn parent_context<P: IntoParentContext + ?Sized>(parent: &P) -> Context {
    parent.parent_context()
}

/// `links = expr` under autoref specialisation: a [`LinkSource`] first, else an iterator
/// (cloned, so the expression is only borrowed). Invalid span contexts are skipped.
#[doc(hidden)]
pub struct LinkArg<'a, T: ?Sized>(pub &'a T);

/// First choice: a [`LinkSource`].
#[doc(hidden)]
pub trait ViaLinkSource {
    fn __traced_links(&self) -> Vec<Link>;
}
impl<T: LinkSource + ?Sized> ViaLinkSource for &&LinkArg<'_, T> {
    fn __traced_links(&self) -> Vec<Link> {
        valid(self.0.to_links())
    }
}

/// Second choice: an iterator of [`IntoLink`] values, such as `contexts.iter()`.
#[doc(hidden)]
pub trait ViaLinkIterator {
    fn __traced_links(&self) -> Vec<Link>;
}
impl<T> ViaLinkIterator for &LinkArg<'_, T>
where
    T: Iterator + Clone,
    T::Item: IntoLink,
{
    fn __traced_links(&self) -> Vec<Link> {
        valid(self.0.clone().map(|item| item.to_link()).collect())
    }
}

fn valid(mut links: Vec<Link>) -> Vec<Link> {
    links.retain(|link| link.span_context.is_valid());
    links
}

/// No links.
#[doc(hidden)]
pub fn no_links() -> Vec<Link> {
    Vec::new()
}
