//! The reverse sweep: visit the nodes that lie between the inputs and the
//! output in reverse topological (id) order, hand each one's adjoint to its
//! operation's adjoint rule, and sum the contributions that reach each argument
//! (fan-out). Only nodes that depend on an input get adjoints.

use std::collections::HashMap;

use crate::ir::{Graph, Id};
use crate::ops::LambdaParam;

/// The adjoints of `inputs` for the scalar `output` (`None`: the output does not
/// depend on that input, so its gradient is zero).
pub fn gradient(g: &mut Graph, output: Id, inputs: &[Id]) -> Vec<Option<Id>> {
    let adjoints = sweep(g, output, |id| inputs.contains(&id));
    name_adjoints(g, &adjoints, output);
    inputs.iter().map(|i| adjoints.get(i).copied()).collect()
}

/// `f′(v)` for a `map` closure body `f(v)`: the adjoint of the closure parameter.
pub fn derivative(g: &mut Graph, body: Id) -> Option<Id> {
    let v = g.build(LambdaParam, &[]);
    sweep(g, body, |id| id == v).get(&v).copied()
}

fn sweep(g: &mut Graph, output: Id, is_input: impl Fn(Id) -> bool) -> HashMap<Id, Id> {
    let active = g.depends_on(output, |id, _| is_input(id));
    let mut adjoints: HashMap<Id, Id> = HashMap::new();
    if !active[output.index()] {
        return adjoints;
    }
    let seed = g.lit(1.0);
    adjoints.insert(output, seed);
    for i in (0..=output.index()).rev() {
        let id = Id(i as u32);
        let Some(&cbar) = adjoints.get(&id) else {
            continue;
        };
        if !active[i] {
            continue;
        }
        let node = g.node(id).clone();
        if node.args.is_empty() {
            continue;
        }
        g.span = node.span;
        let contributions = node.op.rule().adjoint(g, id, cbar);
        for (&arg, contribution) in node.args.iter().zip(contributions) {
            let Some(c) = contribution else { continue };
            if !active[arg.index()] {
                continue;
            }
            let total = match adjoints.get(&arg) {
                Some(&prev) => g.plus(prev, c),
                None => c,
            };
            adjoints.insert(arg, total);
        }
    }
    adjoints
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
    let Some(&last) = targets.iter().max() else {
        return Ok(Vec::new());
    };
    let active = g.depends_on(last, |id, _| seeds.iter().any(|&(s, _)| s == id));
    let mut tangent: HashMap<Id, Id> = seeds.iter().copied().collect();
    for (i, &is_active) in active.iter().enumerate() {
        let id = Id(i as u32);
        if !is_active || tangent.contains_key(&id) {
            continue;
        }
        let node = g.node(id).clone();
        let dargs: Vec<Option<Id>> = node.args.iter().map(|a| tangent.get(a).copied()).collect();
        if dargs.iter().all(Option::is_none) {
            continue;
        }
        g.span = node.span;
        match node.op.rule().tangent(g, id, &dargs) {
            Ok(Some(t)) => {
                tangent.insert(id, t);
            }
            Ok(None) => {}
            Err(()) => return Err(id),
        }
    }
    Ok(targets.iter().map(|t| tangent.get(t).copied()).collect())
}
