//! The attribute's arguments: `#[traced(name = "..", kind = server, skip(a), skip_all,
//! fields(k = expr), ret, err = false, crate = path)]`.
//!
//! Each comma-separated argument is parsed on its own, so one mistake does not hide the next:
//! every error is collected and reported together, each spanned on its own tokens.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitBool, LitStr, Path, Token};

use crate::errors::Errors;

/// The span kinds, as written in `kind = ...`.
pub(crate) const KINDS: [&str; 5] = ["internal", "server", "client", "producer", "consumer"];

/// Every argument keyword, for the "unknown argument" message.
const KEYWORDS: &str = "`name`, `kind`, `skip`, `skip_all`, `fields`, `ret`, `err`, `crate`";

/// The parsed arguments.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    pub(crate) kind: Option<Ident>,
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: Option<Span>,
    pub(crate) fields: Vec<Field>,
    pub(crate) ret: Option<Span>,
    pub(crate) err: Option<LitBool>,
    pub(crate) krate: Option<Path>,
}

/// One `fields(key = expr)` entry.
pub(crate) struct Field {
    /// The attribute key: `a.b.c` or a string literal.
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: Expr,
}

impl Args {
    /// Parses the attribute's tokens, collecting every error.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Self {
        let mut args = Args::default();
        let mut seen: Vec<Ident> = Vec::new();
        for argument in split_on_commas(tokens) {
            let Some(keyword) = keyword_of(&argument) else {
                errors.push(syn::Error::new(
                    argument_span(&argument),
                    format!("expected an argument: one of {KEYWORDS}"),
                ));
                continue;
            };
            if let Some(first) = seen.iter().find(|name| **name == keyword) {
                let mut error =
                    syn::Error::new(keyword.span(), format!("duplicate argument `{keyword}`"));
                error.combine(syn::Error::new(first.span(), "first given here"));
                errors.push(error);
                continue;
            }
            seen.push(keyword.clone());
            if let Err(error) = args.parse_one(&keyword, argument) {
                errors.push(error);
            }
        }
        args.check_contradictions(errors);
        args
    }

    fn parse_one(&mut self, keyword: &Ident, argument: TokenStream) -> syn::Result<()> {
        match keyword.to_string().as_str() {
            "name" => self.name = Some(parse_assigned::<LitStr>(argument)?),
            "kind" => {
                let kind = parse_assigned::<Ident>(argument)?;
                if !KINDS.contains(&kind.to_string().as_str()) {
                    return Err(syn::Error::new(
                        kind.span(),
                        "unknown span kind: expected one of `internal`, `server`, `client`, `producer`, `consumer`",
                    ));
                }
                self.kind = Some(kind);
            }
            "skip" => self.skip = parse_list(argument, Ident::parse)?,
            "skip_all" => self.skip_all = Some(parse_flag(argument)?),
            "fields" => self.fields = parse_list(argument, Field::parse)?,
            "ret" => self.ret = Some(parse_flag(argument)?),
            "err" => self.err = Some(parse_assigned::<LitBool>(argument)?),
            "crate" => self.krate = Some(parse_assigned_with(argument, Path::parse_mod_style)?),
            _ => {
                return Err(syn::Error::new(
                    keyword.span(),
                    format!("unknown argument `{keyword}`: expected one of {KEYWORDS}"),
                ));
            }
        }
        Ok(())
    }

    fn check_contradictions(&self, errors: &mut Errors) {
        if let (Some(skip_all), false) = (self.skip_all, self.skip.is_empty()) {
            errors.push(syn::Error::new(
                skip_all,
                "`skip_all` contradicts `skip(..)`: `skip_all` already skips every argument",
            ));
        }
        let mut keys: Vec<&str> = Vec::new();
        for field in &self.fields {
            if keys.contains(&field.key.as_str()) {
                errors.push(syn::Error::new(
                    field.key_span,
                    format!("duplicate field `{}`", field.key),
                ));
            }
            keys.push(&field.key);
        }
    }

    /// Whether `Err` returns mark the span as failed (the default).
    pub(crate) fn records_errors(&self) -> bool {
        self.err.as_ref().is_none_or(LitBool::value)
    }
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (key, key_span) = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span())
        } else {
            let segments = Punctuated::<Ident, Token![.]>::parse_separated_nonempty_with(
                input,
                Ident::parse_any,
            )?;
            let key = segments
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(".");
            (key, segments.span())
        };
        if key.is_empty() {
            return Err(syn::Error::new(key_span, "a field key cannot be empty"));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(Field {
            key,
            key_span,
            value,
        })
    }
}

/// Splits at top-level commas; commas inside `(..)` are inside a group token already.
fn split_on_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut arguments = vec![TokenStream::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => arguments.push(TokenStream::new()),
            _ => {
                if let Some(current) = arguments.last_mut() {
                    current.extend([token]);
                }
            }
        }
    }
    arguments.retain(|argument| !argument.is_empty());
    arguments
}

/// The leading keyword of an argument (`crate` included).
fn keyword_of(argument: &TokenStream) -> Option<Ident> {
    match argument.clone().into_iter().next() {
        Some(TokenTree::Ident(ident)) => Some(ident),
        _ => None,
    }
}

fn argument_span(argument: &TokenStream) -> Span {
    argument
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}

/// `keyword = <T>`.
fn parse_assigned<T: Parse>(argument: TokenStream) -> syn::Result<T> {
    parse_assigned_with(argument, T::parse)
}

fn parse_assigned_with<T>(
    argument: TokenStream,
    value: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<T> {
    (move |input: ParseStream<'_>| {
        let keyword = Ident::parse_any(input)?;
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                keyword.span(),
                format!("expected `{keyword} = ...`"),
            ));
        }
        input.parse::<Token![=]>()?;
        value(input)
    })
    .parse2(argument)
}

/// `keyword(a, b, ...)`.
fn parse_list<T>(
    argument: TokenStream,
    item: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    (move |input: ParseStream<'_>| {
        let keyword: Ident = input.parse()?;
        if !input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                keyword.span(),
                format!("expected `{keyword}(...)`"),
            ));
        }
        let content;
        syn::parenthesized!(content in input);
        let items = Punctuated::<T, Token![,]>::parse_terminated_with(&content, item)?;
        Ok(items.into_iter().collect())
    })
    .parse2(argument)
}

/// A bare keyword such as `ret` or `skip_all`.
fn parse_flag(argument: TokenStream) -> syn::Result<Span> {
    (|input: ParseStream<'_>| {
        let keyword: Ident = input.parse()?;
        if !input.is_empty() {
            return Err(input.error(format!("`{keyword}` takes no value")));
        }
        Ok(keyword.span())
    })
    .parse2(argument)
}
