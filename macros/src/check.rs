//! Checks of the arguments against the function they are applied to.

use syn::Signature;

use crate::args::{Args, Field};
use crate::errors::Errors;
use crate::params::bound_names;

/// Reports `skip` or `context` of a name that no parameter binds, and use on a `const fn`.
pub(crate) fn check_against_fn(args: &Args, sig: &Signature, errors: &mut Errors) {
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            "`#[traced]` cannot instrument a `const fn`: spans need run-time code",
        ));
    }
    let names = bound_names(sig);
    check_context(args, sig, errors);
    check_fields(&args.fields, args, sig, errors);
    let has_receiver = sig.receiver().is_some();
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

/// Reports a field that would record a recorded parameter a second time. `args` decides
/// which parameters are recorded (`skip`, `skip_all`).
pub(crate) fn check_fields(fields: &[Field], args: &Args, sig: &Signature, errors: &mut Errors) {
    let names = bound_names(sig);
    for field in fields {
        let recorded =
            args.skip_all.is_none() && !args.skip.iter().any(|skipped| skipped == &field.key);
        if recorded && names.iter().any(|name| name == &field.key) {
            errors.push(syn::Error::new(
                field.key_span,
                format!(
                    "field `{}` would record the parameter `{}` a second time: rename the field, or `skip({})` the parameter",
                    field.key, field.key, field.key
                ),
            ));
        }
    }
}

/// Reports `context = x` when no parameter is named `x`.
pub(crate) fn check_context(args: &Args, sig: &Signature, errors: &mut Errors) {
    let Some(carrier) = &args.context else { return };
    if !bound_names(sig).contains(carrier) {
        errors.push(syn::Error::new(
            carrier.span(),
            format!(
                "`context = {carrier}`: `{}` has no parameter named `{carrier}`; name the parameter holding the headers or metadata",
                sig.ident
            ),
        ));
    }
}

/// Reports `name` on a whole block: every function would get the same name.
pub(crate) fn check_block_args(args: &Args, errors: &mut Errors) {
    if let Some(name) = &args.name {
        errors.push(syn::Error::new(
            name.span(),
            "`name` names one function: put it on the function, or use `prefix` for the whole block",
        ));
    }
}

/// Arguments that make no sense on the item the attribute is applied to: `ignore` (it only
/// opts a member of an instrumented block out), `name` on a whole block (every function would
/// get the same name).
pub(crate) fn check_placement(args: &Args, on_block: bool, errors: &mut Errors) {
    if let Some(ignore) = args.ignore {
        errors.push(syn::Error::new(
            ignore,
            "`ignore` opts a function out of an instrumented `impl`, `trait` or `mod`; here, remove `#[traced]` instead",
        ));
    }
    if on_block {
        check_block_args(args, errors);
    }
}
