//! The adjoint of a loop (MATH.md, "Loops"): a reverse loop over the same
//! range, backwards, whose body is the forward body's adjoint.
//!
//! For `for i in lo..hi { c = f(i, c, θ) }` with adjoints `c̄` of the final
//! carried values, the reverse loop carries `c̄` and an accumulator `θ̄` per
//! captured value that needs a gradient:
//!
//! ```text
//! for i in (lo..hi).rev() {
//!     c  = tape[i − lo]              // c as it entered iteration i
//!     c′ = tape[i − lo + 1]          // and as it left it (or the result)
//!     <the forward body, recomputed> // the other values the adjoint reads
//!     (c̄, θ̄ᵢ) = f′(i, c, θ)ᵀ c̄       // the body's own adjoint rules
//!     θ̄ += θ̄ᵢ
//! }
//! ```
//!
//! The forward loop stores a carried value only when the reverse body reads
//! it. A loop that only adds terms (`s += g(i, θ)`, whose adjoint `s̄` passes
//! through unchanged) stores nothing and is differentiated inside the forward
//! loop (`fuse`); inside another loop's body it adds into that loop's
//! accumulator (`chain`). Memory: one `Vec` per stored carried value, of one
//! entry per iteration, allocated once for the whole loop.

use std::collections::HashMap;

use super::sweep;
use crate::ir::ops::{
    If, IntArith, IntLit, Loop, Op, Output, Range, RegionParam, Tape, TapeNext, TapeRead, Zeros,
};
use crate::ir::{Graph, Id, Region, RegionId};
use crate::shape::Shape;

/// The contributions of loop `id` to the adjoints of its arguments, given
/// the adjoints `cbars` of its outputs; `active` says which nodes depend on
/// an input.
pub fn loop_adjoint(
    g: &mut Graph,
    id: Id,
    cbars: &[Option<Id>],
    active: &[bool],
) -> Vec<Option<Id>> {
    let node = g.node(id).clone();
    let Op::Loop(l) = node.op.clone() else {
        unreachable!("the adjoint of a loop")
    };
    let info = g.region_info(l.region).clone();
    // The carried values with adjoints, and the captured values needing one.
    let relevant = relevant(g, &info, cbars);
    let carried: Vec<usize> = (0..l.carried)
        .filter(|&k| relevant[k] && differentiable(g, info.inputs[1 + k]))
        .collect();
    let captured: Vec<usize> = l
        .captures(node.args.len())
        .filter(|&a| active[node.args[a].index()] && differentiable(g, node.args[a]))
        .collect();
    let (lo, hi) = (node.args[0], node.args[1]);
    let tapes: Vec<Id> = (0..l.carried)
        .map(|k| {
            let tape = Tape {
                k,
                at: l.carried + k,
            };
            g.build(tape, &[id])
        })
        .collect();

    let outer = g.region;
    let (reverse, _) = g.open_region(true);
    let mut inputs = vec![g.build(
        RegionParam {
            k: 0,
            shape: Shape::Int,
        },
        &[],
    )];
    for &k in &carried {
        let shape = g.shape(info.inputs[1 + k]);
        inputs.push(g.build(
            RegionParam {
                k: inputs.len(),
                shape,
            },
            &[],
        ));
    }
    for &a in &captured {
        let shape = g.shape(node.args[a]);
        inputs.push(g.build(
            RegionParam {
                k: inputs.len(),
                shape,
            },
            &[],
        ));
    }
    let (index, carried_bar, accumulators) = (
        inputs[0],
        inputs[1..1 + carried.len()].to_vec(),
        inputs[1 + carried.len()..].to_vec(),
    );

    // The forward body again, reading the carried values off the tapes.
    // The iteration's place on the tape: the count of iterations before it.
    let position = match (l.range.rev, l.range.inclusive) {
        (false, _) => g.build(IntArith::Sub, &[index, lo]),
        (true, true) => g.build(IntArith::Sub, &[hi, index]),
        (true, false) => {
            let one = g.build(IntLit(1), &[]);
            let last = g.build(IntArith::Sub, &[hi, one]);
            g.build(IntArith::Sub, &[last, index])
        }
    };
    let mut map: HashMap<Id, Id> = HashMap::new();
    map.insert(info.inputs[0], index);
    for (&cin, &tape) in info.inputs[1..].iter().zip(&tapes) {
        let shape = g.shape(cin);
        let read = g.build(TapeRead { shape }, &[tape, position]);
        map.insert(cin, read);
    }
    // A carried value's new value is the next entry on its tape (or the
    // loop's result): read there, not computed again.
    let mut next = NextValues {
        position,
        of: HashMap::new(),
    };
    for (k, (&out, &tape)) in info.outputs.iter().zip(&tapes).enumerate() {
        let computed = g.node(out).region == l.region && !matches!(g.op(out), Op::RegionParam(_));
        if computed && differentiable(g, out) {
            // (The shape the loop's own output was built with: the initial value's.)
            let shape = g.shape(node.args[2 + k]);
            g.region = outer;
            let last = g.build(Output { k, shape }, &[id]);
            g.region = reverse;
            next.of.insert(out, (tape, last));
        }
    }
    clone_region_reading(g, l.region, &mut map, Some(&next));
    let at = |x: Id| *map.get(&x).unwrap_or(&x);

    let seeds: Vec<(Id, Id)> = (carried.iter().zip(&carried_bar))
        .map(|(&k, &bar)| (at(info.outputs[k]), bar))
        .collect();
    let wrt: Vec<Id> = (carried.iter().map(|&k| at(info.inputs[1 + k])))
        .chain(captured.iter().map(|&a| node.args[a]))
        .collect();
    let adjoints = sweep(g, &seeds, reverse, |x| wrt.contains(&x));

    let mut outputs = Vec::new();
    for &k in &carried {
        let cin = at(info.inputs[1 + k]);
        outputs.push(match adjoints.get(&cin) {
            Some(&bar) => bar,
            None => g.zero(g.shape(cin)),
        });
    }
    for (&a, &acc) in captured.iter().zip(&accumulators) {
        outputs.push(match adjoints.get(&node.args[a]) {
            Some(&contribution) => match chain(g, acc, contribution) {
                Some(sum) => sum,
                None => g.plus(acc, contribution),
            },
            None => acc,
        });
    }
    let region = g.region_info_mut(reverse);
    region.inputs = inputs;
    region.outputs = outputs;
    g.region = outer;
    if let Some(contributions) = fuse(g, id, &captured, cbars, reverse, &map) {
        return contributions;
    }

    // Started from the adjoints of the loop's results, and zero accumulators.
    let mut args = vec![lo, hi];
    for &k in &carried {
        args.push(match cbars[k] {
            Some(bar) => bar,
            None => g.zero(g.shape(info.inputs[1 + k])),
        });
    }
    for &a in &captured {
        args.push(g.zero(g.shape(node.args[a])));
    }
    args.extend(g.captures(reverse));
    let reverse_loop = Loop {
        region: reverse,
        range: Range {
            inclusive: l.range.inclusive,
            rev: !l.range.rev,
        },
        carried: carried.len() + captured.len(),
        sums: captured.len(),
    };
    let rl = g.build(reverse_loop, &args);
    g.region_info_mut(reverse).owner = Some(rl);

    let mut contributions = vec![None; node.args.len()];
    let targets = carried
        .iter()
        .map(|&k| 2 + k)
        .chain(captured.iter().copied());
    for (k, arg) in targets.enumerate() {
        let shape = g.shape(node.args[arg]);
        contributions[arg] = Some(g.build(Output { k, shape }, &[rl]));
    }
    contributions
}

/// Which carried values of a loop body have adjoints: those whose final value
/// has one (`cbars`), and those that the new values of these are computed
/// from. The others' adjoints are zero, and are not carried backwards (where
/// a zero times an overflowed value would be NaN).
fn relevant(g: &Graph, body: &Region, cbars: &[Option<Id>]) -> Vec<bool> {
    let n = cbars.len();
    let mut relevant: Vec<bool> = cbars.iter().map(Option::is_some).collect();
    loop {
        let mut changed = false;
        for j in 0..n {
            for k in 0..n {
                if relevant[j] && !relevant[k] && g.uses(body.outputs[j], body.inputs[1 + k]) {
                    relevant[k] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            return relevant;
        }
    }
}

/// `acc + out` where `out` is a sum of a loop nested in the body, started
/// from zero: that loop started from `acc` instead, so that it adds into the
/// accumulator (moved in) rather than into a zero matrix of its own made
/// each iteration. `None` if `contribution` is not such an output.
fn chain(g: &mut Graph, acc: Id, contribution: Id) -> Option<Id> {
    let Op::Output(out) = g.op(contribution) else {
        return None;
    };
    let inner = g.node(contribution).args[0];
    let Op::Loop(l) = g.op(inner).clone() else {
        return None;
    };
    let mut args = g.node(inner).args.clone();
    let init = 2 + out.k;
    let is_sum = out.k + l.sums >= l.carried;
    let from_zero = g.is_zero(args[init]);
    if !is_sum || !from_zero || acc > inner {
        return None;
    }
    args[init] = acc;
    g.replace(inner, Op::Loop(l), &args);
    Some(contribution)
}

/// A loop whose one differentiated carried value is a sum (`s += g(i, θ)`,
/// whose adjoint `s̄` passes through every iteration unchanged) and whose
/// reverse body reads no tape: its adjoint contributions are linear in `s̄`
/// and the same in any order, so the forward loop itself accumulates them for
/// `s̄ = 1`, reading the values it computes anyway (`copies` maps each forward
/// value to its copy in the reverse body), and `θ̄ = s̄ Σᵢ ∂gᵢ/∂θ` after it:
/// one loop for the value and the gradient, nothing stored, as a hand-written
/// gradient does. `None` when the loop is not of this form (the reverse loop
/// `reverse` is then used).
fn fuse(
    g: &mut Graph,
    id: Id,
    captured: &[usize],
    cbars: &[Option<Id>],
    reverse: RegionId,
    copies: &HashMap<Id, Id>,
) -> Option<Vec<Option<Id>>> {
    let node = g.node(id).clone();
    let Op::Loop(l) = node.op.clone() else {
        unreachable!("a loop")
    };
    let forward = g.region_info(l.region).clone();
    let backward = g.region_info(reverse).clone();
    let float: Vec<usize> = (0..l.carried)
        .filter(|&k| differentiable(g, forward.inputs[1 + k]))
        .collect();
    let ([k], [_, bar, ..]) = (float.as_slice(), backward.inputs.as_slice()) else {
        return None;
    };
    let seed = cbars[*k]?;
    // Inside another loop, the reverse loop adds into the outer accumulator
    // instead (`chain`).
    if g.in_loop(g.node(id).region) {
        return None;
    }
    let passes_through = backward.outputs[0] == *bar && g.shape(*bar) == Shape::Scalar;
    if !passes_through || reads_tape(g, &backward.outputs, reverse) {
        return None;
    }
    // The reverse body's accumulations, for s̄ = 1, in the forward body.
    let outer = std::mem::replace(&mut g.region, l.region);
    let one = g.lit(1.0);
    // The reverse body's copies of forward values are the forward values.
    let mut map: HashMap<Id, Id> = copies.iter().map(|(&f, &b)| (b, f)).collect();
    map.insert(backward.inputs[0], forward.inputs[0]);
    map.insert(*bar, one);
    let mut accumulators = Vec::new();
    for (j, &a) in captured.iter().enumerate() {
        let shape = g.shape(node.args[a]);
        let param = g.build(
            RegionParam {
                k: 1 + l.carried + j,
                shape,
            },
            &[],
        );
        map.insert(backward.inputs[2 + j], param);
        accumulators.push(param);
    }
    clone_region(g, reverse, &mut map);
    g.region = outer;
    let updates: Vec<Id> = backward.outputs[1..]
        .iter()
        .map(|o| *map.get(o).unwrap_or(o))
        .collect();

    let mut args = node.args[..2 + l.carried].to_vec();
    for &a in captured {
        args.push(match g.shape(node.args[a]) {
            Shape::Matrix(..) => g.build(Zeros(g.shape(node.args[a])), &[]),
            _ => g.lit(0.0),
        });
    }
    let (inputs, outputs) = (forward.inputs.len(), forward.outputs.len());
    let info = g.region_info_mut(l.region);
    info.inputs.extend(accumulators);
    info.outputs.extend(updates);
    args.extend(g.captures(l.region));
    // Values computed after the loop cannot be read by it (leaves can).
    if args.iter().any(|&a| a > id && !g.node(a).args.is_empty()) {
        let info = g.region_info_mut(l.region);
        info.inputs.truncate(inputs);
        info.outputs.truncate(outputs);
        return None;
    }
    let fused = Loop {
        carried: l.carried + captured.len(),
        sums: captured.len(),
        ..l
    };
    g.replace(id, fused.into(), &args);

    let mut contributions = vec![None; node.args.len()];
    contributions[2 + k] = Some(seed);
    for (j, &a) in captured.iter().enumerate() {
        let shape = g.shape(node.args[a]);
        let total = g.build(
            Output {
                k: l.carried + j,
                shape,
            },
            &[id],
        );
        let (op, factors) = g.product(seed, total);
        contributions[a] = Some(g.build(op, &factors));
    }
    Some(contributions)
}

/// Whether the results `outputs` of region `r` read a tape.
fn reads_tape(g: &Graph, outputs: &[Id], r: RegionId) -> bool {
    let mut stack = outputs.to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(x) = stack.pop() {
        if !seen.insert(x) || !g.within(g.node(x).region, r) {
            continue;
        }
        if matches!(g.op(x), Op::TapeRead(_) | Op::TapeNext(_)) {
            return true;
        }
        stack.extend(g.node(x).args.iter().copied());
    }
    false
}

/// The contributions of branch `id` to the adjoints of its arguments, given
/// the adjoints `cbars` of its outputs: a branch on the same condition whose
/// sides are the adjoints of the forward sides (MATH.md: the derivative of
/// the branch taken), each recomputing the forward values it reads.
pub fn if_adjoint(g: &mut Graph, id: Id, cbars: &[Option<Id>], active: &[bool]) -> Vec<Option<Id>> {
    let node = g.node(id).clone();
    let Op::If(branch) = node.op.clone() else {
        unreachable!("the adjoint of an `if`")
    };
    let captured: Vec<usize> = (1..node.args.len())
        .filter(|&a| active[node.args[a].index()] && differentiable(g, node.args[a]))
        .collect();
    let wrt: Vec<Id> = captured.iter().map(|&a| node.args[a]).collect();
    if let Some(contributions) = fused_if_adjoint(g, id, &branch, cbars, &captured, &wrt) {
        return contributions;
    }
    let outer = g.region;
    let mut sides = Vec::new();
    let mut per_side: Vec<Vec<Id>> = Vec::new();
    for side in [branch.then, branch.otherwise] {
        let info = g.region_info(side).clone();
        let (reverse, _) = g.open_region(false);
        let mut map = HashMap::new();
        clone_region(g, side, &mut map);
        let seeds: Vec<(Id, Id)> = (info.outputs.iter().zip(cbars))
            .filter_map(|(out, bar)| Some((*map.get(out).unwrap_or(out), (*bar)?)))
            .collect();
        let adjoints = sweep(g, &seeds, reverse, |x| wrt.contains(&x));
        let outputs = wrt
            .iter()
            .map(|x| match adjoints.get(x) {
                Some(&bar) => bar,
                None => g.zero(g.shape(*x)),
            })
            .collect();
        per_side.push(outputs);
        g.region = outer;
        sides.push(reverse);
    }
    // A contribution both sides pass through unchanged from outside (`s̄` of
    // `if … { s += a } else { s += b }`) is that value, not the branch's.
    let (then, otherwise) = (&per_side[0], &per_side[1]);
    let same: Vec<bool> = (0..wrt.len())
        .map(|k| then[k] == otherwise[k] && !sides.contains(&g.node(then[k]).region))
        .collect();
    let branched: Vec<usize> = (0..wrt.len()).filter(|&k| !same[k]).collect();
    for (side, outputs) in sides.iter().zip(&per_side) {
        g.region_info_mut(*side).outputs = branched.iter().map(|&k| outputs[k]).collect();
    }
    let mut contributions = vec![None; node.args.len()];
    for (k, &a) in captured.iter().enumerate() {
        if same[k] {
            contributions[a] = Some(then[k]);
        }
    }
    if branched.is_empty() {
        return contributions;
    }
    let mut args = vec![node.args[0]];
    args.extend(captures_of(g, &sides));
    let reverse_if = If {
        then: sides[0],
        otherwise: sides[1],
        outputs: branched.len(),
    };
    let rif = g.build(reverse_if, &args);
    for side in sides {
        g.region_info_mut(side).owner = Some(rif);
    }
    for (j, &k) in branched.iter().enumerate() {
        let a = captured[k];
        let shape = g.shape(node.args[a]);
        contributions[a] = Some(g.build(Output { k: j, shape }, &[rif]));
    }
    contributions
}

/// The adjoint of branch `id` computed in its own sides, where the adjoints `cbars` of its
/// outputs are known before it runs (the seed of a loss whose value is the `if`, as a guard
/// clause `if n == 0 { return 0.0; }` makes it): each side sweeps its own outputs and yields its
/// contributions after its values, reading the forward values it computed instead of a reverse
/// branch recomputing them, for the arguments `wrt` (at positions `captured`). `None`
/// (nothing built) inside a loop, or where an adjoint is computed after the `if` (it could not
/// read it).
fn fused_if_adjoint(
    g: &mut Graph,
    id: Id,
    branch: &If,
    cbars: &[Option<Id>],
    captured: &[usize],
    wrt: &[Id],
) -> Option<Vec<Option<Id>>> {
    let node = g.node(id).clone();
    let before = |g: &Graph, x: Id| x < id || g.node(x).args.is_empty();
    if g.in_loop(node.region) || !cbars.iter().flatten().all(|&c| before(g, c)) {
        return None;
    }
    let outer = g.region;
    for side in [branch.then, branch.otherwise] {
        let info = g.region_info(side).clone();
        let seeds: Vec<(Id, Id)> = (info.outputs.iter().zip(cbars))
            .filter_map(|(out, bar)| Some((*out, (*bar)?)))
            .collect();
        g.region = side;
        let adjoints = sweep(g, &seeds, side, |x| wrt.contains(&x));
        let outputs: Vec<Id> = (wrt.iter())
            .map(|x| match adjoints.get(x) {
                Some(&bar) => bar,
                None => g.zero(g.shape(*x)),
            })
            .collect();
        g.region = outer;
        g.region_info_mut(side).outputs.extend(outputs);
    }
    // The sides now also read the adjoints (known before the `if`) and leaves.
    let mut args = vec![node.args[0]];
    args.extend(captures_of(g, &[branch.then, branch.otherwise]));
    debug_assert!(
        args.iter().all(|&a| before(g, a)),
        "an `if` reads values computed before it"
    );
    let fused = If {
        outputs: branch.outputs + wrt.len(),
        ..branch.clone()
    };
    g.replace(id, fused.into(), &args);
    let mut contributions = vec![None; node.args.len()];
    for (k, &a) in captured.iter().enumerate() {
        let shape = g.shape(node.args[a]);
        let output = Output {
            k: branch.outputs + k,
            shape,
        };
        contributions[a] = Some(g.build(output, &[id]));
    }
    Some(contributions)
}

/// The tangent of loop `id` (MATH.md: the loop of tangents, run forwards):
/// a loop carrying each value and then its tangent, whose body is the
/// forward body followed by its tangent rules; given the tangents `dargs` of
/// the loop's arguments. Output `k` of the loop has as tangent output
/// `carried + k` of this one (an integer's tangent is a placeholder 0).
pub fn loop_tangent(g: &mut Graph, id: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, Id> {
    let node = g.node(id).clone();
    let Op::Loop(l) = node.op.clone() else {
        unreachable!("the tangent of a loop")
    };
    let info = g.region_info(l.region).clone();
    let n = l.carried;
    let outer = g.region;
    let (body, _) = g.open_region(true);
    let mut inputs = vec![g.build(
        RegionParam {
            k: 0,
            shape: Shape::Int,
        },
        &[],
    )];
    for k in 0..2 * n {
        let shape = g.shape(info.inputs[1 + k % n]);
        inputs.push(g.build(RegionParam { k: 1 + k, shape }, &[]));
    }
    let mut map: HashMap<Id, Id> = info
        .inputs
        .iter()
        .copied()
        .zip(inputs.iter().copied())
        .collect();
    clone_region(g, l.region, &mut map);
    let at = |x: Id| *map.get(&x).unwrap_or(&x);
    let mut seeds: Vec<(Id, Id)> = (0..n)
        .filter(|&k| differentiable(g, inputs[1 + k]))
        .map(|k| (inputs[1 + k], inputs[1 + n + k]))
        .collect();
    for a in l.captures(node.args.len()) {
        if let Some(d) = dargs[a] {
            seeds.push((node.args[a], d));
        }
    }
    let outputs: Vec<Id> = info.outputs.iter().map(|&o| at(o)).collect();
    let tangents = super::tangents_in(g, &outputs, &seeds, body)?;
    let mut all = outputs.clone();
    for (k, t) in tangents.into_iter().enumerate() {
        all.push(match t {
            Some(t) => t,
            None => zero_tangent(g, inputs[1 + n + k]),
        });
    }
    let region = g.region_info_mut(body);
    region.inputs = inputs.clone();
    region.outputs = all;
    g.region = outer;

    let mut args = node.args[..2 + n].to_vec();
    for k in 0..n {
        args.push(match dargs[2 + k] {
            Some(d) => d,
            None => zero_tangent(g, inputs[1 + n + k]),
        });
    }
    args.extend(g.captures(body));
    let tangent = g.build(
        Loop {
            region: body,
            carried: 2 * n,
            ..l
        },
        &args,
    );
    g.region_info_mut(body).owner = Some(tangent);
    Ok(Some(tangent))
}

/// The tangent of branch `id`: a branch on the same condition whose sides
/// yield their values and then their tangents.
pub fn if_tangent(g: &mut Graph, id: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, Id> {
    let node = g.node(id).clone();
    let Op::If(branch) = node.op.clone() else {
        unreachable!("the tangent of an `if`")
    };
    let seeds: Vec<(Id, Id)> = (1..node.args.len())
        .filter_map(|a| Some((node.args[a], dargs[a]?)))
        .collect();
    let outer = g.region;
    let mut sides = Vec::new();
    for side in [branch.then, branch.otherwise] {
        let info = g.region_info(side).clone();
        let (copy, _) = g.open_region(false);
        let mut map = HashMap::new();
        clone_region(g, side, &mut map);
        let outputs: Vec<Id> = info
            .outputs
            .iter()
            .map(|o| *map.get(o).unwrap_or(o))
            .collect();
        let tangents = super::tangents_in(g, &outputs, &seeds, copy)?;
        let mut all = outputs.clone();
        for (out, t) in outputs.iter().zip(tangents) {
            all.push(match t {
                Some(t) => t,
                None => zero_tangent(g, *out),
            });
        }
        g.region_info_mut(copy).outputs = all;
        g.region = outer;
        sides.push(copy);
    }
    let mut args = vec![node.args[0]];
    args.extend(captures_of(g, &sides));
    let tangent = g.build(
        If {
            then: sides[0],
            otherwise: sides[1],
            outputs: 2 * branch.outputs,
        },
        &args,
    );
    for side in sides {
        g.region_info_mut(side).owner = Some(tangent);
    }
    Ok(Some(tangent))
}

/// A zero tangent for values like `x` (an integer's is a placeholder 0).
fn zero_tangent(g: &mut Graph, x: Id) -> Id {
    match g.shape(x) {
        Shape::Int => g.build(IntLit(0), &[]),
        shape => g.zero(shape),
    }
}

/// What the regions `sides` capture together, in id order.
pub fn captures_of(g: &Graph, sides: &[RegionId]) -> Vec<Id> {
    let mut all: Vec<Id> = sides.iter().flat_map(|&r| g.captures(r)).collect();
    all.sort();
    all.dedup();
    all
}

/// Whether values like `x` get adjoints (float scalars and matrices).
fn differentiable(g: &Graph, x: Id) -> bool {
    matches!(g.shape(x), Shape::Scalar | Shape::Matrix(..))
}

/// Where the copy of a loop body reads the values its carried values take at
/// the end of the iteration: for each such value, its tape and the loop's
/// result, read at `position`.
struct NextValues {
    position: Id,
    of: HashMap<Id, (Id, Id)>,
}

/// Copies the nodes of region `r` (and of the regions nested in it) into the
/// current region, reading `map[x]` for each `x` mapped already (the region's
/// inputs); adds each copy to `map`.
pub fn clone_region(g: &mut Graph, r: RegionId, map: &mut HashMap<Id, Id>) {
    clone_region_reading(g, r, map, None);
}

/// [`clone_region`], where the copies of the values `next` lists are read
/// off their tapes (differentiated as the copies they stand for).
fn clone_region_reading(
    g: &mut Graph,
    r: RegionId,
    map: &mut HashMap<Id, Id>,
    next: Option<&NextValues>,
) {
    let nodes: Vec<Id> = (0..g.len() as u32)
        .map(Id)
        .filter(|&id| g.within(g.node(id).region, r))
        .collect();
    let mut regions: HashMap<RegionId, RegionId> = HashMap::from([(r, g.region)]);
    let home = g.region;
    for id in nodes {
        if map.contains_key(&id) {
            continue;
        }
        let node = g.node(id).clone();
        let target = region_copy(g, node.region, &mut regions);
        g.region = target;
        g.span = node.span;
        let args: Vec<Id> = node.args.iter().map(|a| *map.get(a).unwrap_or(a)).collect();
        let copy = match &node.op {
            Op::Loop(inner) => {
                let body = region_copy(g, inner.region, &mut regions);
                let old = g.region_info(inner.region).clone();
                let at = |x: &Id| *map.get(x).unwrap_or(x);
                let info = g.region_info_mut(body);
                info.inputs = old.inputs.iter().map(at).collect();
                info.outputs = old.outputs.iter().map(at).collect();
                let mut args = args[..2 + inner.carried].to_vec();
                args.extend(g.captures(body));
                let copy = g.build(
                    Loop {
                        region: body,
                        ..inner.clone()
                    },
                    &args,
                );
                g.region_info_mut(body).owner = Some(copy);
                copy
            }
            Op::If(inner) => {
                let sides = [inner.then, inner.otherwise].map(|side| {
                    let copy = region_copy(g, side, &mut regions);
                    let old = g.region_info(side).outputs.clone();
                    g.region_info_mut(copy).outputs =
                        old.iter().map(|x| *map.get(x).unwrap_or(x)).collect();
                    copy
                });
                let mut args = vec![args[0]];
                args.extend(captures_of(g, &sides));
                let copy = g.build(
                    If {
                        then: sides[0],
                        otherwise: sides[1],
                        outputs: inner.outputs,
                    },
                    &args,
                );
                for side in sides {
                    g.region_info_mut(side).owner = Some(copy);
                }
                copy
            }
            op => g.build(op.clone(), &args),
        };
        let copy = match next.and_then(|n| Some((n.position, *n.of.get(&id)?))) {
            Some((position, (tape, last))) => {
                let shape = g.shape(copy);
                g.build(TapeNext { shape }, &[tape, position, last, copy])
            }
            None => copy,
        };
        map.insert(id, copy);
    }
    g.region = home;
}

/// The copy of region `r` (opened inside the copy of its parent on first use).
fn region_copy(g: &mut Graph, r: RegionId, regions: &mut HashMap<RegionId, RegionId>) -> RegionId {
    if let Some(&copy) = regions.get(&r) {
        return copy;
    }
    let (parent, repeated) = (g.region_info(r).parent, g.region_info(r).repeated);
    let parent = region_copy(g, parent, regions);
    g.regions.push(Region {
        parent,
        repeated,
        ..Region::default()
    });
    let copy = RegionId(g.regions.len() as u32 - 1);
    regions.insert(r, copy);
    copy
}
