//! Statements beyond `let`: assignments (`s += t`, `h = …`) and `for` loops.
//!
//! A name assigned in a loop body and bound before the loop is a carried
//! value of the loop: the body's region reads it as an input and yields its
//! new value; after the loop the name is bound to the loop's output. Inside
//! straight-line code an assignment simply binds the name to the new value.

use syn::spanned::Spanned;
use syn::{BinOp, Expr, Pat};

use super::{Binding, BodyParser};
use crate::ir::ops::*;
use crate::ir::Id;
use crate::shape::{Dim, Origin, Shape};

/// Whether `e` is a statement form (it has no value the loss could end in).
pub fn is_statement(e: &Expr) -> bool {
    matches!(e, Expr::ForLoop(_) | Expr::Assign(_)) || compound(e).is_some() || written(e).is_some()
}

/// Whether `e` is an `if` without `else`, which has no value.
pub fn is_if_without_else(e: &Expr) -> bool {
    matches!(e, Expr::If(i) if i.else_branch.is_none())
}

/// `a op= b`.
fn compound(e: &Expr) -> Option<&syn::ExprBinary> {
    match e {
        Expr::Binary(b) if assigns(&b.op) => Some(b),
        _ => None,
    }
}

/// Whether `op` is a compound assignment (`+=`, `-=`, …), a statement with no
/// value: read as a value, `(w -= y)` would leave `w` as it was.
pub fn assigns(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
    )
}

/// What each position of a loop's pattern binds, per iteration.
enum Element {
    /// The index itself (`for i in 0..n`, the `i` of `enumerate`).
    Index,
    /// Entry `i` of a matrix or vector (`x.iter()`).
    Entry(Id),
    /// Entry `i` of data (`xs.iter()`), of this shape.
    Data(Id, Shape),
    /// Entry `i` of data whose elements are tuples (`ratings.iter()`), of these fields.
    Tuple(Id, Vec<Shape>),
    /// A value read already (a field of a tuple).
    Value(Id),
    /// What `element` reads at the index plus an offset: an iterator that starts past its
    /// first item (`y.iter().skip(1)`), zipped or enumerated from 0.
    Shifted(Box<Element>, Id),
    /// Column or row `i` of a matrix (`x.column_iter()`, `x.row_iter()`).
    View(Id, ViewKind, Shape),
    /// A pair (`enumerate`, `zip`).
    Pair(Box<Element>, Box<Element>),
    /// The block a window of a vector's entries starts at (`x.as_slice().windows(k)`), read as
    /// this expression of the index named [`WINDOW`] (`x.rows(__mg_window, k)`).
    Window(Box<Expr>),
}

/// The name a window's block reads its start by.
const WINDOW: &str = "__mg_window";

/// How a loop iterates: `lo..hi` (or `..=`, reversed), binding `element`.
struct Iteration {
    lo: Id,
    hi: Id,
    range: Range,
    element: Element,
}

impl Iteration {
    /// `lo..hi` forwards, binding `element`.
    fn forwards(lo: Id, hi: Id, element: Element) -> Self {
        Iteration {
            lo,
            hi,
            range: Range {
                inclusive: false,
                rev: false,
            },
            element,
        }
    }
}

impl BodyParser<'_> {
    /// Parses `e` if it is a statement (an assignment or a loop); false if it
    /// is not one.
    pub(super) fn statement(&mut self, e: &Expr) -> bool {
        if let Some(rewritten) = entry_written_by_name(e) {
            return self.statement(&rewritten);
        }
        if let Some(b) = compound(e) {
            self.compound_assign(b);
            return true;
        }
        match e {
            Expr::Assign(a) => self.assign(a),
            Expr::ForLoop(f) => self.for_loop(f),
            Expr::MethodCall(m) if written(e).is_some() => self.write_block(m),
            Expr::If(i) => {
                let _ = self.branch(i, false);
            }
            Expr::Match(m) => match super::matches::as_if(m) {
                Ok(chain) => return self.statement(&chain),
                Err((tokens, why)) => {
                    let _ = self.error(tokens, why);
                }
            },
            _ => return false,
        }
        true
    }

    /// `if c { … } else { … }`: one node holding a region per side, yielding
    /// its value (when `value` is asked for) and the variables its sides
    /// assign. Returns the value's node.
    pub(super) fn branch(&mut self, i: &syn::ExprIf, value: bool) -> Result<Option<Id>, ()> {
        let mut stmts: Vec<syn::Stmt> = i.then_branch.stmts.clone();
        if let Some((_, e)) = &i.else_branch {
            stmts.push(syn::Stmt::Expr((**e).clone(), None));
        }
        let assigned = self.bound_before(assigned_names(&stmts));
        let poison = |p: &mut Self| p.poison(&assigned);
        let Ok(cond) = self.expr(&i.cond) else {
            poison(self);
            return Err(());
        };
        if self.g.shape(cond) != Shape::Bool {
            let shown = self.g.dims.show(self.g.shape(cond)).to_string();
            poison(self);
            return self.fail(
                &i.cond,
                format!("an `if` needs a `bool` condition, found {shown}"),
            );
        }
        let parent = self.g.region;
        let (then, _) = self.g.open_region(false);
        let then_outputs = self.side(&assigned, value, |p| p.block_value(&i.then_branch, value));
        self.g.region = parent;
        let (otherwise, _) = self.g.open_region(false);
        let else_outputs = self.side(&assigned, value, |p| match &i.else_branch {
            None if value => p.fail(i, "an `if` used as a value needs an `else`"),
            None => Ok(None),
            Some((_, e)) => match &**e {
                Expr::Block(b) => p.block_value(&b.block, value),
                Expr::If(inner) => p.branch(inner, value),
                other => p.fail(other, "expected a block or `if` after `else`"),
            },
        });
        self.g.region = parent;
        let (Ok(then_outputs), Ok(else_outputs)) = (then_outputs, else_outputs) else {
            poison(self);
            return Err(());
        };
        for (a, b) in then_outputs.iter().zip(&else_outputs) {
            if let Some((axis, _)) = self.sizes_apart(*a, *b, true) {
                poison(self);
                let msg = format!("this side of the `if` gives a value whose number of {axis} is computed apart from the other side's: a #[grad] `if` yields one size; compute the sizes with the same expression");
                // At the side whose size is computed (the `then` side's, if both are).
                return match (self.sizes_apart(*b, *a, false), &i.else_branch) {
                    (None, Some((_, otherwise))) => self.fail(otherwise, msg),
                    _ => self.fail(&i.then_branch, msg),
                };
            }
            let (sa, sb) = (self.g.shape(*a), self.g.shape(*b));
            if let Err(msg) = same_shape(sa, sb, &mut self.g.dims, "the two sides of an `if`") {
                poison(self);
                return self.fail(i, msg);
            }
        }
        self.g.region_info_mut(then).outputs = then_outputs.clone();
        self.g.region_info_mut(otherwise).outputs = else_outputs;
        let mut args = vec![cond];
        args.extend(crate::diff::captures_of(self.g, &[then, otherwise]));
        let op = If {
            then,
            otherwise,
            outputs: then_outputs.len(),
        };
        self.g.span = i.span();
        let Ok(node) = self.build(i, op, &args) else {
            poison(self);
            return Err(());
        };
        for side in [then, otherwise] {
            self.g.region_info_mut(side).owner = Some(node);
        }
        let outputs: Vec<Id> = (then_outputs.iter().enumerate())
            .map(|(k, &out)| {
                let shape = self.g.shape(out);
                self.g.build(Output { k, shape }, &[node])
            })
            .collect();
        let values = usize::from(value);
        for ((name, _), &out) in assigned.iter().zip(&outputs[values..]) {
            self.rebind(name, Ok(out), i);
        }
        Ok(value.then(|| outputs[0]))
    }

    /// `a && b`, `a || b`: `b` is evaluated only when `a` does not decide, as
    /// in Rust (a branch yielding `b` or the `bool` `a` decided).
    pub(super) fn lazy_bool(&mut self, b: &syn::ExprBinary) -> Result<Id, ()> {
        let cond = self.expr(&b.left)?;
        if self.g.shape(cond) != Shape::Bool {
            return self.fail(&b.left, "`&&` and `||` need `bool` operands");
        }
        let and = matches!(b.op, BinOp::And(_));
        let parent = self.g.region;
        let mut sides = Vec::new();
        let mut values = Vec::new();
        for side in [and, !and] {
            let (region, _) = self.g.open_region(false);
            let value = if side {
                self.expr(&b.right)
            } else {
                Ok(self.g.build(BoolLit(!and), &[]))
            };
            self.g.region = parent;
            sides.push(region);
            values.push(value);
        }
        let (then, otherwise) = (values[0]?, values[1]?);
        for (side, out) in sides.iter().zip([then, otherwise]) {
            if self.g.shape(out) != Shape::Bool {
                return self.fail(&b.right, "`&&` and `||` need `bool` operands");
            }
            self.g.region_info_mut(*side).outputs = vec![out];
        }
        let mut args = vec![cond];
        args.extend(crate::diff::captures_of(self.g, &sides));
        let op = If {
            then: sides[0],
            otherwise: sides[1],
            outputs: 1,
        };
        self.g.span = b.span();
        let node = self.build(b, op, &args)?;
        for side in sides {
            self.g.region_info_mut(side).owner = Some(node);
        }
        let shape = Shape::Bool;
        Ok(self.g.build(Output { k: 0, shape }, &[node]))
    }

    /// One side of an `if`, parsed by `parse` in the current region with the
    /// `assigned` names shadowed: its value (if asked for), then the values
    /// of those names when it ends.
    fn side(
        &mut self,
        assigned: &[(String, Id)],
        value: bool,
        parse: impl FnOnce(&mut Self) -> Result<Option<Id>, ()>,
    ) -> Result<Vec<Id>, ()> {
        let mark = self.scope.len();
        for (name, id) in assigned {
            self.scope.push((name.clone(), Binding::Node(*id)));
        }
        let outer = std::mem::replace(&mut self.outer_names, self.scope.len());
        let result = parse(self);
        self.outer_names = outer;
        let bound = self.take_bound(mark, assigned.len());
        match (result, bound) {
            (Ok(v), Some(bound)) => Ok(v.filter(|_| value).into_iter().chain(bound).collect()),
            _ => Err(()),
        }
    }

    /// The nodes the `count` names pushed at `mark` of the scope are bound to
    /// now (`None` if one is not a node), those names taken off the scope.
    fn take_bound(&mut self, mark: usize, count: usize) -> Option<Vec<Id>> {
        let bound = (self.scope[mark..mark + count].iter())
            .map(|(_, b)| match b {
                Binding::Node(id) => Some(*id),
                _ => None,
            })
            .collect();
        self.scope.truncate(mark);
        bound
    }

    /// The statements of a block, and its final expression's value when
    /// `value` is asked for.
    pub(super) fn block_value(
        &mut self,
        block: &syn::Block,
        value: bool,
    ) -> Result<Option<Id>, ()> {
        let mark = self.scope.len();
        let (body, tail) = match block.stmts.split_last() {
            Some((syn::Stmt::Expr(e, None), rest)) if value => (rest, Some(e)),
            _ => (&block.stmts[..], None),
        };
        for stmt in body {
            self.body_statement(stmt);
        }
        let result = match (tail, value) {
            (Some(e), _) => self.expr(e).map(Some),
            (None, true) => self.fail(
                block,
                "this block must end in an expression: the value of the `if`",
            ),
            (None, false) => Ok(None),
        };
        // The block's own `let`s end with it; assignments to names from
        // before it live in the shadows below `mark`.
        self.scope.truncate(mark);
        result
    }

    fn assign(&mut self, a: &syn::ExprAssign) {
        let Some(name) = self.target(&a.left) else {
            return;
        };
        let value = self.expr(&a.right);
        let value = match (&*a.left, value) {
            (Expr::Index(i), Ok(v)) => self.write_entry(i, |_, _| Ok(v)),
            (_, value) => value,
        };
        self.rebind(&name, value, a);
    }

    fn compound_assign(&mut self, b: &syn::ExprBinary) {
        let Some(name) = self.target(&b.left) else {
            return;
        };
        let rhs = self.expr(&b.right);
        let value = match (&*b.left, rhs) {
            (_, Err(())) => Err(()),
            (Expr::Index(i), Ok(r)) => self.write_entry(i, |p, entry| {
                p.g.span = b.span();
                p.binary(&Expr::Binary(b.clone()), &b.op, entry, r)
            }),
            (_, Ok(r)) => self.expr(&b.left).and_then(|c| {
                self.g.span = b.span();
                self.binary(&Expr::Binary(b.clone()), &b.op, c, r)
            }),
        };
        self.rebind(&name, value, b);
    }

    /// `x[i] = …` (or `x[(i, j)] op= …`): `x` with that entry set to what
    /// `value` makes of the entry's current value.
    fn write_entry(
        &mut self,
        i: &syn::ExprIndex,
        value: impl FnOnce(&mut Self, Id) -> Result<Id, ()>,
    ) -> Result<Id, ()> {
        let entry = self.index(i)?;
        let mut args = self.g.node(entry).args.clone();
        if !matches!(self.g.op(entry), Op::Entry(_)) {
            return self.fail(
                &i.expr,
                "#[grad] writes entries of matrices and vectors only",
            );
        }
        let new = value(self, entry)?;
        args.insert(1, new);
        self.g.span = i.span();
        self.build(i, SetEntry, &args)
    }

    /// `x.row_mut(i).copy_from(&r);`, `x.set_row(i, &r);`, `x.set_column(j, &c);`:
    /// `x` with that block replaced.
    fn write_block(&mut self, m: &syn::ExprMethodCall) {
        let Some(name) = written(&Expr::MethodCall(m.clone())) else {
            return;
        };
        let value = self.block_write(m);
        self.rebind(&name, value, m);
    }

    fn block_write(&mut self, m: &syn::ExprMethodCall) -> Result<Id, ()> {
        let (view, block) =
            match (m.method.to_string().as_str(), &*m.receiver) {
                ("copy_from", Expr::MethodCall(view)) if m.args.len() == 1 => {
                    (view.clone(), &m.args[0])
                }
                (set, base) if m.args.len() == 2 => {
                    // `set_row(i, &r)` writes what `row_mut(i)` views.
                    let method = syn::Ident::new(&format!("{}_mut", &set[4..]), m.method.span());
                    let mut args = syn::punctuated::Punctuated::new();
                    args.push(m.args[0].clone());
                    let view = syn::ExprMethodCall {
                        attrs: Vec::new(),
                        receiver: Box::new(base.clone()),
                        dot_token: m.dot_token,
                        method,
                        turbofish: None,
                        paren_token: m.paren_token,
                        args,
                    };
                    (view, &m.args[1])
                }
                _ => return self.fail(
                    m,
                    "#[grad] writes blocks as `x.row_mut(i).copy_from(&r)` or `x.set_row(i, &r)`",
                ),
            };
        // The view read by the same method without `_mut`.
        let mut read = view.clone();
        let method = read.method.to_string();
        read.method = syn::Ident::new(method.trim_end_matches("_mut"), read.method.span());
        let Some(kind) = super::access::view_kind(&read) else {
            return self.fail(
                &view.method,
                format!("`{method}` is not a view #[grad] writes into"),
            );
        };
        let old = self.view(&read, kind)?;
        let mut args = self.g.node(old).args.clone();
        let y = self.expr(block)?;
        args.insert(1, y);
        let kind = match self.g.op(old) {
            Op::View(v) => v.kind,
            _ => unreachable!("a view"),
        };
        self.g.span = m.span();
        self.build(m, SetView { kind }, &args)
    }

    /// The name an assignment writes (`s`, or `x` of `x[i]`), or an error at
    /// its left-hand side.
    fn target(&mut self, left: &Expr) -> Option<String> {
        let name = match left {
            Expr::Index(i) => base_name(&i.expr),
            left => base_name(left),
        };
        if name.is_none() {
            let _ = self.error(
                left,
                "#[grad] supports assignments to a local variable or its entries, as in `s += t;`, `h = …;` or `lp[c] = s;`",
            );
        }
        name
    }

    /// Those of `names` bound to a value now, with that value.
    fn bound_before(&self, names: Vec<String>) -> Vec<(String, Id)> {
        (names.into_iter())
            .filter_map(
                |name| match self.scope.iter().rev().find(|(n, _)| *n == name)? {
                    (_, Binding::Node(id)) => Some((name, *id)),
                    _ => None,
                },
            )
            .collect()
    }

    /// Marks `names` as bound to an error (already reported), so that their
    /// uses are not reported again.
    fn poison(&mut self, names: &[(String, Id)]) {
        for (name, _) in names {
            if let Some(slot) = self.scope.iter().rposition(|(n, _)| n == name) {
                self.scope[slot].1 = Binding::Poisoned;
            }
        }
    }

    /// Binds `name` (bound before) to `value`.
    fn rebind(&mut self, name: &str, value: Result<Id, ()>, tokens: impl quote::ToTokens) {
        let Some(slot) = self.scope.iter().rposition(|(n, _)| n == name) else {
            let _ = self.error(tokens, format!("cannot find `{name}` in this #[grad] body"));
            return;
        };
        let binding = match value {
            Ok(id) => {
                let old = match &self.scope[slot].1 {
                    Binding::Node(old) => Some(*old),
                    _ => None,
                };
                if let Some(old) = old {
                    let (was, is) = (self.g.shape(old), self.g.shape(id));
                    let leaves = slot < self.outer_names;
                    let checked = match self.size_may_change(name, old, id, leaves) {
                        Some(msg) => Err(msg),
                        None => same_shape(was, is, &mut self.g.dims, "an assignment"),
                    };
                    if let Err(msg) = checked {
                        let _ = self.error(tokens, msg);
                        self.scope[slot].1 = Binding::Poisoned;
                        return;
                    }
                }
                self.g.names.entry(id).or_insert_with(|| name.to_owned());
                Binding::Node(id)
            }
            Err(()) => Binding::Poisoned,
        };
        self.scope[slot].1 = binding;
    }

    /// Why assigning `new` to `name`, bound to `old`, is an error, where the
    /// assigned value `leaves` the loop body or side of an `if` being read:
    /// the value leaving is read at one size (a loop reads each carried value
    /// at the size it had before the loop, an `if` gives each name one size),
    /// so a size the body computes, `w.rows(0, n)`, must be the old one by
    /// the same expression. Sizes of parameters are taken to agree, as the
    /// user's own code needs them to (`h = W h` with `W` square).
    fn size_may_change(&self, name: &str, old: Id, new: Id, leaves: bool) -> Option<String> {
        if !leaves {
            return None;
        }
        let (axis, in_loop) = self.sizes_apart(old, new, false)?;
        Some(if in_loop {
            format!(
                "`{name}` is assigned a value whose number of {axis} is computed from a loop's index or the values it carries, so it may change from one iteration to the next: a #[grad] loop carries a value at the size it had before the loop"
            )
        } else {
            format!(
                "`{name}` is assigned a value whose number of {axis} is computed apart from the size `{name}` had before this loop or `if`, which it keeps after: give `{name}` its size with the same expression before, or bind the value to a new name"
            )
        })
    }

    /// The axis along which matrices `a` and `b` may differ in size: `b`'s
    /// size there (or, with `either`, `a`'s or `b`'s) is one the body computes
    /// (`w.rows(0, n)`, `DVector::zeros(n)`), and the other is neither the
    /// same size nor a size by the same expression. With whether the computed
    /// size reads a loop's index or carried values.
    fn sizes_apart(&self, a: Id, b: Id, either: bool) -> Option<(&'static str, bool)> {
        let (Shape::Matrix(r1, c1), Shape::Matrix(r2, c2)) = (self.g.shape(a), self.g.shape(b))
        else {
            return None;
        };
        let dims = &self.g.dims;
        let computed = |d: Dim| -> Vec<Id> {
            (dims.origins(d).into_iter())
                .filter_map(|o| match o {
                    Origin::Int(n) => Some(*n),
                    _ => None,
                })
                .collect()
        };
        [(r1, r2, "rows"), (c1, c2, "columns")]
            .into_iter()
            .find_map(|(x, y, axis)| {
                let (of_x, of_y) = (computed(x), computed(y));
                let shared = of_y.iter().any(|n| of_x.contains(n));
                let sizes = if either { [of_x, of_y].concat() } else { of_y };
                if sizes.is_empty() || shared || dims.same(x, y) {
                    return None;
                }
                Some((axis, sizes.iter().any(|&n| self.g.reads_loop_input(n))))
            })
    }

    /// `for pattern in iteration { body }`: one loop node, its body a region.
    fn for_loop(&mut self, f: &syn::ExprForLoop) {
        // The carried values: names assigned in the body, bound before it.
        let carried = self.bound_before(assigned_names(&f.body.stmts));
        let poison = |p: &mut Self| p.poison(&carried);
        if let Some(label) = &f.label {
            let _ = self.error(label, "loop labels are not supported in a #[grad] body");
        }
        let Ok(iteration) = self.iteration(&f.expr) else {
            return poison(self);
        };
        let (region, parent) = self.g.open_region(true);
        self.g.span = f.span();
        let index = self.g.build(
            RegionParam {
                k: 0,
                shape: Shape::Int,
            },
            &[],
        );
        let mut inputs = vec![index];
        for (name, init) in &carried {
            let shape = self.g.shape(*init);
            let cin = self.g.build(
                RegionParam {
                    k: inputs.len(),
                    shape,
                },
                &[],
            );
            self.g.names.insert(cin, name.clone());
            inputs.push(cin);
        }
        let errors = self.errors.len();
        let Ok(mut outputs) = self.loop_body(f, &carried, &inputs, &iteration) else {
            self.g.region = parent;
            return poison(self);
        };
        self.g.region = parent;
        // Products of a sample's data with values from outside the loop are
        // computed for all the samples before it, and the body read again
        // reading them (hash-consing rebuilds everything else as it was).
        if self.errors.len() == errors && !self.g.in_loop(parent) {
            let bounds = (iteration.lo, iteration.hi);
            let hoisted = crate::batch::hoisted(self.g, region, index, bounds, iteration.range);
            if !hoisted.is_empty() {
                self.g.substitutes = hoisted;
                self.g.region = region;
                let again = self.loop_body(f, &carried, &inputs, &iteration);
                self.g.region = parent;
                self.g.substitutes.clear();
                match again {
                    Ok(again) => outputs = again,
                    Err(()) => return poison(self),
                }
            }
        }

        let info = self.g.region_info_mut(region);
        info.inputs = inputs;
        info.outputs = outputs;
        let mut args = vec![iteration.lo, iteration.hi];
        args.extend(carried.iter().map(|(_, init)| *init));
        args.extend(self.g.captures(region));
        let op = Loop {
            region,
            range: iteration.range,
            carried: carried.len(),
            sums: 0,
        };
        self.g.span = f.span();
        let Ok(l) = self.build(&f.expr, op, &args) else {
            return poison(self);
        };
        self.g.region_info_mut(region).owner = Some(l);
        // Sums of per-index terms leave the loop as matrix operations.
        if let Some(finals) = crate::batch::sums(self.g, l) {
            for ((name, _), value) in carried.iter().zip(finals) {
                self.rebind(name, Ok(value), f);
            }
            return;
        }
        for (k, (name, _)) in carried.iter().enumerate() {
            let shape = self.g.shape(args[2 + k]);
            let out = self.g.build(Output { k, shape }, &[l]);
            self.rebind(name, Ok(out), f);
        }
    }

    /// The statements of loop `f`'s body, parsed in the current region with
    /// the carried names bound to `inputs` (after the index); the carried
    /// values at the end of the body.
    fn loop_body(
        &mut self,
        f: &syn::ExprForLoop,
        carried: &[(String, Id)],
        inputs: &[Id],
        iteration: &Iteration,
    ) -> Result<Vec<Id>, ()> {
        let mark = self.scope.len();
        for ((name, _), &cin) in carried.iter().zip(&inputs[1..]) {
            self.scope.push((name.clone(), Binding::Node(cin)));
        }
        let outer = std::mem::replace(&mut self.outer_names, self.scope.len());
        self.bind_pattern(&f.pat, &iteration.element, inputs[0]);
        for stmt in &f.body.stmts {
            self.body_statement(stmt);
        }
        self.outer_names = outer;
        self.take_bound(mark, carried.len()).ok_or(())
    }

    /// A statement of a loop body: no final value.
    fn body_statement(&mut self, stmt: &syn::Stmt) {
        match stmt {
            syn::Stmt::Local(local) => self.local(local),
            syn::Stmt::Expr(e, _) if self.statement(e) => {}
            syn::Stmt::Expr(Expr::Return(r), _) => {
                let _ = self.error(r, super::RETURNS);
            }
            syn::Stmt::Expr(Expr::Continue(c), _) => {
                let _ = self.error(
                    c,
                    "`continue` is not supported in a #[grad] body: put the rest of the loop's body under an `if` (`if j <= i { … }` for `if j > i { continue; }`)",
                );
            }
            syn::Stmt::Expr(Expr::Break(b), _) => {
                let _ = self.error(
                    b,
                    "`break` is not supported in a #[grad] body: a loop runs every iteration of its range; end the range where the loop should stop (`take(k)`, or a computed end), or put the rest under an `if`",
                );
            }
            syn::Stmt::Expr(e, _) => {
                let _ = self.error(
                    e,
                    format!(
                        "{} is not supported here; supported: `let` bindings, assignments (`s += t;`, `h = …;`), `for` loops and `if`s",
                        super::describe(e)
                    ),
                );
            }
            syn::Stmt::Macro(m) if super::assertions::is_assertion(&m.mac) => {
                let _ = self.error(
                    m,
                    "an assertion is supported among a #[grad] body's top-level statements (each generated function checks it first), not in a loop or a branch",
                );
            }
            syn::Stmt::Macro(m) => {
                let _ = self.error(
                    m,
                    "macros are not supported in a #[grad] body: matgrad must see every operation to differentiate it",
                );
            }
            syn::Stmt::Item(item) => {
                let _ = self.error(item, "items are not supported in a #[grad] body");
            }
        }
    }

    /// Binds the names of a loop's pattern to what each iteration reads.
    fn bind_pattern(&mut self, pat: &Pat, element: &Element, index: Id) {
        if let Element::Shifted(inner, offset) = element {
            let shifted = self.g.build(IntArith::Add, &[index, *offset]);
            return self.bind_pattern(pat, inner, shifted);
        }
        match (pat, element) {
            (Pat::Wild(_), _) => {}
            (Pat::Ident(p), _) if p.subpat.is_none() => {
                let value = match element {
                    Element::Index => Ok(index),
                    Element::Value(id) => Ok(*id),
                    Element::Shifted(..) => unreachable!("a shifted element is bound above"),
                    Element::Entry(x) => self.build(pat, Entry, &[*x, index]),
                    Element::Data(x, shape) => self.data_entry(pat, *shape, &[*x, index]),
                    Element::View(x, kind, shape) => {
                        let view = View {
                            kind: *kind,
                            shape: *shape,
                        };
                        self.build(pat, view, &[*x, index])
                    }
                    Element::Pair(..) => {
                        self.error(pat, "this iterates over pairs: bind them as `(a, b)`")
                    }
                    Element::Tuple(_, fields) => self.error(
                        pat,
                        format!(
                            "this iterates over tuples of {} fields: bind each field, as in `&({})`",
                            fields.len(),
                            (0..fields.len()).map(|k| format!("f{k}")).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                    Element::Window(block) => {
                        self.scope.push((WINDOW.to_owned(), Binding::Node(index)));
                        self.expr(block)
                    }
                };
                let binding = match value {
                    Ok(id) => {
                        self.g
                            .names
                            .entry(id)
                            .or_insert_with(|| p.ident.to_string());
                        Binding::Node(id)
                    }
                    Err(()) => Binding::Poisoned,
                };
                self.scope.push((p.ident.to_string(), binding));
            }
            (Pat::Tuple(t), Element::Pair(a, b)) if t.elems.len() == 2 => {
                self.bind_pattern(&t.elems[0], a, index);
                self.bind_pattern(&t.elems[1], b, index);
            }
            (Pat::Tuple(t), Element::Tuple(x, fields)) if t.elems.len() == fields.len() => {
                for (k, (field, &shape)) in t.elems.iter().zip(fields).enumerate() {
                    let read = DataEntry {
                        shape,
                        part: DataPart::Field(k),
                    };
                    let entry = self.g.build(read, &[*x, index]);
                    self.bind_pattern(field, &Element::Value(entry), index);
                }
            }
            (
                Pat::Reference(r),
                Element::Entry(_) | Element::Data(..) | Element::Tuple(..) | Element::View(..),
            ) => self.bind_pattern(&r.pat, element, index),
            (Pat::Paren(p), _) => self.bind_pattern(&p.pat, element, index),
            _ => {
                let _ = self.error(
                    pat,
                    "#[grad] supports loop patterns of names, `_` and pairs `(a, b)`",
                );
                for name in crate::signature::pattern_names(pat) {
                    self.scope.push((name.to_string(), Binding::Poisoned));
                }
            }
        }
    }

    /// What a `for` loop iterates over: an integer range, or the entries of
    /// a vector, a matrix (column by column) or a slice, possibly enumerated,
    /// zipped or reversed.
    fn iteration(&mut self, e: &Expr) -> Result<Iteration, ()> {
        let forwards = Range {
            inclusive: false,
            rev: false,
        };
        match e {
            Expr::Paren(p) => self.iteration(&p.expr),
            Expr::Range(r) => {
                let (Some(start), Some(end)) = (&r.start, &r.end) else {
                    return self.fail(r, "a loop's range needs both bounds, as in `0..n`");
                };
                let lo = self.integer(start)?;
                let hi = self.integer(end)?;
                let inclusive = matches!(r.limits, syn::RangeLimits::Closed(_));
                Ok(Iteration {
                    lo,
                    hi,
                    range: Range { inclusive, rev: false },
                    element: Element::Index,
                })
            }
            Expr::MethodCall(m) if m.args.is_empty() && m.method == "rev" => {
                let mut inner = self.iteration(&m.receiver)?;
                if !matches!(
                    inner.element,
                    Element::Index
                        | Element::Entry(_)
                        | Element::Data(..)
                        | Element::Tuple(..)
                        | Element::View(..)
                ) {
                    return self.fail(m, "`rev` is supported on a range or directly on `iter()`");
                }
                inner.range.rev = !inner.range.rev;
                Ok(inner)
            }
            Expr::MethodCall(m) if m.args.len() == 1 && (m.method == "skip" || m.method == "take") => {
                let mut inner = self.iteration(&m.receiver)?;
                if inner.range.rev {
                    return self.fail(
                        m,
                        format!("`{}` after `rev` is not supported in a #[grad] body: write the range it leaves (`(a..b - k).rev()` for `(a..b).rev().skip(k)`)", m.method),
                    );
                }
                let k = self.integer(&m.args[0])?;
                if inner.range.inclusive {
                    let one = self.g.build(IntLit(1), &[]);
                    inner.hi = self.g.build(IntArith::Add, &[inner.hi, one]);
                    inner.range.inclusive = false;
                }
                // `skip`: from `lo + k` (past the end, an empty range, as the adaptor leaves
                // nothing); `take`: up to `min(hi, lo + k)`.
                let start = self.g.build(IntArith::Add, &[inner.lo, k]);
                if m.method == "skip" {
                    inner.lo = start;
                } else {
                    inner.hi = self.g.build(IntArith::Min, &[inner.hi, start]);
                }
                Ok(inner)
            }
            Expr::MethodCall(m) if m.args.is_empty() && m.method == "enumerate" => {
                let inner = self.iteration(&m.receiver)?;
                // (Counted from 0 whatever the loop reads: `skip(k).enumerate()`.)
                let inner = self.counted_from_zero(inner);
                if inner.range.rev
                    || !matches!(
                        inner.element,
                        Element::Entry(_)
                            | Element::Data(..)
                            | Element::Tuple(..)
                            | Element::View(..)
                            | Element::Pair(..)
                            | Element::Window(_)
                            | Element::Shifted(..)
                    )
                {
                    return self.fail(m, "`enumerate` is supported on `iter()`, `windows` and `zip`");
                }
                Ok(Iteration {
                    element: Element::Pair(Box::new(Element::Index), Box::new(inner.element)),
                    ..inner
                })
            }
            Expr::MethodCall(m) if m.args.len() == 1 && m.method == "zip" => {
                let a = self.iteration(&m.receiver)?;
                let b = self.iteration(&m.args[0])?;
                // Each side's items counted from 0 (a lag: `y.iter().zip(y.iter().skip(1))`).
                let (a, b) = (self.counted_from_zero(a), self.counted_from_zero(b));
                if a.range != forwards || b.range != forwards {
                    return self.fail(m, "`zip` is supported on `iter()`s going forwards");
                }
                let hi = self.g.build(IntArith::Min, &[a.hi, b.hi]);
                let element = Element::Pair(Box::new(a.element), Box::new(b.element));
                Ok(Iteration::forwards(a.lo, hi, element))
            }
            Expr::MethodCall(m) if m.args.len() == 1 && m.method == "windows" => self.windows(m),
            Expr::MethodCall(m) if m.args.is_empty() && m.method == "iter" => self.entries(&m.receiver),
            // Items by value rather than by reference: the same entries to matgrad.
            Expr::MethodCall(m)
                if m.args.is_empty() && (m.method == "copied" || m.method == "cloned") =>
            {
                self.iteration(&m.receiver)
            }
            Expr::MethodCall(m)
                if m.args.is_empty() && (m.method == "column_iter" || m.method == "row_iter") =>
            {
                let x = self.expr(&m.receiver)?;
                let shape = self.g.shape(x);
                if !shape.is_matrix() {
                    return self.fail(&m.receiver, format!("`{}` needs a matrix", m.method));
                }
                let (kind, count, element) = if m.method == "column_iter" {
                    let one = crate::shape::Dim::Fixed(1);
                    (ViewKind::Column, shape.cols(), Shape::Matrix(shape.rows(), one))
                } else {
                    let one = crate::shape::Dim::Fixed(1);
                    (ViewKind::Row, shape.rows(), Shape::Matrix(one, shape.cols()))
                };
                let lo = self.g.build(IntLit(0), &[]);
                let hi = self.dim(count);
                Ok(Iteration::forwards(lo, hi, Element::View(x, kind, element)))
            }
            Expr::Reference(r) => self.entries(&r.expr),
            Expr::Path(_) => self.entries(e),
            _ => self.fail(
                e,
                "#[grad] loops over a range (`0..n`, `a..=b`, `(0..n).rev()`), over `x.iter()` of a vector, a matrix or a slice (with `enumerate`, `zip`, `rev`, `copied`), `x.column_iter()`, `x.row_iter()`, or `x.as_slice().windows(k)`",
            ),
        }
    }

    /// `x.as_slice().windows(k)` of a vector `x`: the blocks `x.rows(i, k)` (`columns` of a row
    /// vector) for `i` in `0..len + 1 − min(len + 1, k)`, none where `x` has fewer than `k`
    /// entries, as Rust's `windows` gives.
    fn windows(&mut self, m: &syn::ExprMethodCall) -> Result<Iteration, ()> {
        let source = match &*m.receiver {
            Expr::MethodCall(s) if s.method == "as_slice" && s.args.is_empty() => &*s.receiver,
            _ => {
                return self.fail(
                    &m.method,
                    "`windows` is supported on a vector's entries in a #[grad] body, as in `x.as_slice().windows(2)`",
                )
            }
        };
        let x = self.expr(source)?;
        let shape = self.g.shape(x);
        let Some((block, len)) = super::access::vector_blocks(shape, &self.g.dims) else {
            let shown = self.g.dims.show(shape).to_string();
            return self.fail(
                source,
                format!("`windows` needs a vector's entries, found {shown}"),
            );
        };
        let k = self.integer(&m.args[0])?;
        if matches!(self.g.op(k), Op::IntLit(IntLit(0))) {
            return self.fail(
                &m.args[0],
                "`windows(0)` panics: a window holds at least one entry",
            );
        }
        let len = self.dim(len);
        let one = self.g.build(IntLit(1), &[]);
        let past_end = self.g.build(IntArith::Add, &[len, one]);
        let short = self.g.build(IntArith::Min, &[past_end, k]);
        let mut hi = self.g.build(IntArith::Sub, &[past_end, short]);
        if !matches!(self.g.op(k), Op::IntLit(_)) {
            // A window of 0 at run time panics, as Rust's `windows` does (here dividing by 0).
            let unit = self.g.build(IntArith::Div, &[k, k]);
            hi = self.g.build(IntArith::Mul, &[hi, unit]);
        }
        let (span, size) = (m.method.span(), &m.args[0]);
        let (block, start) = (syn::Ident::new(block, span), syn::Ident::new(WINDOW, span));
        let view: Expr = syn::parse_quote_spanned!(span=> (#source).#block(#start, #size));
        let lo = self.g.build(IntLit(0), &[]);
        Ok(Iteration::forwards(lo, hi, Element::Window(Box::new(view))))
    }

    /// `it` counted from 0: `lo..hi` read as `0..hi − min(lo, hi)`, its items shifted by `lo`
    /// (none past the end, as Rust's). An iteration from 0, or backwards, is left as it is.
    fn counted_from_zero(&mut self, it: Iteration) -> Iteration {
        if self.g.is_zero_int(it.lo) || it.range.rev || it.range.inclusive {
            return it;
        }
        let start = self.g.build(IntArith::Min, &[it.lo, it.hi]);
        let count = self.g.build(IntArith::Sub, &[it.hi, start]);
        let zero = self.g.build(IntLit(0), &[]);
        let element = Element::Shifted(Box::new(it.element), it.lo);
        Iteration::forwards(zero, count, element)
    }

    /// The entries of `x`: of a matrix or vector (column-major, as nalgebra
    /// iterates), or of a slice of data.
    fn entries(&mut self, x_expr: &Expr) -> Result<Iteration, ()> {
        let x = self.expr(x_expr)?;
        let lo = self.g.build(IntLit(0), &[]);
        let shape = self.g.shape(x);
        let (hi, element) = match shape {
            Shape::Matrix(..) => {
                let r = self.dim(shape.rows());
                let c = self.dim(shape.cols());
                (self.g.build(IntArith::Mul, &[r, c]), Element::Entry(x))
            }
            Shape::Data if self.tuples.contains_key(&x) => {
                let fields = self.tuples[&x].clone();
                (self.g.build(Len, &[x]), Element::Tuple(x, fields))
            }
            Shape::Data => match self.elements.get(&x).copied() {
                Some(element) => (self.g.build(Len, &[x]), Element::Data(x, element)),
                None => {
                    return self.fail(x_expr, "matgrad cannot tell the type of this data's elements: iterate over a slice, `Vec` or array of `f64`, `f32`, integers or nalgebra vectors and matrices, or of tuples, slices or `Vec`s of them (matrices of fixed size)")
                }
            },
            s => {
                let shown = self.g.dims.show(s).to_string();
                return self.fail(x_expr, format!("cannot iterate over {shown}"));
            }
        };
        Ok(Iteration::forwards(lo, hi, element))
    }
}

/// `v.z += t` (`=`, `-=`, …) written as `v[2] += t`, which #[grad] reads: an entry of a
/// vector by its name.
fn entry_written_by_name(e: &Expr) -> Option<Expr> {
    let left = match e {
        Expr::Assign(a) => &a.left,
        _ => &compound(e)?.left,
    };
    let Expr::Field(f) = &**left else { return None };
    let syn::Member::Named(member) = &f.member else {
        return None;
    };
    let k = ["x", "y", "z", "w"].iter().position(|n| member == n)?;
    base_name(&f.base)?;
    let index = syn::LitInt::new(&k.to_string(), member.span());
    let base = &f.base;
    let entry: Expr = syn::parse_quote_spanned!(member.span()=> #base[#index]);
    let mut e = e.clone();
    match &mut e {
        Expr::Assign(a) => *a.left = entry,
        Expr::Binary(b) => *b.left = entry,
        _ => return None,
    }
    Some(e)
}

/// The variable `e` names, if it is a plain name.
fn base_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        _ => None,
    }
}

/// The variable a block-writing statement writes into: `x` of
/// `x.row_mut(i).copy_from(&r)` or `x.set_row(i, &r)`.
fn written(e: &Expr) -> Option<String> {
    let Expr::MethodCall(m) = e else { return None };
    match m.method.to_string().as_str() {
        "copy_from" => match &*m.receiver {
            Expr::MethodCall(view) if view.method.to_string().ends_with("_mut") => {
                base_name(&view.receiver)
            }
            _ => None,
        },
        "set_row" | "set_column" => base_name(&m.receiver),
        _ => None,
    }
}

/// Whether statements `list` assign to any name (`s += t`, `h = …`, a write into an entry).
pub fn assigns_anything(list: &[syn::Stmt]) -> bool {
    !assigned_names(list).is_empty()
}

/// The names assigned anywhere in `list`, in order of first assignment: in nested loops and
/// branches, and in any expression (`let l = if c { phi += q; 1.0 } else { 2.0 };` assigns
/// `phi`), but not in closures, which may not assign (an error where they are read).
fn assigned_names(list: &[syn::Stmt]) -> Vec<String> {
    use syn::visit::Visit;
    struct Assigned(Vec<String>);
    impl<'ast> Visit<'ast> for Assigned {
        fn visit_expr(&mut self, e: &'ast Expr) {
            let target = match e {
                Expr::Assign(a) => Some(&*a.left),
                _ => compound(e).map(|b| &*b.left),
            };
            let name = match target {
                Some(Expr::Index(i)) => base_name(&i.expr),
                Some(Expr::Field(f)) => base_name(&f.base),
                Some(t) => base_name(t),
                None => written(e),
            };
            if let Some(name) = name.filter(|n| !self.0.contains(n)) {
                self.0.push(name);
            }
            if !matches!(e, Expr::Closure(_)) {
                syn::visit::visit_expr(self, e);
            }
        }
    }
    let mut assigned = Assigned(Vec::new());
    for stmt in list {
        assigned.visit_stmt(stmt);
    }
    assigned.0
}
