//! Code generation: the instrumented function.
//!
//! Three shapes, by what the function returns:
//! - `async fn`: the body becomes a future wrapped in `Instrumented`, which makes the span
//!   current on every poll and ends it on completion, panic or drop;
//! - `fn .. -> impl Future` whose body ends in an `async` block: the span starts at the call
//!   and the same wrapper goes around that block;
//! - any other `fn`: the span is current for the body, which runs in a closure so that every
//!   `return` and `?` still passes through the outcome recording.
//!
//! Generated locals use `Span::mixed_site()`, so they can neither clash with nor be seen by
//! the user's code; everything called is under `<crate>::__private`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::visit::Visit;
use syn::{
    Block, Expr, GenericArgument, Ident, ItemFn, PathArguments, ReturnType, Stmt, Type,
    TypeParamBound,
};

use crate::args::Args;
use crate::params::bound_names;

/// The expansion of one instrumented function.
pub(crate) struct Expansion<'a> {
    args: &'a Args,
    function: &'a ItemFn,
    krate: TokenStream,
}

/// The locals the expansion introduces, hygienic to the macro.
struct Locals {
    span: Ident,
    entered: Ident,
    output: Ident,
    recorder: Ident,
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
            returned: local("__traced_returned"),
        }
    }
}

impl<'a> Expansion<'a> {
    pub(crate) fn new(args: &'a Args, function: &'a ItemFn) -> Self {
        let krate = match &args.krate {
            Some(path) => path.to_token_stream(),
            None => quote!(::traced),
        };
        Self {
            args,
            function,
            krate,
        }
    }

    /// The whole instrumented item.
    pub(crate) fn item(&self) -> TokenStream {
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
        } = self.function;
        let body = if sig.asyncness.is_some() {
            self.async_fn_body(block)
        } else if let Some((setup, future, output)) = returned_async_block(self.function) {
            self.future_returning_body(setup, future, output)
        } else {
            self.sync_body(block)
        };
        quote! {
            #(#attrs)*
            #vis #sig {
                #body
            }
        }
    }

    /// The `static` call site and the span start, shared by every shape.
    fn start(&self, locals: &Locals) -> TokenStream {
        let krate = &self.krate;
        let fn_ident = &self.function.sig.ident;
        let name = match &self.args.name {
            Some(name) => name.to_token_stream(),
            None => {
                let plain = fn_ident.to_string();
                let plain = plain.strip_prefix("r#").unwrap_or(&plain).to_owned();
                quote!(#plain)
            }
        };
        let kind = self.kind_variant();
        let recorder = &locals.recorder;
        let records = self.argument_records(recorder);
        let span = &locals.span;
        // Spanned on the function's name so `line!()` is the line of the `fn`.
        let line = quote_spanned!(fn_ident.span()=> ::core::line!());
        quote! {
            #[allow(dead_code)]
            fn __traced_function() {}
            static __TRACED_SITE: #krate::__private::CallSite = #krate::__private::CallSite {
                name: #name,
                kind: #krate::__private::SpanKind::#kind,
                file: ::core::file!(),
                line: #line,
                marker_type_name: || #krate::__private::type_name_of(__traced_function),
            };
            let #span = #krate::__private::ActiveSpan::start(&__TRACED_SITE, |#recorder| {
                #[allow(unused_imports)]
                use #krate::__private::{ViaAttributeValue as _, ViaDebug as _, ViaDisplay as _, ViaNothing as _};
                #records
            });
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

    /// `recorder.record("arg", value)` for each recorded parameter and field. Runs only for a
    /// recording span.
    fn argument_records(&self, recorder: &Ident) -> TokenStream {
        let krate = &self.krate;
        let params = if self.args.skip_all.is_some() {
            Vec::new()
        } else {
            bound_names(&self.function.sig)
                .into_iter()
                .filter(|name| !self.args.skip.contains(name))
                .collect()
        };
        let param_records = params.iter().map(|ident| {
            let key = ident.to_string();
            let key = key.strip_prefix("r#").unwrap_or(&key).to_owned();
            quote! {
                #recorder.record(#key, (&&&&#krate::__private::Wrap(&#ident)).__traced_value());
            }
        });
        let field_records = self.args.fields.iter().map(|field| {
            let key = &field.key;
            let value = &field.value;
            quote_spanned! {field.key_span=>
                #recorder.record(#key, (&&&&#krate::__private::Wrap(&(#value))).__traced_value());
            }
        });
        quote! { #(#param_records)* #(#field_records)* }
    }

    /// Records the `Err` and, with `ret`, the returned value, from `output` on `span`.
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
        let start = self.start(&locals);
        let Locals {
            span,
            entered,
            output,
            ..
        } = &locals;
        match &self.function.sig.output {
            // Nothing to record from the value: the guard alone ends the span on every path.
            ReturnType::Default => quote! {
                #start
                let #entered = #span.enter();
                #block
            },
            ReturnType::Type(_, ty) => {
                let annotation = nameable(ty).then(|| quote!(-> #ty));
                let outcome = self.outcome(&locals, &quote!(#entered.span()), &quote!(&#output));
                quote! {
                    #start
                    let #entered = #span.enter();
                    #[allow(clippy::redundant_closure_call)]
                    let #output = (move || #annotation #block)();
                    #outcome
                    #output
                }
            }
        }
    }

    fn async_fn_body(&self, block: &Block) -> TokenStream {
        let locals = Locals::new();
        let start = self.start(&locals);
        let output_ty = match &self.function.sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => ty.to_token_stream(),
        };
        let nameable_output = match &self.function.sig.output {
            ReturnType::Default => true,
            ReturnType::Type(_, ty) => nameable(ty),
        };
        let future = self.hinted_async_block(
            quote!(async move #block),
            nameable_output.then_some(&output_ty),
        );
        let on_output = self.on_output(&locals, nameable_output.then_some(&output_ty));
        let span = &locals.span;
        let krate = &self.krate;
        quote! {
            #start
            #krate::__private::Instrumented::new(#span, #future, #on_output).await
        }
    }

    fn future_returning_body(
        &self,
        setup: &[Stmt],
        future: &Expr,
        output: Option<&Type>,
    ) -> TokenStream {
        let locals = Locals::new();
        let start = self.start(&locals);
        let output_ty = output.map(ToTokens::to_token_stream);
        let future = self.hinted_async_block(future.to_token_stream(), None);
        let on_output = self.on_output(&locals, output_ty.as_ref());
        let span = &locals.span;
        let krate = &self.krate;
        if setup.is_empty() {
            return quote! {
                #start
                #krate::__private::Instrumented::new(#span, #future, #on_output)
            };
        }
        // The statements before the async block run at the call: the span is current for
        // them too.
        let attached = Ident::new("__traced_attached", Span::mixed_site());
        let prepared = Ident::new("__traced_future", Span::mixed_site());
        quote! {
            #start
            let #prepared = {
                let #attached = #span.attach();
                #(#setup)*
                #future
            };
            #krate::__private::Instrumented::new(#span, #prepared, #on_output)
        }
    }

    /// An async block whose output type is pinned to `output` up front, so `?` inside it
    /// infers its error conversion (the trick tracing uses as well).
    fn hinted_async_block(&self, block: TokenStream, output: Option<&TokenStream>) -> TokenStream {
        let Some(output) = output else { return block };
        let hint = Ident::new("__traced_type_hint", Span::mixed_site());
        let mut tokens = block.into_iter().collect::<Vec<_>>();
        // `async move { .. }`: prepend the hint inside the braces.
        if let Some(proc_macro2::TokenTree::Group(body)) = tokens.pop() {
            let inner = body.stream();
            let mut hinted = proc_macro2::Group::new(
                proc_macro2::Delimiter::Brace,
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
            tokens.push(proc_macro2::TokenTree::Group(hinted));
        }
        tokens.into_iter().collect()
    }

    /// The closure `Instrumented` calls with the output before it ends the span.
    fn on_output(&self, locals: &Locals, output_ty: Option<&TokenStream>) -> TokenStream {
        let krate = &self.krate;
        let Locals { span, output, .. } = locals;
        let Some(output_ty) = output_ty else {
            return quote!(|_: &#krate::__private::ActiveSpan, _| {});
        };
        let outcome = self.outcome(locals, &quote!(#span), &quote!(#output));
        quote! {
            |#span: &#krate::__private::ActiveSpan, #output: &#output_ty| { #outcome }
        }
    }
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

/// For `fn .. -> impl Future<Output = T> { setup; async move { .. } }`: the setup
/// statements, the async block, and `T` when written.
fn returned_async_block(function: &ItemFn) -> Option<(&[Stmt], &Expr, Option<&Type>)> {
    let ReturnType::Type(_, ty) = &function.sig.output else {
        return None;
    };
    let Type::ImplTrait(impl_trait) = &**ty else {
        return None;
    };
    let future_bound = impl_trait.bounds.iter().find_map(|bound| match bound {
        TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .filter(|segment| segment.ident == "Future"),
        _ => None,
    })?;
    let output = match &future_bound.arguments {
        PathArguments::AngleBracketed(arguments) => {
            arguments.args.iter().find_map(|argument| match argument {
                GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
                _ => None,
            })
        }
        _ => None,
    };
    let (last, setup) = function.block.stmts.split_last()?;
    match last {
        Stmt::Expr(expr @ Expr::Async(_), None) => {
            Some((setup, expr, output.filter(|ty| nameable(ty))))
        }
        _ => None,
    }
}
