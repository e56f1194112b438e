//! The `#[traced]` attribute of the [`traced`](https://docs.rs/traced) crate: depend on
//! `traced`, which re-exports it and provides the runtime its output calls.
//!
//! The attribute parses its arguments, checks them against the function, and expands; when a
//! check fails, every error is reported and the function is still emitted untouched, so no
//! cascade of follow-up errors appears. When the function itself does not parse, it is
//! re-emitted as it was, so rustc reports the real error.

mod args;
mod check;
mod errors;
mod expand;
mod params;

use proc_macro::TokenStream;
use quote::ToTokens;
use syn::Item;
use syn::spanned::Spanned;

use args::Args;
use errors::Errors;

/// Instruments a function with an OpenTelemetry span. See the `traced` crate documentation.
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
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(other) => {
            errors.push(syn::Error::new(
                item_keyword_span(&other),
                "`#[traced]` instruments functions: put it on a `fn`",
            ));
            return with_errors(errors, item);
        }
        // The item does not parse: give it back as it was, so rustc reports the real error.
        Err(_) => return with_errors(errors, item),
    };
    check::check_against_fn(&args, &function, &mut errors);
    if !errors.is_empty() || !cfg!(feature = "enable") {
        return with_errors(errors, item);
    }
    expand::Expansion::new(&args, &function).item()
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
        Item::Impl(item) => item.impl_token.span,
        Item::Mod(item) => item.mod_token.span,
        Item::Trait(item) => item.trait_token.span,
        Item::Const(item) => item.const_token.span,
        Item::Static(item) => item.static_token.span,
        Item::Type(item) => item.type_token.span,
        Item::Use(item) => item.use_token.span,
        other => other.to_token_stream().span(),
    }
}
