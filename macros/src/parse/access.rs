//! Sizes, integers, casts, comparisons and element access: `x.nrows()`,
//! `n - 1`, `i as f64`, `a < b`, `x[i]`, `x[(i, j)]`, `v.x`, `xs[i]`.

use syn::spanned::Spanned;
use syn::{BinOp, Expr, ExprMethodCall};

use super::{Binding, BodyParser};
use crate::ir::ops::*;
use crate::ir::Id;
use crate::shape::{Dim, Shape};
use crate::signature::is_integer_type;

/// The view that takes a block of a vector's entries, and the vector's length: `rows` of a
/// column vector, `columns` of a row vector; `None` for a shape that is not a vector.
pub fn vector_blocks(shape: Shape, dims: &crate::shape::Dims) -> Option<(&'static str, Dim)> {
    let one = |d: Dim| dims.value(d) == Some(1);
    match shape {
        Shape::Matrix(r, c) if one(c) => Some(("rows", r)),
        Shape::Matrix(r, c) if one(r) => Some(("columns", c)),
        _ => None,
    }
}

/// The view a method call reads, when it is one (`row`, `fixed_rows::<2>`,
/// …); `None` for other methods. Malformed turbofishes are left to the view
/// parser's error.
pub fn view_kind(m: &ExprMethodCall) -> Option<Result<ViewKind, ()>> {
    let consts: Vec<Option<usize>> = m
        .turbofish
        .iter()
        .flat_map(|t| &t.args)
        .map(|a| match a {
            syn::GenericArgument::Const(Expr::Lit(l)) => match &l.lit {
                syn::Lit::Int(i) => i.base10_parse().ok(),
                _ => None,
            },
            syn::GenericArgument::Type(syn::Type::Path(p)) => {
                let name = p.path.get_ident()?.to_string();
                name.strip_prefix('U').and_then(|n| n.parse().ok())
            }
            _ => None,
        })
        .collect();
    let kind = match (m.method.to_string().as_str(), consts.as_slice()) {
        ("row", []) => ViewKind::Row,
        ("column", []) => ViewKind::Column,
        ("rows", []) => ViewKind::Rows,
        ("columns", []) => ViewKind::Columns,
        ("view", []) => ViewKind::View,
        ("fixed_rows", [Some(n)]) => ViewKind::FixedRows(*n),
        ("fixed_columns", [Some(n)]) => ViewKind::FixedColumns(*n),
        ("fixed_view", [Some(r), Some(c)]) => ViewKind::FixedView(*r, *c),
        ("fixed_rows" | "fixed_columns" | "fixed_view", _) => return Some(Err(())),
        _ => return None,
    };
    Some(Ok(kind))
}

impl BodyParser<'_> {
    /// A view of a matrix: `x.row(i)`, `x.rows(a, n)`, `x.fixed_view::<2, 2>(i, j)`, …
    pub(super) fn view(
        &mut self,
        m: &ExprMethodCall,
        kind: Result<ViewKind, ()>,
    ) -> Result<Id, ()> {
        let Ok(kind) = kind else {
            return self.fail(
                m,
                format!("`{}` needs its sizes as integer literals, as in `x.fixed_rows::<2>(0)` or `x.fixed_view::<2, 3>(i, j)`", m.method),
            );
        };
        // A field's view says it is a matrix, as its `nrows()` does.
        if super::is_field(&m.receiver) {
            self.hint = Some(super::Hint::Matrix);
        }
        let x = self.expr(&m.receiver)?;
        let shape = self.g.shape(x);
        if !shape.is_matrix() {
            let shown = self.g.dims.show(shape).to_string();
            return self.fail(
                &m.receiver,
                format!("`{}` needs a matrix or vector, found {shown}", m.method),
            );
        }
        // `view((i, j), (r, c))` takes two pairs.
        let flat: Vec<&Expr> = match kind {
            ViewKind::View => m
                .args
                .iter()
                .flat_map(|a| match a {
                    Expr::Tuple(t) if t.elems.len() == 2 => t.elems.iter().collect(),
                    other => vec![other],
                })
                .collect(),
            _ => m.args.iter().collect(),
        };
        if flat.len() != kind.arity() {
            return self.fail(
                m,
                format!(
                    "`{}` takes {} integer arguments here",
                    m.method,
                    kind.arity()
                ),
            );
        }
        let mut args = vec![x];
        for a in flat {
            args.push(self.integer(a)?);
        }
        let (rows, cols) = (shape.rows(), shape.cols());
        let dynamic = |p: &mut Self, k: usize| p.g.dims.fresh(crate::shape::Origin::Int(args[k]));
        let result = match kind {
            ViewKind::Row => Shape::Matrix(Dim::Fixed(1), cols),
            ViewKind::Column => Shape::Matrix(rows, Dim::Fixed(1)),
            ViewKind::Rows => Shape::Matrix(dynamic(self, 2), cols),
            ViewKind::Columns => Shape::Matrix(rows, dynamic(self, 2)),
            ViewKind::FixedRows(n) => Shape::Matrix(Dim::Fixed(n), cols),
            ViewKind::FixedColumns(n) => Shape::Matrix(rows, Dim::Fixed(n)),
            ViewKind::FixedView(r, c) => Shape::Matrix(Dim::Fixed(r), Dim::Fixed(c)),
            ViewKind::View => Shape::Matrix(dynamic(self, 3), dynamic(self, 4)),
        };
        self.g.span = m.span();
        self.build(
            m,
            View {
                kind,
                shape: result,
            },
            &args,
        )
    }

    /// `l op r`: arithmetic on scalars, matrices or integers, or a comparison.
    /// An unsuffixed literal beside an integer is an integer (`n - 1`).
    pub(super) fn binary(&mut self, tokens: &Expr, op: &BinOp, l: Id, r: Id) -> Result<Id, ()> {
        let (l, r) = (self.beside(l, r), self.beside(r, l));
        let int = self.g.shape(l) == Shape::Int && self.g.shape(r) == Shape::Int;
        let (op, args): (Op, [Id; 2]) = match op {
            BinOp::Add(_) | BinOp::AddAssign(_) if int => (IntArith::Add.into(), [l, r]),
            BinOp::Sub(_) | BinOp::SubAssign(_) if int => (IntArith::Sub.into(), [l, r]),
            BinOp::Rem(_) | BinOp::RemAssign(_) if int => (IntArith::Rem.into(), [l, r]),
            BinOp::Add(_) | BinOp::AddAssign(_) => (Add.into(), [l, r]),
            BinOp::Sub(_) | BinOp::SubAssign(_) => (Sub.into(), [l, r]),
            BinOp::Mul(_) | BinOp::MulAssign(_) => self.g.product(l, r),
            BinOp::Div(_) | BinOp::DivAssign(_) => self.g.quotient(l, r),
            BinOp::Lt(_) => (Compare::Lt.into(), [l, r]),
            BinOp::Le(_) => (Compare::Le.into(), [l, r]),
            BinOp::Gt(_) => (Compare::Gt.into(), [l, r]),
            BinOp::Ge(_) => (Compare::Ge.into(), [l, r]),
            BinOp::Eq(_) => (Compare::Eq.into(), [l, r]),
            BinOp::Ne(_) => (Compare::Ne.into(), [l, r]),
            _ => {
                return self.error(
                    op,
                    "unsupported operator in a #[grad] body; supported: + - * / (and % on integers), comparisons, unary - and !",
                )
            }
        };
        self.build(tokens, op, &args)
    }

    /// `x` as an operand beside `other`: an integral float literal becomes an
    /// integer beside an integer.
    fn beside(&mut self, x: Id, other: Id) -> Id {
        match (self.g.lit_value(x), self.g.shape(other)) {
            (Some(v), Shape::Int) if v.fract() == 0.0 && v.abs() < 1e15 => {
                self.g.build(IntLit(v as i64), &[])
            }
            _ => x,
        }
    }

    /// An expression that must be an integer (an index, a bound).
    pub(super) fn integer(&mut self, e: &Expr) -> Result<Id, ()> {
        let x = self.expr(e)?;
        // An entry of a field read by one index (`self.view_of[k]`) was taken for a number; used
        // as an index, it is an integer (the same tokens read it).
        let x = match (self.g.op(x), self.g.node(x).args.as_slice()) {
            (Op::DataEntry(e), &[field, i])
                if *e == DataEntry::whole(Shape::Scalar)
                    && matches!(self.g.op(field), Op::Constant(_)) =>
            {
                self.g.build(DataEntry::whole(Shape::Int), &[field, i])
            }
            _ => x,
        };
        let probe = self.g.build(IntLit(0), &[]);
        let x = self.beside(x, probe);
        match self.g.shape(x) {
            Shape::Int => Ok(x),
            s => {
                let shown = self.g.dims.show(s).to_string();
                self.error(e, format!("this must be an integer, found {shown}"))
            }
        }
    }

    /// `x[i]`, `x[(i, j)]` on a matrix or vector; `xs[i]` on a slice of data.
    pub(super) fn index(&mut self, i: &syn::ExprIndex) -> Result<Id, ()> {
        let positions: Vec<&Expr> = match &*i.index {
            Expr::Tuple(t) if t.elems.len() == 2 => t.elems.iter().collect(),
            e => vec![e],
        };
        // A field indexed by one number (`self.y[i]`) is read as data of numbers: a `Vec`, a
        // slice or a vector alike, since a field is not differentiated.
        if positions.len() == 1 && super::is_field(&i.expr) && self.hint.is_none() {
            self.hint = Some(super::Hint::Like(Shape::Data));
            self.pending_element = Some(Shape::Scalar);
        }
        let base = self.expr(&i.expr)?;
        let mut args = vec![base];
        for p in positions {
            args.push(self.integer(p)?);
        }
        self.g.span = i.span();
        match self.g.shape(base) {
            Shape::Matrix(..) => self.build(i, Entry, &args),
            Shape::Data if args.len() == 2 => match self.elements.get(&base).copied() {
                Some(shape) => self.data_entry(i, shape, &args),
                None => self.error(
                    &i.expr,
                    "matgrad cannot tell the type of this data's elements: index a slice, `Vec` or array of `f64`, `f32`, integers or nalgebra vectors and matrices, or of tuples, slices or `Vec`s of them (matrices of fixed size)",
                ),
            },
            s => {
                let shown = self.g.dims.show(s).to_string();
                self.error(&i.expr, format!("indexing needs a matrix, a vector or a slice of data, found {shown}"))
            }
        }
    }

    /// `v.x`, `v.y`, `v.z`, `v.w` on a vector: entries 0 to 3.
    pub(super) fn vector_field(&mut self, f: &syn::ExprField) -> Option<Result<Id, ()>> {
        let syn::Member::Named(member) = &f.member else {
            return None;
        };
        let k = ["x", "y", "z", "w"].iter().position(|n| member == n)?;
        let Expr::Path(p) = &*f.base else {
            // `obs[j].x`, `(a - b).y`, `r.column(0).z`, `obs[j].coords.y`: of a computed vector.
            let computed = match &*f.base {
                Expr::Index(_) | Expr::Paren(_) | Expr::MethodCall(_) => true,
                Expr::Field(c) => matches!(&c.member, syn::Member::Named(m) if m == "coords"),
                _ => false,
            };
            if !computed || root_is_self(&f.base) {
                return None;
            }
            let Ok(v) = self.expr(&f.base) else {
                return Some(Err(()));
            };
            let shape = self.g.shape(v);
            if !shape.is_matrix() {
                let shown = self.g.dims.show(shape).to_string();
                return Some(self.error(
                    member,
                    format!("`.{member}` reads an entry of a vector, found {shown}"),
                ));
            }
            self.g.span = f.span();
            let k = self.g.build(IntLit(k as i64), &[]);
            return Some(self.build(f, Entry, &[v, k]));
        };
        let name = p.path.get_ident()?.to_string();
        let id = self
            .scope
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, b)| match b {
                Binding::Node(id) => Some(*id),
                _ => None,
            })?;
        if !self.g.shape(id).is_matrix() {
            return None;
        }
        self.g.span = f.span();
        let k = self.g.build(IntLit(k as i64), &[]);
        Some(self.build(f, Entry, &[id, k]))
    }

    /// `p.coords` of a point of data: the coordinates it is read as already.
    pub(super) fn point_coordinates(&mut self, f: &syn::ExprField) -> Option<Result<Id, ()>> {
        let syn::Member::Named(member) = &f.member else {
            return None;
        };
        if member != "coords" || root_is_self(&f.base) {
            return None;
        }
        let Ok(p) = self.expr(&f.base) else {
            return Some(Err(()));
        };
        Some(match self.g.op(p) {
            Op::DataEntry(DataEntry {
                part: DataPart::Coords,
                ..
            }) => Ok(p),
            _ => self.error(
                member,
                "`.coords` reads a point of data (`points[i].coords`)",
            ),
        })
    }

    /// `e as T`: to `f64`/`f32` or to an integer type.
    pub(super) fn cast(&mut self, c: &syn::ExprCast) -> Result<Id, ()> {
        let ty = crate::errors::show(&c.ty);
        let to_float = matches!(ty.as_str(), "f64" | "f32");
        if !to_float && !is_integer_type(&ty) {
            return self.error(
                &c.ty,
                format!("`as {ty}` is not supported in a #[grad] body; supported: `as f64`, `as f32` and `as` an integer type"),
            );
        }
        let x = self.expr(&c.expr)?;
        self.g.span = c.span();
        match self.g.lit_value(x) {
            Some(_) if to_float => Ok(x),
            Some(v) if v.fract() == 0.0 => Ok(self.g.build(IntLit(v as i64), &[])),
            _ => self.build(c, Cast { ty, to_float }, &[x]),
        }
    }

    /// Entry `args[1]` of data `args[0]`, of this shape; an entry that is data itself (a row
    /// of `&[Vec<f64>]`) has the elements the data's elements have.
    pub(super) fn data_entry(
        &mut self,
        tokens: impl quote::ToTokens,
        shape: Shape,
        args: &[Id],
    ) -> Result<Id, ()> {
        if self.points.contains(&args[0]) {
            let part = DataPart::Coords;
            return self.build(tokens, DataEntry { shape, part }, args);
        }
        let entry = self.build(tokens, DataEntry::whole(shape), args)?;
        match self.nested.get(&args[0]).cloned() {
            Some(super::Nested::Of(inner)) => {
                self.elements.insert(entry, inner);
            }
            Some(super::Nested::Tuples(fields)) => {
                self.tuples.insert(entry, fields);
            }
            None => {}
        }
        Ok(entry)
    }

    /// `x.nrows()`, `x.ncols()`, `x.len()` (`usize`), read off the shape.
    pub(super) fn size(&mut self, m: &ExprMethodCall) -> Result<Id, ()> {
        // A field's `nrows()` says it is a matrix (`len()` could be a `Vec`'s).
        if m.method != "len" && super::is_field(&m.receiver) {
            self.hint = Some(super::Hint::Matrix);
        }
        let x = self.expr(&m.receiver)?;
        self.g.span = m.span();
        let shape = self.g.shape(x);
        if shape == Shape::Data && m.method == "len" {
            return self.build(m, Len, &[x]);
        }
        if !shape.is_matrix() {
            let shown = self.g.dims.show(shape).to_string();
            return self.error(
                &m.method,
                format!("`{}` needs a matrix or vector, found {shown}", m.method),
            );
        }
        let (r, c) = (self.dim(shape.rows()), self.dim(shape.cols()));
        let one = |d: Dim| self.g.dims.value(d) == Some(1);
        Ok(match m.method.to_string().as_str() {
            "nrows" => r,
            "ncols" => c,
            // A vector's length is its one size, the same as `nrows()` (or `ncols()`).
            _ if one(shape.cols()) => r,
            _ if one(shape.rows()) => c,
            _ => self.g.build(IntArith::Mul, &[r, c]),
        })
    }

    /// A dimension's value: a literal when fixed.
    pub(super) fn dim(&mut self, d: Dim) -> Id {
        match self.g.dims.value(d) {
            Some(n) => self.g.build(IntLit(n as i64), &[]),
            None => self.g.build(Size(d), &[]),
        }
    }

    /// `let (a, b) = (x, y);` and `let (n, m) = x.shape();`. False when the
    /// form is not one of these (the caller reports it).
    pub(super) fn let_tuple(&mut self, tuple: &syn::PatTuple, init: &Expr) -> bool {
        let names: Option<Vec<Option<String>>> = tuple
            .elems
            .iter()
            .map(|p| match p {
                syn::Pat::Ident(i) if i.subpat.is_none() => Some(Some(i.ident.to_string())),
                syn::Pat::Wild(_) => Some(None),
                _ => None,
            })
            .collect();
        let Some(names) = names else { return false };
        let values: Vec<Result<Id, ()>> = match init {
            Expr::Tuple(t) if t.elems.len() == names.len() => {
                t.elems.iter().map(|e| self.expr(e)).collect()
            }
            Expr::MethodCall(m) if m.method == "shape" && m.args.is_empty() && names.len() == 2 => {
                if super::is_field(&m.receiver) {
                    self.hint = Some(super::Hint::Matrix);
                }
                match self.expr(&m.receiver) {
                    Ok(x) if self.g.shape(x).is_matrix() => {
                        let shape = self.g.shape(x);
                        vec![Ok(self.dim(shape.rows())), Ok(self.dim(shape.cols()))]
                    }
                    Ok(_) => {
                        let _ = self.error(&m.receiver, "`shape` needs a matrix or vector");
                        vec![Err(()), Err(())]
                    }
                    Err(()) => vec![Err(()), Err(())],
                }
            }
            // `let (s, c) = theta.sin_cos();`: the sine and the cosine.
            Expr::MethodCall(m)
                if m.method == "sin_cos" && m.args.is_empty() && names.len() == 2 =>
            {
                let (x, span) = (&m.receiver, m.method.span());
                let sin: Expr = syn::parse_quote_spanned!(span=> #x.sin());
                let cos: Expr = syn::parse_quote_spanned!(span=> #x.cos());
                vec![self.expr(&sin), self.expr(&cos)]
            }
            // `let (j, v) = entries[k];` of data whose elements are tuples.
            Expr::Index(entry) if self.tuple_data(&entry.expr).is_some() => {
                let (x, fields) = self.tuple_data(&entry.expr).expect("tuple data");
                if fields.len() != names.len() {
                    let _ = self.error(tuple, format!("these tuples have {} fields", fields.len()));
                    names.iter().map(|_| Err(())).collect()
                } else {
                    match self.integer(&entry.index) {
                        Ok(i) => (fields.iter().enumerate())
                            .map(|(field, &shape)| {
                                self.g.span = entry.span();
                                let part = DataPart::Field(field);
                                self.build(entry, DataEntry { shape, part }, &[x, i])
                            })
                            .collect(),
                        Err(()) => names.iter().map(|_| Err(())).collect(),
                    }
                }
            }
            Expr::If(_) | Expr::Match(_) => {
                let chain = match init {
                    Expr::Match(m) => super::matches::as_if(m),
                    _ => Ok(init.clone()),
                };
                match chain {
                    Ok(chain) => {
                        let n = names.len();
                        let parts: Option<Vec<Expr>> =
                            (0..n).map(|k| component(&chain, k, n)).collect();
                        let Some(parts) = parts else { return false };
                        parts.iter().map(|e| self.expr(e)).collect()
                    }
                    Err((tokens, why)) => {
                        let _ = self.error(tokens, why);
                        names.iter().map(|_| Err(())).collect()
                    }
                }
            }
            _ => return false,
        };
        for (name, value) in names.into_iter().zip(values) {
            let Some(name) = name else { continue };
            let binding = match value {
                Ok(id) => {
                    self.g.names.entry(id).or_insert_with(|| name.clone());
                    Binding::Node(id)
                }
                Err(()) => Binding::Poisoned,
            };
            self.scope.push((name, binding));
        }
        true
    }
}

/// Field `k` of an `if` whose every side ends in a tuple of `n` values: the same `if`, each
/// side ending in its `k`th value (`let (p, a) = if c { (x, y) } else { (u, v) };` is read as
/// `let p = if c { x } else { u };` and `let a = if c { y } else { v };`; the sides' other
/// statements, which have no effects, are read in each).
fn component(e: &Expr, k: usize, n: usize) -> Option<Expr> {
    match e {
        Expr::Paren(p) => component(&p.expr, k, n),
        Expr::Tuple(t) if t.elems.len() == n => Some(t.elems[k].clone()),
        Expr::Block(b) => Some(Expr::Block(syn::ExprBlock {
            block: block_component(&b.block, k, n)?,
            ..b.clone()
        })),
        Expr::If(i) => {
            let (else_token, otherwise) = i.else_branch.as_ref()?;
            Some(Expr::If(syn::ExprIf {
                then_branch: block_component(&i.then_branch, k, n)?,
                else_branch: Some((*else_token, Box::new(component(otherwise, k, n)?))),
                ..i.clone()
            }))
        }
        _ => None,
    }
}

/// A block ending in field `k` of the tuple it ends in.
fn block_component(b: &syn::Block, k: usize, n: usize) -> Option<syn::Block> {
    let (last, rest) = b.stmts.split_last()?;
    let syn::Stmt::Expr(tail, None) = last else {
        return None;
    };
    let mut stmts = rest.to_vec();
    stmts.push(syn::Stmt::Expr(component(tail, k, n)?, None));
    Some(syn::Block {
        brace_token: b.brace_token,
        stmts,
    })
}

/// Whether `e` reads from `self` (`self.obs[j]`, `self.pose.column(0)`): a field, which its
/// use types.
fn root_is_self(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.path.is_ident("self"),
        Expr::Index(i) => root_is_self(&i.expr),
        Expr::Paren(p) => root_is_self(&p.expr),
        Expr::MethodCall(m) => root_is_self(&m.receiver),
        Expr::Field(f) => root_is_self(&f.base),
        Expr::Reference(r) => root_is_self(&r.expr),
        _ => false,
    }
}
