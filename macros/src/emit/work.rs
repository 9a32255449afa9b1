//! An estimate of the arithmetic of one iteration of a loop, as a run-time
//! `usize` expression: the entries every node of the body computes (a scalar
//! 1, an `m × n` matrix `m n`, a write or an entry added into a matrix 1),
//! each weighing [`TRANSCENDENTAL`] for an `exp`, `ln`, `tanh` and the like
//! (a map's entries what its closure computes), a nested loop's body times its
//! trip count.
//! The runtime weighs it against the cost of handing work to another thread
//! (`__private::sum_loop`). A size or trip count the expression cannot read
//! before the loop (one computed in the body) counts as 1, so the estimate
//! errs low: a loop is split only where it surely pays.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;

use super::Emitter;
use crate::ir::ops::{EmitCx, Op};
use crate::ir::{Graph, Id, RegionId};
use crate::shape::{Dim, Origin, Shape};

/// The weight of an entry of `exp`, `ln`, `tanh` and the like against one
/// multiply-add: on the 2-core machine an `f64` `exp` took about 6 ns, a `tanh`
/// 15 ns, a multiply-add of a 200 × 50 matrix-vector product 0.16-0.28 ns.
pub(super) const TRANSCENDENTAL: usize = 32;

/// The weight of one entry of `op` (see [`TRANSCENDENTAL`]).
fn entry_weight(op: &Op) -> usize {
    let transcendental = matches!(
        op,
        Op::Exp(_)
            | Op::Ln(_)
            | Op::Sin(_)
            | Op::Cos(_)
            | Op::Tan(_)
            | Op::Tanh(_)
            | Op::Powf(_)
            | Op::Ln1p(_)
            | Op::ExpM1(_)
            | Op::Log2(_)
            | Op::Log10(_)
            | Op::Exp2(_)
            | Op::Cbrt(_)
            | Op::Asin(_)
            | Op::Acos(_)
            | Op::Atan(_)
            | Op::Atan2(_)
            | Op::Log(_)
            | Op::Sinh(_)
            | Op::Cosh(_)
            | Op::Asinh(_)
            | Op::Acosh(_)
            | Op::Atanh(_)
            | Op::Sigmoid(_)
            | Op::Softplus(_)
            | Op::Erf(_)
            | Op::Erfc(_)
            | Op::NormalCdf(_)
            | Op::LnGamma(_)
            | Op::Digamma(_)
            | Op::Trigamma(_)
            | Op::Tetragamma(_)
            | Op::LogSumExp(_)
            | Op::ExpShifted(_)
    );
    if transcendental {
        TRANSCENDENTAL
    } else {
        1
    }
}

/// The weight of one entry of a map's closure `body` (a scalar expression of
/// the entry): the sum of its nodes' weights.
pub(super) fn closure_weight(g: &Graph, body: Id) -> usize {
    let (mut seen, mut stack, mut weight) = (BTreeSet::new(), vec![body], 0);
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            weight += entry_weight(g.op(id));
            stack.extend(g.node(id).args.iter().copied());
        }
    }
    weight.max(1)
}

/// A sum of terms, each a coefficient times a product of run-time sizes,
/// keyed by the sizes' tokens (as text) so that equal products add up.
#[derive(Default)]
pub(super) struct Work {
    terms: BTreeMap<Vec<String>, (usize, Vec<TokenStream>)>,
}

impl Work {
    pub(super) fn constant(c: usize) -> Work {
        let mut w = Work::default();
        w.terms.insert(Vec::new(), (c, Vec::new()));
        w
    }

    pub(super) fn add(&mut self, other: Work) {
        for (key, (c, factors)) in other.terms {
            self.terms.entry(key).or_insert((0, factors)).0 += c;
        }
    }

    /// `self` times a constant and the run-time sizes `factors`.
    pub(super) fn times(self, c: usize, factors: &[TokenStream]) -> Work {
        let mut out = Work::default();
        for (_, (k, mut fs)) in self.terms {
            fs.extend(factors.iter().cloned());
            let mut key: Vec<String> = fs.iter().map(ToString::to_string).collect();
            key.sort();
            out.add(Work {
                terms: BTreeMap::from([(key, (k * c, fs))]),
            });
        }
        out
    }

    pub(super) fn tokens(&self) -> TokenStream {
        let terms = self
            .terms
            .values()
            .map(|(c, factors)| match factors.as_slice() {
                [] => quote!(#c),
                [f, fs @ ..] if *c == 1 => quote!(#f #(* #fs)*),
                fs => quote!(#c #(* #fs)*),
            });
        let terms: Vec<TokenStream> = terms.collect();
        match terms.split_first() {
            None => quote!(0usize),
            Some((first, rest)) => quote!(#first #(+ #rest)*),
        }
    }
}

impl Emitter<'_> {
    /// The estimate for one iteration of the body `region`, read before the
    /// loop runs.
    pub(super) fn iteration_work(&self, region: RegionId) -> TokenStream {
        self.region_work(region).tokens()
    }

    fn region_work(&self, region: RegionId) -> Work {
        let mut work = Work::default();
        let g = self.graph;
        let outputs = &g.region_info(region).outputs;
        for id in super::needed(g, outputs, |x| g.node(x).region != region) {
            let node = g.node(id);
            if node.region != region {
                continue;
            }
            work.add(match &node.op {
                Op::Loop(l) => {
                    let (lo, hi) = (node.args[0], node.args[1]);
                    let inner = self.region_work(l.region);
                    match (self.graph.op(lo), self.graph.op(hi)) {
                        (Op::IntLit(a), Op::IntLit(b)) => {
                            inner.times(usize::try_from(b.0 - a.0).unwrap_or(0), &[])
                        }
                        (Op::IntLit(a), Op::Size(d)) if a.0 == 0 => match self.size(d.0) {
                            Some(n) => inner.times(1, &[n]),
                            None => inner,
                        },
                        _ => inner,
                    }
                }
                Op::If(b) => {
                    let mut w = self.region_work(b.then);
                    w.add(self.region_work(b.otherwise));
                    w
                }
                // Inputs cost nothing; a write into a matrix (done in place)
                // costs what computing the value written costs, counted there.
                Op::RegionParam(_) | Op::Output(_) => Work::default(),
                op if crate::ir::ops::adds_in_place(op)
                    || matches!(op, Op::SetEntry(_) | Op::SetView(_))
                    || (matches!(op, Op::Add(_))
                        && node
                            .args
                            .iter()
                            .any(|&a| crate::ir::ops::adds_in_place(g.op(a)))) =>
                {
                    Work::constant(1)
                }
                Op::Map(m) => self
                    .entries(node.shape)
                    .times(closure_weight(g, m.body), &[]),
                Op::MapAdjoint(m) => (self.entries(node.shape))
                    .times(closure_weight(g, m.body) + closure_weight(g, m.deriv), &[]),
                Op::MapDerivative(m) => (self.entries(node.shape))
                    .times(closure_weight(g, m.body) + closure_weight(g, m.deriv), &[]),
                op => self.entries(node.shape).times(entry_weight(op), &[]),
            });
        }
        work
    }

    /// The entries of a value of `shape`.
    pub(super) fn entries(&self, shape: Shape) -> Work {
        if !shape.is_matrix() {
            return Work::constant(1);
        }
        let (mut c, mut factors) = (1, Vec::new());
        for d in [shape.rows(), shape.cols()] {
            match (d, self.size(d)) {
                (Dim::Fixed(n), _) => c *= n,
                (_, Some(n)) => factors.push(n),
                (_, None) => {}
            }
        }
        Work::constant(c).times(1, &factors)
    }

    /// A dynamic size as a `usize` readable anywhere in the function: one
    /// read off a parameter or a constant, or a product of such.
    pub(super) fn size(&self, d: Dim) -> Option<TokenStream> {
        let Dim::Dynamic(s) = d else {
            return None;
        };
        let readable = |o: &Origin| {
            matches!(
                o,
                Origin::Param { .. } | Origin::Constant { .. } | Origin::Element { .. }
            )
        };
        let ok = match self.graph.dims.origin(s) {
            Origin::Product(a, b) => [*a, *b].iter().all(|x| match x {
                Dim::Fixed(_) => true,
                Dim::Dynamic(t) => readable(self.graph.dims.origin(*t)),
            }),
            o => readable(o),
        };
        let (p, dim) = (self.private(), self.dim(d));
        ok.then(|| quote!(#p::nalgebra::Dim::value(&#dim)))
    }
}
