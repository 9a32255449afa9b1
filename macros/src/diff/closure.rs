//! Closures: a `map` and an entrywise map are differentiated through the
//! derivative of their closure's body, which the sweep itself gives (as loops
//! and branches are differentiated through their bodies, in `region`); the
//! derivations are on the operations (`ops::Map`, `ops::MapAdjoint`,
//! `ops::MapDerivative`, `ops::Entrywise`).

use super::{capture_derivative, derivative, pullbacks, tangents};
use crate::ir::ops::{sum_terms, Entrywise, Map, MapAdjoint, MapDerivative, Sum};
use crate::ir::{Graph, Id};

/// The adjoints of a `map`'s matrix and captures: `Ā = C̄ ∘ f′.(A)`,
/// `κ̄ₖ = Σᵢⱼ (C̄ ∘ ∂ₖf.(A))ᵢⱼ`.
pub fn map_adjoint(m: &Map, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
    let a = g.node(node).args[0];
    let caps = captures(g, node, 1);
    let args = with_captures(&[cbar, a, node], &caps);
    let body = m.body;
    let adjoint = |g: &mut Graph, deriv: Option<Id>| {
        deriv.map(|deriv| g.build(MapAdjoint { body, deriv }, &args))
    };
    let deriv = derivative(g, body);
    let mut out = vec![adjoint(g, deriv)];
    for k in 0..caps.len() {
        let deriv = capture_derivative(g, body, k);
        out.push(adjoint(g, deriv).map(|entries| g.build(Sum, &[entries])));
    }
    out
}

/// The tangent of a `map`.
pub fn map_tangent(
    m: &Map,
    g: &mut Graph,
    node: Id,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    // dC = f′.(A) ∘ dA + Σₖ ∂ₖf.(A) dκₖ
    let a = g.node(node).args[0];
    let caps = captures(g, node, 1);
    let body = m.body;
    let along_a = match (dargs[0], derivative(g, body)) {
        (Some(da), Some(deriv)) => Some(g.build(
            MapAdjoint { body, deriv },
            &with_captures(&[da, a, node], &caps),
        )),
        _ => None,
    };
    let args = with_captures(&[a, node], &caps);
    let along_captures = capture_tangents(g, body, &dargs[1..], |g, deriv| {
        g.build(MapDerivative { body, deriv }, &args)
    });
    Ok(sum_terms(g, [along_a, along_captures]))
}

/// The tangent of a map's adjoint `C̄ ∘ f′.(A)` (second derivatives).
pub fn map_adjoint_tangent(
    m: &MapAdjoint,
    g: &mut Graph,
    node: Id,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    // d(C̄ ∘ f′.(A)) = dC̄ ∘ f′.(A) + C̄ ∘ f″.(A) ∘ dA + Σₖ C̄ ∘ ∂ₖf′.(A) dκₖ
    let [cbar, a, c] = [0, 1, 2].map(|i| g.node(node).args[i]);
    let caps = captures(g, node, 3);
    let body = m.body;
    let first = dargs[0].map(|dcbar| g.build(m.clone(), &with_captures(&[dcbar, a, c], &caps)));
    let second = match (dargs[1], derivative(g, m.deriv)) {
        (Some(da), Some(deriv)) => {
            let scaled = g.component_mul(cbar, da);
            Some(g.build(
                MapAdjoint { body, deriv },
                &with_captures(&[scaled, a, c], &caps),
            ))
        }
        _ => None,
    };
    let args = with_captures(&[cbar, a, c], &caps);
    let along_captures = capture_tangents(g, m.deriv, &dargs[3..], |g, deriv| {
        g.build(MapAdjoint { body, deriv }, &args)
    });
    Ok(sum_terms(g, [first, second, along_captures]))
}

/// The tangent of a map's derivative `f′.(A)` (second derivatives).
pub fn map_derivative_tangent(
    m: &MapDerivative,
    g: &mut Graph,
    node: Id,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    // d f′.(A) = f″.(A) ∘ dA + Σₖ ∂ₖf′.(A) dκₖ
    let (a, c) = (g.node(node).args[0], g.node(node).args[1]);
    let caps = captures(g, node, 2);
    let body = m.body;
    let along_a = match (dargs[0], derivative(g, m.deriv)) {
        (Some(da), Some(deriv)) => Some(g.build(
            MapAdjoint { body, deriv },
            &with_captures(&[da, a, c], &caps),
        )),
        _ => None,
    };
    let args = with_captures(&[a, c], &caps);
    let along_captures = capture_tangents(g, m.deriv, &dargs[2..], |g, deriv| {
        g.build(MapDerivative { body, deriv }, &args)
    });
    Ok(sum_terms(g, [along_a, along_captures]))
}

/// The adjoints of an entrywise map's matrices: the pullback of its body,
/// mapped in turn.
pub fn entrywise_adjoint(e: &Entrywise, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
    let args = g.node(node).args.clone();
    let seed = Entrywise::var(g, e.vars.len(), e.field);
    let pullbacks = pullbacks(g, e.body, seed, &e.vars);
    let vars: Vec<Id> = [&e.vars[..], &[seed]].concat();
    let over: Vec<Id> = [&args[..], &[cbar]].concat();
    pullbacks
        .into_iter()
        .map(|p| p.map(|p| built(Entrywise::build(g, p, vars.clone(), &over))))
        .collect()
}

/// The tangent of an entrywise map: the tangent of its body, mapped in turn.
pub fn entrywise_tangent(
    e: &Entrywise,
    g: &mut Graph,
    node: Id,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    let args = g.node(node).args.clone();
    let (mut vars, mut over, mut seeds) = (e.vars.clone(), args, Vec::new());
    for (m, d) in dargs.iter().enumerate() {
        if let Some(d) = *d {
            let field = g.field(e.vars[m]);
            let dv = Entrywise::var(g, vars.len(), field);
            seeds.push((e.vars[m], dv));
            vars.push(dv);
            over.push(d);
        }
    }
    if seeds.is_empty() {
        return Ok(None);
    }
    let t = tangents(g, &[e.body], &seeds).map_err(|_| ())?;
    Ok(t[0].map(|t| built(Entrywise::build(g, t, vars, &over))))
}

/// The captures of a map-like node, its arguments from `first` on.
fn captures(g: &Graph, node: Id, first: usize) -> Vec<Id> {
    g.node(node).args[first..].to_vec()
}

/// `[fixed…, captures…]`: the arguments of a map-like node.
fn with_captures(fixed: &[Id], captures: &[Id]) -> Vec<Id> {
    [fixed, captures].concat()
}

/// `Σₖ dκₖ ∂ₖd.(A)` for `d` a derivative of a map's body `body`, each term
/// `term(g, ∂ₖd)` scaled by the capture's tangent: the part of a tangent
/// that comes from the captures.
fn capture_tangents(
    g: &mut Graph,
    deriv: Id,
    dcaptures: &[Option<Id>],
    mut term: impl FnMut(&mut Graph, Id) -> Id,
) -> Option<Id> {
    let mut terms = Vec::new();
    for (k, dk) in dcaptures.iter().enumerate() {
        let (Some(dk), Some(partial)) = (dk, capture_derivative(g, deriv, k)) else {
            continue;
        };
        let t = term(g, partial);
        terms.push(Some(g.times(t, *dk)));
    }
    sum_terms(g, terms)
}

/// A map the differentiator builds, whose shapes and fields hold by construction.
fn built(result: Result<Id, String>) -> Id {
    result.unwrap_or_else(|msg| panic!("matgrad internal error: ill-formed map: {msg}"))
}
