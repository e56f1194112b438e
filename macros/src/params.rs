//! The names a function's parameters bind, which become its span's attributes.

use syn::{FnArg, Ident, Pat, Signature};

/// Every identifier bound by the parameters, in order, including those inside destructuring
/// patterns (`(a, b): (i32, i32)` binds `a` and `b`). The receiver is not included.
pub(crate) fn bound_names(sig: &Signature) -> Vec<Ident> {
    let mut names = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            collect(&typed.pat, &mut names);
        }
    }
    names
}

fn collect(pat: &Pat, names: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(binding) => {
            names.push(binding.ident.clone());
            if let Some((_, sub)) = &binding.subpat {
                collect(sub, names);
            }
        }
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|elem| collect(elem, names)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|elem| collect(elem, names)),
        Pat::Struct(strukt) => strukt
            .fields
            .iter()
            .for_each(|field| collect(&field.pat, names)),
        Pat::Slice(slice) => slice.elems.iter().for_each(|elem| collect(elem, names)),
        Pat::Reference(reference) => collect(&reference.pat, names),
        Pat::Paren(paren) => collect(&paren.pat, names),
        Pat::Type(typed) => collect(&typed.pat, names),
        // Wildcards, literals, ranges and the rest bind nothing a parameter can name.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_of(sig: &str) -> Vec<String> {
        let sig: Signature = syn::parse_str(sig).unwrap();
        bound_names(&sig).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn plain_and_destructured_parameters_are_all_found() {
        assert_eq!(
            names_of("fn f(&self, a: u8, (b, mut c): (u8, u8), P { x, y: z }: P, _: u8)"),
            ["a", "b", "c", "x", "z"]
        );
    }

    #[test]
    fn bindings_with_subpatterns_keep_both_names() {
        assert_eq!(
            names_of("fn f(whole @ (first, _): (u8, u8), &r: &u8)"),
            ["whole", "first", "r"]
        );
    }
}
