//! Loops in the generated code: a loop node becomes a Rust `for` loop whose
//! body is its region's nodes, emitted like any batch, with the carried values
//! in `let mut` locals updated at the end of each iteration:
//!
//! ```text
//! let __mg_loop = {
//!     let mut c₀ = init₀; …                      // owned, moved when last read
//!     let mut tape₀ = Vec::with_capacity(trip);  // only if the reverse loop reads it
//!     let mut tape₄ = FlatTape::with_capacity(trip); // the same for a dynamic size
//!     let mut spare = None;                      // a map's buffer kept between iterations
//!     let mut outer₂ = OuterSum::new(1);         // rank-one updates c₂ += a hᵀ, gathered
//!     for i in lo..hi {
//!         tape₁.push(c₁.clone());                // a value changed in place, as it enters
//!         tape₄.push(&c₄);                       // any value, onto a flat tape (a copy)
//!         <body>            // m = map_into(spare.take(), …); …
//!         c₁ += x;          // an update `c + x` in place (`c[i] += y` for an entry)
//!         tape₀.push(mem::replace(&mut c₀, c₀′)); // any other: the old value onto its tape
//!         spare₄ = Some(mem::replace(&mut c₄, p)); // (copied onto a flat tape as it
//!                                                  //  entered: the buffer is the next product's)
//!         outer₂.push(&mut c₂, a, h);
//!         spare = Some(m);
//!         spare₃ = Some(mem::replace(&mut c₃, p)); // p = tr_mul_into(spare₃.take(), …)
//!     }
//!     outer₂.add_to(&mut c₂);                    // one `gemm` for the last ones
//!     (c₀, c₁, c₂, c₃, c₄, tape₀, tape₁, tape₄)
//! };
//! ```
//!
//! A loop outside other loops whose carried values are all sums, no term
//! reading any of them (per-sample terms and their gradients), and that
//! stores no tape, is a reduction: its range is handed with the carried
//! values to the runtime's `sum_loop`, with the loop as a function of a block
//! of the range, which the runtime may run on several threads (`work.rs`
//! estimates an iteration's arithmetic for it):
//!
//! ```text
//! let (c₀, c₁) = sum_loop(lo..hi, work, (init₀, init₁), |block, (mut c₀, mut c₁)| {
//!     let y = local_view(y); let δ = delta;   // read into locals once per block
//!     for i in block { <body> c₀ += x; … }
//!     (c₀, c₁)
//! });
//! ```
//!
//! The closure's references would be read again after every write the body
//! makes, so the body first reads into locals the scalars and the matrices it
//! reads entry by entry. An adjoint written at the loop's own index,
//! `c[i] += y` from zero, takes the buffer of a matrix `m` that the loop
//! reads last and only at `m[i]`: `Indexed::new(m, lo..hi)`, then `c[i] = y`
//! over the entry just read.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};

use super::{needed, Emitter};
use crate::code::Value;
use crate::ir::ops::{is_flat, EmitCx, Op, Tape};
use crate::ir::Id;
use crate::shape::Shape;

/// A product added into a carried matrix without being formed.
#[derive(Clone, Copy)]
enum Fused {
    /// `c += m s`, entry by entry.
    Scaled,
    /// `c += a hᵀ` (`ger`).
    Outer,
    /// `c += a b` (`gemm`).
    Product,
    /// `c += aᵀ b` (`gemm_tr`).
    TrProduct,
}

/// How a carried value leaves an iteration.
enum Update {
    /// Unchanged.
    Same,
    /// `c += x` (or `-=`) on the carried local.
    InPlace { x: Id, negate: bool },
    /// `c[i] += y` (or `c.row_mut(i) += y`, …): the adjoint of an entry or
    /// a block read inside the loop, accumulated in place.
    Scatter(Id),
    /// `c[i] = y` (or `c.row_mut(i).copy_from(y)`, …): a write into the
    /// carried value, done on it.
    Write(Id),
    /// `c = out`.
    Assign(Id),
}

/// Where a buffer recycled from one iteration to the next is at the end of
/// the body.
#[derive(Clone, Copy)]
enum Kept {
    /// In this local.
    Local(Id),
    /// In carried value `k`, whose old buffer is kept instead.
    Carried(usize),
}

/// Whether an operation's emitted code writes into a spare buffer when it
/// has one (`EmitCx::spare`, and `product_into_spare` for the products).
fn writes_into_spare(op: &Op) -> bool {
    matches!(
        op,
        Op::Map(_) | Op::MapAdjoint(_) | Op::MatMul(_) | Op::TrMul(_)
    )
}

/// The most carried values a loop run as a reduction may have (the runtime's
/// `Accumulator` is implemented for tuples up to this length).
pub(super) const MAX_REDUCED: usize = 12;

/// Whether `t` is one identifier (a variable, copied by `let`).
fn is_name(t: &TokenStream) -> bool {
    let mut trees = t.clone().into_iter();
    matches!(
        (trees.next(), trees.next()),
        (Some(proc_macro2::TokenTree::Ident(_)), None)
    )
}

fn ident(name: String) -> Ident {
    Ident::new(&name, Span::mixed_site())
}

impl Emitter<'_> {
    /// The `let` holding loop `id`'s results (its carried values, then its
    /// tapes), with the loop computing them.
    pub(super) fn emit_loop(&mut self, id: Id, batch: &BTreeSet<Id>) -> TokenStream {
        let node = self.graph.node(id).clone();
        let Op::Loop(l) = &node.op else {
            unreachable!("emit_loop on a loop")
        };
        let info = self.graph.region_info(l.region).clone();
        let args = self.args(id);
        let (lo, hi) = (args[0].operand().clone(), args[1].operand().clone());
        let range = match (l.range.inclusive, l.range.rev) {
            (false, false) => quote!(#lo..#hi),
            (true, false) => quote!(#lo..=#hi),
            (false, true) => quote!((#lo..#hi).rev()),
            (true, true) => quote!((#lo..=#hi).rev()),
        };
        let index = ident(format!("__mg_i{}", id.0));
        let carried: Vec<Ident> = (0..l.carried)
            .map(|k| ident(format!("__mg_c{}_{k}", id.0)))
            .collect();
        let tapes: Vec<Option<Ident>> = (0..l.carried)
            .map(|k| {
                let tape = Tape {
                    k,
                    at: l.carried + k,
                };
                let read = (batch.iter()).any(|&b| {
                    *self.graph.op(b) == Op::Tape(tape.clone()) && self.graph.node(b).args == [id]
                });
                read.then(|| ident(format!("__mg_tape{}_{k}", id.0)))
            })
            .collect();

        let inits: Vec<TokenStream> = l
            .inits()
            .map(|a| match &args[a] {
                Value::Moved(t, _) => t.clone(),
                v if self.movable.contains(&node.args[a]) => v.receiver().clone(),
                _ => self.owned(node.args[a], false),
            })
            .collect();
        let flat: Vec<bool> = (0..l.carried)
            .map(|k| is_flat(self.graph.shape(info.inputs[1 + k])))
            .collect();
        let mut start = TokenStream::new();
        for (tape, &flat) in tapes.iter().zip(&flat) {
            let Some(tape) = tape else { continue };
            let trip = quote!(::core::iter::Iterator::size_hint(&(#range)).0);
            start.extend(if flat {
                let p = self.private();
                quote!(let mut #tape = #p::FlatTape::with_capacity(#trip);)
            } else {
                quote!(let mut #tape = ::std::vec::Vec::with_capacity(#trip);)
            });
        }

        // The body, with the region's inputs bound to the loop's locals.
        let known = self.known();
        self.values
            .insert(info.inputs[0], Value::Scalar(quote!(#index)));
        for (k, c) in carried.iter().enumerate() {
            let value = Value::local(c, self.graph.shape(info.inputs[1 + k]));
            self.values.insert(info.inputs[1 + k], value);
        }
        let updates: Vec<Update> = (0..l.carried)
            .map(|k| self.update(info.inputs[1 + k], info.outputs[k], &info.inputs[1..]))
            .collect();
        // A value the iteration replaces goes onto its tape when replaced (moved,
        // see `Update::Assign` below); one changed in place, as it enters, and
        // so does any value a flat tape copies.
        let mut pushes = TokenStream::new();
        for (k, (c, tape)) in carried.iter().zip(&tapes).enumerate() {
            let Some(tape) = tape else { continue };
            if flat[k] {
                pushes.extend(quote!(#tape.push(&#c);));
            } else if !matches!(updates[k], Update::Assign(_)) {
                pushes.extend(quote!(#tape.push(::core::clone::Clone::clone(&#c));));
            }
        }
        let roots: Vec<Id> = updates
            .iter()
            .flat_map(|u| match u {
                Update::Same => Vec::new(),
                Update::InPlace { x, .. } => match self.fused_add(*x) {
                    Some((_, operands)) => operands,
                    None => vec![*x],
                },
                Update::Scatter(x) => self.graph.node(*x).args.clone(),
                Update::Write(out) => self.graph.node(*out).args[1..].to_vec(),
                Update::Assign(out) => vec![*out],
            })
            .collect();
        let need = needed(self.graph, &roots, |x| known.contains(&x));
        // The body's nodes reading carried value `cin`.
        let readers_of = |cin: Id| -> Vec<Id> {
            (need.iter().copied())
                .filter(|&r| self.graph.node(r).args.contains(&cin))
                .collect()
        };
        // Whether every carried value is a sum whose terms read no carried
        // value: then the loop is a reduction, which the runtime may split
        // across threads (`sum_loop`). Only outside other loops, whose
        // iterations already share the work. Not over a type parameter: the
        // runtime's accumulators are its concrete scalars and matrices.
        let generic = matches!(self.graph.scalar, crate::ir::Scalar::Generic(_));
        let reduction = !generic
            && !self.graph.in_loop(node.region)
            && tapes.iter().all(Option::is_none)
            && (1..=MAX_REDUCED).contains(&l.carried)
            && (0..l.carried).all(|k| {
                let cin = info.inputs[1 + k];
                let readers = readers_of(cin);
                match &updates[k] {
                    Update::InPlace { .. } | Update::Scatter(_) => {
                        readers.is_empty() && !roots.contains(&cin)
                    }
                    Update::Assign(out) => {
                        readers.len() == 1
                            && [
                                self.sum_of_loop_from(*out, cin),
                                self.sum_through_branch(*out, cin),
                            ]
                            .contains(&Some(readers[0]))
                    }
                    Update::Same | Update::Write(_) => false,
                }
            });
        // In a reduction, an adjoint written at the loop's index may take the
        // buffer of a matrix read there (`Indexed`).
        let indexed: Vec<Option<Id>> = if reduction {
            self.indexed_buffers(id, &updates, &need, &roots)
        } else {
            vec![None; l.carried]
        };
        let whole = ident("__mg_range".into());
        let mut inits = inits;
        let mut overridden = Vec::new();
        for (k, m) in indexed.iter().enumerate() {
            if let Some(m) = *m {
                let (p, buffer, c) = (self.private(), self.owned(m, true), &carried[k]);
                inits[k] = quote!(#p::Indexed::new(#buffer, ::core::clone::Clone::clone(&#whole)));
                let entries = Value::Matrix {
                    operand: quote!(&#c),
                    receiver: quote!(#c),
                };
                overridden.push((m, self.values.insert(m, entries).expect("a known matrix")));
            }
        }
        // A reduction's body is a closure holding references to what it reads:
        // the scalars, and the matrices it reads entries of, are read into
        // locals once per block.
        let hoisted = if reduction {
            self.hoist_reads(&need, &known, &roots, &mut overridden)
        } else {
            TokenStream::new()
        };
        // Rank-one updates `c += a hᵀ` of a carried matrix nothing else in the
        // body reads: gathered, and added by `gemm` (`OuterSum`).
        let batched: Vec<Option<Ident>> = (0..l.carried)
            .map(|k| {
                let cin = info.inputs[1 + k];
                let Update::InPlace { x, .. } = updates[k] else {
                    return None;
                };
                let outer = matches!(self.fused_add(x), Some((Fused::Outer, _)));
                let read = roots.contains(&cin) || !readers_of(cin).is_empty();
                (outer && !read && tapes[k].is_none() && !self.graph.is_complex(cin))
                    .then(|| ident(format!("__mg_outer{}_{k}", id.0)))
            })
            .collect();
        let mut finish = TokenStream::new();
        for (k, batch) in batched.iter().enumerate() {
            if let (Some(batch), Update::InPlace { negate, .. }) = (batch, &updates[k]) {
                let (p, c) = (self.private(), &carried[k]);
                let alpha = self.lit(if *negate { -1.0 } else { 1.0 });
                start.extend(quote!(let mut #batch = #p::OuterSum::new(#alpha);));
                finish.extend(quote!(#batch.add_to(&mut #c);));
            }
        }
        // A carried value read only by a nested loop starting from it (an
        // accumulator it adds into) is moved into that loop and back.
        let mut movable = self.movable.clone();
        for (k, update) in updates.iter().enumerate() {
            let cin = info.inputs[1 + k];
            let readers = readers_of(cin);
            // (An update in place reading it, `c += 0.5 h`, reads it too.)
            let read_by_update = roots.contains(&cin);
            if let (Update::Assign(_), [reader], false) =
                (update, readers.as_slice(), read_by_update)
            {
                if let Op::Loop(inner) = self.graph.op(*reader) {
                    let args = &self.graph.node(*reader).args;
                    if inner.inits().any(|a| args[a] == cin)
                        && !inner.captures(args.len()).any(|a| args[a] == cin)
                    {
                        movable.insert(cin);
                    }
                }
            }
        }
        let saved_movable = std::mem::replace(&mut self.movable, movable);
        let saved = std::mem::take(&mut self.plan);
        self.plan = self.plan(&need, &roots);
        let assigned: BTreeSet<Id> = (updates.iter())
            .filter_map(|u| match u {
                Update::Assign(out) => Some(*out),
                _ => None,
            })
            .collect();
        // A value that becomes carried value `k` (stored on no tape or
        // copied onto a flat one, and not moved into a nested loop) may take
        // the buffer the old value of `k` leaves when replaced.
        let swappable: HashMap<Id, usize> = (0..l.carried)
            .filter_map(|k| match updates[k] {
                Update::Assign(out)
                    if (tapes[k].is_none() || flat[k])
                        && !self.movable.contains(&info.inputs[1 + k])
                        && self.graph.node(out).region == l.region
                        && !(updates.iter().enumerate()).any(|(j, u)| {
                            j != k && matches!(u, Update::Assign(o) if *o == out)
                        }) =>
                {
                    Some((out, k))
                }
                _ => None,
            })
            .collect();
        let recycled = self.recycled(&need, l.region, &assigned, &swappable);
        for (j, &(head, _)) in recycled.iter().enumerate() {
            self.spares
                .insert(head, ident(format!("__mg_spare{}_{j}", id.0)));
        }
        let body = self.lets(&need, "b");
        // Each recycled buffer, last held by `last`, kept for the next
        // iteration once every update has read it; or the old buffer of the
        // carried value it becomes, as it is replaced.
        let mut keep = TokenStream::new();
        let mut spare_of_carried: HashMap<usize, Ident> = HashMap::new();
        for &(head, kept) in &recycled {
            let spare = self.spares.remove(&head).expect("a spare");
            if self.spares_taken.borrow_mut().remove(&head) {
                start.extend(quote!(let mut #spare = ::core::option::Option::None;));
                match kept {
                    Kept::Local(last) => {
                        let last = self.values[&last].receiver();
                        keep.extend(quote!(#spare = ::core::option::Option::Some(#last);));
                    }
                    Kept::Carried(k) => {
                        spare_of_carried.insert(k, spare);
                    }
                }
            }
        }
        self.plan = saved;
        self.movable = saved_movable;

        // Every right-hand side is read before any carried local changes, and
        // the changes in place (which may borrow the old value of another
        // carried local) come before the assignments.
        let (mut read, mut write, mut assign) =
            (TokenStream::new(), TokenStream::new(), TokenStream::new());
        for (k, update) in updates.iter().enumerate() {
            let c = &carried[k];
            let tmp = ident(format!("__mg_u{}_{k}", id.0));
            match update {
                Update::Same => {}
                Update::InPlace { x, negate } => match self.fused_add(*x) {
                    Some((form, operands)) if !self.values.contains_key(x) => {
                        let mut names = Vec::new();
                        for (j, a) in operands.iter().enumerate() {
                            let value = self.values[a].operand();
                            let arg = ident(format!("__mg_u{}_{k}_{j}", id.0));
                            read.extend(quote!(let #arg = #value;));
                            names.push(arg);
                        }
                        write.extend(match (&batched[k], form) {
                            (Some(batch), Fused::Outer) => {
                                let [a, h] = &names[..] else {
                                    unreachable!("an outer product's two vectors")
                                };
                                quote!(#batch.push(&mut #c, #a, #h);)
                            }
                            _ => self.add_product(c, form, &names, *negate),
                        });
                    }
                    _ => {
                        let x = self.values[x].operand();
                        read.extend(quote!(let #tmp = #x;));
                        write.extend(if *negate {
                            quote!(#c -= #tmp;)
                        } else {
                            quote!(#c += #tmp;)
                        });
                    }
                },
                Update::Scatter(x) | Update::Write(x) => {
                    // Each argument read into a local first, the change after.
                    let node = self.graph.node(*x);
                    let skip = usize::from(matches!(update, Update::Write(_)));
                    let mut args = Vec::new();
                    for (j, a) in node.args.iter().enumerate().skip(skip) {
                        let value = self.values[a].operand();
                        let arg = ident(format!("__mg_u{}_{k}_{j}", id.0));
                        read.extend(quote!(let #arg = #value;));
                        args.push(Value::Scalar(quote!(#arg)));
                    }
                    let (target, rule) = (quote!(#c), node.op.rule());
                    let change = match update {
                        Update::Scatter(_) if indexed[k].is_some() => rule.set_into(&target, &args),
                        Update::Scatter(_) => rule.add_into(&target, &args),
                        _ => rule.update_in_place(&target, &args),
                    };
                    write.extend(change.expect("an update in place"));
                }
                Update::Assign(out) => {
                    let once = updates
                        .iter()
                        .filter(|u| matches!(u, Update::Assign(o) if o == out))
                        .count()
                        == 1;
                    let movable = once && self.graph.node(*out).region == l.region;
                    let value = self.owned(*out, movable);
                    // A matrix bound in the body and moved into its carried local is moved
                    // last, after the changes in place, which may borrow it
                    // (`traj.set_column(t, &x)` after `x = a * &x`); a scalar (which may be
                    // an expression of carried locals) or a clone is read with the others.
                    if movable && !matches!(self.values[out], Value::Scalar(_)) {
                        assign.extend(quote!(let #tmp = #value;));
                    } else {
                        read.extend(quote!(let #tmp = #value;));
                    }
                    assign.extend(match (&tapes[k], spare_of_carried.get(&k)) {
                        (Some(tape), _) if !flat[k] => {
                            quote!(#tape.push(::core::mem::replace(&mut #c, #tmp));)
                        }
                        (_, Some(spare)) => quote!(
                            #spare = ::core::option::Option::Some(::core::mem::replace(&mut #c, #tmp));
                        ),
                        (_, None) => quote!(#c = #tmp;),
                    });
                }
            }
        }
        self.forget_since(&known);
        for (m, value) in overridden {
            self.values.insert(m, value);
        }
        write.extend(assign);
        write.extend(keep);

        let results = (carried.iter().zip(&indexed))
            .map(|(c, m)| match m {
                Some(_) => quote!(#c.into_inner()),
                None => quote!(#c),
            })
            .chain(tapes.iter().map(|t| match t {
                Some(t) => quote!(#t),
                None => quote!(()),
            }));
        let name = self.local_name(id, "loop");
        self.values.insert(id, Value::Scalar(quote!(#name)));
        let span = node.span;
        if reduction {
            // (Read before the loop: only the values outside it are known here.)
            let work = self.iteration_work(l.region);
            let p = self.private();
            let (block, start_values) = (ident("__mg_block".into()), ident("__mg_init".into()));
            let block_range = if l.range.rev {
                quote!(#block.rev())
            } else {
                quote!(#block)
            };
            let whole_range = if l.range.inclusive {
                quote!(#lo..#hi + 1)
            } else {
                quote!(#lo..#hi)
            };
            return quote_spanned!(span=>
                // Loops over entries are index loops.
                #[allow(unused_mut, clippy::needless_range_loop)]
                let #name = {
                    let #whole = #whole_range;
                    let #start_values = (#(#inits,)*);
                    let (#(#carried,)*) = #p::sum_loop(
                        #whole,
                        #work,
                        #start_values,
                        |#block, (#(mut #carried,)*)| {
                            #hoisted
                            #start
                            for #index in #block_range {
                                #body
                                #read
                                #write
                            }
                            #finish
                            (#(#carried,)*)
                        },
                    );
                    (#(#results,)*)
                };
            );
        }
        quote_spanned!(span=>
            // Loops over entries are index loops.
            #[allow(unused_mut, clippy::needless_range_loop)]
            let #name = {
                #(let mut #carried = #inits;)*
                #start
                for #index in #range {
                    #pushes
                    #body
                    #read
                    #write
                }
                #finish
                (#(#results,)*)
            };
        )
    }

    /// The `let`s reading into locals the values from outside the loop that
    /// its body `need` reads: the scalars named by a variable, and the
    /// matrices read only entry by entry (as views, `local_view`); each
    /// value's old form pushed onto `overridden`, to restore after the loop.
    fn hoist_reads(
        &mut self,
        need: &BTreeSet<Id>,
        known: &BTreeSet<Id>,
        roots: &[Id],
        overridden: &mut Vec<(Id, Value)>,
    ) -> TokenStream {
        let g = self.graph;
        let body: Vec<Id> = need
            .iter()
            .copied()
            .filter(|x| !known.contains(x))
            .collect();
        let read: BTreeSet<Id> = (body.iter())
            .flat_map(|&r| g.node(r).args.iter().copied())
            .chain(roots.iter().copied())
            .filter(|a| known.contains(a) && !overridden.iter().any(|(m, _)| m == a))
            .collect();
        let mut lets = TokenStream::new();
        for a in read {
            let local = ident(format!("__mg_h{}", a.0));
            let value = match (&self.values[&a], g.shape(a)) {
                (Value::Scalar(t), Shape::Scalar | Shape::Int | Shape::Bool) if is_name(t) => {
                    lets.extend(quote!(let #local = #t;));
                    Value::Scalar(quote!(#local))
                }
                (Value::Matrix { operand, receiver }, Shape::Matrix(..))
                    if is_name(receiver)
                        && !roots.contains(&a)
                        && (body.iter())
                            .filter(|&&r| g.node(r).args.contains(&a))
                            .all(|&r| {
                                matches!(g.op(r), Op::Entry(_))
                                    && g.node(r).args[1..].iter().all(|&i| i != a)
                            }) =>
                {
                    let p = self.private();
                    lets.extend(quote!(let #local = #p::local_view(#operand);));
                    Value::Matrix {
                        operand: quote!(&#local),
                        receiver: quote!(#local),
                    }
                }
                _ => continue,
            };
            overridden.push((a, self.values.insert(a, value).expect("a known value")));
        }
        lets
    }

    /// For each carried value of reduction `id`, the matrix whose buffer it
    /// takes: where the value is an adjoint written entry by entry at the
    /// loop's index, `c[i] += y` from zero, and a local matrix of its shape
    /// that the loop reads last is read in the body only at that index,
    /// `m[i]`, before the write (`Indexed`: one buffer and one pass of zeros
    /// fewer).
    fn indexed_buffers(
        &self,
        id: Id,
        updates: &[Update],
        need: &BTreeSet<Id>,
        roots: &[Id],
    ) -> Vec<Option<Id>> {
        let g = self.graph;
        let node = g.node(id);
        let Op::Loop(l) = g.op(id) else {
            unreachable!("a loop")
        };
        let index = g.region_info(l.region).inputs[0];
        let mut taken = BTreeSet::new();
        (0..l.carried)
            .map(|k| {
                let Update::Scatter(x) = updates[k] else {
                    return None;
                };
                let init = node.args[2 + k];
                let at_index = g.node(x).args[1..] == [index];
                let from_zero = matches!(g.op(init), Op::Zeros(_));
                if !(matches!(g.op(x), Op::Scatter(_)) && at_index && from_zero) {
                    return None;
                }
                let read_at_index = |m: Id| {
                    (need.iter())
                        .filter(|&&r| g.node(r).args.contains(&m))
                        .all(|&r| matches!(g.op(r), Op::Entry(_)) && g.node(r).args == [m, index])
                };
                let m = (l.captures(node.args.len()).map(|a| node.args[a])).find(|&m| {
                    !taken.contains(&m)
                        && self.is_local(m)
                        && self.plan.move_into.get(&m) == Some(&id)
                        && !self.plan.lower_triangle.contains(&m)
                        && g.shape(m) == g.shape(init)
                        && g.is_complex(m) == g.is_complex(init)
                        && !roots.contains(&m)
                        && read_at_index(m)
                })?;
                taken.insert(m);
                Some(m)
            })
            .collect()
    }

    /// For `out` an output of a loop nested in the body that is one of its
    /// sums, started from carried value `cin` and not reading it otherwise:
    /// that loop.
    fn sum_of_loop_from(&self, out: Id, cin: Id) -> Option<Id> {
        let Op::Output(o) = self.graph.op(out) else {
            return None;
        };
        let inner = self.graph.node(out).args[0];
        let Op::Loop(l) = self.graph.op(inner) else {
            return None;
        };
        let args = &self.graph.node(inner).args;
        let is_sum = o.k + l.sums >= l.carried;
        let from = args[2 + o.k] == cin && args.iter().filter(|&&a| a == cin).count() == 1;
        (is_sum && from).then_some(inner)
    }

    /// For `out` an output of an `if` in the body whose sides each leave
    /// carried value `cin` as it is or add one term to it (`c ± t`, no term
    /// and nothing else on either side reading `c`): that `if`.
    fn sum_through_branch(&self, out: Id, cin: Id) -> Option<Id> {
        let g = self.graph;
        let (Op::Output(o), &[branch]) = (g.op(out), g.node(out).args.as_slice()) else {
            return None;
        };
        let Op::If(b) = g.op(branch) else {
            return None;
        };
        let adds_to_cin = |side| {
            let result = g.region_info(side).outputs[o.k];
            let update = match (g.op(result), g.node(result).args.as_slice()) {
                _ if result == cin => None,
                (Op::Add(_), &[a, t] | &[t, a]) if a == cin && t != cin => Some(result),
                (Op::Sub(_), &[a, t]) if a == cin && t != cin => Some(result),
                _ => return false,
            };
            // (Nor is `c ± t` read but as this output: not as the `if`'s value.)
            let outputs = &g.region_info(side).outputs;
            let side_nodes = needed(g, outputs, |x| !g.within(g.node(x).region, side));
            let inside = |x: &Id| g.within(g.node(*x).region, side);
            let reads = |a: Id| {
                side_nodes
                    .iter()
                    .filter(|x| inside(x))
                    .any(|&x| g.node(x).args.contains(&a))
            };
            let alone = update
                .is_none_or(|u| outputs.iter().filter(|&&x| x == u).count() == 1 && !reads(u));
            let others = (side_nodes.iter().copied())
                .filter(|x| inside(x) && g.node(*x).args.contains(&cin))
                .all(|x| Some(x) == update);
            alone && others
        };
        (adds_to_cin(b.then) && adds_to_cin(b.otherwise)).then_some(branch)
    }

    /// The values of a loop body (region `region`) computed into a new
    /// buffer that can instead write into one kept from the previous
    /// iteration (a map, a map's adjoint, a product: `writes_into_spare`),
    /// with where that buffer is at the end of the body. It is the value's
    /// and that of whatever takes it over by value (a scaling, `m[i] += y`,
    /// …, of the same shape), ending either in a local that nothing moves and
    /// no carried value becomes (`assigned`), kept as it is, or in the new
    /// value of a carried value (`swappable`), whose old buffer is kept.
    fn recycled(
        &self,
        need: &BTreeSet<Id>,
        region: crate::ir::RegionId,
        assigned: &BTreeSet<Id>,
        swappable: &HashMap<Id, usize>,
    ) -> Vec<(Id, Kept)> {
        let g = self.graph;
        let takes_over = |r: Id, x: Id| crate::plan::takes_over(g, &self.plan.accumulate, r, x);
        let heads = need.iter().copied().filter(|&h| {
            let node = g.node(h);
            writes_into_spare(&node.op) && node.region == region && node.shape.has_dynamic()
        });
        heads
            .filter_map(|head| {
                let mut last = head;
                while let Some(&r) = self.plan.move_into.get(&last) {
                    if !takes_over(r, last) {
                        break;
                    }
                    if g.shape(r) != g.shape(head) || self.plan.inline.contains(&r) {
                        return None;
                    }
                    last = r;
                }
                if self.plan.inline.contains(&last) {
                    return None;
                }
                match swappable.get(&last) {
                    Some(&k) => Some((head, Kept::Carried(k))),
                    None => (!assigned.contains(&last)).then_some((head, Kept::Local(last))),
                }
            })
            .collect()
    }

    /// A product `A B` or `Aᵀ B` of the loop body being emitted written into
    /// the buffer kept from the previous iteration, if it has one
    /// (`__private::mul_into`, `tr_mul_into`: the same arithmetic as
    /// `MatMul`'s and `TrMul`'s own code for dynamic sizes).
    pub(super) fn product_into_spare(&self, op: &Op, args: &[Value]) -> Option<TokenStream> {
        let into = match op {
            Op::MatMul(_) => quote!(mul_into),
            Op::TrMul(_) => quote!(tr_mul_into),
            _ => return None,
        };
        let spare = self.spare()?;
        let p = self.private();
        let [a, b] = [&args[0], &args[1]].map(|v| match v {
            Value::Moved(t, _) => quote!(&#t),
            v => v.operand().clone(),
        });
        Some(quote!(#p::#into(#spare.take(), #a, #b)))
    }

    /// The `let` holding branch `id`'s outputs, with the `if` computing them:
    /// `let t = if cond { <then>; (o₀, …) } else { <otherwise>; (o₀′, …) };`
    pub(super) fn emit_if(&mut self, id: Id) -> TokenStream {
        let node = self.graph.node(id).clone();
        let Op::If(branch) = &node.op else {
            unreachable!("emit_if on an `if`")
        };
        let cond = self.values[&node.args[0]].operand().clone();
        let sides = [branch.then, branch.otherwise].map(|side| {
            let outputs = self.graph.region_info(side).outputs.clone();
            let known = self.known();
            let need = needed(self.graph, &outputs, |x| known.contains(&x));
            let saved = std::mem::take(&mut self.plan);
            self.plan = self.plan(&need, &outputs);
            let body = self.lets(&need, "b");
            self.plan = saved;
            let values: Vec<TokenStream> = outputs
                .iter()
                .enumerate()
                .map(|(k, out)| {
                    let once = !outputs[k + 1..].contains(out);
                    self.owned(*out, once && self.graph.node(*out).region == side)
                })
                .collect();
            self.forget_since(&known);
            quote!({ #body (#(#values,)*) })
        });
        let [then, otherwise] = sides;
        let name = self.local_name(id, "if");
        self.values.insert(id, Value::Scalar(quote!(#name)));
        let span = node.span;
        quote_spanned!(span=> let #name = if #cond #then else #otherwise;)
    }

    /// For an update `c += x`: how `x` can be added into `c` without being
    /// formed (a scaling entry by entry; for dynamic sizes a product by `gemm`,
    /// an outer product by `ger`), and the operands that needs.
    fn fused_add(&self, x: Id) -> Option<(Fused, Vec<Id>)> {
        let node = self.graph.node(x);
        let dynamic = node.shape.has_dynamic();
        let vector = |a: Id| self.graph.shape(a).cols() == crate::shape::Dim::Fixed(1);
        match (&node.op, node.args.as_slice()) {
            (Op::Scale(_), &[m, s]) if node.shape.is_matrix() => Some((Fused::Scaled, vec![m, s])),
            (Op::MatMul(_), &[a, t]) if dynamic => {
                match (self.graph.op(t), self.graph.node(t).args.as_slice()) {
                    (Op::Transpose(_), &[h]) if vector(a) && vector(h) => {
                        Some((Fused::Outer, vec![a, h]))
                    }
                    _ => Some((Fused::Product, vec![a, t])),
                }
            }
            (Op::TrMul(_), &[a, b]) if dynamic => Some((Fused::TrProduct, vec![a, b])),
            _ => None,
        }
    }

    /// `c ± x` in place, for the fused form of `x` from `operands`.
    fn add_product(&self, c: &Ident, form: Fused, operands: &[Ident], negate: bool) -> TokenStream {
        let sign = if negate { -1.0 } else { 1.0 };
        let (alpha, one) = (self.lit(sign), self.lit(1.0));
        match (form, operands) {
            (Fused::Scaled, [m, s]) => {
                let (a, b) = (ident("__mg_a".into()), ident("__mg_b".into()));
                if negate {
                    quote!(#c.zip_apply(#m, |#a, #b| *#a -= #s * #b);)
                } else {
                    quote!(#c.zip_apply(#m, |#a, #b| *#a += #s * #b);)
                }
            }
            (Fused::Outer, [a, h]) => quote!(#c.ger(#alpha, #a, #h, #one);),
            (Fused::Product, [a, b]) => quote!(#c.gemm(#alpha, #a, #b, #one);),
            (Fused::TrProduct, [a, b]) => quote!(#c.gemm_tr(#alpha, #a, #b, #one);),
            _ => unreachable!("operands of the fused form"),
        }
    }

    /// How carried value `cin` becomes `out` at the end of an iteration.
    fn update(&self, cin: Id, out: Id, carried: &[Id]) -> Update {
        if out == cin {
            return Update::Same;
        }
        let node = self.graph.node(out);
        if matches!(node.op, Op::SetEntry(_) | Op::SetView(_)) && node.args[0] == cin {
            let reads_carried = node.args[1..].iter().any(|a| carried.contains(a));
            return if reads_carried {
                Update::Assign(out)
            } else {
                Update::Write(out)
            };
        }
        let other = match (&node.op, node.args.as_slice()) {
            (Op::Add(_), [a, x]) if *a == cin => Some((*x, false)),
            (Op::Add(_), [x, a]) if *a == cin => Some((*x, false)),
            (Op::Sub(_), [a, x]) if *a == cin => Some((*x, true)),
            _ => None,
        };
        let Some((x, negate)) = other.filter(|(x, _)| !carried.contains(x)) else {
            return Update::Assign(out);
        };
        let x_node = self.graph.node(x);
        match &x_node.op {
            // `+=` keeps the carried value's type whatever the type of `x` of
            // its shape (`Dyn` or `Const` dimensions), as nalgebra's `AddAssign`.
            op if crate::ir::ops::adds_in_place(op) && !negate => Update::Scatter(x),
            _ if self.graph.shape(x).is_matrix() == self.graph.shape(cin).is_matrix() => {
                Update::InPlace { x, negate }
            }
            _ => Update::Assign(out),
        }
    }
}
