//! A loop adding one term per index, `s += t(i)` for `i` in `0..n`, whose
//! terms read the loop's data by that index, is a reduction of matrix
//! operations on all `n` terms at once, as JAX's `vmap` reads a function of
//! one sample as one of a batch:
//!
//! ```text
//!   y[i]                 ⇒ y                (the n values, a vector)
//!   X[(i, j)]            ⇒ X.column(j)
//!   X.row(i)             ⇒ X                (the n rows, stacked)
//!   X.row(i)ᵀ · w        ⇒ X w              ((X.row(i) w)[0] too)
//!   a(i) ∘ b(i), f(a(i)) ⇒ a ∘ b, f.(a)
//!   s + Σᵢ t(i)          ⇒ s + sum(t)       (Σⱼ a(j) b(j) ⇒ a · b)
//! ```
//!
//! The parser offers every loop it builds; where the terms are of that form,
//! the sums leave the loop as those matrix operations (its body is no longer
//! read), so the value and the gradient are the matrix products an expert
//! writes rather than `n` small ones. Inner loops go first, so a dot product
//! written as a loop over `j` is a `dot` by the time the loop over `i` is
//! read. Anything else (a term reading a carried value, a slice of vectors,
//! a matrix per index, a branch) keeps the loop as written.

use crate::ir::{Graph, Id, RegionId};
use crate::ops::{
    AddScalar, ComponentDiv, DivScalar, IntArith, IntLit, Map, Op, Sum, View, ViewKind,
};
use crate::shape::{Dim, Shape};

/// The value of one body node for all the indices at once.
#[derive(Clone, Copy, Debug)]
enum Batched {
    /// The same at every index: the node itself, read from outside the loop.
    Same(Id),
    /// A scalar per index: entry `i` of this `n × 1` vector.
    Scalars(Id),
    /// A vector per index: row `i` of this `n × d` matrix, as a row (`1 × d`)
    /// or, if `column`, as a column (`d × 1`).
    Rows { m: Id, column: bool },
}

/// For loop `l` just built: the carried values' final values as matrix
/// operations, if every carried value is a sum of such terms.
pub fn sums(g: &mut Graph, l: Id) -> Option<Vec<Id>> {
    let Op::Loop(lp) = g.op(l).clone() else {
        return None;
    };
    let node = g.node(l).clone();
    let (lo, hi) = (node.args[0], node.args[1]);
    if lp.range.inclusive || !matches!(g.op(lo), Op::IntLit(z) if z.0 == 0) {
        return None;
    }
    let n = count(g, hi)?;
    let info = g.region_info(lp.region).clone();
    let (index, carried) = (info.inputs[0], &info.inputs[1..]);
    // Each output `c + t` (or `c − t`) with `t` reading no carried value.
    let mut terms = Vec::new();
    for (k, &out) in info.outputs.iter().enumerate() {
        let cin = carried[k];
        if out == cin {
            terms.push(None);
            continue;
        }
        let (op, args) = (g.op(out).clone(), g.node(out).args.clone());
        let (term, negate) = match (op, args.as_slice()) {
            (Op::Add(_), &[a, t]) if a == cin => (t, false),
            (Op::Add(_), &[t, a]) if a == cin => (t, false),
            (Op::Sub(_), &[a, t]) if a == cin => (t, true),
            _ => return None,
        };
        if !g.shape(term).is_scalar() || carried.iter().any(|&c| reads(g, term, c)) {
            return None;
        }
        terms.push(Some((term, negate)));
    }
    let saved = g.region;
    g.region = node.region;
    let mut cx = Cx {
        body: lp.region,
        index,
        n,
        hi,
        memo: Default::default(),
    };
    let mut finals = Vec::new();
    for (k, term) in terms.into_iter().enumerate() {
        let init = node.args[2 + k];
        let Some((term, negate)) = term else {
            finals.push(Some(init));
            continue;
        };
        finals.push(cx.batch(g, term).and_then(|b| {
            let total = cx.total(g, b)?;
            Some(if negate {
                g.minus(init, total)
            } else {
                g.plus(init, total)
            })
        }));
    }
    g.region = saved;
    finals.into_iter().collect()
}

/// Whether computing `root` reads `target` (integers included, unlike
/// [`Graph::uses`], which takes them for constants).
fn reads(g: &Graph, root: Id, target: Id) -> bool {
    if root < target {
        return false;
    }
    let mut mark = vec![false; root.index() + 1];
    for i in target.index()..=root.index() {
        let id = Id(i as u32);
        mark[i] = id == target
            || g.node(id)
                .args
                .iter()
                .any(|a| mark.get(a.index()) == Some(&true));
    }
    mark[root.index()]
}

struct Cx {
    /// The loop's body.
    body: RegionId,
    /// The loop's index.
    index: Id,
    /// The number of indices, and the node holding it.
    n: Dim,
    hi: Id,
    memo: std::collections::HashMap<Id, Option<Batched>>,
}

impl Cx {
    /// `Σᵢ` of a scalar per index.
    fn total(&self, g: &mut Graph, b: Batched) -> Option<Id> {
        match b {
            Batched::Scalars(v) => Some(match (g.op(v).clone(), g.node(v).args.clone()) {
                (Op::ComponentMul(_), args) => g.dot(args[0], args[1]),
                _ => g.build(Sum, &[v]),
            }),
            // The same term n times.
            Batched::Same(_) | Batched::Rows { .. } => None,
        }
    }

    fn batch(&mut self, g: &mut Graph, id: Id) -> Option<Batched> {
        if let Some(b) = self.memo.get(&id) {
            return *b;
        }
        let b = self.batch_node(g, id);
        self.memo.insert(id, b);
        b
    }

    fn batch_node(&mut self, g: &mut Graph, id: Id) -> Option<Batched> {
        let node = g.node(id).clone();
        if !reads(g, id, self.index) {
            return self.outside(g, id).map(Batched::Same);
        }
        if g.is_complex(id) {
            return None;
        }
        let is_index = |a: Id| a == self.index;
        match (&node.op, node.args.as_slice()) {
            // y[i] ⇒ y
            (Op::Entry(_), &[y, i]) if is_index(i) && self.same_data(g, y) => {
                Some(Batched::Scalars(self.data(g, y, 0)?))
            }
            // X[(i, j)] ⇒ X.column(j); X[(j, i)] ⇒ X.row(j)ᵀ
            (Op::Entry(_), &[x, i, j]) if self.same_data(g, x) => {
                let (kind, at, axis) = match (is_index(i), is_index(j)) {
                    (true, false) => (ViewKind::Column, j, 0),
                    (false, true) => (ViewKind::Row, i, 1),
                    _ => return None,
                };
                if reads(g, at, self.index) {
                    return None;
                }
                let at = self.outside(g, at)?;
                let x = self.data(g, x, axis)?;
                let s = g.shape(x);
                let shape = match kind {
                    ViewKind::Column => Shape::Matrix(s.rows(), Dim::Fixed(1)),
                    _ => Shape::Matrix(Dim::Fixed(1), s.cols()),
                };
                let v = g.try_build(View { kind, shape }, &[x, at]).ok()?;
                let v = if kind == ViewKind::Row {
                    g.transpose(v)
                } else {
                    v
                };
                Some(Batched::Scalars(v))
            }
            // X.row(i) ⇒ X; X.column(i) ⇒ Xᵀ, as columns
            (Op::View(v), &[x, i]) if is_index(i) && self.same_data(g, x) => match v.kind {
                ViewKind::Row => Some(Batched::Rows {
                    m: self.data(g, x, 0)?,
                    column: false,
                }),
                ViewKind::Column => {
                    let x = self.data(g, x, 1)?;
                    Some(Batched::Rows {
                        m: g.transpose(x),
                        column: true,
                    })
                }
                _ => None,
            },
            (Op::Transpose(_), &[a]) => match self.batch(g, a)? {
                Batched::Rows { m, column } => Some(Batched::Rows { m, column: !column }),
                _ => None,
            },
            // xᵢ · w ⇒ X w
            (Op::Dot(_), &[a, b]) => match (self.batch(g, a)?, self.batch(g, b)?) {
                (Batched::Rows { m, column }, Batched::Same(w))
                | (Batched::Same(w), Batched::Rows { m, column }) => {
                    let is_column = g.shape(w).cols() == Dim::Fixed(1);
                    if column != is_column {
                        return None;
                    }
                    let w = if is_column { w } else { g.transpose(w) };
                    Some(Batched::Scalars(g.matmul(m, w)))
                }
                _ => None,
            },
            // xᵢ W ⇒ X W; W xᵢ ⇒ the rows of X Wᵀ
            (Op::MatMul(_), &[a, b]) => match (self.batch(g, a)?, self.batch(g, b)?) {
                (Batched::Rows { m, column: false }, Batched::Same(w)) => Some(Batched::Rows {
                    m: g.matmul(m, w),
                    column: false,
                }),
                (Batched::Same(w), Batched::Rows { m, column: true }) => {
                    let wt = g.transpose(w);
                    Some(Batched::Rows {
                        m: g.matmul(m, wt),
                        column: true,
                    })
                }
                _ => None,
            },
            // The entry of a 1 × 1 matrix per index: (xᵢ w)[0]
            (Op::Entry(_), [a, at @ ..]) if at.iter().all(|&k| is_zero_int(g, k)) => {
                match self.batch(g, *a)? {
                    Batched::Rows { m, .. } if g.shape(m).cols() == Dim::Fixed(1) => {
                        Some(Batched::Scalars(m))
                    }
                    _ => None,
                }
            }
            _ if node.shape.is_scalar() => self.scalar(g, id),
            _ => None,
        }
    }

    /// A scalar operation on scalars per index.
    fn scalar(&mut self, g: &mut Graph, id: Id) -> Option<Batched> {
        let node = g.node(id).clone();
        if node.args.iter().any(|&a| !g.shape(a).is_scalar()) {
            return None;
        }
        let args: Vec<Batched> = (node.args.iter())
            .map(|&a| self.batch(g, a))
            .collect::<Option<_>>()?;
        use Batched::{Same, Scalars};
        Some(Scalars(match (&node.op, args.as_slice()) {
            (Op::Neg(_), &[Scalars(a)]) => g.neg(a),
            (Op::Add(_), &[Scalars(a), Scalars(b)]) => g.plus(a, b),
            (Op::Sub(_), &[Scalars(a), Scalars(b)]) => g.minus(a, b),
            (Op::Add(_), &[Scalars(a), Same(s)] | &[Same(s), Scalars(a)]) => {
                g.build(AddScalar, &[a, s])
            }
            (Op::Sub(_), &[Scalars(a), Same(s)]) => {
                let minus = g.neg(s);
                g.build(AddScalar, &[a, minus])
            }
            (Op::Sub(_), &[Same(s), Scalars(a)]) => {
                let minus = g.neg(a);
                g.build(AddScalar, &[minus, s])
            }
            (Op::Mul(_), &[Scalars(a), Scalars(b)]) => g.component_mul(a, b),
            (Op::Mul(_), &[Scalars(a), Same(s)] | &[Same(s), Scalars(a)]) => g.times(a, s),
            (Op::Div(_), &[Scalars(a), Scalars(b)]) => g.build(ComponentDiv, &[a, b]),
            (Op::Div(_), &[Scalars(a), Same(s)]) => g.build(DivScalar, &[a, s]),
            // f(a, κ…) of one scalar per index: a map.
            (op, args) => {
                let batched: Vec<usize> = (0..args.len())
                    .filter(|&k| matches!(args[k], Scalars(_)))
                    .collect();
                let &[k] = batched.as_slice() else {
                    return None;
                };
                let Scalars(a) = args[k] else { unreachable!() };
                let v = g.build(crate::ops::LambdaParam, &[]);
                let mut fargs = Vec::new();
                let mut captures = Vec::new();
                for (j, b) in args.iter().enumerate() {
                    fargs.push(match *b {
                        _ if j == k => v,
                        Same(s) if g.lit_value(s).is_some() => s,
                        Same(s) => {
                            captures.push(s);
                            g.build(crate::ops::Captured(captures.len() - 1), &[])
                        }
                        _ => return None,
                    });
                }
                if !pure_scalar(op) {
                    return None;
                }
                let body = g.try_build(op.clone(), &fargs).ok()?;
                g.try_build(Map { body }, &[&[a], &captures[..]].concat())
                    .ok()?
            }
        }))
    }

    /// A node that reads no index, as a value outside the loop: itself, or a
    /// copy of its computation in the body (straight-line code only).
    fn outside(&self, g: &mut Graph, id: Id) -> Option<Id> {
        let body = self.body;
        g.rebuild(id, |g, x| {
            let node = g.node(x);
            if node.args.is_empty() || !g.within(node.region, body) {
                return Some(Ok(x));
            }
            let region_op = matches!(node.op, Op::Loop(_) | Op::If(_) | Op::Output(_))
                || matches!(node.op, Op::RegionParam(_));
            region_op.then_some(Err(()))
        })
        .ok()
    }

    /// Whether `x` is data from outside the loop.
    fn same_data(&self, g: &Graph, x: Id) -> bool {
        !g.within(g.node(x).region, self.body)
    }

    /// `x`'s first `n` rows (`axis` 0) or columns (1), the ones the loop
    /// reads: `x` itself where it is known to have `n`, else a view.
    fn data(&self, g: &mut Graph, x: Id, axis: usize) -> Option<Id> {
        let s = g.shape(x);
        let d = if axis == 0 { s.rows() } else { s.cols() };
        if g.dims.same(d, self.n) {
            return Some(x);
        }
        // (A view of a fixed count would be a `Dyn` one in nalgebra.)
        let Dim::Dynamic(_) = self.n else {
            return None;
        };
        let zero = g.build(IntLit(0), &[]);
        let (kind, shape) = if axis == 0 {
            (ViewKind::Rows, Shape::Matrix(self.n, s.cols()))
        } else {
            (ViewKind::Columns, Shape::Matrix(s.rows(), self.n))
        };
        g.try_build(View { kind, shape }, &[x, zero, self.hi]).ok()
    }
}

/// The size an integer is: a dimension's (`x.nrows()`, a vector's `len()`)
/// or a literal.
fn count(g: &Graph, k: Id) -> Option<Dim> {
    match (g.op(k), g.node(k).args.as_slice()) {
        (Op::Size(s), _) => Some(s.0),
        (Op::IntLit(k), _) => Some(Dim::Fixed(usize::try_from(k.0).ok()?)),
        // `len()` of a vector: its length times 1.
        (Op::IntArith(IntArith::Mul), &[a, b]) => match (g.op(a), g.op(b)) {
            (_, Op::IntLit(one)) if one.0 == 1 => count(g, a),
            (Op::IntLit(one), _) if one.0 == 1 => count(g, b),
            _ => None,
        },
        _ => None,
    }
}

fn is_zero_int(g: &Graph, k: Id) -> bool {
    matches!(g.op(k), Op::IntLit(z) if z.0 == 0)
}

/// A scalar function a map may apply: an operation on scalars giving a
/// scalar, with no region of its own.
fn pure_scalar(op: &Op) -> bool {
    !matches!(
        op,
        Op::Loop(_) | Op::If(_) | Op::Output(_) | Op::RegionParam(_) | Op::Entry(_) | Op::Map(_)
    ) && crate::ops::yields(op).is_none()
}
