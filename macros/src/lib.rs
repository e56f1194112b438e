//! The `#[traced]` attribute of the [`traced`](https://docs.rs/traced) crate: depend on
//! `traced`, which re-exports it and provides the runtime its output calls.
//!
//! The attribute parses its arguments, checks them against the item, and expands; when a
//! check fails, every error is reported and the item is still emitted untouched, so no
//! cascade of follow-up errors appears. When the item itself does not parse, it is re-emitted
//! as it was, so rustc reports the real error.

mod args;
mod block;
mod check;
mod errors;
mod expand;
mod function;
mod naming;
mod params;

use proc_macro::TokenStream;
use quote::ToTokens;
use syn::Item;
use syn::spanned::Spanned;

use args::Args;
use errors::Errors;
use function::Function;

/// Instruments a function, or every function of an `impl`, `trait` or inline `mod`, with
/// OpenTelemetry spans. See the `traced` crate documentation.
#[proc_macro_attribute]
pub fn traced(attr: TokenStream, item: TokenStream) -> TokenStream {
    traced_impl(attr.into(), item.into()).into()
}

fn traced_impl(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut errors = Errors::default();
    let args = Args::parse(attr, &mut errors);
    let parsed = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Verbatim(tokens)) if is_bodiless_fn(&tokens) => {
            errors.push(syn::Error::new(
                tokens.clone().into_iter().next().map_or_else(proc_macro2::Span::call_site, |token| token.span()),
                "`#[traced]` needs a function body to instrument: put it on the trait (to instrument default methods) or on the implementations",
            ));
            return with_errors(errors, item);
        }
        Ok(parsed) => parsed,
        // The item does not parse: give it back as it was, so rustc reports the real error.
        Err(_) => return with_errors(errors, item),
    };
    let on_block = matches!(parsed, Item::Impl(_) | Item::Trait(_) | Item::Mod(_));
    check::check_placement(&args, on_block, &mut errors);
    if let Item::Fn(function) = &parsed {
        check::check_against_fn(&args, &function.sig, &mut errors);
    }
    if !errors.is_empty() {
        // Emitted as written, less the members' own attributes, which would otherwise expand
        // one by one and add errors of their own.
        let item = block::strip_member_attributes(parsed, &args, &mut Errors::default());
        return with_errors(errors, item.into_token_stream());
    }
    if !cfg!(feature = "enable") {
        // Compiled out: the item as written, less the members' own `#[traced(..)]`, which
        // belong to the block (an `ignore` would otherwise be an error on its own).
        let item = block::strip_member_attributes(parsed, &args, &mut errors).into_token_stream();
        return with_errors(errors, item);
    }
    let expanded = match parsed {
        Item::Fn(function) => expand::Expansion::new(&args, &Function::from(function), None).item(),
        Item::Impl(block) => block::instrument_impl(&args, block, &mut errors),
        Item::Trait(block) => block::instrument_trait(&args, block, &mut errors),
        Item::Mod(block) if block.content.is_some() => {
            block::instrument_mod(&args, block, &mut errors)
        }
        other => {
            errors.push(syn::Error::new(
                item_keyword_span(&other),
                "`#[traced]` instruments functions: put it on a `fn`, an `impl` block, a `trait` or an inline `mod`",
            ));
            return with_errors(errors, item);
        }
    };
    with_errors(errors, expanded)
}

/// `fn f(&self);`, which `syn` gives back as verbatim tokens.
fn is_bodiless_fn(tokens: &proc_macro2::TokenStream) -> bool {
    syn::parse2::<syn::TraitItemFn>(tokens.clone()).is_ok_and(|method| method.default.is_none())
}

fn with_errors(errors: Errors, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut tokens = errors.into_compile_errors();
    tokens.extend(item);
    tokens
}

/// Where to point "not a function": the item's keyword rather than its attributes or body.
fn item_keyword_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Struct(item) => item.struct_token.span,
        Item::Enum(item) => item.enum_token.span,
        Item::Mod(item) => item.mod_token.span,
        Item::Const(item) => item.const_token.span,
        Item::Static(item) => item.static_token.span,
        Item::Type(item) => item.type_token.span,
        Item::Use(item) => item.use_token.span,
        other => other.to_token_stream().span(),
    }
}
