//! Matrices built in the body: nalgebra's constructors (`Vector3::new(a, b,
//! c)`, `Matrix3::new(..)`, `DVector::from_element(n, b)`, `repeat`, `zeros`,
//! `identity`, `from_diagonal`, `from_diagonal_element`, `from_fn`,
//! `from_column_slice`, `SVector::from([..])`), rotations
//! (`Rotation3::new(v)`, `from_scaled_axis`, `.matrix()`), and the sizes they
//! take. A constructor's run-time sizes are dimensions of their own, unless a
//! size is read off a matrix (`x.nrows()`), whose dimension it then shares.

use proc_macro2::Span;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, ExprMethodCall, GenericArgument, PathArguments};

use super::BodyParser;
use crate::ir::ops::*;
use crate::ir::Id;
use crate::shape::{Dim, Origin, Shape};

/// The constructors supported, for error messages.
const SUPPORTED: &str = "`new(..)` of fixed sizes (arguments in row-major order), `from([..])` of a vector, `from_element`, `repeat`, `zeros`, `identity`, `from_diagonal(&v)`, `from_diagonal_element`, `from_fn(.., |i, j| ..)`, `from_column_slice(.., x.as_slice())`, `from_vec(.., x.as_slice().to_vec())`; and `Rotation3::new(v)`, `Rotation3::from_scaled_axis(v)`, `Rotation3::identity()`";

/// A dimension of the type a constructor is called on.
#[derive(Clone, Copy)]
enum Written {
    Fixed(usize),
    /// `Dyn`: its size is an argument.
    Dynamic,
}

/// The type a constructor is called on.
enum Type {
    Matrix(Written, Written),
    /// `SVector`/`SMatrix` without their sizes (`SVector::from([..])`).
    Unsized {
        vector: bool,
        row: bool,
    },
    Rotation3,
}

/// The nalgebra type named by a path segment, if it is one.
fn written_type(seg: &syn::PathSegment) -> Option<Type> {
    let name = seg.ident.to_string();
    let consts: Vec<Option<usize>> = match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Const(Expr::Lit(l)) => Some(match &l.lit {
                    syn::Lit::Int(i) => i.base10_parse().ok(),
                    _ => None,
                }),
                GenericArgument::Const(_) => Some(None),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    use Written::{Dynamic as D, Fixed as F};
    Some(match (name.as_str(), consts.as_slice()) {
        ("Rotation3", _) => Type::Rotation3,
        ("DMatrix", _) => Type::Matrix(D, D),
        ("DVector", _) => Type::Matrix(D, F(1)),
        ("RowDVector", _) => Type::Matrix(F(1), D),
        ("SMatrix", [Some(r), Some(c)]) => Type::Matrix(F(*r), F(*c)),
        ("SVector", [Some(n)]) => Type::Matrix(F(*n), F(1)),
        ("RowSVector", [Some(n)]) => Type::Matrix(F(1), F(*n)),
        ("SMatrix", []) => Type::Unsized {
            vector: false,
            row: false,
        },
        ("SVector", []) => Type::Unsized {
            vector: true,
            row: false,
        },
        ("RowSVector", []) => Type::Unsized {
            vector: true,
            row: true,
        },
        _ => {
            if let Some((r, c)) = crate::signature::half_dynamic_alias(&name) {
                let dim = |n: Option<usize>| n.map_or(D, F);
                return Some(Type::Matrix(dim(r), dim(c)));
            }
            let (r, c) = crate::signature::alias_shape(&name)?;
            let fixed = |d: Dim| match d {
                Dim::Fixed(n) => F(n),
                Dim::Dynamic(_) => D,
            };
            Type::Matrix(fixed(r), fixed(c))
        }
    })
}

impl BodyParser<'_> {
    /// A call of a nalgebra constructor, `Type::method(args)`; `None` when
    /// the call is not one (or one not supported, on constants only: a
    /// constant call as any other).
    pub(super) fn constructor(&mut self, c: &ExprCall) -> Option<Result<Id, ()>> {
        let Expr::Path(p) = &*c.func else { return None };
        let n = p.path.segments.len();
        if p.qself.is_some() || n < 2 || !p.path.segments[n - 1].arguments.is_none() {
            return None;
        }
        let ty = written_type(&p.path.segments[n - 2])?;
        let method = p.path.segments[n - 1].ident.to_string();
        let shown = format!("{}::{method}", p.path.segments[n - 2].ident);
        self.g.span = c.span();
        let built = match (&ty, method.as_str()) {
            (Type::Rotation3, "new" | "from_scaled_axis") => self.rotation(c, &shown),
            (Type::Rotation3, "identity") if c.args.is_empty() => {
                let one = self.g.lit(1.0);
                let shape = Shape::Matrix(Dim::Fixed(3), Dim::Fixed(3));
                Ok(self.g.build(ScaledIdentity(shape), &[one]))
            }
            (Type::Matrix(r, col), "new") => self.entries_constructor(c, &shown, *r, *col),
            (Type::Matrix(..) | Type::Unsized { vector: true, .. }, "from") => {
                self.array_constructor(c, &shown, &ty)
            }
            (Type::Matrix(r, col), _) => match self.sized(c, &shown, &method, *r, *col) {
                Some(built) => built,
                None => return self.unsupported(c, &shown),
            },
            _ => return self.unsupported(c, &shown),
        };
        Some(built)
    }

    /// A constructor not supported: an error if it is given a
    /// differentiated value (or one outside the body language), else left
    /// to be a constant call.
    fn unsupported(&mut self, c: &ExprCall, shown: &str) -> Option<Result<Id, ()>> {
        let errors = self.errors.len();
        let args: Vec<Result<Id, ()>> = c.args.iter().map(|a| self.expr(a)).collect();
        // (The arguments are read again as those of a constant call.)
        self.errors.truncate(errors);
        if !args
            .iter()
            .any(|a| a.as_ref().map_or(true, |id| self.is_active(*id)))
        {
            return None;
        }
        Some(self.fail(
            &c.func,
            format!(
                "`{shown}` is not supported in a #[grad] body; supported constructors: {SUPPORTED}"
            ),
        ))
    }

    /// `Rotation3::new(v)` / `Rotation3::from_scaled_axis(v)`.
    fn rotation(&mut self, c: &ExprCall, shown: &str) -> Result<Id, ()> {
        if c.args.len() != 1 {
            return self.fail(
                c,
                format!("`{shown}` takes one `Vector3`, its axis scaled by its angle"),
            );
        }
        let v = self.expr(&c.args[0])?;
        self.g.span = c.span();
        self.build(c, Rotation, &[v])
    }

    /// `Matrix2x3::new(a, b, …)`: the entries in row-major order, as nalgebra
    /// takes them.
    fn entries_constructor(
        &mut self,
        c: &ExprCall,
        shown: &str,
        r: Written,
        col: Written,
    ) -> Result<Id, ()> {
        let (Written::Fixed(rows), Written::Fixed(cols)) = (r, col) else {
            return self.fail(
                &c.func,
                format!("`{shown}` does not exist for a matrix of run-time size; use `from_element`, `zeros` or `from_fn`"),
            );
        };
        if c.args.len() != rows * cols {
            return self.fail(
                c,
                format!(
                    "`{shown}` takes {} entries (in row-major order), found {}",
                    rows * cols,
                    c.args.len()
                ),
            );
        }
        let entries: Vec<Result<Id, ()>> = c.args.iter().map(|a| self.expr(a)).collect();
        let entries: Vec<Id> = entries.into_iter().collect::<Result<_, _>>()?;
        let column_major: Vec<Id> = (0..cols)
            .flat_map(|j| (0..rows).map(move |i| (i, j)))
            .map(|(i, j)| entries[i * cols + j])
            .collect();
        self.g.span = c.span();
        self.build(c, FromEntries { rows, cols }, &column_major)
    }

    /// `SVector::<f64, 3>::from([a, b, c])`, `Vector3::from([..])`.
    fn array_constructor(&mut self, c: &ExprCall, shown: &str, ty: &Type) -> Result<Id, ()> {
        let array = match c.args.first() {
            Some(Expr::Array(a)) if c.args.len() == 1 => a,
            _ => {
                return self.fail(
                    c,
                    format!("`{shown}` is supported with one array literal of the entries of a vector, as in `SVector::from([a, b, c])`"),
                )
            }
        };
        let n = array.elems.len();
        let (rows, cols) = match ty {
            Type::Unsized { row: true, .. } => (1, n),
            Type::Unsized { .. } => (n, 1),
            Type::Matrix(Written::Fixed(1), Written::Fixed(m)) if *m == n => (1, n),
            Type::Matrix(Written::Fixed(m), Written::Fixed(1)) if *m == n => (n, 1),
            _ => {
                return self.fail(
                    c,
                    format!("`{shown}` is supported for a fixed-size vector from an array of as many entries"),
                )
            }
        };
        let entries: Vec<Result<Id, ()>> = array.elems.iter().map(|a| self.expr(a)).collect();
        let entries: Vec<Id> = entries.into_iter().collect::<Result<_, _>>()?;
        self.g.span = c.span();
        self.build(c, FromEntries { rows, cols }, &entries)
    }

    /// The constructors taking one size per run-time dimension first:
    /// `from_element`, `repeat`, `zeros`, `identity`, `from_diagonal_element`,
    /// `from_diagonal`, `from_fn`, `from_column_slice`, `from_vec`. `None` for
    /// another method.
    fn sized(
        &mut self,
        c: &ExprCall,
        shown: &str,
        method: &str,
        r: Written,
        col: Written,
    ) -> Option<Result<Id, ()>> {
        let extra = match method {
            "from_element"
            | "repeat"
            | "from_diagonal_element"
            | "from_fn"
            | "from_column_slice"
            | "from_vec" => 1,
            "zeros" | "identity" => 0,
            "from_diagonal" => return Some(self.diagonal_constructor(c, shown, r, col)),
            _ => return None,
        };
        let dynamic = [r, col]
            .iter()
            .filter(|d| matches!(d, Written::Dynamic))
            .count();
        // (With one run-time dimension, nalgebra reads it off the data.)
        if matches!(method, "from_column_slice" | "from_vec") && dynamic == 1 {
            return Some(self.vector_slice_constructor(c, shown, method, r, col));
        }
        if c.args.len() != dynamic + extra {
            let mut names: Vec<&str> = Vec::new();
            if matches!(r, Written::Dynamic) {
                names.push("rows");
            }
            if matches!(col, Written::Dynamic) {
                names.push("columns");
            }
            names.push(match method {
                "from_element" | "repeat" => "value",
                "from_diagonal_element" => "diagonal value",
                "from_fn" => "closure",
                "from_column_slice" => "`x.as_slice()`",
                "from_vec" => "`x.as_slice().to_vec()`",
                _ => "",
            });
            names.retain(|n| !n.is_empty());
            return Some(self.fail(
                c,
                format!(
                    "`{shown}` takes {} ({}), found {}",
                    super::plural(dynamic + extra, "argument"),
                    names.join(", "),
                    c.args.len()
                ),
            ));
        }
        Some(self.sized_body(c, shown, method, r, col, dynamic))
    }

    fn sized_body(
        &mut self,
        c: &ExprCall,
        shown: &str,
        method: &str,
        r: Written,
        col: Written,
        dynamic: usize,
    ) -> Result<Id, ()> {
        let mut sizes = Vec::new();
        let mut carried = Vec::new();
        let mut arg = 0;
        for written in [r, col] {
            let (dim, size) = match written {
                Written::Fixed(n) => (Dim::Fixed(n), self.g.build(IntLit(n as i64), &[])),
                Written::Dynamic => {
                    let n = self.integer(&c.args[arg])?;
                    arg += 1;
                    let (dim, own) = self.size_dim(n);
                    if own {
                        carried.push(n);
                    }
                    (dim, n)
                }
            };
            sizes.push((dim, size));
        }
        let shape = Shape::Matrix(sizes[0].0, sizes[1].0);
        let last = c.args.get(dynamic);
        self.g.span = c.span();
        match method {
            "zeros" => Ok(self.zeros_sized(shape, &carried)),
            "from_element" | "repeat" | "identity" | "from_diagonal_element" => {
                let s = match last {
                    Some(e) => self.expr(e)?,
                    None => self.g.lit(1.0),
                };
                if !self.g.shape(s).is_scalar() {
                    let found = self.g.dims.show(self.g.shape(s)).to_string();
                    return self.fail(
                        last,
                        format!("`{shown}` needs a scalar value, found {found}"),
                    );
                }
                self.g.span = c.span();
                let identity = matches!(method, "identity" | "from_diagonal_element");
                // (`ScaledIdentity` is square: its adjoint is a trace.)
                let square = self.g.dims.same(shape.rows(), shape.cols());
                match (identity, carried.is_empty()) {
                    (false, true) => self.build(c, Filled(shape), &[s]),
                    (false, false) => self.build(c, Fill(shape), &[&[s][..], &carried].concat()),
                    (true, true) if square => self.build(c, ScaledIdentity(shape), &[s]),
                    (true, _) => self.build(c, Identity(shape), &[&[s][..], &carried].concat()),
                }
            }
            "from_fn" => {
                let closure = last.expect("counted");
                self.fn_constructor(c, closure, shape, &carried, (sizes[0].1, sizes[1].1))
            }
            _ => {
                let slice = last.expect("counted");
                self.slice_constructor(c, shown, method, slice, shape, &carried)
            }
        }
    }

    /// The dimension of a run-time size `n`, and whether it is a dimension
    /// of its own (read off `n`, which the constructor then carries).
    fn size_dim(&mut self, n: Id) -> (Dim, bool) {
        if let Op::Size(Size(d @ Dim::Dynamic(_))) = self.g.op(n) {
            return (*d, false);
        }
        if let Some(&d) = self.sizes.get(&n) {
            return (d, true);
        }
        let d = self.g.dims.fresh(Origin::Int(n));
        if let Op::IntLit(IntLit(k)) = self.g.op(n) {
            if let Ok(k) = usize::try_from(*k) {
                let _ = self.g.dims.unify(d, Dim::Fixed(k));
            }
        }
        self.sizes.insert(n, d);
        (d, true)
    }

    /// A zero matrix of `shape`, whose own run-time sizes are `carried`.
    fn zeros_sized(&mut self, shape: Shape, carried: &[Id]) -> Id {
        if carried.is_empty() {
            return self.g.build(Zeros(shape), &[]);
        }
        let zero = self.g.lit(0.0);
        self.g.build(Fill(shape), &[&[zero][..], carried].concat())
    }

    /// `DMatrix::from_diagonal(&v)`: square, of `v`'s length.
    fn diagonal_constructor(
        &mut self,
        c: &ExprCall,
        shown: &str,
        r: Written,
        col: Written,
    ) -> Result<Id, ()> {
        if c.args.len() != 1 {
            return self.fail(c, format!("`{shown}` takes one vector, its diagonal"));
        }
        let v = self.expr(&c.args[0])?;
        let shape = self.g.shape(v);
        let (n, one) = (shape.rows(), shape.cols());
        let mut ok = shape.is_matrix() && self.g.dims.unify(one, Dim::Fixed(1)).is_ok();
        for written in [r, col] {
            if let Written::Fixed(k) = written {
                ok &= self.g.dims.unify(n, Dim::Fixed(k)).is_ok();
            }
        }
        if !ok {
            let found = self.g.dims.show(shape).to_string();
            return self.fail(
                &c.args[0],
                format!("`{shown}` needs a column vector of the matrix's size, found {found}"),
            );
        }
        self.g.span = c.span();
        self.build(c, DiagonalScatter(Shape::Matrix(n, n)), &[v])
    }

    /// `DMatrix::from_column_slice(r, c, x.as_slice())` and
    /// `from_vec(r, c, x.as_slice().to_vec())`: `x`'s entries in column-major
    /// order, laid out as an `r×c` matrix.
    fn slice_constructor(
        &mut self,
        c: &ExprCall,
        shown: &str,
        method: &str,
        slice: &Expr,
        shape: Shape,
        carried: &[Id],
    ) -> Result<Id, ()> {
        let x = self.slice_source(shown, method, slice)?;
        self.g.span = c.span();
        self.build(c, Reshape(shape), &[&[x][..], carried].concat())
    }

    /// `DVector::from_column_slice(w.as_slice())`,
    /// `RowDVector::from_vec(w.as_slice().to_vec())`: a vector of `w`'s
    /// entries, its length `w`'s.
    fn vector_slice_constructor(
        &mut self,
        c: &ExprCall,
        shown: &str,
        method: &str,
        r: Written,
        col: Written,
    ) -> Result<Id, ()> {
        let row = match (r, col) {
            (Written::Fixed(1), Written::Dynamic) => true,
            (Written::Dynamic, Written::Fixed(1)) => false,
            _ => {
                return self.fail(
                    &c.func,
                    format!("`{shown}` with one run-time dimension is supported for vectors; for a matrix write `DMatrix::{method}(r, c, …)`"),
                )
            }
        };
        if c.args.len() != 1 {
            return self.fail(
                c,
                format!("`{shown}` takes 1 argument, found {}", c.args.len()),
            );
        }
        let x = self.slice_source(shown, method, &c.args[0])?;
        let xs = self.g.shape(x);
        // A run-time dimension even when `w`'s are fixed, as nalgebra's type says.
        let dims = &mut self.g.dims;
        let n = dims.fresh(Origin::Product(xs.rows(), xs.cols()));
        if let (Some(a), Some(b)) = (dims.value(xs.rows()), dims.value(xs.cols())) {
            let _ = dims.unify(n, Dim::Fixed(a * b));
        }
        let shape = if row {
            Shape::Matrix(Dim::Fixed(1), n)
        } else {
            Shape::Matrix(n, Dim::Fixed(1))
        };
        self.g.span = c.span();
        self.build(c, Reshape(shape), &[x])
    }

    /// The matrix whose entries `slice` reads: `x` in `x.as_slice()` (for
    /// `from_column_slice`) or `x.as_slice().to_vec()` (for `from_vec`); a
    /// vector's entries `a..b` in `&x.as_slice()[a..b]` (`a..`, `..b`, `..` too;
    /// `x.as_slice()[a..b].to_vec()`), the block `x.rows(a, b - a)` of a column
    /// (`columns` of a row): a flat parameter vector cut into matrices.
    fn slice_source(&mut self, shown: &str, method: &str, slice: &Expr) -> Result<Id, ()> {
        let entries = match (method, slice) {
            ("from_column_slice", Expr::Reference(r)) => entries_read(&r.expr),
            ("from_column_slice", e) => entries_read(e).filter(|(_, range)| range.is_none()),
            ("from_vec", Expr::MethodCall(m)) if m.method == "to_vec" => entries_read(&m.receiver),
            _ => None,
        };
        let Some((source, range)) = entries else {
            let form = if method == "from_vec" {
                "x.as_slice().to_vec()"
            } else {
                "x.as_slice()"
            };
            return self.fail(
                slice,
                format!(
                    "`{shown}` is supported on the entries of a matrix or vector, written `{form}` (or, of a vector, `{}`)",
                    form.replacen("as_slice()", "as_slice()[a..b]", 1)
                ),
            );
        };
        let x = self.expr(source)?;
        let Some(range) = range else {
            return Ok(x);
        };
        let shape = self.g.shape(x);
        let Some((block, _)) = super::access::vector_blocks(shape, &self.g.dims) else {
            let found = self.g.dims.show(shape).to_string();
            return self.fail(
                range,
                format!("a range of entries is supported of a vector's `as_slice()`, found {found}: use the whole `as_slice()`, or a view (`x.columns(j, n)`) first"),
            );
        };
        let span = range.span();
        let block = syn::Ident::new(block, span);
        let zero: Expr = syn::parse_quote_spanned!(span=> 0);
        let start = range.start.as_deref().unwrap_or(&zero);
        let len: Expr = match (&range.end, &range.limits) {
            (None, _) => syn::parse_quote_spanned!(span=> (#source).len() - (#start)),
            (Some(end), syn::RangeLimits::HalfOpen(_)) => {
                syn::parse_quote_spanned!(span=> (#end) - (#start))
            }
            (Some(end), syn::RangeLimits::Closed(_)) => {
                syn::parse_quote_spanned!(span=> (#end) + 1 - (#start))
            }
        };
        self.expr(&syn::parse_quote_spanned!(span=> (#source).#block(#start, #len)))
    }

    /// `DMatrix::from_fn(r, c, |i, j| body)`: read as the loops filling a
    /// zero matrix entry by entry, `z[(i, j)] = body;`, so the body may read
    /// parameters' entries and outer values as any loop body does.
    fn fn_constructor(
        &mut self,
        c: &ExprCall,
        closure: &Expr,
        shape: Shape,
        carried: &[Id],
        (rows, cols): (Id, Id),
    ) -> Result<Id, ()> {
        let Expr::Closure(closure) = closure else {
            return self.fail(
                closure,
                "`from_fn` needs a closure of the indices, as in `|i, j| x[i] * x[j]`",
            );
        };
        let mut names = Vec::new();
        for (k, input) in closure.inputs.iter().enumerate() {
            let pat = match input {
                syn::Pat::Type(t) => &*t.pat,
                p => p,
            };
            names.push(match pat {
                syn::Pat::Ident(p) if p.subpat.is_none() && p.by_ref.is_none() => p.ident.clone(),
                syn::Pat::Wild(_) => {
                    syn::Ident::new(["__mg_fn_i", "__mg_fn_j"][k.min(1)], Span::call_site())
                }
                p => {
                    return self.fail(
                        p,
                        "`from_fn`'s closure takes its indices by plain names (or `_`)",
                    )
                }
            });
        }
        if names.len() != 2 {
            return self.fail(
                &closure.inputs,
                "`from_fn`'s closure takes two indices, `|i, j|` (a vector's too)",
            );
        }
        let (i, j) = (&names[0], &names[1]);
        let mark = self.scope.len();
        let target = syn::Ident::new("__mg_from_fn", Span::call_site());
        let (nr, nc) = (
            syn::Ident::new("__mg_from_fn_rows", Span::call_site()),
            syn::Ident::new("__mg_from_fn_cols", Span::call_site()),
        );
        let zeros = self.zeros_sized(shape, carried);
        for (name, id) in [(&target, zeros), (&nr, rows), (&nc, cols)] {
            self.scope
                .push((name.to_string(), super::Binding::Node(id)));
        }
        // A block body's statements go first in the loop; its value is the entry.
        let (stmts, value): (Vec<syn::Stmt>, Expr) = match &*closure.body {
            Expr::Block(b) if b.label.is_none() => match b.block.stmts.split_last() {
                Some((syn::Stmt::Expr(tail, None), rest)) => (rest.to_vec(), tail.clone()),
                _ => {
                    return self.fail(
                        &closure.body,
                        "`from_fn`'s closure must end in the value of the entry",
                    )
                }
            },
            body => (Vec::new(), body.clone()),
        };
        let span = closure.body.span();
        let fixed = |id: Id, p: &Self| matches!(p.g.op(id), Op::IntLit(IntLit(1)));
        let write = quote_spanned!(span=> #(#stmts)* #target[(#i, #j)] = #value;);
        let lowered = match (fixed(rows, self), fixed(cols, self)) {
            (_, true) => quote_spanned!(span=> for #i in 0..#nr { let #j = 0usize; #write }),
            (true, false) => quote_spanned!(span=> for #j in 0..#nc { let #i = 0usize; #write }),
            _ => quote_spanned!(span=> for #j in 0..#nc { for #i in 0..#nr { #write } }),
        };
        let lowered: Expr = match syn::parse2(lowered) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push(e);
                return Err(());
            }
        };
        let errors = self.errors.len();
        self.statement(&lowered);
        let slot = self.scope.iter().rposition(|(n, _)| target == n.as_str());
        let result = match slot.map(|s| self.scope[s].1.clone()) {
            Some(super::Binding::Node(id)) if self.errors.len() == errors => Ok(id),
            _ => Err(()),
        };
        self.scope.truncate(mark);
        let _ = c;
        result
    }

    /// Methods of a rotation: `r.matrix()`, `r.into_inner()` (the matrix
    /// itself), `r.inverse()` (its transpose), `r.transform_vector(&p)`,
    /// `r.inverse_transform_vector(&p)`. `None` for other methods.
    pub(super) fn rotation_method(&mut self, m: &ExprMethodCall) -> Option<Result<Id, ()>> {
        let name = m.method.to_string();
        let arity = match name.as_str() {
            "matrix" | "into_inner" | "inverse" => 0,
            "transform_vector" | "inverse_transform_vector" => 1,
            _ => return None,
        };
        let r = match self.expr(&m.receiver) {
            Ok(r) => r,
            Err(()) => return Some(Err(())),
        };
        if !self.is_rotation(r) {
            return Some(self.fail(
                &m.method,
                format!(
                    "`{name}` is supported on a rotation built in the body (`Rotation3::new(v)`)"
                ),
            ));
        }
        if m.args.len() != arity {
            return Some(self.fail(
                m,
                format!("`{name}` takes {}", super::plural(arity, "argument")),
            ));
        }
        self.g.span = m.span();
        Some(match name.as_str() {
            "matrix" | "into_inner" => Ok(r),
            "inverse" => self.build(m, Transpose, &[r]),
            _ => {
                let p = match self.expr(&m.args[0]) {
                    Ok(p) => p,
                    Err(()) => return Some(Err(())),
                };
                self.g.span = m.span();
                if name == "transform_vector" {
                    self.build(m, MatMul, &[r, p])
                } else {
                    self.build(m, TrMul, &[r, p])
                }
            }
        })
    }

    /// Whether `id` is a rotation: built by `Rotation3`, or a product or
    /// transpose of rotations.
    fn is_rotation(&self, id: Id) -> bool {
        let args = &self.g.node(id).args;
        match self.g.op(id) {
            Op::Rotation(_) => true,
            Op::ScaledIdentity(ScaledIdentity(Shape::Matrix(Dim::Fixed(3), Dim::Fixed(3)))) => {
                self.g.lit_value(args[0]) == Some(1.0)
            }
            Op::Transpose(_) => self.is_rotation(args[0]),
            Op::MatMul(_) | Op::TrMul(_) => self.is_rotation(args[0]) && self.is_rotation(args[1]),
            _ => false,
        }
    }
}

/// `x` and the range of `x.as_slice()` or `x.as_slice()[range]`.
fn entries_read(e: &Expr) -> Option<(&Expr, Option<&syn::ExprRange>)> {
    match e {
        Expr::MethodCall(m) if m.method == "as_slice" && m.args.is_empty() => {
            Some((&m.receiver, None))
        }
        Expr::Index(i) => match (entries_read(&i.expr)?, &*i.index) {
            ((x, None), Expr::Range(r)) => Some((x, Some(r))),
            _ => None,
        },
        Expr::Paren(p) => entries_read(&p.expr),
        _ => None,
    }
}
