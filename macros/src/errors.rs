//! Collecting every error of one expansion, to report them all at once.

use proc_macro2::TokenStream;

/// The errors found so far.
#[derive(Default)]
pub(crate) struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// Takes over every error of `other`.
    pub(crate) fn push_all(&mut self, other: Errors) {
        if let Some(error) = other.first {
            self.push(error);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// `compile_error!` invocations for every error, or nothing.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.first
            .map(|error| error.to_compile_error())
            .unwrap_or_default()
    }
}
