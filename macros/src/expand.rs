//! `#[grad]`: read the function, build its IR, differentiate, emit
//! `<name>_grad`. On any error: the function as written, every error, and a
//! stub `<name>_grad` of the right signature so callers see no second wave.
//! Reading the function, the generated functions' signatures, stubs and docs
//! serve `derivatives` too; `steps` calls both.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Ident, ItemFn};

use crate::attr::Kind;
use crate::compose::Calls;
use crate::errors::Errors;
use crate::formula;
use crate::ir::{Graph, Id, Scalar};
use crate::shape::Dims;
use crate::signature::{self, ParamSig};
use crate::{attr, diff, emit, parse, share};

/// A function read by one of the attributes: its parameters, the ones to
/// differentiate, and its body as IR.
pub struct Read {
    pub func: ItemFn,
    pub params: Vec<ParamSig>,
    pub wrt: Vec<usize>,
    pub wrt_names: Vec<Ident>,
    pub options: attr::Options,
    pub graph: Graph,
    pub value: Option<Id>,
    pub errors: Errors,
}

/// Reads the attribute and the function; `Err` holds the output when the item
/// is not a function at all.
pub fn read(
    kind: Kind,
    attr_tokens: TokenStream,
    item: TokenStream,
    calls: &mut Calls,
) -> Result<Read, TokenStream> {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let msg = format!("#[{}] applies to a function", kind.name());
            let err = syn::Error::new(e.span(), msg).to_compile_error();
            return Err(quote!(#item #err));
        }
    };
    let mut errors = Errors::default();
    let options = attr::options(kind, attr_tokens, &mut errors);
    let errors_before = errors.len();
    let scalar = match kind {
        Kind::Jacobian => signature::return_element(&func.sig, &mut errors),
        Kind::Grad | Kind::Hessian => signature::return_scalar(&func.sig, &mut errors),
    };
    let return_ok = errors.len() == errors_before;
    let mut dims = Dims::default();
    let (params, mut reported) = signature::params(&func.sig, &mut dims, &mut errors);
    let wrt = resolve_wrt(&func, &options.wrt, &params, &mut errors);
    // A listed parameter refused above (a complex one over a type parameter, one
    // of a type matgrad cannot see, such as an alias) is not reported again where
    // the body reads it.
    let listed = |p: &ParamSig| match options.wrt.as_slice() {
        [] => params.first().is_some_and(|f| f.ident == p.ident),
        names => names.contains(&p.ident),
    };
    reported.extend(
        (params.iter())
            .filter(|p| p.unusable.is_some() && listed(p))
            .map(|p| p.ident.clone()),
    );
    calls.active = Some(wrt.clone());
    let mut graph = Graph::new(scalar.unwrap_or(Scalar::F64), dims);
    let needs_tail = !matches!(func.sig.output, syn::ReturnType::Default);
    let mut value = parse::body(
        &mut graph,
        &params,
        &reported,
        needs_tail,
        &func.block,
        &mut errors,
        calls,
    );
    // (When the return type is already reported, the body's shape says nothing new.)
    if let (Some(v), Kind::Grad | Kind::Hessian, Some(syn::Stmt::Expr(tail, None)), true) =
        (value, kind, func.block.stmts.last(), return_ok)
    {
        if !graph.shape(v).is_scalar() {
            let shape = graph.dims.show(graph.shape(v)).to_string();
            errors.at(
                tail,
                format!("this is {shape}, but the loss must be a scalar"),
            );
            value = None;
        }
    }
    Ok(Read {
        func,
        params,
        wrt,
        wrt_names: options.wrt.clone(),
        options,
        graph,
        value,
        errors,
    })
}

/// A generated function's signature beyond the function's own parameters:
/// its suffix, extra parameters and the types it returns after the value.
pub struct Companion {
    pub suffix: &'static str,
    pub extra: Vec<TokenStream>,
    pub outputs: Vec<TokenStream>,
}

/// Stubs of the generated functions, after an error.
pub fn stubs(read: &Read, companions: &[Companion]) -> TokenStream {
    companions
        .iter()
        .map(|c| stub(read, c.suffix, &c.extra, &c.outputs))
        .collect()
}

/// `<name>_grad`, or its stub after an error.
pub fn grad(read: &mut Read) -> TokenStream {
    match read.value {
        Some(value) if read.errors.is_empty() => {
            let g = &mut read.graph;
            let outs = gradient(g, value, &read.wrt);
            let grads: Vec<Id> = outs.iter().filter_map(|o| o.node).collect();
            // The doc's formulas are the gradients', whatever the value reads from them.
            let doc = doc(g, &read.func.sig.ident, &read.params, value, &outs);
            let value = share::traces_from_products(g, value, &grads);
            let body = emit::body(g, &read.params, value, &outs);
            // A parameter the gradient does not need is still the user's to declare.
            let attrs = quote!(#[doc = #doc] #[must_use] #[allow(unused_variables, unused_parens)]);
            generated_fn(
                &read.func,
                "grad",
                &[],
                &grad_types(read),
                attrs,
                quote!({ #body }),
            )
        }
        _ => stub(
            read,
            "grad",
            &[],
            &stub_grad_types(&read.wrt_names, &read.params),
        ),
    }
}

/// The annotated function as written, with `#[allow(dead_code)]` put before its own attributes.
///
/// The generated companions do not call the original, so a private function reached only through
/// `<name>_grad` (or `_hessian`, `_hvp`, `_jacobian`) would warn `dead_code` under the user's
/// `#![deny(warnings)]`. Referring to it from the companions instead would need its path, which
/// the attribute cannot know for a method without `self` in an `impl` block (`Self::name`) or a
/// free function (`name`). The allow is on this one item and lint only: an unused companion still
/// warns, and the user's own lint attributes on the function come after it and override it. (A
/// crate that sets `#![forbid(dead_code)]` gets error E0453 for it, as for any allow.)
pub fn original(func: &ItemFn) -> TokenStream {
    quote!(#[allow(dead_code)] #func)
}

/// The gradient of `value` with respect to each listed parameter.
pub fn gradient(g: &mut Graph, value: Id, wrt: &[usize]) -> Vec<emit::GradOut> {
    let inputs: Vec<Id> = wrt.iter().map(|&i| param_node(g, i)).collect();
    let adjoints = diff::gradient(g, value, &inputs);
    wrt.iter()
        .zip(adjoints)
        .map(|(&param, node)| emit::GradOut { node, param })
        .collect()
}

/// The gradients' types: the listed parameters' types without references.
pub fn grad_types(read: &Read) -> Vec<TokenStream> {
    read.wrt
        .iter()
        .map(|&i| read.params[i].owned_ty.to_token_stream())
        .collect()
}

/// A stub `<name>_<suffix>` that keeps callers compiling after an error.
pub fn stub(
    read: &Read,
    suffix: &str,
    extra: &[TokenStream],
    outputs: &[TokenStream],
) -> TokenStream {
    generated_fn(
        &read.func,
        suffix,
        extra,
        outputs,
        quote!(#[allow(unused_variables, unused_mut, clippy::all)]),
        quote!({ ::core::unreachable!("matgrad reported an error") }),
    )
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

pub fn param_node(g: &Graph, index: usize) -> crate::ir::Id {
    (0..g.len())
        .map(|i| crate::ir::Id(i as u32))
        .find(|&id| matches!(g.op(id), crate::ir::ops::Op::Param(p) if p.index == index))
        .expect("every usable parameter has a node")
}

/// The gradient types a stub returns: one per listed name (the first parameter
/// when none is listed), `()` for a name that is not a parameter, so that
/// callers destructuring the tuple see no second error.
pub fn stub_grad_types(names: &[Ident], params: &[ParamSig]) -> Vec<TokenStream> {
    let owned = |p: &ParamSig| p.owned_ty.to_token_stream();
    if names.is_empty() {
        return params.first().map(owned).into_iter().collect();
    }
    names
        .iter()
        .map(|n| {
            params
                .iter()
                .find(|p| p.ident == *n)
                .map_or_else(|| quote!(()), owned)
        })
        .collect()
}

/// What `generate` writes for a body read without errors; nothing, with its
/// error reported, if it fails.
pub fn generated(
    read: &mut Read,
    generate: impl FnOnce(&mut Read, Id) -> Result<TokenStream, syn::Error>,
) -> TokenStream {
    match read.value {
        Some(value) if read.errors.is_empty() => generate(read, value).unwrap_or_else(|err| {
            read.errors.push(err);
            quote!()
        }),
        _ => quote!(),
    }
}

/// `fn <name>_<suffix>(<same parameters>, <extra>) -> (value, outputs…) <body>`.
pub fn generated_fn(
    func: &ItemFn,
    suffix: &str,
    extra: &[TokenStream],
    outputs: &[TokenStream],
    attrs: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let vis = &func.vis;
    let name = signature::suffixed(&func.sig.ident, suffix);
    let (generics, where_clause) = (&func.sig.generics, &func.sig.generics.where_clause);
    let inputs = func
        .sig
        .inputs
        .iter()
        .map(without_mut)
        .chain(extra.iter().cloned());
    let ret = match &func.sig.output {
        // `dyn A + B` (or `'a + B`) needs parentheses inside the tuple; such a
        // function is reported as an error, but its stub must still parse.
        syn::ReturnType::Type(_, ty) => match &**ty {
            syn::Type::TraitObject(_) | syn::Type::ImplTrait(_) => quote!((#ty)),
            _ => quote!(#ty),
        },
        syn::ReturnType::Default => quote!(()),
    };
    let kept = func.attrs.iter().filter(|a| {
        [
            "cfg", "cfg_attr", "allow", "expect", "warn", "deny", "inline",
        ]
        .iter()
        .any(|k| a.path().is_ident(k))
    });
    // The body's assertions first, as the function checks them (`parse::assertions`).
    let body = crate::parse::assertions::put_first(&func.block, body);
    let body = crate::emit::with_private_alias(body);
    quote! {
        #(#kept)*
        #attrs
        #vis fn #name #generics (#(#inputs),*) -> (#ret, #(#outputs),*) #where_clause #body
    }
}

/// A parameter as the generated function declares it: `mut x: T` becomes
/// `x: T`, since the generated body never mutates it.
fn without_mut(arg: &syn::FnArg) -> TokenStream {
    match arg {
        syn::FnArg::Typed(t) => match &*t.pat {
            syn::Pat::Ident(p)
                if p.mutability.is_some() && p.by_ref.is_none() && p.subpat.is_none() =>
            {
                let (ident, ty) = (&p.ident, &t.ty);
                quote!(#ident: #ty)
            }
            _ => t.to_token_stream(),
        },
        syn::FnArg::Receiver(r) => r.to_token_stream(),
    }
}

/// The generated function's doc comment, with the gradient formulas.
pub fn doc(
    g: &Graph,
    name: &Ident,
    params: &[ParamSig],
    value: crate::ir::Id,
    outs: &[emit::GradOut],
) -> String {
    let roots: Vec<crate::ir::Id> = outs.iter().filter_map(|o| o.node).collect();
    let mut w = formula::Writer::new(g, value, &roots);
    let names: Vec<String> = outs
        .iter()
        .map(|o| format!("∇{}", params[o.param].ident))
        .collect();
    let mut lines = vec![
        format!(" Value and gradient of `{name}`, derived by `#[grad]`."),
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
    if g.regions.len() > 1 {
        lines.push(String::new());
        lines.push(" A `(loop)` is a value a loop or branch of the generated code computes: each loop of the function is differentiated by a loop over the same range, run backwards.".to_owned());
    }
    lines.join("\n")
}
