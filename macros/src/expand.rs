//! Code generation: the instrumented function.
//!
//! Four shapes, by what the function returns:
//! - `async fn`: the body becomes a future wrapped in `Instrumented`, which makes the span
//!   current on every poll and ends it on completion, panic or drop;
//! - `fn .. -> impl Future` whose body ends in an `async` block: the span starts at the call
//!   and the same wrapper goes around that block;
//! - `fn .. -> Pin<Box<dyn Future ..>>` whose body ends in `Box::pin(async move { .. })`
//!   (what `#[async_trait]` produces): the wrapper goes inside the box, around the real work;
//! - any other `fn`: the span is current for the body, which runs in a closure so that every
//!   `return` and `?` still passes through the outcome recording.
//!
//! Generated locals use `Span::mixed_site()`, so they can neither clash with nor be seen by
//! the user's code; everything called is under `<crate>::__private`.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Block, Expr, ExprCall, GenericArgument, Ident, PathArguments, ReturnType, Stmt, Type};

use crate::args::Args;
use crate::function::Function;
use crate::naming::SpanName;
use crate::params::bound_names;

/// Where and when the instrumented code runs, which decides how its span starts.
#[derive(Clone, Copy)]
enum Runs {
    /// A synchronous body, during the call.
    InCall,
    /// An `async fn`'s body: a future the span starts in, at its first poll, awaited right
    /// there.
    AwaitedHere,
    /// A returned future, started at the call and polled wherever its caller polls it: it
    /// may be polled under another context than the one it started in.
    Later,
}

/// The expansion of one instrumented function.
pub(crate) struct Expansion<'a> {
    args: &'a Args,
    function: &'a Function,
    name: SpanName,
    krate: TokenStream,
}

/// The locals the expansion introduces, hygienic to the macro.
struct Locals {
    span: Ident,
    entered: Ident,
    output: Ident,
    recorder: Ident,
    captured: Ident,
    returned: Ident,
}

impl Locals {
    fn new() -> Self {
        let local = |name: &str| Ident::new(name, Span::mixed_site());
        Self {
            span: local("__traced_span"),
            entered: local("__traced_entered"),
            output: local("__traced_output"),
            recorder: local("__traced_recorder"),
            captured: local("__traced_captured"),
            returned: local("__traced_returned"),
        }
    }
}

impl<'a> Expansion<'a> {
    /// `block_prefix` is the type or trait name when the attribute is on a whole block.
    pub(crate) fn new(args: &'a Args, function: &'a Function, block_prefix: Option<&str>) -> Self {
        let krate = match &args.krate {
            Some(path) => path.to_token_stream(),
            None => quote!(::traced),
        };
        let name = SpanName::resolve(args, function, block_prefix);
        Self {
            args,
            function,
            name,
            krate,
        }
    }

    /// The whole instrumented item.
    pub(crate) fn item(&self) -> TokenStream {
        let Function {
            attrs,
            head,
            sig,
            block,
        } = self.function;
        let body = if sig.asyncness.is_some() {
            self.async_fn_body(block)
        } else if let Some(returned) = returned_future(self.function) {
            self.future_returning_body(returned)
        } else {
            self.sync_body(block)
        };
        quote! {
            #(#attrs)*
            #head #sig {
                #body
            }
        }
    }

    /// The `static` call site and the span start, shared by every shape: a call's span,
    /// entered as it starts, is bound to `locals.entered`, a future's to `locals.span`.
    fn start(&self, locals: &Locals, runs: Runs) -> TokenStream {
        let krate = &self.krate;
        let fn_ident = &self.function.sig.ident;
        let kind = self.kind_variant();
        // Spanned on the function's name so `line!()` is the line of the `fn`.
        let line = quote_spanned!(fn_ident.span()=> ::core::line!());
        let site_args = quote! {
            #krate::__private::SpanKind::#kind,
            ::core::file!(),
            #line,
            || #krate::__private::type_name_of(__traced_function)
        };
        let site = match self.name.initial() {
            Some(name) => quote!(#krate::__private::CallSite::new(#name, #site_args)),
            None => quote!(#krate::__private::CallSite::method(#site_args)),
        };
        let (capture, record) = self.capture_and_record(locals);
        let span = &locals.span;
        let entered = &locals.entered;
        let start = match (self.parent(), self.links()) {
            (None, None) => {
                let (local, start) = match runs {
                    // A call's span starts and becomes current in one call.
                    Runs::InCall => (entered, quote!(start_call)),
                    Runs::AwaitedHere => (span, quote!(start_awaited)),
                    Runs::Later => (span, quote!(start_carried)),
                };
                quote!(let #local = #krate::__private::ActiveSpan::#start(&__TRACED_SITE, #capture, #record);)
            }
            (parent, links) => {
                let parent = parent.unwrap_or_else(|| quote!(#krate::__private::current_context));
                let links = links.unwrap_or_else(|| quote!(#krate::__private::no_links));
                let (local, start) = match runs {
                    Runs::InCall => (entered, quote!(start_call_with)),
                    Runs::AwaitedHere | Runs::Later => (span, quote!(start_with)),
                };
                quote!(let #local = #krate::__private::ActiveSpan::#start(&__TRACED_SITE, #parent, #links, #capture, #record);)
            }
        };
        quote! {
            #[allow(dead_code)]
            fn __traced_function() {}
            static __TRACED_SITE: #krate::__private::CallSite = #site;
            #start
        }
    }

    fn kind_variant(&self) -> Ident {
        let kind = self
            .args
            .kind
            .as_ref()
            .map_or_else(|| "internal".to_owned(), ToString::to_string);
        let mut variant = kind;
        variant[..1].make_ascii_uppercase();
        format_ident!("{}", variant)
    }

    /// The closure computing the parent context, when not the current one.
    fn parent(&self) -> Option<TokenStream> {
        let krate = &self.krate;
        if let Some(carrier) = &self.args.context {
            return Some(quote_spanned! {carrier.span()=>
                || {
                    #[allow(unused_imports)]
                    use #krate::__private::{ViaExtractor as _, ViaExtractorRef as _, ViaHeaderMap as _, ViaHeaderMapRef as _};
                    (&&&&#krate::__private::Carrier(&#carrier)).__traced_extract()
                }
            });
        }
        if self.args.root.is_some() {
            return Some(quote!(#krate::__private::root_context));
        }
        let parent = self.args.parent.as_ref()?;
        if is_none_literal(parent) {
            return Some(quote!(#krate::__private::root_context));
        }
        Some(quote_spanned!(parent.span()=> || #krate::__private::parent_context(&(#parent))))
    }

    /// The closure computing the links, if any.
    fn links(&self) -> Option<TokenStream> {
        let krate = &self.krate;
        let links = self.args.links.as_ref()?;
        Some(quote_spanned! {links.span()=>
            || {
                #[allow(unused_imports)]
                use #krate::__private::{ViaLinkIterator as _, ViaLinkSource as _};
                (&&&#krate::__private::LinkArg(&(#links))).__traced_links()
            }
        })
    }

    /// The closure capturing the recorded parameters (`__private::Capture`: copies of
    /// numbers, `bool`, `char` and references, references to the others), and the closure
    /// recording them from what it captured (`Wrap(..).__traced_record("arg", recorder)`),
    /// then the fields and the formatted name of a template. The second runs only for a
    /// recording span.
    fn capture_and_record(&self, locals: &Locals) -> (TokenStream, TokenStream) {
        let krate = &self.krate;
        let Locals {
            recorder, captured, ..
        } = locals;
        let params = self.recorded_params();
        let captures = params
            .iter()
            .map(|ident| quote!((&&#krate::__private::Capture(&#ident)).__traced_capture(),));
        let capture = if params.is_empty() {
            quote!(|| ())
        } else {
            quote! {
                || {
                    use #krate::__private::{ViaBorrow as _, ViaCopy as _};
                    (#(#captures)*)
                }
            }
        };
        let param_records = params.iter().enumerate().map(|(index, ident)| {
            let key = crate::naming::unraw(&ident.to_string());
            let index = syn::Index::from(index);
            quote! {
                (&&&&#krate::__private::Wrap(#captured.#index.get())).__traced_record(#key, #recorder);
            }
        });
        let field_records = self.args.fields.iter().map(|field| {
            let key = &field.key;
            let value = &field.value;
            quote_spanned! {field.key_span=>
                (&&&&#krate::__private::Wrap(&(#value))).__traced_record(#key, #recorder);
            }
        });
        let rename = match &self.name {
            SpanName::Template(template) => {
                Some(quote!(#recorder.rename(::std::format!(#template));))
            }
            _ => None,
        };
        let record = quote! {
            |#recorder: &mut #krate::__private::Recorder<'_>, #captured| {
                #[allow(unused_imports)]
                use #krate::__private::{ViaAttributeValue as _, ViaDebug as _, ViaDisplay as _, ViaNothing as _};
                #(#param_records)* #(#field_records)* #rename
            }
        };
        (capture, record)
    }

    /// The parameters recorded as attributes.
    fn recorded_params(&self) -> Vec<Ident> {
        if self.args.skip_all.is_some() {
            return Vec::new();
        }
        // The carrier of a remote parent holds headers, not data about the call.
        let carrier = self.args.context.as_ref();
        bound_names(&self.function.sig)
            .into_iter()
            .filter(|name| !self.args.skip.contains(name) && Some(name) != carrier)
            .collect()
    }

    /// Records the `Err` and, with `ret`, the returned value, from `output` (a reference) on
    /// `span`.
    fn outcome(&self, locals: &Locals, span: &TokenStream, output: &TokenStream) -> TokenStream {
        let krate = &self.krate;
        let err = self.args.records_errors().then(|| {
            quote! {
                {
                    #[allow(unused_imports)]
                    use #krate::__private::{ViaDebugError as _, ViaDisplayError as _, ViaDynError as _, ViaDynSendError as _, ViaNoError as _, ViaStdError as _};
                    (&&&&&#krate::__private::Outcome(#output)).__traced_record_err(#span);
                }
            }
        });
        let returned = &locals.returned;
        let ret = self.args.ret.map(|_| {
            quote! {
                #krate::__private::record_return(#span, || {
                    #[allow(unused_imports)]
                    use #krate::__private::{ViaAttributeValue as _, ViaDebug as _, ViaDisplay as _, ViaNothing as _, ViaOkValue as _, ViaPlainValue as _};
                    (&&#krate::__private::Outcome(#output)).__traced_returned()
                        .and_then(|#returned| (&&&&#krate::__private::Wrap(#returned)).__traced_value())
                });
            }
        });
        quote! { #err #ret }
    }

    fn sync_body(&self, block: &Block) -> TokenStream {
        let locals = Locals::new();
        let start = self.start(&locals, Runs::InCall);
        let Locals {
            entered, output, ..
        } = &locals;
        match &self.function.sig.output {
            // Nothing to record from the value: the guard alone ends the span on every path.
            ReturnType::Default => quote! {
                #start
                #block
            },
            ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => quote! {
                #start
                #block
            },
            ReturnType::Type(_, ty) => {
                let annotated = nameable_or_inferred(ty);
                let annotation = quote!(-> #annotated);
                let outcome = self.outcome(&locals, &quote!(#entered.span()), &quote!(&#output));
                let krate = &self.krate;
                // `call_once` makes the closure `FnOnce`, so a body may return a borrow of a
                // captured `&mut` parameter.
                quote! {
                    #start
                    let #output = #krate::__private::call_once(move || #annotation #block);
                    #outcome
                    #output
                }
            }
        }
    }

    fn async_fn_body(&self, block: &Block) -> TokenStream {
        let locals = Locals::new();
        let start = self.start(&locals, Runs::AwaitedHere);
        let output_ty = match &self.function.sig.output {
            ReturnType::Default => Some(quote!(())),
            ReturnType::Type(_, ty) => nameable(ty).then(|| ty.to_token_stream()),
        };
        let future = hinted_async_block(quote!(async move #block), output_ty.as_ref());
        let on_output = self.on_output(&locals, output_ty.as_ref());
        let span = &locals.span;
        let krate = &self.krate;
        quote! {
            #start
            #krate::__private::Instrumented::awaited(#span, #future, #on_output).await
        }
    }

    fn future_returning_body(&self, returned: ReturnedFuture<'_>) -> TokenStream {
        let locals = Locals::new();
        let start = self.start(&locals, Runs::Later);
        let output_ty = returned.output.map(ToTokens::to_token_stream);
        let on_output = self.on_output(&locals, output_ty.as_ref());
        let span = &locals.span;
        let krate = &self.krate;
        let prepared = Ident::new("__traced_future", Span::mixed_site());
        let (future, boxed) = match returned.future {
            FutureExpr::Async(block) => (hinted_async_block(block.to_token_stream(), None), false),
            FutureExpr::BoxPin(call) => (call.args.to_token_stream(), true),
        };
        let instrumented =
            quote!(#krate::__private::Instrumented::new(#span, #prepared, #on_output));
        let instrumented = if boxed {
            quote!(::std::boxed::Box::pin(#instrumented))
        } else {
            instrumented
        };
        let setup = returned.setup;
        // The statements before the future run at the call: the span is current for them.
        let attached = Ident::new("__traced_attached", Span::mixed_site());
        let attach = (!setup.is_empty()).then(|| quote!(let #attached = #span.attach();));
        quote! {
            #start
            let #prepared = {
                #attach
                #(#setup)*
                #future
            };
            #instrumented
        }
    }

    /// The closure `Instrumented` calls with the output before it ends the span.
    fn on_output(&self, locals: &Locals, output_ty: Option<&TokenStream>) -> TokenStream {
        let krate = &self.krate;
        let Locals { span, output, .. } = locals;
        let Some(output_ty) = output_ty else {
            return quote!(|_: &#krate::__private::ActiveSpan, _: &_| {});
        };
        let outcome = self.outcome(locals, &quote!(#span), &quote!(#output));
        quote! {
            |#span: &#krate::__private::ActiveSpan, #output: &#output_ty| { #outcome }
        }
    }
}

/// An async block whose output type is pinned to `output` up front, so `?` inside it infers
/// its error conversion (the trick tracing uses as well).
fn hinted_async_block(block: TokenStream, output: Option<&TokenStream>) -> TokenStream {
    let Some(output) = output else { return block };
    let hint = Ident::new("__traced_type_hint", Span::mixed_site());
    let mut tokens = block.into_iter().collect::<Vec<_>>();
    // `async move { .. }`: prepend the hint inside the braces.
    if let Some(TokenTree::Group(body)) = tokens.pop() {
        let inner = body.stream();
        let mut hinted = Group::new(
            Delimiter::Brace,
            quote! {
                #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::let_unit_value, clippy::needless_return)]
                if false {
                    let #hint: #output = loop {};
                    return #hint;
                }
                #inner
            },
        );
        hinted.set_span(body.span());
        tokens.push(TokenTree::Group(hinted));
    }
    tokens.into_iter().collect()
}

/// The type with every `impl Trait` replaced by `_`, which a closure's return annotation
/// accepts: the known parts still guide inference (and the outcome dispatch), the opaque
/// parts are inferred from the body.
fn nameable_or_inferred(ty: &Type) -> Type {
    struct InferImpl;
    impl syn::visit_mut::VisitMut for InferImpl {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(impl_trait) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](impl_trait.impl_token.span),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut InferImpl, &mut ty);
    ty
}

/// Whether the type can be written in a closure signature or a `let`: `impl Trait` cannot.
fn nameable(ty: &Type) -> bool {
    struct FindImpl(bool);
    impl Visit<'_> for FindImpl {
        fn visit_type_impl_trait(&mut self, _: &syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = FindImpl(false);
    finder.visit_type(ty);
    !finder.0
}

fn is_none_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(path) if path.qself.is_none() && path.path.is_ident("None"))
}

/// A function whose body ends in the future it returns.
struct ReturnedFuture<'a> {
    setup: &'a [Stmt],
    future: FutureExpr<'a>,
    /// The future's `Output`, when written and nameable.
    output: Option<&'a Type>,
}

enum FutureExpr<'a> {
    /// `async move { .. }`
    Async(&'a Expr),
    /// `Box::pin(async move { .. })`
    BoxPin(&'a ExprCall),
}

/// For `fn .. -> impl Future<Output = T> { setup; async move { .. } }` and
/// `fn .. -> Pin<Box<dyn Future<Output = T> + ..>> { setup; Box::pin(async move { .. }) }`.
fn returned_future(function: &Function) -> Option<ReturnedFuture<'_>> {
    let ReturnType::Type(_, ty) = &function.sig.output else {
        return None;
    };
    let output = future_output(ty)?;
    let (last, setup) = function.block.stmts.split_last()?;
    let future = match last {
        Stmt::Expr(expr @ Expr::Async(_), None) => FutureExpr::Async(expr),
        Stmt::Expr(Expr::Call(call), None) if is_box_pin_of_async(call) => FutureExpr::BoxPin(call),
        _ => return None,
    };
    Some(ReturnedFuture {
        setup,
        future,
        output: output.filter(|ty| nameable(ty)),
    })
}

/// `Some(Some(T))` when `ty` mentions `Future<Output = T>`, `Some(None)` for a `Future`
/// without a written output, `None` when it is not a future type.
fn future_output(ty: &Type) -> Option<Option<&Type>> {
    struct FindFuture<'a> {
        found: bool,
        output: Option<&'a Type>,
    }
    impl<'a> Visit<'a> for FindFuture<'a> {
        fn visit_path_segment(&mut self, segment: &'a syn::PathSegment) {
            if segment.ident == "Future" {
                self.found = true;
                if let PathArguments::AngleBracketed(arguments) = &segment.arguments {
                    for argument in &arguments.args {
                        if let GenericArgument::AssocType(assoc) = argument {
                            if assoc.ident == "Output" {
                                self.output = Some(&assoc.ty);
                            }
                        }
                    }
                }
            }
            syn::visit::visit_path_segment(self, segment);
        }
    }
    let mut finder = FindFuture {
        found: false,
        output: None,
    };
    finder.visit_type(ty);
    finder.found.then_some(finder.output)
}

fn is_box_pin_of_async(call: &ExprCall) -> bool {
    let Expr::Path(function) = &*call.func else {
        return false;
    };
    let segments: Vec<String> = function
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    segments.ends_with(&["Box".to_owned(), "pin".to_owned()])
        && call.args.len() == 1
        && matches!(call.args.first(), Some(Expr::Async(_)))
}
