//! `#[hessian]` and `#[jacobian]`: second derivatives as the forward (tangent)
//! derivative of the gradient, first derivatives of vector- and matrix-valued
//! functions in forward mode. A full Jacobian or Hessian is built column by
//! column, one unit direction at a time, inside one loop whose body is the
//! tangent code: no Kronecker product or `mn×mn` operator is formed, and the
//! emitted code grows linearly with the loss. `<name>_hvp` is the tangent code
//! once, in the caller's direction.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};

use crate::attr::Layout;
use crate::emit::{Emitter, GradOut};
use crate::expand::{self, Read};
use crate::ir::ops::{EmitCx, Param};
use crate::ir::{Field, Graph, Id};
use crate::shape::{Dim, Shape};
use crate::signature::ParamSig;
use crate::{diff, formula};

/// `<name>_hessian` and, for one parameter, `<name>_hvp`, or their stubs
/// after an error.
pub fn hessian(read: &mut Read) -> TokenStream {
    let generated = expand::generated(read, hessian_fns);
    if read.errors.is_empty() {
        return generated;
    }
    expand::stubs(read, &hessian_companions(read))
}

/// `<name>_jacobian`, or its stub after an error.
pub fn jacobian(read: &mut Read) -> TokenStream {
    let generated = expand::generated(read, jacobian_fn);
    if read.errors.is_empty() {
        return generated;
    }
    let entries = declared_entries(read);
    expand::stubs(read, &[jacobian_companion(read, entries)])
}

/// The number of real entries of a parameter when its dimensions are fixed:
/// two per complex entry (its real part, then its imaginary part).
fn param_entries(p: &ParamSig) -> Option<usize> {
    fixed_entries(p.shape).map(|n| n * parts(p.field))
}

/// The real parts of an entry of `field`: 1, or 2 for a complex one.
fn parts(field: Field) -> usize {
    match field {
        Field::Real => 1,
        Field::Complex => 2,
    }
}

/// The number of entries of a value of `shape` when its dimensions are fixed.
fn fixed_entries(shape: Shape) -> Option<usize> {
    match (shape, shape.rows(), shape.cols()) {
        (Shape::Scalar, ..) => Some(1),
        (_, Dim::Fixed(r), Dim::Fixed(c)) => Some(r * c),
        _ => None,
    }
}

/// A matrix type of `rows`×`cols` entries, fixed-size when both are known.
fn matrix_type(read: &Read, rows: Option<usize>, cols: Option<usize>) -> TokenStream {
    let ty = read.graph.scalar.tokens();
    match (rows, cols) {
        (Some(r), Some(c)) => quote!(::matgrad::nalgebra::SMatrix<#ty, #r, #c>),
        _ => quote!(::matgrad::nalgebra::DMatrix<#ty>),
    }
}

/// The generated functions of `#[hessian]`: `<name>_hessian` returning the
/// value, the gradients and the Hessian over all listed parameters, and for
/// one parameter `<name>_hvp`, the product with a direction of its shape.
pub fn hessian_companions(read: &Read) -> Vec<expand::Companion> {
    let sizes: Option<usize> = read
        .wrt
        .iter()
        .map(|&w| param_entries(&read.params[w]))
        .sum();
    let grads = expand::grad_types(read);
    let mut out = vec![expand::Companion {
        suffix: "hessian",
        extra: Vec::new(),
        outputs: [grads.clone(), vec![matrix_type(read, sizes, sizes)]].concat(),
    }];
    if let [w] = read.wrt[..] {
        let (v, x) = (direction_name(read), &read.params[w].owned_ty);
        out.push(expand::Companion {
            suffix: "hvp",
            extra: vec![quote!(#v: &#x)],
            outputs: [grads, vec![x.to_token_stream()]].concat(),
        });
    }
    out
}

/// `<name>_jacobian`, returning the value and one Jacobian per listed
/// parameter, for a value of `value_entries` entries (when fixed).
pub fn jacobian_companion(read: &Read, value_entries: Option<usize>) -> expand::Companion {
    let outputs = read
        .wrt
        .iter()
        .map(|&w| {
            let size = param_entries(&read.params[w]);
            match read.options.layout {
                Layout::Numerator => matrix_type(read, value_entries, size),
                Layout::Denominator => matrix_type(read, size, value_entries),
            }
        })
        .collect();
    expand::Companion {
        suffix: "jacobian",
        extra: Vec::new(),
        outputs,
    }
}

/// The number of entries the declared return type has, when fixed.
pub fn declared_entries(read: &mut Read) -> Option<usize> {
    let syn::ReturnType::Type(_, ty) = &read.func.sig.output else {
        return Some(1);
    };
    let generics: Vec<Ident> = read
        .func
        .sig
        .generics
        .type_params()
        .map(|t| t.ident.clone())
        .collect();
    let dims = &mut read.graph.dims;
    let mut fresh = |axis| {
        dims.fresh(crate::shape::Origin::Param {
            param: "return".to_owned(),
            axis,
        })
    };
    crate::signature::type_shape(ty, &generics, &mut fresh)
        .ok()
        .and_then(fixed_entries)
}

/// A direction parameter: a synthetic parameter of the shape of `like`,
/// written `shown` in formulas.
fn direction(
    read: &mut Read,
    like: usize,
    name: Ident,
    by_ref: bool,
    shown: String,
) -> (usize, Id) {
    let p = &read.params[like];
    let owned_ty = p.owned_ty.clone();
    let sig = ParamSig {
        ident: name,
        owned_ty,
        by_ref,
        shape: p.shape,
        field: p.field,
        unusable: None,
    };
    read.params.push(sig);
    let index = read.params.len() - 1;
    let node = read.graph.build(
        Param {
            index,
            shape: read.params[index].shape,
            field: read.params[index].field,
        },
        &[],
    );
    read.graph.names.insert(node, shown);
    (index, node)
}

/// The name of `<name>_hvp`'s direction: `v`, unless a parameter has it.
fn direction_name(read: &Read) -> Ident {
    let taken = |n: &str| read.params.iter().any(|p| p.ident == n);
    let name = ["v", "direction", "v_direction"]
        .into_iter()
        .find(|n| !taken(n))
        .unwrap_or("__v");
    // (Spanned like the function's name, so that every step of an expansion
    // through helpers names it alike.)
    Ident::new(name, read.func.sig.ident.span())
}

/// The number of real entries of a value of `shape` and `field` at run time
/// (two per complex entry), and at compile time when its dimensions are fixed.
fn entries(shape: Shape, field: Field, value: &TokenStream) -> (TokenStream, Option<usize>) {
    let k = parts(field);
    match (shape, shape.rows(), shape.cols()) {
        (Shape::Scalar, ..) => (quote!(#k), Some(k)),
        (_, Dim::Fixed(r), Dim::Fixed(c)) => {
            let n = r * c * k;
            (quote!(#n), Some(n))
        }
        _ if k == 1 => (quote!(#value.len()), None),
        _ => (quote!(#k * #value.len()), None),
    }
}

/// A matrix of zeros with `rows`×`cols` entries, fixed-size when both are known.
fn zeros(
    cx: &Emitter,
    rows: &(TokenStream, Option<usize>),
    cols: &(TokenStream, Option<usize>),
) -> TokenStream {
    let (ty, p) = (cx.scalar_type(), cx.private());
    match (rows.1, cols.1) {
        (Some(r), Some(c)) => quote!(#p::nalgebra::SMatrix::<#ty, #r, #c>::zeros()),
        _ => {
            let (r, c) = (&rows.0, &cols.0);
            quote!(#p::nalgebra::DMatrix::<#ty>::zeros(#r, #c))
        }
    }
}

/// `let dir = e_k` shaped like parameter `like` (1 for a scalar): for a
/// complex one, real coordinate `k`, that is 1 (`k` even) or `i` (`k` odd) in
/// entry `k / 2`.
fn unit(cx: &Emitter, dir: &Ident, like: usize, field: Field, k: &Ident) -> TokenStream {
    let p = cx.private();
    let x = cx.param(like);
    match (x, field) {
        (crate::code::Value::Scalar(_), Field::Real) => {
            let one = cx.lit(1.0);
            quote!(let #dir = #one;)
        }
        (crate::code::Value::Scalar(_), Field::Complex) => {
            let ty = cx.scalar_type();
            quote!(let #dir = #p::complex_unit::<#ty>(#k);)
        }
        (x, Field::Real) => {
            let x = x.operand();
            quote!(let #dir = #p::unit_like(#x, #k);)
        }
        (x, Field::Complex) => {
            let x = x.operand();
            quote!(let #dir = #p::complex_unit_like(#x, #k);)
        }
    }
}

/// Writes the entries of `value` (a node's value) into `target` from
/// `(row, col)` down a column, or along a row when `along_row`; a complex
/// entry as two, its real part then its imaginary part.
fn write_entries(
    cx: &Emitter,
    target: &Ident,
    (node, field): (Id, Field),
    row: &TokenStream,
    col: &TokenStream,
    along_row: bool,
) -> TokenStream {
    let value = cx.value(node);
    let index = Ident::new("__mg_i", Span::mixed_site());
    let entry = Ident::new("__mg_e", Span::mixed_site());
    let at = |offset: TokenStream| {
        if along_row {
            quote!((#row, #col + #offset))
        } else {
            quote!((#row + #offset, #col))
        }
    };
    match (value, field) {
        (crate::code::Value::Scalar(t), Field::Real) => quote!(#target[(#row, #col)] = #t;),
        (crate::code::Value::Scalar(t), Field::Complex) => {
            let (re, im) = (at(quote!(0)), at(quote!(1)));
            quote!(#target[#re] = #t.re; #target[#im] = #t.im;)
        }
        (
            crate::code::Value::Matrix { receiver, .. } | crate::code::Value::Moved(receiver, _),
            Field::Real,
        ) => {
            let place = at(quote!(#index));
            quote! {
                for (#index, #entry) in #receiver.iter().enumerate() {
                    #target[#place] = *#entry;
                }
            }
        }
        (
            crate::code::Value::Matrix { receiver, .. } | crate::code::Value::Moved(receiver, _),
            Field::Complex,
        ) => {
            let (re, im) = (at(quote!(2 * #index)), at(quote!(2 * #index + 1)));
            quote! {
                for (#index, #entry) in #receiver.iter().enumerate() {
                    #target[#re] = #entry.re;
                    #target[#im] = #entry.im;
                }
            }
        }
    }
}

/// `<name>_hessian` and, for one parameter, `<name>_hvp`.
fn hessian_fns(read: &mut Read, value: Id) -> Result<TokenStream, syn::Error> {
    // (Before the directions join the parameters, so that `v` is still free.)
    let companions = hessian_companions(read);
    let outs = expand::gradient(&mut read.graph, value, &read.wrt);
    let grads: Vec<Option<Id>> = outs.iter().map(|o| o.node).collect();
    let grad_nodes: Vec<Id> = grads.iter().flatten().copied().collect();
    let wrt = read.wrt.clone();
    // The tangent of a gradient has the gradient's field (real or complex).
    let fields: Vec<Field> = grad_nodes.iter().map(|&n| read.graph.field(n)).collect();
    let fit = |g: &mut Graph, t: Vec<Option<Id>>| -> Vec<Option<Id>> {
        (t.into_iter().zip(&fields))
            .map(|(t, &f)| t.map(|t| g.fit(t, f)))
            .collect()
    };

    // One direction per parameter, and the gradients' tangents along each.
    let mut columns = Vec::new();
    for (j, &w) in wrt.iter().enumerate() {
        let name = Ident::new(&format!("__mg_dir{j}"), Span::mixed_site());
        let shown = format!("d{}", read.params[w].ident);
        let (dir_index, dir) = direction(read, w, name, false, shown);
        let x = expand::param_node(&read.graph, w);
        let t = diff::tangents(&mut read.graph, &grad_nodes, &[(x, dir)])
            .map_err(|id| no_tangent(&read.graph, id))?;
        columns.push((dir_index, dir, fit(&mut read.graph, t)));
    }
    // `<name>_hvp`: the tangent once, in the caller's direction.
    let hvp = if wrt.len() == 1 {
        let name = direction_name(read);
        let (v_index, v) = direction(read, wrt[0], name.clone(), true, name.to_string());
        let x = expand::param_node(&read.graph, wrt[0]);
        let t = diff::tangents(&mut read.graph, &grad_nodes, &[(x, v)])
            .map_err(|id| no_tangent(&read.graph, id))?;
        let t = fit(&mut read.graph, t);
        let hv = grads[0].and(t.first().copied().flatten());
        Some((v_index, name, hv, v))
    } else {
        None
    };

    let g = &read.graph;
    let params = &read.params;
    let mut cx = Emitter::new(g, params);
    let outer = cx.compute(&[vec![value], grad_nodes.clone()].concat());
    let sizes: Vec<(TokenStream, Option<usize>)> = wrt
        .iter()
        .map(|&w| {
            let x = cx.param(w);
            entries(params[w].shape, params[w].field, x.receiver())
        })
        .collect();
    let total = sum_sizes(&sizes);
    let h = Ident::new("__mg_h", Span::mixed_site());
    let init = zeros(&cx, &total, &total);
    let k = Ident::new("__mg_k", Span::mixed_site());
    let mut loops = TokenStream::new();
    for (j, (dir_index, dir, tangents)) in columns.iter().enumerate() {
        let present: Vec<(usize, Id)> = tangents
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| (i, t)))
            .collect();
        if present.is_empty() {
            continue;
        }
        let dir_ident = params[*dir_index].ident.clone();
        let set_dir = unit(&cx, &dir_ident, wrt[j], params[wrt[j]].field, &k);
        let known = cx.known();
        let targets: Vec<Id> = present.iter().map(|&(_, t)| t).collect();
        let (hoisted, inner) = split_by_direction(&mut cx, g, &targets, *dir);
        let col_offset = offset(&sizes, j);
        let mut writes = TokenStream::new();
        for &(i, t) in &present {
            // Row block of gradient i; grads are in the order of `wrt`.
            let row = offset(&sizes, i);
            let col = quote!(#col_offset + #k);
            let field = params[wrt[i]].field;
            writes.extend(write_entries(&cx, &h, (t, field), &row, &col, false));
        }
        let n = &sizes[j].0;
        loops.extend(quote! {
            #hoisted
            for #k in 0..#n {
                #set_dir
                #inner
                #writes
            }
        });
        cx.forget_since(&known);
    }
    let grad_outs: Vec<GradOut> = outs
        .iter()
        .map(|o| GradOut {
            node: o.node,
            param: o.param,
        })
        .collect();
    let grad_items = crate::emit::grad_items(&cx, &grad_outs);
    let value_item = cx.value(value).operand().clone();
    let body = quote!({
        #outer
        let mut #h = #init;
        #loops
        (#value_item, #(#grad_items,)* #h)
    });
    let doc = hessian_doc(
        read,
        value,
        &outs,
        hvp.as_ref().map(|(_, n, hv, v)| (n, *hv, *v)),
    );
    let attrs = quote!(#[doc = #doc] #[must_use] #[allow(unused_variables, unused_mut, clippy::needless_range_loop)]);
    let mut fns = expand::generated_fn(
        &read.func,
        "hessian",
        &[],
        &companions[0].outputs,
        attrs,
        body,
    );

    if let Some((_, name, hv, _)) = hvp {
        let mut cx = Emitter::new(g, params);
        let roots: Vec<Id> = [vec![value], grad_nodes, hv.into_iter().collect()].concat();
        let lets = cx.compute_last(&roots);
        let mut items = vec![cx.value(value).operand().clone()];
        items.extend(crate::emit::grad_items(
            &cx,
            &[
                GradOut {
                    node: grads[0],
                    param: wrt[0],
                },
                GradOut {
                    node: hv,
                    param: wrt[0],
                },
            ],
        ));
        let doc = format!(
            " Value, gradient and Hessian-vector product of `{}`, derived by `#[hessian]`:\n `H vec({name})` as a matrix of the shape of `{}`, computed as the derivative of the gradient\n in the direction `{name}` (no Hessian formed).",
            read.func.sig.ident, params[wrt[0]].ident
        );
        let attrs = quote!(#[doc = #doc] #[must_use] #[allow(unused_variables, unused_parens)]);
        fns.extend(expand::generated_fn(
            &read.func,
            "hvp",
            &companions[1].extra,
            &companions[1].outputs,
            attrs,
            quote!({ #lets (#(#items),*) }),
        ));
    }
    Ok(fns)
}

/// `<name>_jacobian`: `∂vec(F)/∂vec(X)ᵀ` for each listed `X`.
fn jacobian_fn(read: &mut Read, value: Id) -> Result<TokenStream, syn::Error> {
    let wrt = read.wrt.clone();
    let mut columns = Vec::new();
    for (j, &w) in wrt.iter().enumerate() {
        let name = Ident::new(&format!("__mg_dir{j}"), Span::mixed_site());
        let shown = format!("d{}", read.params[w].ident);
        let (dir_index, dir) = direction(read, w, name, false, shown);
        let x = expand::param_node(&read.graph, w);
        let t = diff::tangents(&mut read.graph, &[value], &[(x, dir)])
            .map_err(|id| no_tangent(&read.graph, id))?;
        columns.push((dir_index, dir, t[0]));
    }
    let layout = read.options.layout;
    let companion = jacobian_companion(read, fixed_entries(read.graph.shape(value)));
    let g = &read.graph;
    let params = &read.params;
    let mut cx = Emitter::new(g, params);
    let outer = cx.compute(&[value]);
    let value_size = entries(g.shape(value), g.field(value), cx.value(value).receiver());
    let value_of = |t: Id| (t, g.field(value));
    let k = Ident::new("__mg_k", Span::mixed_site());
    let zero_row = quote!(0usize);
    let mut blocks = TokenStream::new();
    let mut names = Vec::new();
    for (j, (dir_index, dir, tangent)) in columns.iter().enumerate() {
        let w = wrt[j];
        let x = cx.param(w);
        let size = entries(params[w].shape, params[w].field, x.receiver());
        let (rows, cols) = match layout {
            Layout::Numerator => (&value_size, &size),
            Layout::Denominator => (&size, &value_size),
        };
        let jac = Ident::new(&format!("__mg_j{j}"), Span::mixed_site());
        let init = zeros(&cx, rows, cols);
        names.push(jac.clone());
        let Some(t) = tangent else {
            blocks.extend(quote!(let #jac = #init;));
            continue;
        };
        let dir_ident = params[*dir_index].ident.clone();
        let set_dir = unit(&cx, &dir_ident, w, params[w].field, &k);
        let known = cx.known();
        let (hoisted, inner) = split_by_direction(&mut cx, g, &[*t], *dir);
        let write = match layout {
            Layout::Numerator => {
                write_entries(&cx, &jac, value_of(*t), &zero_row, &quote!(#k), false)
            }
            Layout::Denominator => {
                write_entries(&cx, &jac, value_of(*t), &quote!(#k), &zero_row, true)
            }
        };
        let n = &size.0;
        blocks.extend(quote! {
            let mut #jac = #init;
            #hoisted
            for #k in 0..#n {
                #set_dir
                #inner
                #write
            }
        });
        cx.forget_since(&known);
    }
    let value_item = cx.owned(value, true);
    let body = quote!({
        #outer
        #blocks
        (#value_item, #(#names),*)
    });
    let tangents: Vec<Option<Id>> = columns.iter().map(|c| c.2).collect();
    let directions: Vec<Id> = columns.iter().map(|c| c.1).collect();
    let doc = jacobian_doc(read, value, &tangents, &directions, layout);
    let attrs = quote!(#[doc = #doc] #[must_use] #[allow(unused_variables, unused_mut, clippy::needless_range_loop)]);
    Ok(expand::generated_fn(
        &read.func,
        "jacobian",
        &[],
        &companion.outputs,
        attrs,
        body,
    ))
}

/// The code computing `targets` split into what does not depend on `dir`
/// (hoisted before the loop) and what does (inside it).
fn split_by_direction(
    cx: &mut Emitter,
    g: &Graph,
    targets: &[Id],
    dir: Id,
) -> (TokenStream, TokenStream) {
    let last = targets.iter().copied().max().unwrap_or(dir).max(dir);
    let depends = g.depends_on(last, |id, _| id == dir);
    let mut independent = Vec::new();
    let mut stack = targets.to_vec();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if depends[id.index()] {
            stack.extend(g.node(id).args.iter().copied());
        } else {
            independent.push(id);
        }
    }
    let hoisted = cx.compute(&independent);
    let inner = cx.compute(targets);
    (hoisted, inner)
}

/// The start of block `j` when blocks have `sizes`.
fn offset(sizes: &[(TokenStream, Option<usize>)], j: usize) -> TokenStream {
    let parts = sizes[..j].iter().map(|s| &s.0);
    quote!((0usize #(+ #parts)*))
}

fn sum_sizes(sizes: &[(TokenStream, Option<usize>)]) -> (TokenStream, Option<usize>) {
    let known: Option<usize> = sizes.iter().map(|s| s.1).sum();
    let parts = sizes.iter().map(|s| &s.0);
    (quote!((0usize #(+ #parts)*)), known)
}

/// The error for an operation without a tangent rule, at its tokens.
fn no_tangent(g: &Graph, id: Id) -> syn::Error {
    let what = match g.op(id) {
        crate::ir::ops::Op::Loop(_)
        | crate::ir::ops::Op::Output(_)
        | crate::ir::ops::Op::RegionParam(_) => "a `for` loop".to_owned(),
        op => format!(
            "`{}`",
            format!("{op:?}")
                .split(['(', ' '])
                .next()
                .unwrap_or_default()
        ),
    };
    let msg = format!("matgrad cannot differentiate {what} twice yet");
    syn::Error::new(g.node(id).span, msg)
}

/// The doc comment of `<name>_hessian`: the gradient and the Hessian applied
/// to a direction, `H vec(V) = vec(…)`.
fn hessian_doc(
    read: &Read,
    value: Id,
    outs: &[GradOut],
    hvp: Option<(&Ident, Option<Id>, Id)>,
) -> String {
    let g = &read.graph;
    let mut roots: Vec<Id> = outs.iter().filter_map(|o| o.node).collect();
    roots.extend(hvp.and_then(|(_, hv, _)| hv));
    let mut w = formula::Writer::new(g, value, &roots);
    let mut lines = vec![
        format!(" Value, gradient and Hessian of `{}`, derived by `#[hessian]`.", read.func.sig.ident),
        String::new(),
        " `H` is `∂²f/∂vec(X)∂vec(X)ᵀ` over the listed parameters stacked in order (column-major `vec`),".to_owned(),
        " built one column at a time from the derivative of the gradient: no Kronecker product is formed.".to_owned(),
        String::new(),
    ];
    if read
        .wrt
        .iter()
        .any(|&w| read.params[w].field == Field::Complex)
    {
        lines.insert(
            lines.len() - 1,
            " A complex entry is two coordinates, its real part then its imaginary part: `H` is the Hessian over them.".to_owned(),
        );
    }
    for o in outs {
        let text = o.node.map_or_else(|| "0".to_owned(), |id| w.write(id).text);
        lines.push(format!(" - `∇{} = {text}`", read.params[o.param].ident));
    }
    if let Some((name, hv, v)) = hvp {
        let text = hv.map_or_else(|| "0".to_owned(), |id| w.write(id).text);
        lines.push(format!(" - `H vec({name}) = vec({text})`"));
        if let Some(kron) = hv.and_then(|hv| crate::kron_form::kronecker_form(g, &mut w, hv, v)) {
            lines.push(format!(" - `H = {kron}`"));
        }
    }
    let defs = w.definitions();
    if !defs.is_empty() {
        lines.push(String::new());
        lines.push(format!(" {}", defs.trim_start_matches(", ")));
    }
    lines.join("\n")
}

/// The doc comment of `<name>_jacobian`: each Jacobian applied to a direction.
fn jacobian_doc(
    read: &Read,
    value: Id,
    tangents: &[Option<Id>],
    directions: &[Id],
    layout: Layout,
) -> String {
    let g = &read.graph;
    let roots: Vec<Id> = tangents.iter().flatten().copied().collect();
    let mut w = formula::Writer::new(g, value, &roots);
    let layout_text = match layout {
        Layout::Numerator => "numerator layout: rows index `vec(F)`, columns `vec(X)`",
        Layout::Denominator => "denominator layout: rows index `vec(X)`, columns `vec(F)`",
    };
    let mut lines = vec![
        format!(
            " Value and Jacobians of `{}`, derived by `#[jacobian]` ({layout_text}).",
            read.func.sig.ident
        ),
        String::new(),
        " Each is given by its action on a direction `dX` (the differential of `F`):".to_owned(),
        String::new(),
    ];
    for ((o, t), dir) in read.wrt.iter().zip(tangents).zip(directions) {
        let x = &read.params[*o].ident;
        let text = t.map_or_else(|| "0".to_owned(), |id| w.write(id).text);
        lines.push(format!(" - `J_{x} vec(d{x}) = vec({text})`"));
        if let Some(kron) = t.and_then(|t| crate::kron_form::kronecker_form(g, &mut w, t, *dir)) {
            let shown = match layout {
                Layout::Numerator => kron,
                Layout::Denominator => format!("({kron})ᵀ"),
            };
            lines.push(format!(" - `J_{x} = {shown}`"));
        }
    }
    let defs = w.definitions();
    if !defs.is_empty() {
        lines.push(String::new());
        lines.push(format!(" {}", defs.trim_start_matches(", ")));
    }
    lines.join("\n")
}
