//! `#[grad]`: read the function, build its IR, differentiate, emit
//! `<name>_grad`. On any error: the function as written, every error, and a
//! stub `<name>_grad` of the right signature so callers see no second wave.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, ItemFn};

use crate::errors::Errors;
use crate::formula;
use crate::ir::{Graph, Scalar};
use crate::shape::Dims;
use crate::signature::{self, ParamSig};
use crate::{attr, diff, emit, parse};

pub fn grad(attr_tokens: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(e.span(), "#[grad] applies to a function").to_compile_error();
            return quote!(#item #err);
        }
    };
    let mut errors = Errors::default();
    let wrt_names = attr::wrt(attr_tokens, &mut errors);
    let scalar = signature::return_scalar(&func.sig, &mut errors);
    let mut dims = Dims::default();
    let params = signature::params(&func.sig, &mut dims, &mut errors);
    let wrt = resolve_wrt(&func, &wrt_names, &params, &mut errors);

    let mut g = Graph::new(scalar.unwrap_or(Scalar::F64), dims);
    let value = parse::body(&mut g, &params, &func.block, &mut errors);

    let generated = match value {
        Some(value) if errors.is_empty() => {
            let inputs: Vec<_> = wrt.iter().map(|&i| param_node(&g, i)).collect();
            let adjoints = diff::gradient(&mut g, value, &inputs);
            let outs: Vec<emit::GradOut> = wrt
                .iter()
                .zip(&adjoints)
                .map(|(&param, &node)| emit::GradOut { node, param })
                .collect();
            let body = emit::body(&g, &params, value, &outs);
            let doc = doc(&g, &func.sig.ident, &params, &outs);
            signature_of_grad(
                &func,
                &params,
                &wrt,
                quote!(#[doc = #doc] #[must_use]),
                quote!({ #body }),
            )
        }
        _ => signature_of_grad(
            &func,
            &params,
            &wrt,
            quote!(#[allow(unused_variables, clippy::all)]),
            quote!({ ::core::unreachable!("#[grad] reported an error") }),
        ),
    };
    let errors = errors.to_compile_errors();
    quote!(#func #generated #errors)
}

/// Indices of the parameters to differentiate with respect to.
fn resolve_wrt(
    func: &ItemFn,
    names: &[Ident],
    params: &[ParamSig],
    errors: &mut Errors,
) -> Vec<usize> {
    if names.is_empty() {
        return match params.first() {
            Some(p) if p.unusable.is_some() => {
                let why = p.unusable.clone().unwrap_or_default();
                errors.at(
                    &p.ident,
                    format!("cannot differentiate with respect to `{}`: {why}", p.ident),
                );
                Vec::new()
            }
            Some(_) => vec![0],
            None => {
                errors.at(
                    &func.sig.ident,
                    "#[grad] needs a parameter to differentiate with respect to",
                );
                Vec::new()
            }
        };
    }
    let mut out = Vec::new();
    for name in names {
        match params.iter().position(|p| p.ident == *name) {
            None => errors.at(
                name,
                format!("`{name}` is not a parameter of `{}`", func.sig.ident),
            ),
            Some(i) => match &params[i].unusable {
                Some(why) => errors.at(
                    name,
                    format!("cannot differentiate with respect to `{name}`: {why}"),
                ),
                None => out.push(i),
            },
        }
    }
    out
}

fn param_node(g: &Graph, index: usize) -> crate::ir::Id {
    (0..g.len())
        .map(|i| crate::ir::Id(i as u32))
        .find(|&id| matches!(g.op(id), crate::ops::Op::Param(p) if p.index == index))
        .expect("every usable parameter has a node")
}

/// `fn <name>_grad(<same parameters>) -> (value, gradients…) <body>`.
fn signature_of_grad(
    func: &ItemFn,
    params: &[ParamSig],
    wrt: &[usize],
    attrs: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let vis = &func.vis;
    let name = signature::suffixed(&func.sig.ident, "grad");
    let (generics, where_clause) = (&func.sig.generics, &func.sig.generics.where_clause);
    let inputs = params.iter().map(|p| {
        let (ident, ty) = (&p.ident, &p.ty);
        quote!(#ident: #ty)
    });
    let ret = match &func.sig.output {
        syn::ReturnType::Type(_, ty) => quote!(#ty),
        syn::ReturnType::Default => quote!(()),
    };
    let grads = wrt.iter().map(|&i| &params[i].owned_ty);
    let kept = func.attrs.iter().filter(|a| {
        [
            "cfg", "cfg_attr", "allow", "expect", "warn", "deny", "inline",
        ]
        .iter()
        .any(|k| a.path().is_ident(k))
    });
    quote! {
        #(#kept)*
        #attrs
        #vis fn #name #generics (#(#inputs),*) -> (#ret, #(#grads),*) #where_clause #body
    }
}

/// The generated function's doc comment, with the gradient formulas.
fn doc(g: &Graph, name: &Ident, params: &[ParamSig], outs: &[emit::GradOut]) -> String {
    let mut w = formula::Writer::new(g);
    let names: Vec<String> = outs
        .iter()
        .map(|o| format!("∇{}", params[o.param].ident))
        .collect();
    let mut lines = vec![
        format!(" Value and gradient of [`{name}`], derived by `#[grad]`."),
        String::new(),
        format!(" Returns `(value, {})`, where", names.join(", ")),
        String::new(),
    ];
    for (o, n) in outs.iter().zip(&names) {
        let text = match o.node {
            Some(id) => w.write(id).text,
            None => "0".to_owned(),
        };
        lines.push(format!(" - `{n} = {text}`"));
    }
    let defs = w.definitions();
    if !defs.is_empty() {
        lines.push(String::new());
        lines.push(format!(" {}", defs.trim_start_matches(", ")));
    }
    lines.join("\n")
}
