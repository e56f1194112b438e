//! The attribute's arguments: `#[traced(name = "..", kind = server, skip(a), skip_all,
//! fields(k = expr), ret, err = false, crate = path, context = arg, parent = expr, root,
//! links = expr, prefix = "..", ignore)]`.
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

/// Every argument keyword.
const KNOWN: [&str; 14] = [
    "name", "kind", "skip", "skip_all", "fields", "ret", "err", "crate", "context", "parent",
    "root", "links", "prefix", "ignore",
];

/// Every argument keyword, for the "unknown argument" message.
const KEYWORDS: &str = "`name`, `kind`, `skip`, `skip_all`, `fields`, `ret`, `err`, `crate`, \
                        `context`, `parent`, `root`, `links`, `prefix`, `ignore`";

/// The parsed arguments.
#[derive(Clone, Default)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    pub(crate) kind: Option<Ident>,
    pub(crate) skip: Vec<Ident>,
    /// Where `skip(..)` was written, even empty.
    pub(crate) skip_given: Option<Span>,
    pub(crate) skip_all: Option<Span>,
    pub(crate) fields: Vec<Field>,
    pub(crate) ret: Option<Span>,
    pub(crate) err: Option<LitBool>,
    pub(crate) krate: Option<Path>,
    /// The parameter carrying the remote parent (headers, a map, message metadata).
    pub(crate) context: Option<Ident>,
    /// An explicit parent: a `Context`, a `SpanContext`, or `None` for a new trace.
    pub(crate) parent: Option<Expr>,
    /// Start a new trace.
    pub(crate) root: Option<Span>,
    /// Span contexts to link to.
    pub(crate) links: Option<Expr>,
    /// What goes before `::` in the span name (`Type` in `Type::method`).
    pub(crate) prefix: Option<LitStr>,
    /// Inside an instrumented block: leave this function alone.
    pub(crate) ignore: Option<Span>,
}

/// One `fields(key = expr)` entry.
#[derive(Clone)]
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
            if seen.contains(&keyword) {
                errors.push(syn::Error::new(
                    keyword.span(),
                    format!("duplicate argument `{keyword}`: give each argument once"),
                ));
                continue;
            }
            if KNOWN.contains(&keyword.to_string().as_str()) {
                seen.push(keyword.clone());
            }
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
                if let Ok(quoted) = parse_assigned::<LitStr>(argument.clone()) {
                    return Err(syn::Error::new(
                        quoted.span(),
                        format!("write the kind without quotes: `kind = {}`", quoted.value()),
                    ));
                }
                let kind = parse_assigned::<Ident>(argument)?;
                if !KINDS.contains(&kind.to_string().as_str()) {
                    return Err(syn::Error::new(
                        kind.span(),
                        "unknown span kind: expected one of `internal`, `server`, `client`, `producer`, `consumer`",
                    ));
                }
                self.kind = Some(kind);
            }
            "skip" => {
                self.skip_given = Some(keyword.span());
                self.skip = parse_list(argument, Ident::parse_any)?;
            }
            "skip_all" => self.skip_all = Some(parse_flag(argument)?),
            "fields" => self.fields = parse_list(argument, Field::parse)?,
            "ret" => self.ret = Some(parse_flag(argument)?),
            "err" => self.err = Some(parse_assigned::<LitBool>(argument)?),
            "crate" => self.krate = Some(parse_assigned_with(argument, Path::parse_mod_style)?),
            "context" => self.context = Some(parse_assigned_with(argument, Ident::parse_any)?),
            "parent" => self.parent = Some(parse_assigned::<Expr>(argument)?),
            "root" => self.root = Some(parse_flag(argument)?),
            "links" => self.links = Some(parse_assigned::<Expr>(argument)?),
            "prefix" => self.prefix = Some(parse_assigned::<LitStr>(argument)?),
            "ignore" => self.ignore = Some(parse_flag(argument)?),
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
        if let (Some(skip_all), Some(_)) = (self.skip_all, self.skip_given) {
            errors.push(syn::Error::new(
                skip_all,
                "`skip_all` contradicts `skip(..)`: `skip_all` already skips every argument",
            ));
        }
        let parents: Vec<(&str, Span)> = [
            self.context.as_ref().map(|ident| ("context", ident.span())),
            self.parent.as_ref().map(|expr| ("parent", expr.span())),
            self.root.map(|span| ("root", span)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let [(first, _), rest @ ..] = parents.as_slice() {
            for (other, span) in rest {
                errors.push(syn::Error::new(
                    *span,
                    format!("`{other}` contradicts `{first}`: a span has one parent"),
                ));
            }
        }
        for (index, skipped) in self.skip.iter().enumerate() {
            if self.skip[..index].contains(skipped) {
                errors.push(syn::Error::new(
                    skipped.span(),
                    format!("`{skipped}` is already skipped"),
                ));
            }
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

    /// These arguments as block-level defaults, overridden by a function's own `method`
    /// arguments wherever the function gives them.
    pub(crate) fn overridden_by(&self, method: &Args) -> Args {
        let skips = method.skip_all.is_some() || method.skip_given.is_some();
        let parent_given =
            method.context.is_some() || method.parent.is_some() || method.root.is_some();
        Args {
            name: method.name.clone(),
            kind: method.kind.clone().or_else(|| self.kind.clone()),
            skip: if skips {
                method.skip.clone()
            } else {
                self.skip.clone()
            },
            skip_given: if skips {
                method.skip_given
            } else {
                self.skip_given
            },
            skip_all: if skips {
                method.skip_all
            } else {
                self.skip_all
            },
            // The block's fields first; a member's field of the same key replaces it.
            fields: self
                .fields
                .iter()
                .filter(|field| method.fields.iter().all(|own| own.key != field.key))
                .chain(&method.fields)
                .cloned()
                .collect(),
            ret: method.ret.or(self.ret),
            err: method.err.clone().or_else(|| self.err.clone()),
            krate: method.krate.clone().or_else(|| self.krate.clone()),
            context: if parent_given {
                method.context.clone()
            } else {
                self.context.clone()
            },
            parent: if parent_given {
                method.parent.clone()
            } else {
                self.parent.clone()
            },
            root: if parent_given { method.root } else { self.root },
            links: method.links.clone().or_else(|| self.links.clone()),
            prefix: method.prefix.clone().or_else(|| self.prefix.clone()),
            ignore: method.ignore,
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
