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
//!   if a(i) ≤ b(i) {t} else {e}  ⇒  select([a ≤ b], t, e)
//! ```
//!
//! The parser offers every loop it builds; where the terms are of that form,
//! the sums leave the loop as those matrix operations (its body is no longer
//! read), so the value and the gradient are the matrix products an expert
//! writes rather than `n` small ones. Inner loops go first, so a dot product
//! written as a loop over `j` is a `dot` by the time the loop over `i` is
//! read. A branch becomes a choice entry by entry between its sides
//! computed for every sample, where the sides are safe to compute for the
//! samples that do not take them. Anything else (a term reading a carried
//! value, a slice of vectors, a matrix per index) keeps the loop as written.

use crate::ir::{Graph, Id, RegionId};
use crate::ops::{
    AddScalar, ComponentDiv, DivScalar, Filled, IntArith, IntLit, Map, Mask, Op, Select, Sum, View,
    ViewKind,
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
    let updates: Vec<Update> = (info.outputs.iter().zip(carried))
        .map(|(&out, &cin)| update(g, out, cin))
        .collect::<Option<_>>()?;
    // No term (nor condition) reads a carried value.
    let read: Vec<Id> = updates.iter().flat_map(|u| u.reads(g)).collect();
    if read
        .iter()
        .any(|&t| carried.iter().any(|&c| reads(g, t, c)))
    {
        return None;
    }
    let cx = Cx {
        body: lp.region,
        index,
        n,
        hi,
        products: false,
        memo: Default::default(),
    };
    // A loop in another loop's body (a dot product written as a loop) is read
    // as matrix operations whatever its size: the loop around it then may be.
    if g.in_loop(g.region) {
        return cx.finals(g, &node.args, updates).map(|(finals, _)| finals);
    }
    // Without a product over the samples (`X w`), the loop as written is as
    // fast and allocates nothing; with a fixed number of samples, a few are
    // faster in the loop too.
    if matches!(n, Dim::Fixed(k) if k < MIN_SAMPLES) {
        return None;
    }
    let (finals, products) = cx.finals(g, &node.args, updates)?;
    products.then_some(finals)
}

/// The fewest samples, known at compile time, for which a loop (not nested in
/// another) is read as matrix operations: below, the loop as written is
/// faster (it allocates nothing per operation).
const MIN_SAMPLES: usize = 64;

/// A term added to a carried value (`s += t`), negated for `s -= t`.
type Term = (Id, bool);

/// How a carried value leaves an iteration of a loop that is a sum.
enum Update {
    Same,
    /// `c ± t`.
    Term(Term),
    /// `if … { c ± t } else { c ± e }` (either side may leave `c` as it is).
    Branch {
        branch: Id,
        sides: [Option<Term>; 2],
    },
}

impl Update {
    /// The nodes the update reads besides the carried value: its terms, and
    /// a branch's condition.
    fn reads(&self, g: &Graph) -> Vec<Id> {
        match self {
            Update::Same => Vec::new(),
            Update::Term((t, _)) => vec![*t],
            Update::Branch { branch, sides } => std::iter::once(g.node(*branch).args[0])
                .chain(sides.iter().flatten().map(|&(t, _)| t))
                .collect(),
        }
    }
}

/// How carried value `cin` becomes `out`, if as a sum.
fn update(g: &Graph, out: Id, cin: Id) -> Option<Update> {
    if out == cin {
        return Some(Update::Same);
    }
    if let Some(t) = term(g, out, cin) {
        return Some(Update::Term(t));
    }
    let (Op::Output(o), &[branch]) = (g.op(out), g.node(out).args.as_slice()) else {
        return None;
    };
    let Op::If(b) = g.op(branch) else {
        return None;
    };
    let side = |r| {
        let side_out = g.region_info(r).outputs[o.k];
        if side_out == cin {
            Some(None)
        } else {
            term(g, side_out, cin).map(Some)
        }
    };
    let sides = [side(b.then)?, side(b.otherwise)?];
    Some(Update::Branch { branch, sides })
}

/// `c + t`, `t + c` or `c − t` of a scalar term.
fn term(g: &Graph, out: Id, cin: Id) -> Option<Term> {
    let t = match (g.op(out), g.node(out).args.as_slice()) {
        (Op::Add(_), &[a, t]) if a == cin => (t, false),
        (Op::Add(_), &[t, a]) if a == cin => (t, false),
        (Op::Sub(_), &[a, t]) if a == cin => (t, true),
        _ => return None,
    };
    g.shape(t.0).is_scalar().then_some(t)
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
    /// Whether a product over the samples has been formed (`X w`): without
    /// one, the loop as written is as fast and allocates nothing.
    products: bool,
    memo: std::collections::HashMap<Id, Option<Batched>>,
}

impl Cx {
    /// `init + Σᵢ termᵢ` of every carried value (`args` the loop's), in the
    /// current region, if every term is read for all the samples at once; and
    /// whether some term forms a product over the samples.
    fn finals(
        mut self,
        g: &mut Graph,
        args: &[Id],
        updates: Vec<Update>,
    ) -> Option<(Vec<Id>, bool)> {
        let mut finals = Vec::new();
        for (k, u) in updates.into_iter().enumerate() {
            let init = args[2 + k];
            let terms = match u {
                Update::Same => {
                    finals.push(init);
                    continue;
                }
                Update::Term(t) => self.term(g, t)?,
                Update::Branch { branch, sides } => self.choose(g, branch, sides)?,
            };
            let total = self.total(g, terms)?;
            finals.push(g.plus(init, total));
        }
        Some((finals, self.products))
    }

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
            // (Of a vector: `x[i]` of a matrix counts down its columns.)
            (Op::Entry(_), &[y, i]) if is_index(i) && self.same_data(g, y) => {
                let s = g.shape(y);
                if s.cols() == Dim::Fixed(1) {
                    Some(Batched::Scalars(self.data(g, y, 0)?))
                } else if s.rows() == Dim::Fixed(1) {
                    let y = self.data(g, y, 1)?;
                    Some(Batched::Scalars(g.transpose(y)))
                } else {
                    None
                }
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
                    self.products = true;
                    Some(Batched::Scalars(g.matmul(m, w)))
                }
                _ => None,
            },
            // xᵢ W ⇒ X W; W xᵢ ⇒ the rows of X Wᵀ
            (Op::MatMul(_), &[a, b]) => {
                let m = match (self.batch(g, a)?, self.batch(g, b)?) {
                    (Batched::Rows { m, column: false }, Batched::Same(w)) => g.matmul(m, w),
                    (Batched::Same(w), Batched::Rows { m, column: true }) => {
                        let wt = g.transpose(w);
                        g.matmul(m, wt)
                    }
                    _ => return None,
                };
                self.products = true;
                Some(Batched::Rows {
                    m,
                    column: g.shape(a).rows() != Dim::Fixed(1),
                })
            }
            // The entry of a 1 × 1 matrix per index: (xᵢ w)[0]
            (Op::Entry(_), [a, at @ ..]) if at.iter().all(|&k| is_zero_int(g, k)) => {
                match self.batch(g, *a)? {
                    Batched::Rows { m, .. } if g.shape(m).cols() == Dim::Fixed(1) => {
                        Some(Batched::Scalars(m))
                    }
                    _ => None,
                }
            }
            // A value of an `if` on a comparison of the sample's values.
            (Op::Output(o), &[branch]) if matches!(g.op(branch), Op::If(_)) => {
                let Op::If(b) = g.op(branch) else {
                    unreachable!("an `if`")
                };
                let side = |r| Some((g.region_info(r).outputs[o.k], false));
                let sides = [side(b.then), side(b.otherwise)];
                self.choose(g, branch, sides)
            }
            _ if node.shape.is_scalar() => self.scalar(g, id),
            _ => None,
        }
    }

    /// A term for all the samples, negated for `s -= t`.
    fn term(&mut self, g: &mut Graph, (t, negate): Term) -> Option<Batched> {
        match self.batch(g, t)? {
            Batched::Scalars(v) if negate => Some(Batched::Scalars(g.neg(v))),
            b => Some(b),
        }
    }

    /// `if a ≺ b { t } else { e }` for all the samples, `sides` the terms
    /// `t` and `e` of the two sides (`None`: zero): the mask `[a ≺ b]`
    /// choosing, entry by entry, between both sides computed for every
    /// sample. Both sides run on every sample, so each may hold only
    /// operations finite with finite derivatives wherever their arguments
    /// are (a side guarding a `ln` or a division keeps the loop).
    fn choose(&mut self, g: &mut Graph, branch: Id, sides: [Option<Term>; 2]) -> Option<Batched> {
        let Op::If(b) = g.op(branch).clone() else {
            return None;
        };
        let (mask, shape) = self.mask(g, g.node(branch).args[0])?;
        let mut chosen = Vec::new();
        for (side, term) in [b.then, b.otherwise].into_iter().zip(sides) {
            chosen.push(match term {
                None => g.zero(shape),
                Some(t) if safe_side(g, t.0, side) => {
                    let batched = self.term(g, t)?;
                    vector(g, batched, shape)?
                }
                Some(_) => return None,
            });
        }
        let chosen = g.try_build(Select, &[mask, chosen[0], chosen[1]]).ok()?;
        Some(Batched::Scalars(chosen))
    }

    /// The mask of a comparison `a ≺ b` of the samples' values, and its shape.
    fn mask(&mut self, g: &mut Graph, cond: Id) -> Option<(Id, Shape)> {
        let (Op::Compare(c), &[a, b]) = (g.op(cond).clone(), g.node(cond).args.as_slice()) else {
            return None;
        };
        let (a, b) = (self.batch(g, a)?, self.batch(g, b)?);
        let shape = match (a, b) {
            (Batched::Scalars(v), _) | (_, Batched::Scalars(v)) => g.shape(v),
            _ => return None,
        };
        let (a, b) = (vector(g, a, shape)?, vector(g, b, shape)?);
        Some((g.try_build(Mask(c), &[a, b]).ok()?, shape))
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

/// A scalar per sample as the vector of all of them (`s 𝟙` for the same `s`).
fn vector(g: &mut Graph, x: Batched, shape: Shape) -> Option<Id> {
    match x {
        Batched::Scalars(v) => Some(v),
        Batched::Same(s) if g.shape(s).is_scalar() => Some(g.build(Filled(shape), &[s])),
        _ => None,
    }
}

/// Whether the nodes computing `out` in branch `side` are all operations
/// finite, with finite derivatives, wherever their arguments are: a side
/// computed for samples that take the other one must not turn a zero
/// adjoint into `0 · ∞`.
fn safe_side(g: &Graph, out: Id, side: RegionId) -> bool {
    let mut stack = vec![out];
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        let node = g.node(id);
        if !seen.insert(id) || node.region != side {
            continue;
        }
        let safe = match &node.op {
            Op::Powi(p) => p.0 >= 0,
            op => matches!(
                op,
                Op::Add(_)
                    | Op::Sub(_)
                    | Op::Mul(_)
                    | Op::Neg(_)
                    | Op::Abs(_)
                    | Op::Sin(_)
                    | Op::Cos(_)
                    | Op::Tanh(_)
                    | Op::Sigmoid(_)
                    | Op::Relu(_)
            ),
        };
        if !safe {
            return false;
        }
        stack.extend(node.args.iter().copied());
    }
    true
}

/// A scalar function a map may apply: an operation on scalars giving a
/// scalar, with no region of its own.
fn pure_scalar(op: &Op) -> bool {
    !matches!(
        op,
        Op::Loop(_) | Op::If(_) | Op::Output(_) | Op::RegionParam(_) | Op::Entry(_) | Op::Map(_)
    ) && crate::ops::yields(op).is_none()
}
