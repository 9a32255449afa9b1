//! The attribute's arguments: the parameters to differentiate with respect to
//! (`#[grad(a, b)]`; none listed means the first), and for `#[jacobian]` the
//! layout (`layout = numerator`, the default, or `layout = denominator`).

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Token};

use crate::errors::Errors;

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Grad,
    Hessian,
    Jacobian,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Grad => "grad",
            Kind::Hessian => "hessian",
            Kind::Jacobian => "jacobian",
        }
    }
}

/// Rows index the function's entries and columns the parameter's
/// (`∂vec(F)/∂vec(X)ᵀ`), or the transpose.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    #[default]
    Numerator,
    Denominator,
}

#[derive(Default)]
pub struct Options {
    pub wrt: Vec<Ident>,
    pub layout: Layout,
}

enum Arg {
    Name(Ident),
    Layout(Ident, Ident),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Arg> {
        let name: Ident = input.parse()?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Ok(Arg::Layout(name, input.parse()?))
        } else {
            Ok(Arg::Name(name))
        }
    }
}

/// The options, each name once; a repeated name is reported at its repetition.
pub fn options(kind: Kind, tokens: TokenStream, errors: &mut Errors) -> Options {
    let parsed = match Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!(
                "expected the names of parameters to differentiate, as in `#[{}(w, b)]`",
                kind.name()
            );
            errors.push(syn::Error::new(e.span(), msg));
            return Options::default();
        }
    };
    let mut options = Options::default();
    for arg in parsed {
        match arg {
            Arg::Name(name) if options.wrt.contains(&name) => {
                errors.at(&name, format!("`{name}` is listed twice"));
            }
            Arg::Name(name) => options.wrt.push(name),
            Arg::Layout(key, value) if key == "layout" && kind == Kind::Jacobian => {
                match value.to_string().as_str() {
                    "numerator" => options.layout = Layout::Numerator,
                    "denominator" => options.layout = Layout::Denominator,
                    _ => errors.at(&value, "the layout is `numerator` or `denominator`"),
                }
            }
            Arg::Layout(key, _) => {
                let msg = match kind {
                    Kind::Jacobian => format!("unknown option `{key}`; the option is `layout`"),
                    _ => format!("#[{}] takes no options, only parameter names", kind.name()),
                };
                errors.at(&key, msg);
            }
        }
    }
    options
}
