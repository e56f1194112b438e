//! Checks of the arguments against the function they are applied to.

use syn::ItemFn;

use crate::args::Args;
use crate::errors::Errors;
use crate::params::bound_names;

/// Reports `skip` of a name that no parameter binds, and use on a `const fn`.
pub(crate) fn check_against_fn(args: &Args, function: &ItemFn, errors: &mut Errors) {
    if let Some(constness) = &function.sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            "`#[traced]` cannot instrument a `const fn`: spans need run-time code",
        ));
    }
    let names = bound_names(&function.sig);
    let has_receiver = function.sig.receiver().is_some();
    for skipped in &args.skip {
        // `skip(self)` is accepted for tracing users: `self` is never recorded anyway.
        let is_receiver = has_receiver && skipped == "self";
        if !is_receiver && !names.contains(skipped) {
            let known = names
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let hint = if known.is_empty() {
                "the function has no parameters to skip".to_owned()
            } else {
                format!("parameters: {known}")
            };
            errors.push(syn::Error::new(
                skipped.span(),
                format!("`skip({skipped})`: no parameter is named `{skipped}` ({hint})"),
            ));
        }
    }
}
