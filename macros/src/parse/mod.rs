//! The function body → IR. The body language is a subset of nalgebra's own
//! expression syntax (DESIGN.md); anything else is an error at its tokens,
//! never silently treated as a constant.

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Block, Expr, ExprMethodCall, Lit, Pat, Stmt, UnOp};

use crate::compose::Calls;
use crate::errors::Errors;
use crate::ir::ops::*;
use crate::ir::{Graph, Id, COMPLEX_NOT_YET};
use crate::shape::Shape;
use crate::signature::ParamSig;

mod access;
pub mod assertions;
mod build;
mod closure;
mod complex;
mod control;
mod factor;
mod helper;
mod iterators;
mod local_closure;
mod matches;
mod returns;
mod scalar;

use scalar::{float_constant, REAL_FIELD_CONSTANTS};

/// A method table: name, number of arguments, operation.
type Methods = &'static [(&'static str, usize, fn() -> Op)];

/// Methods on matrices and vectors.
const MATRIX_METHODS: Methods = &[
    ("transpose", 0, || Transpose.into()),
    ("tr_mul", 1, || TrMul.into()),
    ("dot", 1, || Dot.into()),
    ("tr_dot", 1, || TrDot.into()),
    ("trace", 0, || Trace.into()),
    ("component_mul", 1, || ComponentMul.into()),
    ("component_div", 1, || ComponentDiv.into()),
    ("norm", 0, || Norm.into()),
    ("norm_squared", 0, || NormSquared.into()),
    ("sum", 0, || Sum.into()),
    ("kronecker", 1, || Kronecker.into()),
    ("cross", 1, || Cross.into()),
    ("exp", 0, || MatFn(Fun::Exp).into()),
    ("max", 0, || Extremum(Pick::Max).into()),
    ("min", 0, || Extremum(Pick::Min).into()),
    ("amax", 0, || Extremum(Pick::AMax).into()),
    ("amin", 0, || Extremum(Pick::AMin).into()),
    ("row_sum", 0, || AxisSum(Axis::Rows).into()),
    ("column_sum", 0, || AxisSum(Axis::Columns).into()),
    ("row_mean", 0, || AxisMean(Axis::Rows).into()),
    ("column_mean", 0, || AxisMean(Axis::Columns).into()),
    ("mean", 0, || Mean.into()),
    ("variance", 0, || Variance.into()),
    ("add_scalar", 1, || AddScalar.into()),
    ("adjoint", 0, || Adjoint.into()),
    ("conjugate", 0, || Conj.into()),
    ("ad_mul", 1, || AdMul.into()),
    ("dotc", 1, || Dotc.into()),
    ("scale", 1, || Scale.into()),
    ("unscale", 1, || DivScalar.into()),
];

/// Methods on complex scalars (`z: Complex<f64>`), besides those of
/// [`SCALAR_METHODS`] that have rules for them (`exp`, `ln`).
const COMPLEX_SCALAR_METHODS: Methods = &[
    ("conj", 0, || Conj.into()),
    ("conjugate", 0, || Conj.into()),
    ("norm_sqr", 0, || NormSqr.into()),
    ("norm", 0, || Modulus.into()),
];

/// What complex values support, for the error on anything else.
const COMPLEX_SUPPORTED: &str = "`adjoint`, `conjugate`, `transpose`, `+`, `-`, `*`, `scale`, `unscale`, `trace`, `determinant`, `try_inverse().unwrap()`, `dot`, `dotc`, `tr_mul`, `ad_mul`, `tr_dot`, `norm_squared`, `norm`, `component_mul`, `pow(n)`, `map` and indexing; on complex scalars `+ - * /`, `.re`, `.im`, `norm_sqr`, `norm`, `conj`, `ln`, `exp` and `Complex::new(re, im)`";

/// Methods on scalars.
const SCALAR_METHODS: Methods = &[
    ("exp", 0, || Exp.into()),
    ("ln", 0, || Ln.into()),
    ("sqrt", 0, || Sqrt.into()),
    ("sin", 0, || Sin.into()),
    ("cos", 0, || Cos.into()),
    ("tanh", 0, || Tanh.into()),
    ("abs", 0, || Abs.into()),
    ("recip", 0, || Recip.into()),
    ("powf", 1, || Powf.into()),
    ("ln_1p", 0, || Ln1p.into()),
    ("exp_m1", 0, || ExpM1.into()),
    ("log", 1, || Log.into()),
    ("log2", 0, || Log2.into()),
    ("log10", 0, || Log10.into()),
    ("exp2", 0, || Exp2.into()),
    ("cbrt", 0, || Cbrt.into()),
    ("hypot", 1, || Hypot.into()),
    ("tan", 0, || Tan.into()),
    ("asin", 0, || Asin.into()),
    ("acos", 0, || Acos.into()),
    ("atan", 0, || Atan.into()),
    ("atan2", 1, || Atan2.into()),
    ("sinh", 0, || Sinh.into()),
    ("cosh", 0, || Cosh.into()),
    ("asinh", 0, || Asinh.into()),
    ("acosh", 0, || Acosh.into()),
    ("atanh", 0, || Atanh.into()),
    ("mul_add", 2, || MulAdd.into()),
    ("max", 1, || Max.into()),
    ("min", 1, || Min.into()),
    ("clamp", 2, || Clamp.into()),
    ("signum", 0, || Signum.into()),
    ("to_degrees", 0, || ToDegrees.into()),
    ("to_radians", 0, || ToRadians.into()),
    ("midpoint", 1, || Midpoint.into()),
];

/// Methods of `f64`/`f32` without a derivative matgrad could use: an error
/// that names them rather than the list of supported methods.
const NON_SMOOTH: &[&str] = &[
    "floor",
    "ceil",
    "round",
    "round_ties_even",
    "trunc",
    "fract",
    "rem_euclid",
    "div_euclid",
    "copysign",
];

/// Scalar functions of the runtime, callable as `matgrad::sigmoid(x)` (or
/// imported) and mappable by name, as in `.map(matgrad::sigmoid)`.
const SCALAR_FUNCTIONS: Methods = &[
    ("sigmoid", 1, || Sigmoid.into()),
    ("softplus", 1, || Softplus.into()),
    ("relu", 1, || Relu.into()),
    ("erf", 1, || Erf.into()),
    ("erfc", 1, || Erfc.into()),
    ("normal_cdf", 1, || NormalCdf.into()),
    ("ln_gamma", 1, || LnGamma.into()),
    ("digamma", 1, || Digamma.into()),
];

/// Methods handled by the parser itself rather than the tables.
const MATRIX_SPECIAL: &str =
    "determinant, pow(n), try_inverse().unwrap(), try_inverse().expect(\"…\"), cholesky().unwrap(), lu(), solve_lower_triangular(&b).unwrap(), solve_upper_triangular(&b).unwrap(), map(|v| …), clone(), abs(), lp_norm(1), lp_norm(2)";
const SCALAR_SPECIAL: &str = "powi(n)";

fn supported(table: Methods, special: &str) -> String {
    let names: Vec<&str> = table.iter().map(|(n, ..)| *n).collect();
    format!("{}, {special}", names.join(", "))
}

/// What a name in scope stands for.
#[derive(Clone)]
enum Binding {
    Node(Id),
    /// A parameter matgrad cannot compute with, and why.
    Unusable(String),
    /// A `let` whose expression had an error (already reported).
    Poisoned,
    /// A closure bound by a `let` (`let sq = |v: f64| v * v;`), by its index in
    /// `BodyParser::closures`: read at each call.
    Closure(usize),
}

struct BodyParser<'a> {
    g: &'a mut Graph,
    errors: &'a mut Errors,
    scope: Vec<(String, Binding)>,
    needs_tail: bool,
    /// What the context says about the shape of the field about to be read.
    hint: Option<Hint>,
    /// Indices of the fields read so far, by their tokens.
    constants: Vec<String>,
    /// The shape each field was first read with, by index.
    constant_shapes: std::collections::HashMap<usize, Shape>,
    /// The field a typed `let` is about to read.
    pending_field: Option<String>,
    /// Fields whose use did not say what they are, reported once each.
    ambiguous_fields: Vec<String>,
    /// The shape of the elements of data parameters (`xs: &[Vector3<f64>]`).
    elements: std::collections::HashMap<Id, Shape>,
    /// The shapes of the fields of data parameters whose elements are tuples
    /// (`ratings: &[(usize, usize, f64)]`).
    tuples: std::collections::HashMap<Id, Vec<Shape>>,
    /// The elements of the elements of data parameters whose elements are data
    /// (`returns: &[Vec<f64>]`, `rows: &[Vec<(usize, f64)>]`).
    nested: std::collections::HashMap<Id, Nested>,
    /// Data parameters whose elements are points (`&[Point3<f64>]`), read as coordinates.
    points: std::collections::HashSet<Id>,
    /// The helpers the body may call, and those it needs and are not read yet.
    calls: &'a mut Calls,
    /// The helpers being read inline, innermost last.
    inlining: Vec<helper::Inlined>,
    /// The type a `let` declares for the call it binds (`let c: f64 = f(n);`).
    declared_call: Option<Hint>,
    /// The dimension each run-time size of a constructor stands for (see `build`).
    sizes: std::collections::HashMap<Id, crate::shape::Dim>,
    /// The fields read, and those read by a `let` declaring their type.
    field_reads: Vec<(syn::ExprField, String)>,
    declared_fields: std::collections::HashSet<String>,
    /// The names below this index of `scope` were bound outside the loop
    /// body or side of an `if` being read: assigning one changes the value
    /// that leaves it (a carried value, an output of the `if`).
    outer_names: usize,
    /// Iterator chains read as loops so far (each loop's accumulator is named by its number).
    folds: usize,
    /// The type a `let` declares for the iterator chain it binds (`let s: Matrix3<f64> = …sum();`).
    declared_fold: Option<syn::Type>,
    /// The elements' shape of the field of data a typed `let` is about to read.
    pending_element: Option<Shape>,
    /// The fields of the tuples of the field of data a typed `let` is about to read.
    pending_tuple: Option<Vec<Shape>>,
    /// The closures `let`s bind, each with the length of `scope` where it was bound.
    closures: Vec<(syn::ExprClosure, usize)>,
}

/// Where a `#[grad]` body may `return` (see `returns`).
const RETURNS: &str = "`return` is supported in a #[grad] body at its end and in a guard `if … { …; return v; }` among its top-level statements, not in a loop or a nested branch";

/// The shape a context gives a field read in it (`self.x` has no type here).
/// What the rows of data whose elements are data hold.
#[derive(Clone)]
enum Nested {
    /// Numbers or fixed-size matrices of this shape.
    Of(Shape),
    /// Tuples of fields of these shapes.
    Tuples(Vec<Shape>),
}

#[derive(Clone, Copy)]
enum Hint {
    Scalar,
    /// A matrix of unknown size.
    Matrix,
    /// The shape of the other operand (of `+`, `dot`, …), or a declared one.
    Like(Shape),
    /// The transposed shape of the receiver (of `tr_dot`).
    Transposed(Shape),
}

/// Parses `block` into `g`, returning the node of its value; errors go to `errors`.
/// `reported` are names whose errors were already reported; `needs_tail` is
/// false when the signature already failed for lack of a return type.
pub fn body(
    g: &mut Graph,
    params: &[ParamSig],
    reported: &[syn::Ident],
    needs_tail: bool,
    block: &Block,
    errors: &mut Errors,
    calls: &mut Calls,
) -> Option<Id> {
    let mut scope: Vec<(String, Binding)> = reported
        .iter()
        .map(|i| (i.to_string(), Binding::Poisoned))
        .collect();
    let mut elements = std::collections::HashMap::new();
    let mut tuples = std::collections::HashMap::new();
    let mut nested = std::collections::HashMap::new();
    let mut points = std::collections::HashSet::new();
    for (index, p) in params.iter().enumerate() {
        let binding = match &p.unusable {
            // (Refused where it was listed to be differentiated: its uses are not reported
            // again, whatever its type reads as.)
            Some(_) if reported.contains(&p.ident) => Binding::Poisoned,
            // Data the body reads but does not differentiate.
            Some(_) if p.shape.is_constant() => {
                let id = g.build(
                    Param {
                        index,
                        shape: p.shape,
                        field: p.field,
                    },
                    &[],
                );
                if let Some(element) =
                    crate::signature::element_shape(&p.owned_ty, g, &p.ident.to_string())
                {
                    elements.insert(id, element);
                }
                if let Some(fields) = crate::signature::tuple_element_shapes(&p.owned_ty, g) {
                    tuples.insert(id, fields);
                }
                if let Some(inner) = crate::signature::nested_element_shape(&p.owned_ty, g) {
                    elements.insert(id, Shape::Data);
                    nested.insert(id, Nested::Of(inner));
                }
                if let Some(n) = crate::signature::point_element_dimension(&p.owned_ty) {
                    let (n, one) = (crate::shape::Dim::Fixed(n), crate::shape::Dim::Fixed(1));
                    elements.insert(id, Shape::Matrix(n, one));
                    points.insert(id);
                }
                if let Some(fields) = crate::signature::nested_tuple_shapes(&p.owned_ty, g) {
                    elements.insert(id, Shape::Data);
                    nested.insert(id, Nested::Tuples(fields));
                }
                g.names.insert(id, p.ident.to_string());
                Binding::Node(id)
            }
            Some(why) => Binding::Unusable(why.clone()),
            None => {
                g.span = p.ident.span();
                let id = g.build(
                    Param {
                        index,
                        shape: p.shape,
                        field: p.field,
                    },
                    &[],
                );
                g.names.insert(id, p.ident.to_string());
                Binding::Node(id)
            }
        };
        scope.push((p.ident.to_string(), binding));
    }
    let mut parser = BodyParser {
        g,
        errors,
        scope,
        needs_tail,
        hint: None,
        constants: Vec::new(),
        constant_shapes: std::collections::HashMap::new(),
        pending_field: None,
        ambiguous_fields: Vec::new(),
        elements,
        tuples,
        nested,
        points,
        calls,
        inlining: Vec::new(),
        declared_call: None,
        sizes: std::collections::HashMap::new(),
        field_reads: Vec::new(),
        declared_fields: std::collections::HashSet::new(),
        outer_names: 0,
        folds: 0,
        declared_fold: None,
        pending_element: None,
        pending_tuple: None,
        closures: Vec::new(),
    };
    let value = parser.block(&returns::as_values(block));
    parser.untyped_fields_beside_complex_values();
    value
}

impl BodyParser<'_> {
    fn error(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) -> Result<Id, ()> {
        self.fail(tokens, msg)
    }

    /// Reports `msg` at `tokens`.
    fn fail<T>(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) -> Result<T, ()> {
        self.errors.at(tokens, msg);
        Err(())
    }

    fn block(&mut self, block: &Block) -> Option<Id> {
        let mut tail = None;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let last = i + 1 == block.stmts.len();
            match stmt {
                Stmt::Local(local) => self.local(local),
                Stmt::Expr(e, None)
                    if last && !control::is_statement(e) && !control::is_if_without_else(e) =>
                {
                    tail = self.expr(e).ok()
                }
                Stmt::Expr(e, _) if self.statement(e) => {}
                Stmt::Expr(Expr::Return(r), _) => {
                    let hint = match &r.expr {
                        Some(v) => format!(
                            "; here, write `{}` as the final expression",
                            crate::errors::show(v)
                        ),
                        None => String::new(),
                    };
                    let _ = self.error(stmt, format!("{RETURNS}{hint}"));
                }
                Stmt::Expr(e, _) => {
                    let _ = self.error(
                        stmt,
                        format!(
                            "{} is not supported here: a #[grad] body is made of `let` bindings, assignments, `for` loops and `if`s, followed by a final expression",
                            describe(e)
                        ),
                    );
                }
                Stmt::Macro(m) if assertions::is_assertion(&m.mac) => self.assertion(&m.mac),
                Stmt::Macro(m) => {
                    let _ = self.error(
                        m,
                        "macros are not supported in a #[grad] body: matgrad must see every operation to differentiate it",
                    );
                }
                Stmt::Item(item) => {
                    let _ = self.error(item, "items are not supported in a #[grad] body");
                    if let Some(name) = item_name(item) {
                        self.scope.push((name, Binding::Poisoned));
                    }
                }
            }
        }
        let last_is_let = match block.stmts.last() {
            None | Some(Stmt::Local(_)) => true,
            Some(Stmt::Expr(e, None)) => control::is_statement(e) || control::is_if_without_else(e),
            _ => false,
        };
        if self.needs_tail && tail.is_none() && last_is_let {
            self.errors.push(syn::Error::new(
                block.brace_token.span.close(),
                "a #[grad] body must end in an expression: the value of the loss",
            ));
        }
        tail
    }

    fn local(&mut self, local: &syn::Local) {
        let pat = match &local.pat {
            Pat::Type(t) => &*t.pat,
            p => p,
        };
        if let (Pat::Tuple(tuple), Some(init)) = (pat, &local.init) {
            if self.let_tuple(tuple, &init.expr) {
                return;
            }
        }
        let Pat::Ident(ident) = pat else {
            let _ = self.error(
                &local.pat,
                "#[grad] supports `let name = …;` bindings of one name, and `let (a, b) = (…, …);`, `= x.shape();` or `= if c { (…, …) } else { (…, …) };` (a `match` too)",
            );
            for name in crate::signature::pattern_names(pat) {
                self.scope.push((name.to_string(), Binding::Poisoned));
            }
            return;
        };
        let name = ident.ident.to_string();
        if let Some(syn::LocalInit {
            expr,
            diverge: None,
            ..
        }) = &local.init
        {
            if let Expr::Closure(c) = &**expr {
                return self.bind_closure(name, c);
            }
        }
        if let (Pat::Type(t), Some(init)) = (&local.pat, &local.init) {
            if let Some(f) = field_in(&init.expr) {
                self.declared_fields.insert(crate::errors::show(f));
                self.pending_field = Some(crate::errors::show(f));
                self.hint = self.declared(&t.ty);
            } else if matches!(&*init.expr, Expr::Call(_)) {
                self.declared_call = self.declared(&t.ty).map(|h| match h {
                    Hint::Like(s) if s.has_dynamic() => Hint::Matrix,
                    h => h,
                });
            } else if matches!(&*init.expr, Expr::MethodCall(m) if m.method == "sum" || m.method == "product")
            {
                self.declared_fold = Some((*t.ty).clone());
            }
        }
        let value = local.init.as_ref().map(|init| {
            self.factorisation(&init.expr)
                .unwrap_or_else(|| self.expr(&init.expr))
        });
        self.declared_call = None;
        self.declared_fold = None;
        // (Data elements a typed `let` declared and its value did not take.)
        self.pending_element = None;
        self.pending_tuple = None;
        let binding = match (&local.init, value) {
            (Some(init), Some(value)) if init.diverge.is_none() => match value {
                Ok(id) => {
                    self.g.names.entry(id).or_insert_with(|| name.clone());
                    Binding::Node(id)
                }
                Err(()) => Binding::Poisoned,
            },
            _ => {
                let _ = self.error(local, "#[grad] supports `let name = expression;` only");
                Binding::Poisoned
            }
        };
        self.scope.push((name, binding));
    }

    fn lookup(&mut self, path: &syn::ExprPath) -> Result<Id, ()> {
        if let Some(v) = float_constant(path) {
            return Ok(self.g.lit(v));
        }
        let Some(ident) = path.path.get_ident().filter(|_| path.qself.is_none()) else {
            return self.error(
                path,
                "paths are not supported in a #[grad] body; use a literal, a parameter, or a constant of `f64`/`f32` (`std::f64::consts::PI`, `f64::EPSILON`, …)",
            );
        };
        let name = ident.to_string();
        let found = self
            .scope
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.clone());
        match found {
            Some(Binding::Node(id)) => self.factor_as_value(ident, id).unwrap_or(Ok(id)),
            Some(Binding::Poisoned) => Err(()),
            Some(Binding::Unusable(why)) => self.error(
                ident,
                format!("matgrad cannot compute with `{name}`: {why}"),
            ),
            Some(Binding::Closure(_)) => self.error(
                ident,
                format!("a closure is read where it is called in a #[grad] body (`{name}(x)`, or `.map({name})`)"),
            ),
            None if name.starts_with(|c: char| c.is_ascii_uppercase()) => self.error(
                ident,
                format!("cannot find `{name}` in this #[grad] body: matgrad reads the function's body alone, so a `const` or an import from outside it is unknown to it; write the value (`let eps = 1e-12;`), the full path of a constant of `f64`/`f32` (`std::f64::consts::PI`), or pass it as a parameter"),
            ),
            None => self.error(ident, format!("cannot find `{name}` in this #[grad] body")),
        }
    }

    fn build(&mut self, tokens: impl ToTokens, op: impl Into<Op>, args: &[Id]) -> Result<Id, ()> {
        let op = op.into();
        let what = complex_what(Some(&op), &tokens);
        match self.g.try_build(op, args) {
            Ok(id) => Ok(id),
            Err(msg) if msg == COMPLEX_NOT_YET => self.error(
                tokens,
                format!("{what} {msg}; complex values support {COMPLEX_SUPPORTED}"),
            ),
            Err(msg) => self.error(tokens, msg),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<Id, ()> {
        self.g.span = e.span();
        match e {
            Expr::Path(p) => self.lookup(p),
            Expr::Lit(l) => match &l.lit {
                Lit::Bool(b) => Ok(self.g.build(BoolLit(b.value), &[])),
                Lit::Int(i) if crate::signature::is_integer_type(i.suffix()) => {
                    let v = i.base10_parse::<i64>().map_err(|err| self.errors.push(err))?;
                    Ok(self.g.build(IntLit(v), &[]))
                }
                Lit::Float(f) => Ok(self.g.lit(f.base10_parse::<f64>().map_err(|err| self.errors.push(err))?)),
                Lit::Int(i) => Ok(self.g.lit(i.base10_parse::<f64>().map_err(|err| self.errors.push(err))?)),
                _ => self.error(l, "only number literals are supported in a #[grad] body"),
            },
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) if r.mutability.is_none() => self.expr(&r.expr),
            Expr::Unary(u) => {
                let x = self.expr(&u.expr)?;
                match u.op {
                    UnOp::Neg(_) if self.g.shape(x) == Shape::Int => {
                        let zero = self.g.build(IntLit(0), &[]);
                        self.build(e, IntArith::Sub, &[zero, x])
                    }
                    UnOp::Neg(_) => self.build(e, Neg, &[x]),
                    UnOp::Not(_) => self.build(e, Not, &[x]),
                    UnOp::Deref(_) => Ok(x),
                    _ => self.error(u.op, "unsupported operator in a #[grad] body; supported: + - * / and unary -"),
                }
            }
            Expr::Binary(b) if matches!(b.op, BinOp::And(_) | BinOp::Or(_)) => self.lazy_bool(b),
            Expr::Binary(b) if !control::assigns(&b.op) => {
                let (l, r) = self.operands(b);
                let (l, r) = (l?, r?);
                self.g.span = e.span();
                self.binary(e, &b.op, l, r)
            }
            Expr::Index(i) => self.index(i),
            Expr::If(i) => self.branch(i, true).map(|v| v.expect("an `if` used as a value has one")),
            Expr::Match(m) => match matches::as_if(m) {
                Ok(chain) => self.expr(&chain),
                Err((tokens, why)) => self.error(tokens, why),
            },
            Expr::Cast(c) => self.cast(c),
            Expr::MethodCall(m) => self.method(m),
            Expr::Call(c) => self.call(c),
            Expr::Field(f) => match (self.complex_part(f))
                .or_else(|| self.vector_field(f))
                .or_else(|| self.point_coordinates(f))
            {
                Some(entry) => entry,
                None => self.field(f),
            },
            // An array of number literals (a helper's coefficients): data, read as written.
            Expr::Array(a) if !a.elems.is_empty() && a.elems.iter().all(|e| number(e).is_some()) => {
                self.constants.push(crate::errors::show(a));
                self.g.constants.push(a.to_token_stream());
                let index = self.g.constants.len() - 1;
                self.g.span = a.span();
                let id = self.g.build(Constant { index, shape: Shape::Data }, &[]);
                self.elements.insert(id, Shape::Scalar);
                Ok(id)
            }
            Expr::Array(a) => self.error(
                a,
                "an array of computed values is not supported in a #[grad] body: build a vector of them (`Vector2::new(a, b)`, `Vector3::new(…)`); an array of number literals is read as data",
            ),
            Expr::Let(l) => self.error(
                l,
                "`if let` is not supported in a #[grad] body: matgrad reads numbers, vectors, matrices and data, not an `Option` or an enum; pass the value and a `bool` (`if weighted { … }`), or match on a number",
            ),
            other => self.error(
                other,
                format!(
                    "{} is not supported in a #[grad] body; supported: literals, names, operators, methods, indexing, `as` casts, `if` expressions and `match`es on numbers, and as statements assignments and `for` loops",
                    describe(other)
                ),
            ),
        }
    }

    /// The operands of `a op b`, the one that is not a field first, so that a
    /// field takes its shape from the other: `&self.x + r`, `s * self.lambda`.
    /// A borrowed or cloned field in `*` or `/` (`&self.x * w`) is a matrix,
    /// since nalgebra has no products of `&f64` with matrices; a bare one
    /// beside a scalar is a scalar. A bare field times a matrix may be either
    /// (a scaling, or a product with a `Copy` matrix): it needs its shape
    /// from elsewhere.
    fn operands(&mut self, b: &syn::ExprBinary) -> (Result<Id, ()>, Result<Id, ()>) {
        let hint = |g: &Graph, other: Id, field: &Expr| match b.op {
            BinOp::Add(_) | BinOp::Sub(_) => Some(Hint::Like(g.shape(other))),
            _ if is_borrowed(field) => Some(Hint::Matrix),
            BinOp::Mul(_) if !g.shape(other).is_scalar() => None,
            _ => Some(Hint::Scalar),
        };
        match (is_field(&b.left), is_field(&b.right)) {
            (true, false) => {
                let r = self.expr(&b.right);
                self.hint = r.ok().and_then(|r| hint(self.g, r, &b.left));
                (self.expr(&b.left), r)
            }
            (false, true) => {
                let l = self.expr(&b.left);
                self.hint = l.ok().and_then(|l| hint(self.g, l, &b.right));
                let r = self.expr(&b.right);
                (l, r)
            }
            _ => (self.expr(&b.left), self.expr(&b.right)),
        }
    }

    /// A field read, `self.x` (or a field of a parameter matgrad does not
    /// compute with): a constant, whose shape the context gives.
    fn field(&mut self, f: &syn::ExprField) -> Result<Id, ()> {
        if let Some(read) = self.tuple_field(f) {
            return read;
        }
        let text = crate::errors::show(f);
        let mut root = &*f.base;
        while let Expr::Field(inner) = root {
            root = &inner.base;
        }
        let root_name = match root {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        // (A name whose binding failed was reported there.)
        let poisoned = root_name.as_deref().is_some_and(|n| {
            let binding = self.scope.iter().rev().find(|(name, _)| name == n);
            binding.is_some_and(|(_, b)| matches!(b, Binding::Poisoned))
        });
        if poisoned {
            self.hint = None;
            return Err(());
        }
        let readable = root_name.as_deref().is_some_and(|n| {
            n == "self"
                || self
                    .scope
                    .iter()
                    .rev()
                    .find(|(name, _)| name == n)
                    .is_some_and(|(_, b)| match b {
                        Binding::Unusable(_) => true,
                        Binding::Node(id) => self.g.shape(*id) == Shape::Data,
                        Binding::Poisoned | Binding::Closure(_) => false,
                    })
        });
        if !readable {
            self.hint = None;
            return self.error(
                f,
                "a #[grad] body reads fields only of `self` and of parameters it does not compute with (a struct of data), as constants",
            );
        }
        let index = self.constants.iter().position(|c| *c == text);
        // A field read before keeps the shape it was read with.
        let known = index.and_then(|i| self.constant_shapes.get(&i).copied());
        let hint = self.hint.take();
        let Some(hint) = known.map(Hint::Like).or(hint) else {
            // (Once per field: the advice is the same at every use. While a function the body
            // calls is being looked up, the shape it would give is not known yet: the body is
            // read again once it is.)
            if self.ambiguous_fields.contains(&text) || !self.calls.missing.is_empty() {
                return Err(());
            }
            self.ambiguous_fields.push(text.clone());
            return self.error(
                f,
                format!(
                    "matgrad cannot tell whether `{text}` is a scalar, a matrix or data here: bind it with its type first, as in `let v: f64 = {text};`, `let v: &DMatrix<f64> = &{text};` or `let v: &Vec<f64> = &{text};`"
                ),
            );
        };
        let index = match index {
            Some(i) => i,
            None => {
                self.constants.push(text);
                self.g.constants.push(f.to_token_stream());
                self.constants.len() - 1
            }
        };
        let mut fresh = |axis| {
            self.g
                .dims
                .fresh(crate::shape::Origin::Constant { index, axis })
        };
        let shape = match hint {
            Hint::Scalar => Shape::Scalar,
            Hint::Like(s) => s,
            Hint::Transposed(s) => s.transposed(),
            Hint::Matrix => Shape::Matrix(fresh(0), fresh(1)),
        };
        self.constant_shapes.insert(index, shape);
        self.field_reads.push((f.clone(), crate::errors::show(f)));
        let id = self.g.build(Constant { index, shape }, &[]);
        if let Some(element) = self.pending_element.take() {
            self.elements.insert(id, element);
        }
        if let Some(fields) = self.pending_tuple.take() {
            self.tuples.insert(id, fields);
        }
        Ok(id)
    }

    /// The node and the fields' shapes of data whose elements are tuples, named by `e`.
    fn tuple_data(&self, e: &Expr) -> Option<(Id, Vec<Shape>)> {
        let Expr::Path(data) = e else {
            return None;
        };
        let name = data.path.get_ident()?.to_string();
        match self.scope.iter().rev().find(|(n, _)| *n == name)?.1 {
            Binding::Node(id) => Some((id, self.tuples.get(&id)?.clone())),
            _ => None,
        }
    }

    /// `ratings[k].2`: a field of an entry of data whose elements are tuples.
    fn tuple_field(&mut self, f: &syn::ExprField) -> Option<Result<Id, ()>> {
        let (Expr::Index(entry), syn::Member::Unnamed(field)) = (&*f.base, &f.member) else {
            return None;
        };
        let (x, fields) = self.tuple_data(&entry.expr)?;
        let Some(&shape) = fields.get(field.index as usize) else {
            let count = fields.len();
            return Some(self.error(field, format!("these tuples have {count} fields")));
        };
        Some(self.integer(&entry.index).and_then(|i| {
            self.g.span = f.span();
            let read = DataEntry {
                shape,
                part: DataPart::Field(field.index as usize),
            };
            self.build(f, read, &[x, i])
        }))
    }

    /// In a loss with complex values, a field whose type the context gave is
    /// an error: `r * self.s` reads as a real product, and is one of a real
    /// and a complex number if `s` is complex, which matgrad cannot see. A
    /// `let` declaring a real type (`let s: f64 = self.s;`) settles it.
    fn untyped_fields_beside_complex_values(&mut self) {
        let complex = (0..self.g.len() as u32).any(|i| self.g.is_complex(Id(i)));
        if !complex {
            return;
        }
        let mut reads = std::mem::take(&mut self.field_reads);
        reads.retain(|(_, t)| !self.declared_fields.contains(t));
        for (f, text) in &reads {
            let _ = self.error(
                f,
                format!("in a loss with complex values, matgrad cannot see whether `{text}` is real or complex: bind it with its real type first, as in `let v: f64 = {text};`, or pass a complex value as a parameter"),
            );
        }
    }

    /// The shape a `let` declares for a field it binds.
    fn declared(&mut self, ty: &syn::Type) -> Option<Hint> {
        let generics: Vec<syn::Ident> = match &self.g.scalar {
            crate::ir::Scalar::Generic(t) => vec![t.clone()],
            _ => Vec::new(),
        };
        let text = self.pending_field.take().unwrap_or_default();
        let index = self
            .constants
            .iter()
            .position(|c| *c == text)
            .unwrap_or(self.constants.len());
        let dims = &mut self.g.dims;
        let mut fresh = |axis| dims.fresh(crate::shape::Origin::Constant { index, axis });
        if let Ok(shape) = crate::signature::type_shape(ty, &generics, &mut fresh) {
            return Some(Hint::Like(shape));
        }
        // Data: a field (`let ys: &Vec<f64> = &self.ys;`) or what a call on constants returns
        // (`let order: Vec<usize> = argsort(times);`), its elements numbers, matrices (of a
        // field, a run-time size is read off its first element, `self.xs.first()`), or tuples.
        if let Some(fields) = crate::signature::tuple_element_shapes(ty, self.g) {
            self.pending_tuple = Some(fields);
            return Some(Hint::Like(Shape::Data));
        }
        let element = crate::signature::element_shape(ty, self.g, &text)?;
        if text.is_empty() && element.has_dynamic() {
            return None;
        }
        self.pending_element = Some(element);
        Some(Hint::Like(Shape::Data))
    }

    fn method(&mut self, m: &ExprMethodCall) -> Result<Id, ()> {
        let name = m.method.to_string();
        if let Some(kind) = access::view_kind(m) {
            return self.view(m, kind);
        }
        if let Some(folded) = self.iterator_fold(m) {
            return folded;
        }
        if let Some(t) = &m.turbofish {
            return self.error(
                t,
                "type arguments on methods are not supported in a #[grad] body",
            );
        }
        if let Some(f) = self.factorisation(&m.receiver) {
            return self.factor_method(m, f?);
        }
        match name.as_str() {
            "unwrap" => {
                if let Expr::Call(c) = &*m.receiver {
                    if let Some(v) = from_float(c).filter(|_| m.args.is_empty()) {
                        return Ok(self.g.lit(v));
                    }
                    if m.args.is_empty() && is_conversion(c) {
                        return self.function_call(c, true);
                    }
                }
                if let Some(solved) = self.unwrap_factor(m) {
                    return solved;
                }
                return self.inverse(m);
            }
            "expect" => {
                if let Some(solved) = self.unwrap_factor(m) {
                    return solved;
                }
                return self.inverse(m);
            }
            "cholesky" => {
                return self.error(
                    &m.method,
                    "`cholesky()` returns an `Option` (`None` unless the matrix is positive definite): follow it with `.unwrap()` or `.expect(\"…\")`",
                )
            }
            "lu" => {
                return self.error(
                    m,
                    "an LU factorisation is not a matrix: bind it (`let lu = a.clone().lu();`) and use its methods, or call one at once (`a.clone().lu().solve(&b).unwrap()`)",
                )
            }
            n if factor::is_triangular_solve(n) => {
                return self.error(
                    &m.method,
                    format!("`{n}` returns an `Option` (`None` when a diagonal entry is zero): follow it with `.unwrap()` or `.expect(\"…\")`"),
                )
            }
            "try_inverse" => {
                return self.error(
                    &m.method,
                    "`try_inverse()` returns an `Option`: follow it with `.unwrap()` or `.expect(\"…\")`",
                )
            }
            "clone" | "clone_owned" if m.args.is_empty() => return self.expr(&m.receiver),
            "map" => return self.map(m),
            "zip_map" => return self.zip_map(m),
            "matrix" | "into_inner" | "inverse" | "transform_vector"
            | "inverse_transform_vector" => {
                if let Some(built) = self.rotation_method(m) {
                    return built;
                }
            }
            "nrows" | "ncols" | "len" if m.args.is_empty() => return self.size(m),
            // Swizzles of consecutive entries, `p.xy()`: the block they read.
            "xy" | "yz" | "zw" | "xyz" | "yzw" if m.args.is_empty() => {
                let start = ["x", "y", "z", "w"].iter().position(|c| name.starts_with(c));
                let (start, len) = (start.expect("a swizzle"), name.len());
                let (x, span) = (&m.receiver, m.method.span());
                let start = syn::LitInt::new(&start.to_string(), span);
                let len = syn::LitInt::new(&len.to_string(), span);
                let block: Expr =
                    syn::parse_quote_spanned!(span=> #x.fixed_rows::<#len>(#start).clone_owned());
                return self.expr(&block);
            }
            "is_empty" if m.args.is_empty() => {
                // Read as the comparison it is, so a guard may ask either way.
                let receiver = &m.receiver;
                let len = &m.method;
                let zero = syn::LitInt::new("0", len.span());
                let asked: Expr = syn::parse_quote_spanned!(len.span()=> #receiver.len() == #zero);
                return self.expr(&asked);
            }
            "diagonal" if m.args.is_empty() => {
                let x = self.expr(&m.receiver)?;
                self.g.span = m.span();
                return self.build(m, Diagonal, &[x]);
            }
            "ln" if is_call_of(&m.receiver, "determinant") => return self.log_determinant(m),
            _ => {}
        }
        if NON_SMOOTH.contains(&name.as_str()) {
            return self.constant_method(m, &name);
        }
        if is_field(&m.receiver) {
            let scalar = SCALAR_METHODS.iter().any(|(n, ..)| *n == name) || name == "powi";
            let matrix = MATRIX_METHODS.iter().any(|(n, ..)| *n == name);
            // `exp`, `max` and `min` are both: the receiver's shape must be
            // declared. (`abs` of a field is read as a scalar's.)
            self.hint = match (scalar, matrix) {
                (true, true) => None,
                (true, false) => Some(Hint::Scalar),
                (false, _) => Some(Hint::Matrix),
            };
        }
        let receiver = self.expr(&m.receiver)?;
        let is_scalar = self.g.shape(receiver).is_scalar();
        match (is_scalar, name.as_str()) {
            (true, "powi") => return self.powi(m, receiver),
            (false, "abs") if m.args.is_empty() => return self.matrix_abs(m, receiver),
            (false, "lp_norm") => return self.lp_norm(m, receiver),
            (false, "pow") => return self.matrix_pow(m, receiver),
            (false, "determinant") if m.args.is_empty() => {
                self.g.span = m.span();
                let built = self.g.determinant(receiver);
                return self.built(m, built);
            }
            _ => {}
        }
        let complex = is_scalar && self.g.is_complex(receiver);
        let (table, special, kind) = match COMPLEX_SCALAR_METHODS.iter().find(|(n, ..)| *n == name)
        {
            Some(_) if complex => (COMPLEX_SCALAR_METHODS, "", "a complex scalar"),
            _ if is_scalar => (SCALAR_METHODS, SCALAR_SPECIAL, "a scalar"),
            _ => (MATRIX_METHODS, MATRIX_SPECIAL, "a matrix or vector"),
        };
        let Some((_, arity, op)) = table.iter().find(|(n, ..)| *n == name) else {
            let views = if is_scalar {
                ""
            } else {
                "; views and copies: `row(i)`, `column(j)`, `rows(i, n)`, `columns(j, n)`, `fixed_rows::<N>(i)`, `fixed_view::<R, C>(i, j)`, `xy()`, `xyz()`, `clone_owned()`"
            };
            return self.error(
                &m.method,
                format!(
                    "unsupported method `{name}` on {kind} in a #[grad] body; supported: {}{views}",
                    supported(table, special)
                ),
            );
        };
        if m.args.len() != *arity {
            return self.error(
                m,
                format!(
                    "`{name}` takes {}, found {}",
                    plural(*arity, "argument"),
                    m.args.len()
                ),
            );
        }
        let mut args = vec![receiver];
        for a in &m.args {
            if is_field(a) {
                let shape = self.g.shape(receiver);
                self.hint = Some(match name.as_str() {
                    "tr_dot" => Hint::Transposed(shape),
                    "tr_mul" | "ad_mul" | "kronecker" => Hint::Matrix,
                    "powf" | "add_scalar" | "scale" | "unscale" => Hint::Scalar,
                    _ => Hint::Like(shape),
                });
            }
            args.push(self.expr(a)?);
        }
        self.g.span = m.span();
        self.build(m, op(), &args)
    }

    /// `a.try_inverse().unwrap()` and `a.try_inverse().expect("…")`.
    fn inverse(&mut self, m: &ExprMethodCall) -> Result<Id, ()> {
        let Expr::MethodCall(inner) = &*m.receiver else {
            return self.unsupported_unwrap(m);
        };
        if inner.method != "try_inverse" || !inner.args.is_empty() {
            return self.unsupported_unwrap(m);
        }
        let on_singular = self.on_failure(m)?;
        if is_field(&inner.receiver) {
            self.hint = Some(Hint::Matrix);
        }
        let a = self.expr(&inner.receiver)?;
        self.g.span = m.span();
        let built = self.g.inverse(a, on_singular);
        self.built(m, built)
    }

    fn built(&mut self, tokens: impl ToTokens, built: Result<Id, String>) -> Result<Id, ()> {
        built.or_else(|msg| match msg.as_str() {
            COMPLEX_NOT_YET => {
                let what = complex_what(None, &tokens);
                self.error(
                    tokens,
                    format!("{what} {msg}; complex values support {COMPLEX_SUPPORTED}"),
                )
            }
            _ => self.error(tokens, msg),
        })
    }

    fn unsupported_unwrap(&mut self, m: &ExprMethodCall) -> Result<Id, ()> {
        self.error(
            &m.method,
            format!(
                "`{}` is supported only after `try_inverse()`, `cholesky()`, an LU factorisation's `solve(&b)` or `try_inverse()`, and the triangular solves in a #[grad] body",
                m.method
            ),
        )
    }

    fn powi(&mut self, m: &ExprMethodCall, receiver: Id) -> Result<Id, ()> {
        let n = match m.args.first() {
            Some(arg) if m.args.len() == 1 => int_literal(arg),
            _ => None,
        };
        match n {
            Some(n) => self.build(m, Powi(n), &[receiver]),
            None => self.error(
                &m.args,
                "`powi` needs one integer literal exponent, as in `x.powi(2)`",
            ),
        }
    }

    /// `a.determinant().ln()`: the log-determinant, without forming `det A`.
    fn log_determinant(&mut self, m: &ExprMethodCall) -> Result<Id, ()> {
        let Expr::MethodCall(det) = &*m.receiver else {
            unreachable!("checked by the caller")
        };
        if let Some(f) = self.factorisation(&det.receiver) {
            let d = self.factor_method(det, f?)?;
            self.g.span = m.span();
            return self.build(m, Ln, &[d]);
        }
        if is_field(&det.receiver) {
            self.hint = Some(Hint::Matrix);
        }
        let a = self.expr(&det.receiver)?;
        self.g.span = m.span();
        let built = self.g.logdet(a);
        self.built(m, built)
    }

    /// `a.pow(n)` for a square matrix and an integer literal `n`, as products
    /// of repeated squares (as nalgebra computes it): the powers are shared
    /// between the value and the adjoint, which the product rule gives.
    fn matrix_pow(&mut self, m: &ExprMethodCall, a: Id) -> Result<Id, ()> {
        let n = match m.args.first() {
            Some(arg) if m.args.len() == 1 => int_literal(arg).filter(|&n| n >= 0),
            _ => None,
        };
        let Some(n) = n else {
            return self.error(
                &m.args,
                "`pow` needs one non-negative integer literal exponent, as in `a.pow(3)`",
            );
        };
        self.g.span = m.span();
        let shape = self.g.shape(a);
        if let Err(msg) = square(shape, &mut self.g.dims, "`pow`") {
            return self.error(m, msg);
        }
        if n == 0 {
            let one = self.g.lit(1.0);
            let one = self.g.fit(one, self.g.field(a));
            return Ok(self.g.build(ScaledIdentity(shape), &[one]));
        }
        // Square-and-multiply: about 2 log₂ n products, each power a node.
        let (mut result, mut square, mut rest) = (None, a, n);
        while rest > 0 {
            if rest & 1 == 1 {
                result = Some(match result {
                    Some(r) => self.g.matmul(r, square),
                    None => square,
                });
            }
            rest >>= 1;
            if rest > 0 {
                square = self.g.matmul(square, square);
            }
        }
        Ok(result.unwrap_or(a))
    }

    /// A call of one of the runtime's functions: `matgrad::sigmoid(x)`,
    /// `softplus`, `relu` (scalars), `log_sum_exp(&a)`, `logdet(&a)`,
    /// `logm(&a)`; any other function is a helper or a constant.
    fn call(&mut self, c: &syn::ExprCall) -> Result<Id, ()> {
        if let Some(v) = generic_literal(c) {
            return Ok(self.g.lit(v));
        }
        if let Some(k) = self.bound_closure(&c.func) {
            return self.call_closure(c, k);
        }
        if let Some(name) = self.scalar_method_path(&c.func) {
            return self.scalar_path_call(c, &name);
        }
        if let Some(built) = self.complex_constructor(c) {
            return built;
        }
        if let Some(built) = self.constructor(c) {
            return built;
        }
        // (While the name is asked about, the arguments are read when the answer comes.)
        let name = self.runtime_name(&c.func)?;
        let Some(name) = name else {
            return self.function_call(c, false);
        };
        if c.args.len() != 1 {
            return self.error(
                c,
                format!("`{name}` takes 1 argument, found {}", c.args.len()),
            );
        }
        let scalar_fn = SCALAR_FUNCTIONS.iter().find(|(n, ..)| *n == name);
        if is_field(&c.args[0]) {
            // The scalar functions take a scalar; the others (`logdet`,
            // `log_sum_exp`, `logm`) a matrix.
            self.hint = Some(match scalar_fn {
                Some(_) => Hint::Scalar,
                None => Hint::Matrix,
            });
        }
        let x = self.expr(&c.args[0])?;
        self.g.span = c.span();
        let built = match (name.as_str(), scalar_fn) {
            (_, Some((_, _, op))) => self.g.try_build(op(), &[x]),
            ("log_sum_exp", None) => self.g.try_build(LogSumExp, &[x]),
            ("logm", None) => self.g.try_build(MatFn(Fun::Log), &[x]),
            _ => self.g.logdet(x),
        };
        self.built(c, built)
    }

    /// `a.map(|v| f(v))`, with `f` a scalar expression of `v` and literals.
    fn map(&mut self, m: &ExprMethodCall) -> Result<Id, ()> {
        let receiver = self.expr(&m.receiver);
        match (m.args.first(), m.args.len()) {
            (Some(Expr::Closure(c)), 1) if c.inputs.len() == 1 => self.map_closure(m, receiver, c),
            (Some(Expr::Path(f)), 1) => self.map_function(m, receiver, f),
            _ => self.error(
                &m.args,
                "`map` needs one closure of one parameter, as in `.map(|v| v.exp())`",
            ),
        }
    }

    /// `a.map(|v| f(v))` once the receiver is read.
    fn map_closure(
        &mut self,
        m: &ExprMethodCall,
        receiver: Result<Id, ()>,
        closure: &syn::ExprClosure,
    ) -> Result<Id, ()> {
        if self.captures(closure) {
            let receiver = receiver?;
            if let Some(map) = self.capturing_map(m, receiver, closure) {
                return map;
            }
            return self.entrywise_loop(m, &[receiver], closure);
        }
        let param = match &closure.inputs[0] {
            Pat::Type(t) => &*t.pat,
            p => p,
        };
        let Pat::Ident(param) = param else {
            return self.error(
                &closure.inputs,
                "the closure's parameter must be a plain name",
            );
        };
        // A complex entry is a parameter of its own (closures do not nest).
        let complex = receiver.as_ref().is_ok_and(|&r| self.g.is_complex(r));
        let v = if complex {
            let field = crate::ir::Field::Complex;
            self.g.build(EntryVar { k: 0, field }, &[])
        } else {
            self.g.build(LambdaParam, &[])
        };
        // (A closure reading nothing from around it: see `captures`.)
        let outer = std::mem::replace(
            &mut self.scope,
            vec![(param.ident.to_string(), Binding::Node(v))],
        );
        let body = self.expr(&closure.body);
        self.scope = outer;
        let (receiver, body) = (receiver?, body?);
        if !self.g.shape(body).is_scalar() {
            return self.error(
                &closure.body,
                "the closure passed to `map` must return a scalar",
            );
        }
        if !self.g.shape(receiver).is_scalar() {
            self.g.span = m.span();
            if complex || self.g.is_complex(body) {
                let built = Entrywise::build(self.g, body, vec![v], &[receiver]);
                return self.built(m, built);
            }
            return self.build(m, Map { body }, &[receiver]);
        }
        self.error(
            &m.receiver,
            "`map` applies to a matrix or vector; this is a scalar",
        )
    }
}

impl BodyParser<'_> {
    /// The runtime function a call's path names: `matgrad::ln_gamma`, or a bare `ln_gamma`
    /// the expansion found to be the runtime's (imported) rather than a function of the
    /// user's of that name, which stays the user's. `Err` while that is being asked.
    fn runtime_name(&mut self, func: &Expr) -> Result<Option<String>, ()> {
        let Expr::Path(p) = func else { return Ok(None) };
        if p.qself.is_some() {
            return Ok(None);
        }
        let segs: Vec<String> = (p.path.segments.iter())
            .map(|s| s.ident.to_string())
            .collect();
        let runtime = |n: &String| crate::compose::RUNTIME_FUNCTIONS.contains(&n.as_str());
        match segs.as_slice() {
            [krate, name] if krate == "matgrad" && runtime(name) => Ok(Some(name.clone())),
            [name] if runtime(name) => {
                let key = self.callee_key(&p.path)?;
                if self.calls.runtime.contains(&key) {
                    Ok(Some(name.clone()))
                } else if self.calls.unmarked.contains(&key) || self.calls.find(&key).is_some() {
                    Ok(None)
                } else {
                    self.calls.missing.push(key);
                    Err(())
                }
            }
            _ => Ok(None),
        }
    }

    /// `a.map(matgrad::sigmoid)`: the closure `|v| sigmoid(v)`.
    fn map_function(
        &mut self,
        m: &ExprMethodCall,
        receiver: Result<Id, ()>,
        f: &syn::ExprPath,
    ) -> Result<Id, ()> {
        let last = f
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let method = self
            .scalar_method_path(&Expr::Path(f.clone()))
            .and_then(|name| {
                SCALAR_METHODS
                    .iter()
                    .find(|(n, a, _)| *n == name && *a == 0)
            });
        // A closure the body bound is the user's, whatever its name (`let relu = |v| …`).
        let local = self.bound_closure(&Expr::Path(f.clone())).is_some();
        // (A bare `sigmoid` may be the user's own: read as a call, where that is asked.)
        let by_path = f.path.segments.len() == 2 && f.path.segments[0].ident == "matgrad";
        let runtime = SCALAR_FUNCTIONS
            .iter()
            .find(|(n, ..)| *n == last && by_path);
        let known = method.or(runtime);
        let Some((_, _, op)) = known.filter(|_| !local) else {
            // Any other function, a helper's included, is the closure it stands for.
            let closure: syn::ExprClosure = syn::parse_quote!(|__matgrad_v| #f(__matgrad_v));
            return self.map_closure(m, receiver, &closure);
        };
        let receiver = receiver?;
        let v = self.g.build(LambdaParam, &[]);
        let body = self.g.build(op(), &[v]);
        self.g.span = m.span();
        self.build(m, Map { body }, &[receiver])
    }
}

/// The last segment of a call's path, and the call's path.
fn callee(c: &syn::ExprCall) -> Option<(String, &syn::Path)> {
    match &*c.func {
        Expr::Path(p) if p.qself.is_none() => {
            Some((p.path.segments.last()?.ident.to_string(), &p.path))
        }
        _ => None,
    }
}

/// A literal written for a generic scalar `T`: `convert(2.0)` (nalgebra's, by
/// any path), `T::one()`, `T::zero()`.
fn generic_literal(c: &syn::ExprCall) -> Option<f64> {
    let (name, path) = callee(c)?;
    match (name.as_str(), c.args.len()) {
        ("convert", 1) => number(&c.args[0]),
        ("one", 0) if path.segments.len() == 2 => Some(1.0),
        ("zero", 0) if path.segments.len() == 2 => Some(0.0),
        (name, 0) if path.segments.len() == 2 => REAL_FIELD_CONSTANTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v),
        _ => None,
    }
}

/// `T::from_f64(2.0)` (to be unwrapped): its number.
fn from_float(c: &syn::ExprCall) -> Option<f64> {
    let (name, _) = callee(c)?;
    matches!(name.as_str(), "from_f64" | "from_f32").then_some(())?;
    c.args
        .first()
        .filter(|_| c.args.len() == 1)
        .and_then(number)
}

/// `T::from_usize(n)`, `T::from_f64(x)` and the other conversions of
/// nalgebra's scalars (to be unwrapped).
fn is_conversion(c: &syn::ExprCall) -> bool {
    callee(c).is_some_and(|(name, path)| {
        path.segments.len() == 2
            && c.args.len() == 1
            && matches!(
                name.as_str(),
                "from_usize"
                    | "from_isize"
                    | "from_u32"
                    | "from_i32"
                    | "from_u64"
                    | "from_i64"
                    | "from_f64"
                    | "from_f32"
                    | "from_subset"
            )
    })
}

/// A number literal, possibly negated or parenthesised.
fn number(e: &Expr) -> Option<f64> {
    signed_literal(e, &|lit| match lit {
        Lit::Float(f) => f.base10_parse().ok(),
        Lit::Int(i) => i.base10_parse().ok(),
        _ => None,
    })
}

/// A literal `read` accepts, possibly negated or parenthesised.
fn signed_literal<T: std::ops::Neg<Output = T>>(
    e: &Expr,
    read: &dyn Fn(&Lit) -> Option<T>,
) -> Option<T> {
    match e {
        Expr::Lit(l) => read(&l.lit),
        Expr::Unary(syn::ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => signed_literal(expr, read).map(|v| -v),
        Expr::Paren(p) => signed_literal(&p.expr, read),
        _ => None,
    }
}

/// Whether `e` reads a field (`self.x`, `&self.x`, `self.x.clone()`).
fn is_field(e: &Expr) -> bool {
    field_in(e).is_some()
}

/// Whether the field `e` reads is borrowed or cloned (`&self.x`,
/// `self.x.clone()`), as only matrices need to be.
fn is_borrowed(e: &Expr) -> bool {
    match e {
        Expr::Reference(_) | Expr::MethodCall(_) => true,
        Expr::Paren(p) => is_borrowed(&p.expr),
        Expr::Group(g) => is_borrowed(&g.expr),
        _ => false,
    }
}

/// The field `e` reads, through `&`, parentheses and `.clone()`.
fn field_in(e: &Expr) -> Option<&syn::ExprField> {
    match e {
        Expr::Field(f) => Some(f),
        Expr::Reference(r) => field_in(&r.expr),
        Expr::Paren(p) => field_in(&p.expr),
        Expr::Group(g) => field_in(&g.expr),
        Expr::MethodCall(c)
            if (c.method == "clone" || c.method == "clone_owned") && c.args.is_empty() =>
        {
            field_in(&c.receiver)
        }
        _ => None,
    }
}

/// Whether `e` is the call `_.method()` with no arguments.
fn is_call_of(e: &Expr, method: &str) -> bool {
    matches!(e, Expr::MethodCall(c) if c.method == method && c.args.is_empty())
}

/// An integer literal, possibly negated or parenthesised.
fn int_literal(e: &Expr) -> Option<i32> {
    signed_literal(e, &|lit| match lit {
        Lit::Int(i) => i.base10_parse().ok(),
        _ => None,
    })
}

/// A short name for a kind of expression, for error messages.
pub(crate) fn describe(e: &Expr) -> &'static str {
    match e {
        Expr::If(_) => "`if`",
        Expr::ForLoop(_) => "a `for` loop",
        Expr::While(_) => "a `while` loop",
        Expr::Loop(_) => "a `loop`",
        Expr::Return(_) => "`return`",
        Expr::Break(_) => "`break`",
        Expr::Continue(_) => "`continue`",
        Expr::Assign(_) => "assignment",
        Expr::Binary(b) if control::assigns(&b.op) => "compound assignment",
        Expr::Block(_) | Expr::Unsafe(_) => "a block",
        Expr::Macro(_) => "a macro",
        Expr::Index(_) => "indexing",
        Expr::Field(_) => "a field access",
        Expr::Closure(_) => "a closure outside `map`",
        Expr::Cast(_) => "`as` conversion",
        Expr::Tuple(_) => "a tuple",
        Expr::Array(_) => "an array",
        Expr::Try(_) => "the `?` operator",
        _ => "this expression",
    }
}

/// `1 argument`, `0 arguments`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The name an item binds, if any.
fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// How an error names an operation that has no rule for complex values:
/// by the method, operator or function written, or the kind of expression.
fn complex_what(op: Option<&Op>, tokens: &impl ToTokens) -> String {
    match op {
        Some(Op::Loop(_)) => return "a `for` loop".to_owned(),
        Some(Op::If(_)) => return "an `if`".to_owned(),
        _ => {}
    }
    match syn::parse2::<Expr>(tokens.to_token_stream()) {
        Ok(Expr::MethodCall(m)) => format!("`{}`", m.method),
        Ok(Expr::Binary(b)) => format!("`{}`", crate::errors::show(b.op)),
        Ok(Expr::Unary(u)) => format!("`{}`", crate::errors::show(u.op)),
        Ok(Expr::Call(c)) => format!("`{}`", crate::errors::show(&c.func)),
        Ok(e) => describe(&e).to_owned(),
        Err(_) => "this".to_owned(),
    }
}
