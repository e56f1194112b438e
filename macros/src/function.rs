//! One function to instrument, whatever item it came from: a free `fn`, an impl method, or a
//! trait's default method.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Attribute, Block, ImplItemFn, ItemFn, Signature, TraitItemFn};

/// The parts of a function the expansion reads and re-emits.
pub(crate) struct Function {
    pub(crate) attrs: Vec<Attribute>,
    /// What comes before the signature: visibility, `default`.
    pub(crate) head: TokenStream,
    pub(crate) sig: Signature,
    pub(crate) block: Block,
}

impl From<ItemFn> for Function {
    fn from(item: ItemFn) -> Self {
        Self {
            attrs: item.attrs,
            head: item.vis.into_token_stream(),
            sig: item.sig,
            block: *item.block,
        }
    }
}

impl From<ImplItemFn> for Function {
    fn from(item: ImplItemFn) -> Self {
        let mut head = item.vis.into_token_stream();
        item.defaultness.to_tokens(&mut head);
        Self {
            attrs: item.attrs,
            head,
            sig: item.sig,
            block: item.block,
        }
    }
}

impl Function {
    /// A trait method with a default body; `None` for a required method.
    pub(crate) fn from_trait_item(item: TraitItemFn) -> Option<Self> {
        let block = item.default?;
        Some(Self {
            attrs: item.attrs,
            head: TokenStream::new(),
            sig: item.sig,
            block,
        })
    }

    /// The item as written, for functions left untouched.
    pub(crate) fn to_unchanged_tokens(&self) -> TokenStream {
        let Self {
            attrs,
            head,
            sig,
            block,
        } = self;
        quote::quote!(#(#attrs)* #head #sig #block)
    }
}
