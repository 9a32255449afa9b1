//! What the value reads from the gradient, decided once both are built (one
//! graph for the two): a trace the value takes without a product, `tr(A B)`
//! (`tr_dot`, one multiplication per entry of `A`) or `⟨A, B⟩ = tr(AᵀB)`, is
//! read from the diagonal of a product the gradient forms anyway — `A B`,
//! `B A`, `BᵀAᵀ` or `AᵀBᵀ`, which have the same trace. For `ln det Σ + tr(Σ⁻¹S)`
//! the gradient forms `Σ⁻¹S` (or its transpose) and the value then costs `n`
//! additions more instead of `n²` multiply-adds.
//!
//! The rewrite table cannot do this as each node is built: the product does
//! not exist yet when the value's trace is read, and on its own `tr_dot` is the
//! cheaper form.

use std::collections::HashMap;

use crate::ir::ops::{Op, Trace};
use crate::ir::{Graph, Id, RegionId};

/// `value` with each trace it takes without a product read from a product
/// formed on the way to `roots` (the gradients) or to `value`; `value` itself
/// when there is none.
pub fn traces_from_products(g: &mut Graph, value: Id, roots: &[Id]) -> Id {
    debug_assert_eq!(g.region, RegionId(0), "the function body's own region");
    let products = formed_products(g, &[roots, &[value]].concat());
    let mut found: HashMap<Id, Id> = HashMap::new();
    for id in reachable(g, &[value]) {
        if let Some(p) = trace_factors(g, id)
            .and_then(|fs| cyclic_forms(fs).find_map(|f| products.get(&f).copied()))
        {
            found.insert(id, p);
        }
    }
    if found.is_empty() {
        return value;
    }
    let affected = g.depends_on(value, |id, _| found.contains_key(&id));
    let rebuilt = g.rebuild(value, |g, id| match found.get(&id) {
        Some(&p) => Some(Ok(g.build_as_is(Trace, &[p]))),
        None if !affected[id.index()] => Some(Ok(id)),
        None => None,
    });
    rebuilt.expect("the replacement never gives up")
}

/// A factor of a product: a node, or its transpose.
type Factor = (Id, bool);

/// `x`, as a node and whether it is transposed: `Aᵀ` is `(A, true)`.
fn factor(g: &Graph, x: Id) -> Factor {
    match (g.op(x), g.node(x).args.as_slice()) {
        (Op::Transpose(_), &[a]) => (a, true),
        _ => (x, false),
    }
}

fn transposed((x, t): Factor) -> Factor {
    (x, !t)
}

/// The factors `(X, Y)` of a scalar that is `tr(X Y)` computed without the product.
fn trace_factors(g: &Graph, id: Id) -> Option<(Factor, Factor)> {
    let args = &g.node(id).args;
    match g.op(id) {
        Op::TrDot(_) => Some((factor(g, args[0]), factor(g, args[1]))),
        Op::Dot(_) => Some((transposed(factor(g, args[0])), factor(g, args[1]))),
        _ => None,
    }
}

/// The products with the trace of `X Y`: `X Y`, `Y X`, `YᵀXᵀ`, `XᵀYᵀ`.
fn cyclic_forms((x, y): (Factor, Factor)) -> impl Iterator<Item = (Factor, Factor)> {
    let (xt, yt) = (transposed(x), transposed(y));
    [(x, y), (y, x), (yt, xt), (xt, yt)].into_iter()
}

/// The products of the function body's own region read on the way to
/// `roots`, by their factors.
fn formed_products(g: &Graph, roots: &[Id]) -> HashMap<(Factor, Factor), Id> {
    let mut products = HashMap::new();
    for id in reachable(g, roots) {
        let args = &g.node(id).args;
        let factors = match g.op(id) {
            Op::MatMul(_) => (factor(g, args[0]), factor(g, args[1])),
            Op::TrMul(_) => (transposed(factor(g, args[0])), factor(g, args[1])),
            _ => continue,
        };
        products.entry(factors).or_insert(id);
    }
    products
}

/// The nodes of the function body's own region that `roots` read, directly or
/// not (not those inside loops and branches, which the body cannot read).
fn reachable(g: &Graph, roots: &[Id]) -> Vec<Id> {
    let mut seen = vec![false; g.len()];
    let mut stack: Vec<Id> = roots.to_vec();
    let mut out = Vec::new();
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut seen[id.index()], true) || g.node(id).region != RegionId(0) {
            continue;
        }
        out.push(id);
        stack.extend(g.node(id).args.iter().copied());
    }
    out.sort();
    out
}
