//! How one batch of `let`s, emitted together and read by nothing after them
//! but their roots, reuses memory: which locals are moved into the node that
//! reads them last (whose operation may then reuse the buffer), which values
//! read once are written inside their reader instead of in a `let`, which
//! products `A Bᵀ` form no transpose, and which products are added into the
//! sum that reads them (`gemm` with β = 1 on the other term's buffer) or
//! scaled by the scaling that reads them (`gemm`'s α) instead of being formed
//! on their own. (These two only for dynamic sizes, where they save an
//! allocation or a pass: for fixed sizes nalgebra's own small products are
//! faster.)

use std::collections::{BTreeSet, HashMap};

use crate::ir::ops::{adds_in_place, MapDerivative, Op};
use crate::ir::{Graph, Id};
use crate::shape::conforms;
use crate::shape::Shape;

/// A sum `acc ± a b` (or `acc ± aᵀ b`), or `acc + y eᵢ` (a value placed into
/// zeros, see `ops::adds_in_place`), computed on `acc`'s buffer: `product` is
/// the term added.
#[derive(Clone, Copy)]
pub struct Accumulate {
    pub acc: Id,
    pub product: Id,
    pub negate: bool,
    /// `acc ± α a b`: the scaling `α P` of the product added, and `α`.
    pub scaled: Option<(Id, Id)>,
    /// `acc[block] += a b`: the product the added view's adjoint places,
    /// added by `gemm` into the block of `acc` and never formed on its own.
    pub into_block: Option<Id>,
}

#[derive(Default)]
pub struct Plan {
    /// A local → the node it may be moved into: its last reader, which reads
    /// it once.
    pub move_into: HashMap<Id, Id>,
    /// The values written inside the expression that reads them instead of
    /// in a `let` (see [`inline_scalars`] and [`inline_matrices`]).
    pub inline: BTreeSet<Id>,
    /// A sum → how it accumulates a product.
    pub accumulate: HashMap<Id, Accumulate>,
    /// A scaling `α P` of a product → the product, computed with the scale
    /// folded into `gemm`'s α.
    pub scaled: HashMap<Id, Id>,
    /// The products computed inside the sum or scaling that reads them, and
    /// the transposes computed inside the product that reads them.
    pub deferred: BTreeSet<Id>,
    /// A product `A Bᵀ` → `B`: its transpose, read by nothing else, is never
    /// formed on its own (`A * B.transpose()`, or `gemm` on a transposed view
    /// where the product is added or scaled).
    pub transposed: HashMap<Id, Id>,
    /// A `map` read only by its sum and its derivative → how the sum and the
    /// derivative are computed in one pass, the map's entries never stored.
    pub summed_maps: HashMap<Id, SummedMap>,
    /// The Cholesky factors read only through their lower triangles: borrowed
    /// from the factorisation instead of copied with zeros above the diagonal.
    pub lower_triangle: BTreeSet<Id>,
    /// A sum `a ± b s` of dynamic size whose term `b s` is read by nothing
    /// else → that scaling: one pass over `a` and `b`, `b s` never formed.
    pub scaled_terms: HashMap<Id, Id>,
    /// The dynamic products `S B` whose first factor `S` is a sum of inputs and their
    /// transposes read by nothing else (`(A + Aᵀ) X`, the gradient of a quadratic form): `S`
    /// is written inside the product (`__private::mul_formed`), so that a thread computing a
    /// block of the product forms `S` from the inputs rather than reading the caller's copy.
    pub formed_factors: BTreeSet<Id>,
}

/// `Σ f.(A)` and `f′.(A)` of a `map` read by nothing else.
#[derive(Clone, Copy)]
pub struct SummedMap {
    pub sum: Id,
    pub derivative: Id,
    /// `A` is read by nothing else: `f′.(A)` is written over its buffer.
    pub overwrites_argument: bool,
}

impl Plan {
    /// The plan for emitting `fresh` (in id order), after which the caller
    /// reads `roots`; `local(id)` says whether `id` is a `let` of its own.
    pub fn new(g: &Graph, fresh: &BTreeSet<Id>, roots: &[Id], local: impl Fn(Id) -> bool) -> Plan {
        let mut readers: HashMap<Id, Vec<Id>> = HashMap::new();
        // Values read once per entry by a closure (a `map`'s captures).
        let mut in_closure = BTreeSet::new();
        for &id in fresh {
            let node = g.node(id);
            for (i, &a) in node.args.iter().enumerate() {
                readers.entry(a).or_default().push(id);
                if node.op.rule().in_closure(i) {
                    in_closure.insert(a);
                }
            }
        }
        let reads = |id: Id| {
            readers.get(&id).map_or(0, Vec::len) + roots.iter().filter(|&&r| r == id).count()
        };
        let read_once: BTreeSet<Id> = (fresh.iter().copied())
            .filter(|&id| local(id) && reads(id) == 1 && !in_closure.contains(&id))
            .collect();

        let summed_maps = summed_maps(g, fresh, roots, &readers, &in_closure, &local);
        let lower_triangle = lower_triangle_read(g, fresh, roots, &readers, &in_closure);

        let is_product = |id: Id| matches!(g.op(id), Op::MatMul(_) | Op::TrMul(_));
        let mut accumulate: HashMap<Id, Accumulate> = fresh
            .iter()
            .filter_map(|&sum| {
                let candidates: &[(usize, bool)] = match g.op(sum) {
                    Op::Add(_) => &[(1, false), (0, false)],
                    Op::Sub(_) => &[(1, true)],
                    _ => &[],
                };
                let args = &g.node(sum).args;
                candidates.iter().find_map(|&(k, negate)| {
                    let (term, acc) = (args[k], args[1 - k]);
                    // `acc ± α P`, α folded into `gemm`.
                    let scaled = match g.node(term) {
                        n if matches!(n.op, Op::Scale(_))
                            && read_once.contains(&term)
                            && is_product(n.args[0]) =>
                        {
                            Some((term, n.args[1]))
                        }
                        _ => None,
                    };
                    let product = scaled.map_or(term, |(s, _)| g.node(s).args[0]);
                    // A product is added by `gemm` (worth it at dynamic sizes),
                    // a value placed into zeros by writing the entries it places.
                    let addable = is_product(product) && g.shape(sum).has_dynamic()
                        || adds_in_place(g.op(product)) && !negate;
                    let fits = product != acc
                        && !g.is_complex(sum)
                        && read_once.contains(&product)
                        && addable
                        && fresh.contains(&acc)
                        && local(acc)
                        && !g.node(product).args.contains(&acc)
                        && conforms(g.shape(acc), g.shape(sum));
                    let y = g.node(product).args.first().copied();
                    let into_block = y.filter(|&y| {
                        matches!(g.op(product), Op::ViewScatter(_))
                            && is_product(y)
                            && read_once.contains(&y)
                            && g.shape(y).has_dynamic()
                    });
                    fits.then_some((
                        sum,
                        Accumulate {
                            acc,
                            product,
                            negate,
                            scaled,
                            into_block,
                        },
                    ))
                })
            })
            .collect();

        let scalings: HashMap<Id, Id> = (fresh.iter().copied())
            .filter(|&id| {
                matches!(g.op(id), Op::Scale(_)) && g.shape(id).has_dynamic() && !g.is_complex(id)
            })
            .map(|id| (id, g.node(id).args[0]))
            .filter(|&(_, product)| read_once.contains(&product) && is_product(product))
            .collect();

        let transposed: HashMap<Id, (Id, Id)> = (fresh.iter().copied())
            .filter(|&p| matches!(g.op(p), Op::MatMul(_)) && !g.is_complex(p))
            .filter_map(|p| {
                let t = g.node(p).args[1];
                let Op::Transpose(_) = g.op(t) else {
                    return None;
                };
                let b = g.node(t).args[0];
                (read_once.contains(&t) && g.node(p).args[0] != t).then_some((p, (t, b)))
            })
            .collect();

        // A deferred product reads its arguments where its reader is emitted;
        // a sum whose other term cannot be moved into it is not accumulated.
        loop {
            let scaled_terms = scaled_terms(g, fresh, &read_once, &accumulate, &local);
            // The scalings added by an accumulation are computed there.
            let added: BTreeSet<Id> = accumulate
                .values()
                .filter_map(|a| a.scaled)
                .map(|s| s.0)
                .collect();
            let scaled: HashMap<Id, Id> = (scalings.iter())
                .filter(|(s, _)| !added.contains(s))
                .map(|(&s, &p)| (s, p))
                .collect();
            let mut at: HashMap<Id, Id> = (accumulate.iter())
                .flat_map(|(&s, a)| {
                    [(a.product, s)]
                        .into_iter()
                        .chain(a.scaled.map(|(t, _)| (t, s)))
                        .chain(a.into_block.map(|p| (p, s)))
                })
                .chain(scaled.iter().map(|(&s, &p)| (p, s)))
                .chain(scaled_terms.iter().map(|(&sum, &t)| (t, sum)))
                .collect();
            for (&p, &(t, _)) in &transposed {
                let place = *at.get(&p).unwrap_or(&p);
                at.insert(t, place);
            }
            let mut move_into = HashMap::new();
            for &id in fresh {
                if !local(id) || roots.contains(&id) {
                    continue;
                }
                let Some(rs) = readers.get(&id) else { continue };
                let place = |r: &Id| *at.get(r).unwrap_or(r);
                let last = rs.iter().map(place).max();
                let at_last: Vec<Id> = rs
                    .iter()
                    .copied()
                    .filter(|r| Some(place(r)) == last)
                    .collect();
                if let [reader] = at_last[..] {
                    move_into.insert(id, reader);
                }
            }
            let before = accumulate.len();
            accumulate.retain(|sum, a| move_into.get(&a.acc) == Some(sum));
            if accumulate.len() == before {
                let deferred: BTreeSet<Id> = at.into_keys().collect();
                // The locals given away by value: to their last reader, or
                // returned as roots.
                let moved = |a: Id| {
                    roots.contains(&a)
                        || (move_into.get(&a)).is_some_and(|&r| takes_over(g, &accumulate, r, a))
                };
                let mut inline = inline_scalars(g, &read_once, &readers, &moved);
                inline.extend(inline_matrices(
                    g,
                    &read_once,
                    &move_into,
                    &accumulate,
                    &scaled,
                    &moved,
                ));
                let formed_factors: BTreeSet<Id> = formed_factors(
                    g,
                    fresh,
                    &read_once,
                    &inline,
                    &deferred,
                    &transposed,
                    &local,
                )
                .collect();
                inline.extend(formed_factors.iter().map(|&p| g.node(p).args[0]));
                return Plan {
                    move_into,
                    inline,
                    accumulate,
                    scaled,
                    deferred,
                    transposed: transposed.into_iter().map(|(p, (_, b))| (p, b)).collect(),
                    summed_maps,
                    lower_triangle,
                    scaled_terms,
                    formed_factors,
                };
            }
        }
    }
}

/// The dynamic real products of `fresh` emitted on their own (not deferred into a sum or a
/// scaling, nor `A Bᵀ` with its transpose never formed) whose first factor is a local read by
/// nothing else, a sum or difference of inputs (parameters, data), of their transposes and of
/// such sums written inside it: see [`Plan::formed_factors`].
fn formed_factors<'a>(
    g: &'a Graph,
    fresh: &'a BTreeSet<Id>,
    read_once: &'a BTreeSet<Id>,
    inline: &'a BTreeSet<Id>,
    deferred: &'a BTreeSet<Id>,
    transposed: &'a HashMap<Id, (Id, Id)>,
    local: &'a impl Fn(Id) -> bool,
) -> impl Iterator<Item = Id> + 'a {
    let sum = |a: Id| matches!(g.op(a), Op::Add(_) | Op::Sub(_));
    (fresh.iter().copied())
        .filter(|&p| matches!(g.op(p), Op::MatMul(_)) && !g.is_complex(p))
        .filter(|p| !deferred.contains(p) && !transposed.contains_key(p))
        .filter(move |&p| {
            let [s, b] = [0, 1].map(|i| g.node(p).args[i]);
            let dynamic = g.shape(p).has_dynamic() || g.shape(s).has_dynamic();
            dynamic
                && s != b
                && sum(s)
                && read_once.contains(&s)
                && local(s)
                && !deferred.contains(&s)
                && g.node(s)
                    .args
                    .iter()
                    .all(|&a| formed_from_inputs(g, inline, a))
        })
}

/// Whether `a` is an input, or a transpose or sum of such values written inside its reader.
fn formed_from_inputs(g: &Graph, inline: &BTreeSet<Id>, a: Id) -> bool {
    match g.op(a) {
        Op::Param(_) | Op::Constant(_) => true,
        Op::Transpose(_) | Op::Add(_) | Op::Sub(_) => {
            inline.contains(&a)
                && (g.node(a).args.iter()).all(|&x| formed_from_inputs(g, inline, x))
        }
        _ => false,
    }
}

/// The sums `a + b s`, `b s + a` and `a − b s` of `fresh` (dynamic, real,
/// not accumulating a product) whose term `b s` is read by nothing else and
/// scales a matrix of `a`'s shape that is not a local (a parameter, data:
/// `K + I σ²`), which `b * s` would copy before the sum → the scaling.
fn scaled_terms(
    g: &Graph,
    fresh: &BTreeSet<Id>,
    read_once: &BTreeSet<Id>,
    accumulate: &HashMap<Id, Accumulate>,
    local: &impl Fn(Id) -> bool,
) -> HashMap<Id, Id> {
    (fresh.iter().copied())
        .filter(|&sum| g.shape(sum).has_dynamic() && !g.is_complex(sum))
        .filter(|sum| !accumulate.contains_key(sum))
        .filter_map(|sum| {
            let args = &g.node(sum).args;
            let terms: &[usize] = match g.op(sum) {
                Op::Add(_) => &[1, 0],
                Op::Sub(_) => &[1],
                _ => &[],
            };
            let term = terms.iter().map(|&k| args[k]).find(|&t| {
                let b = g.node(t).args.first().copied();
                matches!(g.op(t), Op::Scale(_))
                    && read_once.contains(&t)
                    && b.is_some_and(|b| !local(b) && conforms(g.shape(b), g.shape(sum)))
                    && args.iter().all(|&a| conforms(g.shape(a), g.shape(sum)))
            })?;
            Some((sum, term))
        })
        .collect()
}

/// The Cholesky factors of `fresh` whose readers all read only their lower
/// triangle (`l().diagonal()`, the triangular inverse of the gradient).
fn lower_triangle_read(
    g: &Graph,
    fresh: &BTreeSet<Id>,
    roots: &[Id],
    readers: &HashMap<Id, Vec<Id>>,
    in_closure: &BTreeSet<Id>,
) -> BTreeSet<Id> {
    let reads_lower = |r: Id, l: Id| {
        let args = &g.node(r).args;
        (0..args.len()).all(|k| args[k] != l || g.op(r).rule().reads_lower_triangle(k))
    };
    (fresh.iter().copied())
        .filter(|&l| matches!(g.op(l), Op::CholeskyL(_)))
        .filter(|l| !roots.contains(l) && !in_closure.contains(l))
        .filter(|&l| (readers.get(&l).into_iter().flatten()).all(|&r| reads_lower(r, l)))
        .collect()
}

/// The maps of `fresh` read only by their sum and by their derivative (as
/// `Σ log(1 + exp(−mᵢ))` and its gradient).
fn summed_maps(
    g: &Graph,
    fresh: &BTreeSet<Id>,
    roots: &[Id],
    readers: &HashMap<Id, Vec<Id>>,
    in_closure: &BTreeSet<Id>,
    local: &impl Fn(Id) -> bool,
) -> HashMap<Id, SummedMap> {
    let read_only_by = |id: Id, by: &[Id]| {
        !roots.contains(&id)
            && (readers.get(&id)).is_some_and(|rs| rs.iter().all(|r| by.contains(r)))
    };
    (fresh.iter().copied())
        .filter_map(|map| {
            if !matches!(g.op(map), Op::Map(_)) {
                return None;
            }
            let args = &g.node(map).args;
            let rs = readers.get(&map)?;
            let sum = rs
                .iter()
                .copied()
                .find(|&r| matches!(g.op(r), Op::Sum(_)))?;
            let derivative = rs.iter().copied().find(|&r| MapDerivative::of(g, r, map))?;
            if rs.len() != 2 || !local(map) || !read_only_by(map, &[sum, derivative]) {
                return None;
            }
            let a = args[0];
            let overwrites_argument = local(a)
                && !in_closure.contains(&a)
                && !args[1..].contains(&a)
                && read_only_by(a, &[map, derivative]);
            Some((
                map,
                SummedMap {
                    sum,
                    derivative,
                    overwrites_argument,
                },
            ))
        })
        .collect()
}

/// Whether `reader` takes `x` by value: an accumulation onto `x`'s buffer,
/// or an operation that reuses it (not an accumulation reading it as a term).
pub fn takes_over(g: &Graph, accumulate: &HashMap<Id, Accumulate>, reader: Id, x: Id) -> bool {
    match accumulate.get(&reader) {
        Some(sum) => sum.acc == x,
        None => (g.node(reader).args.iter().enumerate())
            .any(|(i, &a)| a == x && g.op(reader).rule().reuses(i)),
    }
}

/// The scalars of `read_once` written where they are read: arithmetic on
/// scalars, and reductions of matrices (`sum`, `dot`, `norm`) none of which
/// is moved, as its reader may come after the move; a reduction read by a
/// loop or an `if` keeps its `let`, so that it is computed once.
fn inline_scalars(
    g: &Graph,
    read_once: &BTreeSet<Id>,
    readers: &HashMap<Id, Vec<Id>>,
    moved: &impl Fn(Id) -> bool,
) -> BTreeSet<Id> {
    let by_region = |id: &Id| {
        (readers.get(id).into_iter().flatten()).any(|&r| matches!(g.op(r), Op::Loop(_) | Op::If(_)))
    };
    let matrices =
        |id: Id| (g.node(id).args.iter()).filter(|a| matches!(g.shape(**a), Shape::Matrix(..)));
    (read_once.iter().copied())
        .filter(|&id| g.shape(id).is_scalar())
        .filter(|&id| {
            let mut matrices = matrices(id).peekable();
            matrices.peek().is_none() || !by_region(&id) && matrices.all(|&a| !moved(a))
        })
        .collect()
}

/// The matrices of `read_once` written inside the expression that reads them:
/// those their reader takes by value (`(x * w) - y` for `let t = x * w; t - y`,
/// the same code in fewer tokens), when none of the matrices they read is
/// moved. Accumulations and scalings read their terms in their own way.
fn inline_matrices(
    g: &Graph,
    read_once: &BTreeSet<Id>,
    move_into: &HashMap<Id, Id>,
    accumulate: &HashMap<Id, Accumulate>,
    scaled: &HashMap<Id, Id>,
    moved: &impl Fn(Id) -> bool,
) -> BTreeSet<Id> {
    let taken_by_value = |id: Id| {
        move_into.get(&id).is_some_and(|&r| {
            !accumulate.contains_key(&r)
                && !scaled.contains_key(&r)
                && takes_over(g, accumulate, r, id)
        })
    };
    (read_once.iter().copied())
        .filter(|&id| matches!(g.shape(id), Shape::Matrix(..)) && taken_by_value(id))
        .filter(|&id| (g.node(id).args.iter()).all(|&a| !moved(a)))
        .collect()
}
