//! The reverse sweep: visit the nodes that lie between the inputs and the
//! output in reverse topological (id) order, hand each one's adjoint to its
//! operation's adjoint rule, and sum the contributions that reach each argument
//! (fan-out). Only nodes that depend on an input get adjoints.
//!
//! A sweep covers one region (`ir::Region`): a loop in it is differentiated
//! as one node, by a reverse loop over its body's adjoints (`region`), once
//! the adjoints of all its outputs are known. A `map` is differentiated
//! through its closure's body by the same sweep (`closure`).

mod closure;
mod region;

pub use region::captures_of;

use std::collections::HashMap;

use crate::ir::ops::{yields, Captured, LambdaParam, Op};
use crate::ir::{Graph, Id, RegionId};

/// The adjoints of `inputs` for the scalar `output` (`None`: the output does not
/// depend on that input, so its gradient is zero).
pub fn gradient(g: &mut Graph, output: Id, inputs: &[Id]) -> Vec<Option<Id>> {
    let seed = g.lit(1.0);
    let region = g.node(output).region;
    let adjoints = sweep(g, &[(output, seed)], region, |id| inputs.contains(&id));
    name_adjoints(g, &adjoints, output);
    inputs.iter().map(|i| adjoints.get(i).copied()).collect()
}

/// `f′(v)` for a `map` closure body `f(v)`: the adjoint of the closure parameter.
pub fn derivative(g: &mut Graph, body: Id) -> Option<Id> {
    let v = g.build(LambdaParam, &[]);
    partial(g, body, v)
}

/// `∂f/∂κ_k` for a `map` closure body `f(v, κ)` reading captures `κ`.
pub fn capture_derivative(g: &mut Graph, body: Id, k: usize) -> Option<Id> {
    let captured = g.build(Captured(k), &[]);
    partial(g, body, captured)
}

/// The derivative of the scalar `root` with respect to the leaf `wrt`.
fn partial(g: &mut Graph, root: Id, wrt: Id) -> Option<Id> {
    let seed = g.lit(1.0);
    let region = g.node(root).region;
    sweep(g, &[(root, seed)], region, |id| id == wrt)
        .get(&wrt)
        .copied()
}

/// The adjoints of the parameters `vars` of a closure whose result `body`
/// has the adjoint `seed` (a closure parameter too): the pullback of a map
/// entry by entry (`None` where `body` does not read a parameter).
pub fn pullbacks(g: &mut Graph, body: Id, seed: Id, vars: &[Id]) -> Vec<Option<Id>> {
    let region = g.node(body).region;
    let adjoints = sweep(g, &[(body, seed)], region, |id| vars.contains(&id));
    vars.iter().map(|v| adjoints.get(v).copied()).collect()
}

/// The reverse sweep over the nodes of `region`, from the adjoints `seeds`
/// of some of them: the adjoint of every node of `region` that depends on an
/// input, and the contributions reaching the nodes outside `region` it reads.
fn sweep(
    g: &mut Graph,
    seeds: &[(Id, Id)],
    region: RegionId,
    is_input: impl Fn(Id) -> bool,
) -> HashMap<Id, Id> {
    let mut adjoints: HashMap<Id, Id> = HashMap::new();
    let Some(top) = seeds.iter().map(|s| s.0).max() else {
        return adjoints;
    };
    let active = g.depends_on(top, |id, _| is_input(id));
    for &(node, seed) in seeds {
        if active[node.index()] {
            add(g, &mut adjoints, node, seed);
        }
    }
    // The adjoints of a loop's outputs, gathered for the loop.
    let mut outputs: HashMap<Id, Vec<Option<Id>>> = HashMap::new();
    let saved = std::mem::replace(&mut g.region, region);
    for i in (0..=top.index()).rev() {
        let id = Id(i as u32);
        if !active[i] || g.node(id).region != region {
            continue;
        }
        let node = g.node(id).clone();
        g.span = node.span;
        let contributions = match (&node.op, adjoints.get(&id)) {
            (Op::Output(o), Some(&cbar)) => {
                let n = yields(g.op(node.args[0])).expect("an output of a loop or an `if`");
                let slot = outputs.entry(node.args[0]).or_insert_with(|| vec![None; n]);
                slot[o.k] = Some(cbar);
                continue;
            }
            (Op::Loop(_), _) => match outputs.remove(&id) {
                Some(cbars) => region::loop_adjoint(g, id, &cbars, &active),
                None => continue,
            },
            (Op::If(_), _) => match outputs.remove(&id) {
                Some(cbars) => region::if_adjoint(g, id, &cbars, &active),
                None => continue,
            },
            // An adjoint that folded to exactly zero (`1 − 1` for the shift of a
            // stable softmax) passes nothing on.
            (_, Some(&cbar)) if g.is_zero(cbar) => continue,
            (Op::Map(m), Some(&cbar)) => closure::map_adjoint(m, g, id, cbar),
            (Op::Entrywise(e), Some(&cbar)) => closure::entrywise_adjoint(e, g, id, cbar),
            (_, Some(&cbar)) if !node.args.is_empty() => node.op.rule().adjoint(g, id, cbar),
            _ => continue,
        };
        for (&arg, contribution) in node.args.iter().zip(contributions) {
            let Some(c) = contribution else { continue };
            if active.get(arg.index()) == Some(&true) {
                add(g, &mut adjoints, arg, c);
            }
        }
    }
    g.region = saved;
    adjoints
}

/// Adds the contribution `c` to the adjoint of `node` (fan-out). A real
/// `node` keeps the real part of a complex contribution (`Re⟨c, dx⟩ =
/// ⟨Re c, dx⟩` for a real `dx`); a complex one takes a real contribution as
/// complex.
fn add(g: &mut Graph, adjoints: &mut HashMap<Id, Id>, node: Id, c: Id) {
    let c = g.fit(c, g.field(node));
    let total = match adjoints.get(&node) {
        Some(&prev) => g.plus(prev, c),
        None => c,
    };
    adjoints.insert(node, total);
}

/// Names the adjoint of each named forward value `x` as `x_bar`, for readable
/// generated code.
fn name_adjoints(g: &mut Graph, adjoints: &HashMap<Id, Id>, output: Id) {
    // In id order, so the names (and the generated code) are the same every build.
    let mut pairs: Vec<(Id, Id)> = adjoints.iter().map(|(&id, &adj)| (id, adj)).collect();
    pairs.sort();
    for (id, adj) in pairs {
        if adj > output && !g.names.contains_key(&adj) {
            if let Some(name) = g.names.get(&id).cloned() {
                g.names.insert(adj, format!("{name}_bar"));
            }
        }
    }
}

/// Forward mode: the tangents of `targets` when each seed parameter moves in
/// the direction of its paired node (`None` where a tangent is zero). Fails with
/// the node whose operation has no tangent rule.
pub fn tangents(g: &mut Graph, targets: &[Id], seeds: &[(Id, Id)]) -> Result<Vec<Option<Id>>, Id> {
    let region = g.region;
    tangents_in(g, targets, seeds, region)
}

/// [`tangents`] over the nodes of `region`: a loop or branch in it takes its
/// tangent as one node (the loop of tangents, `region::loop_tangent`).
fn tangents_in(
    g: &mut Graph,
    targets: &[Id],
    seeds: &[(Id, Id)],
    region: RegionId,
) -> Result<Vec<Option<Id>>, Id> {
    let Some(&last) = targets.iter().max() else {
        return Ok(Vec::new());
    };
    let active = g.depends_on(last, |id, _| seeds.iter().any(|&(s, _)| s == id));
    let mut tangent: HashMap<Id, Id> = seeds.iter().copied().collect();
    let saved = std::mem::replace(&mut g.region, region);
    for (i, &is_active) in active.iter().enumerate() {
        let id = Id(i as u32);
        if !is_active || tangent.contains_key(&id) || g.node(id).region != region {
            continue;
        }
        let node = g.node(id).clone();
        let dargs: Vec<Option<Id>> = node.args.iter().map(|a| tangent.get(a).copied()).collect();
        if dargs.iter().all(Option::is_none) {
            continue;
        }
        g.span = node.span;
        let result = match &node.op {
            Op::Loop(_) => region::loop_tangent(g, id, &dargs),
            Op::If(_) => region::if_tangent(g, id, &dargs),
            Op::Map(m) => closure::map_tangent(m, g, id, &dargs).map_err(|()| id),
            Op::MapAdjoint(m) => closure::map_adjoint_tangent(m, g, id, &dargs).map_err(|()| id),
            Op::MapDerivative(m) => {
                closure::map_derivative_tangent(m, g, id, &dargs).map_err(|()| id)
            }
            Op::Entrywise(e) => closure::entrywise_tangent(e, g, id, &dargs).map_err(|()| id),
            op => op.rule().tangent(g, id, &dargs).map_err(|()| id),
        };
        match result {
            Ok(Some(t)) => {
                tangent.insert(id, t);
            }
            Ok(None) => {}
            Err(failed) => {
                g.region = saved;
                return Err(failed);
            }
        }
    }
    g.region = saved;
    Ok(targets.iter().map(|t| tangent.get(t).copied()).collect())
}
