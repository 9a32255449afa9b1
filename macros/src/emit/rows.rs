//! A loss whose samples are the rows of its data, computed a block of rows at
//! a time: where the value and the gradient read the matrices with one row
//! per sample (`X`, `y`) only through row-local operations — products `X W`
//! with matrices that have no rows of samples, entrywise arithmetic and maps
//! — and reduce them only by sums (`sum`, `norm_squared`, `dot`, `Xᵀ Z`),
//! each such sum is a sum over blocks of rows:
//!
//! ```text
//! ‖X w − y‖² = Σ_b ‖X_b w − y_b‖²,    Xᵀ r = Σ_b X_bᵀ r_b
//! ```
//!
//! So where the `parallel` feature is on and the samples are many enough,
//! the sums are handed to the runtime's `sum_blocks` as a function of a range
//! of rows, which runs blocks of rows across threads and adds their sums in
//! block order: one hand-off for the whole gradient, each thread reading its
//! rows of `X` twice while they are in its cache. Otherwise (and always
//! without the feature, where the condition is the constant `false`) the
//! function runs as written:
//!
//! ```text
//! if splits_rows(n, work) {
//!     let (s₀, s₁) = sum_blocks(0..n, work, |rows| {
//!         let x = &x.rows_range(rows.clone());   // the sample matrices, shadowed
//!         let y = &y.rows_range(rows.clone());
//!         <the block's value and gradient terms>
//!         (s₀, s₁)
//!     });
//!     <the rest, from the sums>
//! } else {
//!     <the function as written>
//! }
//! ```
//!
//! A gradient with one row per sample (`∇U` of `‖M − U Vᵀ‖²`, whose rows are
//! the samples' as `M`'s are) is computed a block of its rows at a time too,
//! each block writing its rows into place (`RowsOut`): for `‖M − U Vᵀ‖²` at
//! 200 × 150, rank 10, the gradient in two blocks of rows took 0.61× its
//! one-thread time on the 2-core machine, its products (`U Vᵀ`, `R V`,
//! `Rᵀ U`) each too thin to split well alone. Anything else that reads the
//! samples (a transpose, an entry, a norm that is not a sum, a loop) leaves
//! the function as it is.
//!
//! What the blocks hand back is kept small, since the caller reads it from
//! the other threads' caches: a sum scaled after the blocks (`2 Xᵀ r`) is
//! scaled in each block, into its product's α, and a transpose from outside
//! (`U Vᵀ`) is a view in each block's product rather than a copy made before
//! them. (With the rows written in place too, `‖M − U Vᵀ‖²` at 200 × 150,
//! called back to back, took 43–44 µs on two threads against 46–49 µs
//! before, in three alternating runs on a 2-core Intel Xeon; in the
//! benchmark table the difference is within its noise.)

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::work::Work;
use super::{needed, Emitter};
use crate::code::Value;
use crate::ir::ops::{EmitCx, Op};
use crate::ir::{Graph, Id, Scalar};
use crate::shape::{Dim, Origin, Shape};
use crate::signature::ParamSig;

/// What a node is to the split along the rows of the samples.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Reads no sample: computed before the blocks.
    Outside,
    /// One row per sample, each row from the same rows of its arguments.
    Rows,
    /// A sum over the samples: the blocks' sums added.
    Sum,
    /// Reads a sum: computed after the blocks.
    After,
}

/// The split of a function's nodes along the rows of its samples.
struct Split {
    /// The number of samples.
    samples: Dim,
    /// The parameters with one row per sample.
    sample_params: Vec<usize>,
    /// The sums the blocks compute.
    sums: Vec<Id>,
    /// The gradients with one row per sample: each block computes its rows.
    row_outputs: Vec<Id>,
    /// The values from outside the blocks that they read.
    inputs: BTreeSet<Id>,
    /// The nodes with one row per sample and the sums.
    region: BTreeSet<Id>,
}

impl Emitter<'_> {
    /// If the function splits along rows of samples (see the module
    /// documentation): the statements reading the number of samples and the
    /// work per sample, the condition under which the split pays (never
    /// without the `parallel` feature), and the statements computing the
    /// sums over samples that `roots` need block by block, their values
    /// recorded.
    pub(super) fn sums_over_rows(
        &mut self,
        roots: &[Id],
    ) -> Option<(TokenStream, TokenStream, TokenStream)> {
        let need = needed(self.graph, roots, |_| false);
        let split = find(self.graph, self.params, &need, roots)?;
        let p = self.private.clone();
        let (samples, work) = (local("samples"), local("work"));
        let (n, per_row) = (self.dim(split.samples), self.work_per_row(&split));
        let setup = quote!(
            let #samples = #p::nalgebra::Dim::value(&#n);
            let #work = #per_row;
        );
        let splits = quote!(#p::splits_rows(#samples, #work));

        let inputs: Vec<Id> = split.inputs.iter().copied().collect();
        let mut out = self.compute(&inputs);
        // Sizes, read off the whole matrices where they are used, are read
        // here, before the blocks shadow the matrices' names.
        for &id in &inputs {
            if let (Op::Size(_), Value::Scalar(t)) = (self.graph.op(id), &self.values[&id]) {
                let name = self.local_name(id, "size");
                out.extend(quote!(let #name = #t;));
                self.values.insert(id, Value::Scalar(quote!(#name)));
            }
        }
        let rows = local("rows");
        let shadow = split.sample_params.iter().map(|&i| {
            let name = &self.params[i].ident;
            let view = quote!(#name.rows_range(#rows.clone()));
            if self.params[i].by_ref {
                quote!(#[allow(unused_variables)] let #name = &#view;)
            } else {
                quote!(#[allow(unused_variables)] let #name = #view;)
            }
        });
        let shadow: Vec<TokenStream> = shadow.collect();

        let mut inner = self.rows_block_cx(&split);
        let outputs: Vec<Id> = split
            .sums
            .iter()
            .chain(&split.row_outputs)
            .copied()
            .collect();
        let block_need = needed(self.graph, &outputs, |id| inner.values.contains_key(&id));
        inner.plan = inner.plan(&block_need, &outputs);
        let lets = inner.lets(&block_need, "r");
        let (mut out_lets, mut after) = (TokenStream::new(), TokenStream::new());
        let terms: Vec<TokenStream> = split.sums.iter().map(|&s| inner.owned(s, true)).collect();
        let mut results: Vec<(Id, Ident)> = (split.sums.iter())
            .map(|&s| (s, self.local_name(s, "sum")))
            .collect();
        let names: Vec<Ident> = results.iter().map(|(_, name)| name.clone()).collect();
        // Each block writes its rows of a gradient with one row per sample into place.
        let mut puts = TokenStream::new();
        for &r in &split.row_outputs {
            // (Not the block's name for the rows, which it shadows there.)
            let out = local(&format!("rows_out{}", r.0));
            let cols = self.dim(self.graph.shape(r).cols());
            out_lets.extend(quote!(let #out = #p::RowsOut::new(#samples, #cols);));
            let block = match &inner.values[&r] {
                Value::Moved(t, _) => quote!(&(#t)),
                value => value.operand().clone(),
            };
            puts.extend(quote!(#out.put(#rows.clone(), #block);));
            let name = self.local_name(r, "rows");
            after.extend(quote!(let #name = #out.into_matrix();));
            results.push((r, name));
        }
        out.extend(quote!(
            #out_lets
            let (#(#names,)*) = #p::sum_blocks(0..#samples, #work, |#rows| {
                #(#shadow)*
                #lets
                #puts
                (#(#terms,)*)
            });
            #after
        ));
        for (id, name) in results {
            self.values
                .insert(id, Value::local(&name, self.graph.shape(id)));
        }
        Some((setup, splits, out))
    }

    /// The emitter of one block: the values outside the blocks known, the
    /// sample matrices read through their (shadowed) names.
    fn rows_block_cx(&self, split: &Split) -> Emitter<'_> {
        let mut inner = Emitter::new(self.graph, self.params);
        inner.private = self.private.clone();
        for &id in &split.inputs {
            inner.values.insert(id, self.values[&id].clone());
        }
        inner
    }

    /// The multiply-adds of one row of the samples, as a `usize` expression:
    /// per node, the entries of a row (a product's times its inner size).
    fn work_per_row(&self, split: &Split) -> TokenStream {
        let g = self.graph;
        let mut work = Work::default();
        for &id in &split.region {
            let node = g.node(id);
            let (inner, row) = match (&node.op, node.shape) {
                (Op::MatMul(_), Shape::Matrix(_, c)) => (g.shape(node.args[0]).cols(), c),
                (Op::TrMul(_), Shape::Matrix(r, c)) => (r, c),
                (_, Shape::Matrix(_, c)) => (Dim::Fixed(1), c),
                _ => (Dim::Fixed(1), Dim::Fixed(1)),
            };
            work.add(self.entries(Shape::Matrix(inner, row)));
        }
        work.tokens()
    }
}

/// The split of the nodes `need` along the rows of the first matrix
/// parameter whose rows make one, if any.
fn find(g: &Graph, params: &[ParamSig], need: &BTreeSet<Id>, roots: &[Id]) -> Option<Split> {
    if !matches!(g.scalar, Scalar::F32 | Scalar::F64) {
        return None; // (the runtime adds up `f32` and `f64` sums only)
    }
    let mut tried: Vec<Dim> = Vec::new();
    for p in params {
        let Shape::Matrix(rows @ Dim::Dynamic(_), _) = p.shape else {
            continue;
        };
        if tried.iter().any(|&t| g.dims.same(t, rows)) {
            continue;
        }
        tried.push(rows);
        if let Some(split) = split_along(g, params, need, roots, rows) {
            return Some(split);
        }
    }
    None
}

/// The split along `samples` rows, if every node reading a sample is row-local
/// or a sum, and there is a sum.
fn split_along(
    g: &Graph,
    params: &[ParamSig],
    need: &BTreeSet<Id>,
    roots: &[Id],
    samples: Dim,
) -> Option<Split> {
    let Dim::Dynamic(s) = samples else {
        return None;
    };
    // The blocks read the number of samples off a shadowed parameter.
    if !matches!(g.dims.origin(s), Origin::Param { .. }) {
        return None;
    }
    let is_samples = |d: Dim| g.dims.same(d, samples);
    let mut sample_params = Vec::new();
    for (i, p) in params.iter().enumerate() {
        match p.shape {
            Shape::Matrix(r, c) if is_samples(c) || is_samples(r) && matches!(r, Dim::Fixed(_)) => {
                return None;
            }
            Shape::Matrix(r, _) if is_samples(r) => sample_params.push(i),
            _ => {}
        }
    }
    let mut kinds: BTreeMap<Id, Kind> = BTreeMap::new();
    for &id in need {
        let node = g.node(id);
        if g.aliases.contains_key(&id) || g.is_complex(id) {
            return None;
        }
        let arg_kinds: Vec<Kind> = (node.args.iter())
            .map(|a| kinds.get(a).copied())
            .collect::<Option<_>>()?; // (an argument after its node: give up)
        let kind = match &node.op {
            Op::Param(p) if sample_params.contains(&p.index) => Kind::Rows,
            _ if arg_kinds.iter().all(|&k| k == Kind::Outside) => Kind::Outside,
            _ if arg_kinds.contains(&Kind::Rows) => {
                if arg_kinds
                    .iter()
                    .any(|&k| matches!(k, Kind::Sum | Kind::After))
                {
                    return None;
                }
                row_kind(g, id, &arg_kinds, &is_samples)?
            }
            _ if scales_a_sum(&node.op, &arg_kinds) => Kind::Sum,
            _ => Kind::After,
        };
        // Only the sample rows may carry the samples' size, and only as a
        // dynamic one (a block's rows are dynamic).
        let shape = node.shape;
        let carries = shape.is_matrix() && (is_samples(shape.rows()) || is_samples(shape.cols()));
        let dynamic_rows = matches!(shape.rows(), Dim::Dynamic(_));
        if carries && (kind != Kind::Rows || !dynamic_rows) {
            return None;
        }
        kinds.insert(id, kind);
    }
    // The sums the blocks hand back: those read after them (a sum scaled
    // into another is computed inside the blocks only).
    let read_after: BTreeSet<Id> = (kinds.iter())
        .filter(|(_, &k)| k == Kind::After)
        .flat_map(|(&id, _)| g.node(id).args.iter().copied())
        .collect();
    let sums: Vec<Id> = (kinds.iter())
        .filter(|&(id, &k)| k == Kind::Sum && (roots.contains(id) || read_after.contains(id)))
        .map(|(&id, _)| id)
        .collect();
    let row_outputs: Vec<Id> = (need.iter().copied())
        .filter(|&id| kinds[&id] == Kind::Rows && roots.contains(&id))
        .collect();
    let outputs = sums.len() + row_outputs.len();
    if sums.is_empty() || outputs > super::region::MAX_REDUCED {
        return None;
    }
    let region: BTreeSet<Id> = (kinds.iter())
        .filter(|(_, &k)| matches!(k, Kind::Rows | Kind::Sum))
        .map(|(&id, _)| id)
        .collect();
    // A transpose from outside is read by a product in the blocks (`U Vᵀ`),
    // which takes it as a view: its argument is the input, not a transposed
    // copy made before the blocks.
    let inputs = (region.iter())
        .flat_map(|&id| g.node(id).args.iter().copied())
        .filter(|a| kinds[a] == Kind::Outside)
        .flat_map(|a| match g.op(a) {
            Op::Transpose(_) => g.node(a).args.clone(),
            _ => vec![a],
        })
        .collect();
    Some(Split {
        samples,
        sample_params,
        sums,
        row_outputs,
        inputs,
        region,
    })
}

/// The kind of node `id`, which reads rows of samples (`args` the kinds of
/// its arguments), if it is row-local or a sum; `None` for anything else.
fn row_kind(g: &Graph, id: Id, args: &[Kind], is_samples: &dyn Fn(Dim) -> bool) -> Option<Kind> {
    let node = g.node(id);
    let rows = |i: usize| args[i] == Kind::Rows;
    let outside_scalar = |i: usize| args[i] == Kind::Outside && !g.shape(node.args[i]).is_matrix();
    // Entrywise: its sample arguments are those `entrywise` lists, the rest
    // scalars from outside.
    let entrywise = |sample_args: &[usize]| {
        (0..args.len()).all(|i| {
            if sample_args.contains(&i) {
                rows(i) || outside_scalar(i)
            } else {
                outside_scalar(i)
            }
        })
    };
    let ok = match &node.op {
        // `X W`: one row of the product per row of `X`.
        Op::MatMul(_) => rows(0) && args[1] == Kind::Outside,
        Op::Neg(_) => true,
        Op::Add(_)
        | Op::Sub(_)
        | Op::ComponentMul(_)
        | Op::ComponentDiv(_)
        | Op::Mul(_)
        | Op::Div(_)
        | Op::Scale(_)
        | Op::DivScalar(_)
        | Op::AddScalar(_) => entrywise(&[0, 1]),
        Op::Map(_) => entrywise(&[0]),
        Op::MapDerivative(_) => entrywise(&[0, 1]),
        Op::MapAdjoint(_) => entrywise(&[0, 1, 2]),
        // Sums over the samples.
        Op::Sum(_) | Op::NormSquared(_) => return rows(0).then_some(Kind::Sum),
        Op::Dot(_) | Op::TrMul(_) => return (rows(0) && rows(1)).then_some(Kind::Sum),
        _ => false,
    };
    let shape = node.shape;
    (ok && shape.is_matrix() && is_samples(shape.rows())).then_some(Kind::Rows)
}

/// Whether a node reading a sum is linear in it, its other argument a scalar
/// from outside (`2 Xᵀ r`, `−s`, `s / n`): then it is a sum too, `c Σ_b s_b =
/// Σ_b c s_b`, each block's term scaled where it is computed (into a
/// product's α) instead of the whole sum after the blocks.
fn scales_a_sum(op: &Op, args: &[Kind]) -> bool {
    use Kind::{Outside, Sum};
    match op {
        Op::Neg(_) => args == [Sum],
        Op::Scale(_) | Op::DivScalar(_) | Op::Div(_) => args == [Sum, Outside],
        Op::Mul(_) => matches!(args, [Sum, Outside] | [Outside, Sum]),
        _ => false,
    }
}

fn local(name: &str) -> Ident {
    Ident::new(&format!("__mg_{name}"), Span::mixed_site())
}
