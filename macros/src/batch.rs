//! Loops over samples written one sample at a time, read the way an expert
//! writes them: the products of a sample's data with values from outside the
//! loop are computed for all the samples at once, before the loop, as JAX's
//! `vmap` reads a function of one sample as one of a batch:
//!
//! ```text
//!   X.row(i)ᵀ · w, (X.row(i) w)[0]  ⇒  entry i of X w
//!   X.column(i) · w                 ⇒  entry i of Xᵀ w
//!   X.row(i) W,  W X.column(i)      ⇒  row i of X W,  column i of W X
//!   W xs[i] (a slice of vectors)    ⇒  column i of W X, X the vectors as columns
//!   X[(i, j)] · …                   ⇒  the column X.column(j) in the product
//! ```
//!
//! The parser offers every loop not nested in another ([`hoisted`]), then
//! reads its body again with those products read by the sample's index: the
//! loop keeps its scalar work (one pass, its branches as written), and the
//! gradient's products are one product each after the loop (`Xᵀ z̄`), as a
//! hand-written gradient has them.
//!
//! A loop nested in another's body that adds one term per index, such as a
//! dot product written as a loop `z += x[(i, j)] * w[j]`, is replaced by its
//! matrix form ([`sums`]: `Σⱼ a(j) b(j) ⇒ a · b`, `Σⱼ f(a(j)) ⇒ sum(f.(a))`),
//! so that the loop around it finds a `dot` to hoist.

use std::collections::HashMap;

use crate::ir::ops::{
    AddScalar, ComponentDiv, DataEntry, DataPart, DataRows, DivScalar, Entry, IntArith, IntLit,
    Map, Op, Sum, View, ViewKind,
};
use crate::ir::{Graph, Id, RegionId};
use crate::shape::{Dim, Origin, Shape};

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

/// For loop `l` just built in another loop's body: the carried values' final
/// values as matrix operations, if every carried value is a sum of terms read
/// for all the indices at once (`s + Σⱼ t(j) ⇒ s + sum(t)`).
pub fn sums(g: &mut Graph, l: Id) -> Option<Vec<Id>> {
    let Op::Loop(lp) = g.op(l).clone() else {
        return None;
    };
    let node = g.node(l).clone();
    let (lo, hi) = (node.args[0], node.args[1]);
    if !g.in_loop(g.region) {
        return None;
    }
    let n = indices(g, lo, hi, lp.range)?;
    let info = g.region_info(lp.region).clone();
    let (index, carried) = (info.inputs[0], &info.inputs[1..]);
    // Each output `c ± t`, or `c` unchanged, with `t` reading no carried value.
    let terms: Vec<Option<Term>> = (info.outputs.iter().zip(carried))
        .map(|(&out, &cin)| {
            if out == cin {
                Some(None)
            } else {
                term(g, out, cin).map(Some)
            }
        })
        .collect::<Option<_>>()?;
    let read = terms.iter().flatten();
    if read
        .clone()
        .any(|&(t, _)| carried.iter().any(|&c| reads(g, t, c)))
    {
        return None;
    }
    let mut cx = Cx::new(lp.region, index, n, hi);
    let mut finals = Vec::new();
    for (k, t) in terms.into_iter().enumerate() {
        let init = node.args[2 + k];
        finals.push(match t {
            None => init,
            Some((t, negate)) => {
                let total = cx.total(g, t)?;
                if negate {
                    g.minus(init, total)
                } else {
                    g.plus(init, total)
                }
            }
        });
    }
    Some(finals)
}

/// The nodes a loop body parsed again reads instead of the ones it built: for
/// loop body `body` with index `index` over `lo..hi` (not nested in another
/// loop), each product with a dynamic size of a sample's data with values
/// from outside the loop (`xᵢ · w`, `xᵢ W`, `W xᵢ`), computed for all the
/// samples in the current region, before the loop (`X w`, one product), and
/// read in the body by the sample's entry, row or column. Keyed as
/// [`Graph::substitutes`]; empty if there are none.
pub fn hoisted(
    g: &mut Graph,
    body: RegionId,
    index: Id,
    (lo, hi): (Id, Id),
    range: crate::ir::ops::Range,
) -> HashMap<(Op, Vec<Id>, RegionId), Id> {
    let mut out = HashMap::new();
    let Some(n) = indices(g, lo, hi, range) else {
        return out;
    };
    let mut cx = Cx::new(body, index, n, hi);
    let products: Vec<Id> = (0..g.len() as u32)
        .map(Id)
        .filter(|&d| g.node(d).region == body && matches!(g.op(d), Op::Dot(_) | Op::MatMul(_)))
        .collect();
    for d in products {
        // A product of fixed sizes only is cheap per sample and needs no heap.
        let node = g.node(d);
        let sizes = std::iter::once(node.shape).chain(node.args.iter().map(|&a| g.shape(a)));
        if !sizes.into_iter().any(Shape::has_dynamic) {
            continue;
        }
        cx.products = false;
        let batched = cx.batch(g, d);
        // The transposed product, whose columns a column per sample reads, is
        // built outside the loop too.
        let batched = match batched {
            Some(Batched::Rows { m, column: true }) => Some(Batched::Rows {
                m: g.transpose(m),
                column: true,
            }),
            b => b,
        };
        let outside = g.region;
        g.region = body;
        let read = match batched {
            Some(Batched::Scalars(v)) if cx.products => g.try_build(Entry, &[v, index]).ok(),
            // (A column per sample is read from the transposed product, above,
            // whose columns are contiguous: no transposed copy per sample,
            // forwards or backwards.)
            Some(Batched::Rows { m, column }) if cx.products => {
                let kind = if column {
                    ViewKind::Column
                } else {
                    ViewKind::Row
                };
                let (r, c) = (g.shape(m).rows(), g.shape(m).cols());
                let shape = match column {
                    false => Shape::Matrix(Dim::Fixed(1), c),
                    true => Shape::Matrix(r, Dim::Fixed(1)),
                };
                g.try_build(View { kind, shape }, &[m, index]).ok()
            }
            _ => None,
        };
        g.region = outside;
        let node = g.node(d).clone();
        if let Some(read) = read.filter(|&r| same_shape(g, g.shape(r), node.shape)) {
            out.insert((node.op, node.args, body), read);
        }
    }
    out
}

/// Whether two shapes are known to be equal.
fn same_shape(g: &Graph, a: Shape, b: Shape) -> bool {
    match (a, b) {
        (Shape::Matrix(r, c), Shape::Matrix(s, d)) => g.dims.same(r, s) && g.dims.same(c, d),
        (a, b) => a == b,
    }
}

/// A term added to a carried value (`s += t`), negated for `s -= t`.
type Term = (Id, bool);

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
    /// Whether a product over the samples has been formed (`X w`) since it
    /// was last cleared: what makes a node worth computing before the loop.
    products: bool,
    memo: HashMap<Id, Option<Batched>>,
}

impl Cx {
    fn new(body: RegionId, index: Id, n: Dim, hi: Id) -> Cx {
        Cx {
            body,
            index,
            n,
            hi,
            products: false,
            memo: HashMap::new(),
        }
    }

    /// `Σᵢ` of a scalar term for all the indices (a dot product where the
    /// terms are products).
    fn total(&mut self, g: &mut Graph, t: Id) -> Option<Id> {
        let Batched::Scalars(v) = self.batch(g, t)? else {
            return None;
        };
        Some(match (g.op(v).clone(), g.node(v).args.clone()) {
            (Op::ComponentMul(_), args) => g.dot(args[0], args[1]),
            _ => g.build(Sum, &[v]),
        })
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
            // xs[i] of a slice of vectors ⇒ the matrix of their rows
            (
                Op::DataEntry(DataEntry {
                    shape,
                    part: DataPart::Whole,
                }),
                &[xs, i],
            ) if is_index(i) && self.same_data(g, xs) => {
                let column = shape.cols() == Dim::Fixed(1);
                let d = match (shape.rows(), shape.cols()) {
                    (d @ Dim::Fixed(_), Dim::Fixed(1)) | (Dim::Fixed(1), d @ Dim::Fixed(_)) => d,
                    _ => return None,
                };
                let shape = Shape::Matrix(self.n, d);
                let m = g.try_build(DataRows(shape), &[xs, self.hi]).ok()?;
                Some(Batched::Rows { m, column })
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
            (Op::Entry(_), [a, at @ ..]) if at.iter().all(|&k| g.is_zero_int(k)) => {
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
                if !pure_scalar(op) {
                    return None;
                }
                // The scalar function of the closure parameter, the other
                // arguments (the same at every index) its captures.
                let v = g.build(crate::ir::ops::LambdaParam, &[]);
                let fargs: Vec<Id> = (args.iter().enumerate())
                    .map(|(j, b)| match *b {
                        Same(s) if j != k => s,
                        _ => v,
                    })
                    .collect();
                let body = g.try_build(op.clone(), &fargs).ok()?;
                let (body, captures) = crate::ir::ops::abstract_captures(g, body, g.region)?;
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
            // (A region's inputs have no arguments but change with the index:
            // a carried value is not the same at every index.)
            let region_op = matches!(
                node.op,
                Op::Loop(_) | Op::If(_) | Op::Output(_) | Op::RegionParam(_)
            );
            if !g.within(node.region, body) || node.args.is_empty() && !region_op {
                return Some(Ok(x));
            }
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

/// The number of indices of a loop over `lo..hi`, for `0..n` only (the
/// indices a product over all of them counts from).
fn indices(g: &mut Graph, lo: Id, hi: Id, range: crate::ir::ops::Range) -> Option<Dim> {
    if range.inclusive || !g.is_zero_int(lo) {
        return None;
    }
    count(g, hi)
}

/// The size an integer is: a dimension's (`x.nrows()`, a vector's `len()`),
/// a literal, or a slice's length (a size of its own).
fn count(g: &mut Graph, k: Id) -> Option<Dim> {
    match (g.op(k).clone(), g.node(k).args.clone().as_slice()) {
        (Op::Size(s), _) => Some(s.0),
        // (Of a parameter or a field: a row of nested data, `xs[i].len()`, is known only
        // inside the loop that reads it.)
        (Op::Len(_), &[x]) if matches!(g.op(x), Op::Param(_) | Op::Constant(_)) => {
            Some(g.dims.fresh(Origin::Int(k)))
        }
        (Op::IntLit(k), _) => Some(Dim::Fixed(usize::try_from(k.0).ok()?)),
        // `len()` of a vector: its length times 1.
        (Op::IntArith(IntArith::Mul), &[a, b]) => match (g.op(a).clone(), g.op(b).clone()) {
            (_, Op::IntLit(one)) if one.0 == 1 => count(g, a),
            (Op::IntLit(one), _) if one.0 == 1 => count(g, b),
            _ => None,
        },
        _ => None,
    }
}

/// A scalar function a map may apply: an operation on scalars giving a
/// scalar, with no region of its own.
fn pure_scalar(op: &Op) -> bool {
    !matches!(
        op,
        Op::Loop(_) | Op::If(_) | Op::Output(_) | Op::RegionParam(_) | Op::Entry(_) | Op::Map(_)
    ) && crate::ir::ops::yields(op).is_none()
}
