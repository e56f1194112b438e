//! `#[traced]` on a whole block: every method of an `impl`, every default method of a
//! `trait`, every function and impl of an inline `mod`.
//!
//! The block's arguments are defaults; a function's own `#[traced(..)]` overrides them and
//! `#[traced(ignore)]` leaves it alone. Items the attribute cannot instrument (`const fn`,
//! required trait methods, macros) are left as they are: at block level that is not an error.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Attribute, ImplItem, Item, ItemImpl, ItemMod, ItemTrait, TraitItem, Type};

use crate::args::Args;
use crate::check;
use crate::errors::Errors;
use crate::expand::Expansion;
use crate::function::Function;

/// Instruments every method of an impl block.
pub(crate) fn instrument_impl(
    block_args: &Args,
    mut item: ItemImpl,
    errors: &mut Errors,
) -> TokenStream {
    let prefix = type_name(&item.self_ty);
    for member in &mut item.items {
        if let ImplItem::Fn(method) = member {
            let function = Function::from(method.clone());
            if let Some(tokens) = instrument_member(block_args, function, prefix.as_deref(), errors)
            {
                *member = ImplItem::Verbatim(tokens);
            }
        }
    }
    item.into_token_stream()
}

/// Instruments every default method of a trait.
pub(crate) fn instrument_trait(
    block_args: &Args,
    mut item: ItemTrait,
    errors: &mut Errors,
) -> TokenStream {
    let prefix = item.ident.to_string();
    for member in &mut item.items {
        if let TraitItem::Fn(method) = member {
            let Some(function) = Function::from_trait_item(method.clone()) else {
                // A required method: nothing to instrument, but its own `#[traced(..)]`
                // belongs to this block and must not expand on its own.
                let _ = own_args(&mut method.attrs, block_args, errors);
                continue;
            };
            if let Some(tokens) = instrument_member(block_args, function, Some(&prefix), errors) {
                *member = TraitItem::Verbatim(tokens);
            }
        }
    }
    item.into_token_stream()
}

/// Instruments every function and impl block of an inline module, recursively.
pub(crate) fn instrument_mod(
    block_args: &Args,
    mut item: ItemMod,
    errors: &mut Errors,
) -> TokenStream {
    if let Some((_, items)) = &mut item.content {
        for member in items.iter_mut() {
            let instrumented = match member.clone() {
                Item::Fn(function) => {
                    instrument_member(block_args, Function::from(function), None, errors)
                }
                Item::Impl(mut inner) => nested_block_args(&mut inner.attrs, block_args, errors)
                    .map(|args| match args {
                        Some(args) => instrument_impl(&args, inner, errors),
                        None => inner.into_token_stream(),
                    }),
                Item::Mod(mut inner) => nested_block_args(&mut inner.attrs, block_args, errors)
                    .map(|args| match args {
                        Some(args) => instrument_mod(&args, inner, errors),
                        None => inner.into_token_stream(),
                    }),
                Item::Trait(mut inner) => nested_block_args(&mut inner.attrs, block_args, errors)
                    .map(|args| match args {
                        Some(args) => instrument_trait(&args, inner, errors),
                        None => inner.into_token_stream(),
                    }),
                _ => None,
            };
            if let Some(tokens) = instrumented {
                *member = Item::Verbatim(tokens);
            }
        }
    }
    item.into_token_stream()
}

/// The instrumented function, or `None` to leave it as it is.
fn instrument_member(
    block_args: &Args,
    mut function: Function,
    prefix: Option<&str>,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let (own, args) = own_args(&mut function.attrs, block_args, errors)?;
    if args.ignore.is_some() {
        // The `#[traced(ignore)]` attribute is gone; the function is otherwise untouched.
        return Some(function.to_unchanged_tokens());
    }
    if function.sig.constness.is_some() {
        return None;
    }
    let mut member_errors = Errors::default();
    // The member's own arguments are checked against it; the block's are defaults, and a
    // block-level `skip(x)` simply does not apply to a method without `x`.
    check::check_against_fn(&own, &function.sig, &mut member_errors);
    if own.context.is_none() {
        check::check_context(&args, &function.sig, &mut member_errors);
    }
    // The block's fields, with the member's skips: a field may not shadow a recorded parameter.
    check::check_fields(&block_args.fields, &args, &function.sig, &mut member_errors);
    if !member_errors.is_empty() {
        errors.push_all(member_errors);
        return Some(function.to_unchanged_tokens());
    }
    Some(Expansion::new(&args, &function, prefix).item())
}

/// The member's own `#[traced(..)]` (removed from its attributes, since this expansion
/// handles it), and those merged over the block's arguments. `None` only when the member's
/// attribute did not parse: the errors are reported and the member left alone.
fn own_args(
    attrs: &mut Vec<Attribute>,
    block_args: &Args,
    errors: &mut Errors,
) -> Option<(Args, Args)> {
    let Some(position) = attrs.iter().position(is_traced_attribute) else {
        return Some((Args::default(), block_args.overridden_by(&Args::default())));
    };
    let attribute = attrs.remove(position);
    // A second `#[traced]` would instrument the member again.
    while let Some(extra) = attrs.iter().position(is_traced_attribute) {
        let extra = attrs.remove(extra);
        errors.push(syn::Error::new(
            extra.pound_token.span,
            "`#[traced]` is given twice on this function: give it once",
        ));
    }
    let tokens = match &attribute.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let mut member_errors = Errors::default();
    let own = Args::parse(tokens, &mut member_errors);
    if !member_errors.is_empty() {
        // Reported; the member is then left as written (its attribute gone, so it does not
        // expand on its own and repeat or add errors).
        errors.push_all(member_errors);
        let ignored = Args {
            ignore: Some(attribute.pound_token.span),
            ..Args::default()
        };
        return Some((Args::default(), ignored));
    }
    let merged = block_args.overridden_by(&own);
    Some((own, merged))
}

/// The arguments of a block nested in an instrumented module, its own `#[traced(..)]`
/// removed: `Some(None)` when it opts out with `#[traced(ignore)]`, `None` when its attribute
/// does not parse (the errors are reported and the block left alone).
fn nested_block_args(
    attrs: &mut Vec<Attribute>,
    block_args: &Args,
    errors: &mut Errors,
) -> Option<Option<Args>> {
    let (own, args) = own_args(attrs, block_args, errors)?;
    check::check_block_args(&own, errors);
    Some(args.ignore.is_none().then_some(args))
}

/// `#[traced]`, `#[traced(..)]` or `#[traced::traced(..)]`.
fn is_traced_attribute(attribute: &Attribute) -> bool {
    attribute
        .path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "traced")
}

/// `Cart` for `impl Cart`, `impl<T> Store for Cart<T>` or `impl crate::shop::Cart`.
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        Type::Reference(reference) => type_name(&reference.elem),
        Type::Paren(paren) => type_name(&paren.elem),
        Type::Group(group) => type_name(&group.elem),
        _ => None,
    }
}

/// Compile-out mode: removes (after checking) the members' own `#[traced(..)]` attributes
/// of a block, recursively, leaving everything else as written.
pub(crate) fn strip_member_attributes(
    mut item: Item,
    block_args: &Args,
    errors: &mut Errors,
) -> Item {
    match &mut item {
        Item::Impl(block) => {
            for member in &mut block.items {
                if let ImplItem::Fn(method) = member {
                    let _ = own_args(&mut method.attrs, block_args, errors);
                }
            }
        }
        Item::Trait(block) => {
            for member in &mut block.items {
                if let TraitItem::Fn(method) = member {
                    let _ = own_args(&mut method.attrs, block_args, errors);
                }
            }
        }
        Item::Mod(block) => {
            if let Some((_, items)) = &mut block.content {
                for member in items.iter_mut() {
                    let attrs = match member {
                        Item::Fn(function) => &mut function.attrs,
                        Item::Impl(inner) => &mut inner.attrs,
                        Item::Mod(inner) => &mut inner.attrs,
                        Item::Trait(inner) => &mut inner.attrs,
                        _ => continue,
                    };
                    if let Some((_, args)) = own_args(attrs, block_args, errors) {
                        *member = strip_member_attributes(member.clone(), &args, errors);
                    }
                }
            }
        }
        _ => {}
    }
    item
}
