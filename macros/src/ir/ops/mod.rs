//! The operation registry: one struct per operation, each implementing [`Rule`]
//! — its shape rule, how it is emitted as nalgebra code, its adjoint rule (with
//! the derivation from MATH.md as doc comment) and how it reads in a formula.
//!
//! Adding an operation means one struct and its `Rule` impl in the family file,
//! one line in [`ops!`] below, and one entry in the parser's name table.

/// A scalar function of one scalar argument: how it is written (`method`,
/// `x.exp()`, or `runtime`, `::matgrad::sigmoid(x)`), its name in formulas,
/// and how its adjoint is built from the argument `a`, the result `c` and its
/// adjoint `cbar`.
macro_rules! scalar_fn {
    (@emit method, $f:literal, $a:expr) => {{
        let (x, f) = ($a[0].receiver(), proc_macro2::Ident::new($f, proc_macro2::Span::call_site()));
        quote!(#x.#f())
    }};
    (@emit runtime, $f:literal, $a:expr) => {{
        let (x, f) = ($a[0].operand(), proc_macro2::Ident::new($f, proc_macro2::Span::call_site()));
        quote!(::matgrad::#f(#x))
    }};
    // A holomorphic function (`exp`, `ln`) of complex scalars too, whose
    // adjoint `c̄ conj(f′(a))` the rule writes with `g.conj`.
    ($(#[$doc:meta])* $name:ident, holomorphic $form:ident $func:literal, $math:literal,
     |$g:ident, $a:ident, $c:ident, $cbar:ident| $adjoint:expr) => {
        scalar_fn!(@impl one_field; $(#[$doc])* $name, $form $func, $math, |$g, $a, $c, $cbar| $adjoint);
    };
    ($(#[$doc:meta])* $name:ident, $form:ident $func:literal, $math:literal,
     |$g:ident, $a:ident, $c:ident, $cbar:ident| $adjoint:expr) => {
        scalar_fn!(@impl real_only; $(#[$doc])* $name, $form $func, $math, |$g, $a, $c, $cbar| $adjoint);
    };
    (@impl $field:ident; $(#[$doc:meta])* $name:ident, $form:ident $func:literal, $math:literal,
     |$g:ident, $a:ident, $c:ident, $cbar:ident| $adjoint:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name;

        impl Rule for $name {
            fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
                scalar(a[0], dims, concat!("`", $func, "`"))
            }
            fn field(&self, a: &[crate::ir::graph::Field]) -> Option<crate::ir::graph::Field> {
                super::$field(a)
            }
            fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
                scalar_fn!(@emit $form, $func, a)
            }
            fn adjoint(&self, $g: &mut Graph, node: Id, $cbar: Id) -> Vec<Option<Id>> {
                let $a = $g.node(node).args[0];
                let $c = node;
                let _ = ($a, $c);
                vec![$adjoint]
            }
            fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
                super::scalar_tangent(self, g, node, dargs)
            }
            fn formula(&self, a: &[Formula]) -> Formula {
                call($math, a)
            }
        }
    };
}

mod arith;
mod build;
mod call;
mod cholesky;
mod complex;
mod construct;
mod control;
mod elementwise;
mod emitting;
mod entrywise;
mod factor;
mod index;
mod integer;
mod leaf;
mod linalg;
mod matfun;
mod reduce;
mod rotation;
mod scalar_math;
mod special;
mod stable;
mod structured;
mod svd;
mod triangular;
mod view;

pub use arith::*;
pub use call::*;
pub use cholesky::*;
pub use complex::*;
pub use construct::*;
pub use control::*;
pub use elementwise::*;
pub use emitting::EmitCx;
pub use entrywise::*;
pub use factor::*;
pub use index::*;
pub use integer::*;
pub use leaf::*;
pub use linalg::*;
pub use matfun::*;
pub use reduce::*;
pub use rotation::*;
pub use scalar_math::*;
pub use special::*;
pub use stable::*;
pub use structured::*;
pub use svd::*;
pub use triangular::*;
pub use view::*;

use proc_macro2::TokenStream;

use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::Formula;
use crate::shape::{Dims, Shape};

/// What every operation knows about itself.
pub trait Rule {
    /// The shape of the result, or a message saying why the arguments do not fit.
    fn shape(&self, args: &[Shape], dims: &mut Dims) -> Result<Shape, String>;

    /// The field of the result (real or complex entries) from those of the
    /// arguments, or `None` where the operation has no rule for complex
    /// values yet: by default, real arguments only, giving a real result.
    fn field(&self, args: &[Field]) -> Option<Field> {
        real_only(args)
    }

    /// The nalgebra expression computing the result from its arguments.
    fn emit(&self, cx: &dyn EmitCx, args: &[Value]) -> TokenStream;

    /// Whether argument `arg` may be taken by value when nothing else reads it,
    /// the result then reusing its buffer (as nalgebra's `a - &b` and `a * s`
    /// reuse `a`'s).
    fn reuses(&self, arg: usize) -> bool {
        let _ = arg;
        false
    }

    /// Whether argument `arg` is read inside a closure the operation runs once
    /// per entry (a `map`'s captures): it is then never written out in place
    /// of its name, which would compute it again for every entry.
    fn in_closure(&self, arg: usize) -> bool {
        let _ = arg;
        false
    }

    /// Whether the emitted code reads argument `arg` of `node` (an argument
    /// may be there only to be differentiated, or unused by the form chosen):
    /// an argument not read is not computed for this node.
    fn reads(&self, g: &Graph, node: Id, arg: usize) -> bool {
        let _ = (g, node, arg);
        true
    }

    /// The argument whose value this node's value equals, if any: computing
    /// that argument can be left to this node (a value read off a tape).
    fn same_value_as(&self) -> Option<usize> {
        None
    }

    /// Whether the emitted code reads only the lower triangle of argument `arg`
    /// (a triangular inverse, a diagonal): a Cholesky factor read only so is
    /// not copied out of its factorisation with zeros above the diagonal.
    fn reads_lower_triangle(&self, arg: usize) -> bool {
        let _ = arg;
        false
    }

    /// Whether the emitted expression borrows (`&xs[i]`) rather than owns its
    /// matrix: its local is then a reference, never moved or reused.
    fn borrows(&self) -> bool {
        false
    }

    /// For an operation placing a value into a zero matrix (the adjoint of
    /// reading an entry or a block): the statement adding it into `target`
    /// in place instead, from the same arguments.
    fn add_into(&self, target: &TokenStream, args: &[Value]) -> Option<TokenStream> {
        let _ = (target, args);
        None
    }

    /// For an operation placing a value into a zero matrix: the statement
    /// writing it over that place of `target` instead, where no earlier term
    /// was added (a loop's accumulator `c[i] = y` at its own index `i`).
    fn set_into(&self, target: &TokenStream, args: &[Value]) -> Option<TokenStream> {
        let _ = (target, args);
        None
    }

    /// For an operation writing into its first argument (`lp[c] = s`): the
    /// statement doing so on `target`, which holds that argument, from the
    /// other arguments `rest`.
    fn update_in_place(&self, target: &TokenStream, rest: &[Value]) -> Option<TokenStream> {
        let _ = (target, rest);
        None
    }

    /// Given `cbar`, the adjoint of the result `node`, the contribution to the
    /// adjoint of each argument (`None` where it is zero).
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>>;

    /// How the operation reads in the formula shown in the generated docs.
    fn formula(&self, args: &[Formula]) -> Formula;

    /// Forward mode, the table of differentials read as code: given the
    /// tangents `dargs` of the arguments (`None` where zero), the tangent of the
    /// result `node` (`None` where zero). `Err` for an operation without a
    /// second derivative here.
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let _ = (g, node, dargs);
        Err(())
    }
}

/// [`Rule::field`] of an operation on real values only.
pub fn real_only(args: &[Field]) -> Option<Field> {
    args.iter()
        .all(|&f| f == Field::Real)
        .then_some(Field::Real)
}

/// [`Rule::field`] of an operation on arguments of one field (as nalgebra's
/// matrix operations, whose operands have one entry type), giving that field.
pub fn one_field(args: &[Field]) -> Option<Field> {
    let first = args.first().copied().unwrap_or_default();
    args.iter().all(|&f| f == first).then_some(first)
}

/// [`Rule::field`] of arithmetic on scalars, which mixes real and complex
/// operands (`z * 2.0`, `2.0 - z`): complex if any operand is.
pub fn either_field(args: &[Field]) -> Option<Field> {
    Some(if args.contains(&Field::Complex) {
        Field::Complex
    } else {
        Field::Real
    })
}

/// The sum of the present terms (`None` if none is).
pub fn sum_terms(g: &mut Graph, terms: impl IntoIterator<Item = Option<Id>>) -> Option<Id> {
    terms.into_iter().flatten().reduce(|a, b| g.plus(a, b))
}

/// The tangent of a linear operation: the operation applied to the tangent.
pub fn linear_tangent(
    g: &mut Graph,
    op: impl Into<Op>,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    Ok(dargs[0].map(|d| g.build(op, &[d])))
}

/// `op(first, i…)` with the integer arguments (indices, offsets) of `node`:
/// for the operations linear in their first argument placed at, or read from,
/// an entry or a block.
pub fn at_same_place(g: &mut Graph, op: impl Into<Op>, first: Id, node: Id) -> Id {
    let mut args = g.node(node).args.clone();
    args[0] = first;
    g.build(op, &args)
}

/// The adjoint of such an operation: `op(c̄, i…)` for the first argument,
/// nothing for the integers.
pub fn adjoint_at_same_place(
    g: &mut Graph,
    op: impl Into<Op>,
    node: Id,
    cbar: Id,
) -> Vec<Option<Id>> {
    let n = g.node(node).args.len();
    let mut out = vec![Some(at_same_place(g, op, cbar, node))];
    out.extend((1..n).map(|_| None));
    out
}

/// The tangent of such an operation: itself applied to the first argument's.
pub fn tangent_at_same_place(
    g: &mut Graph,
    op: impl Into<Op>,
    node: Id,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    Ok(dargs[0].map(|d| at_same_place(g, op, d, node)))
}

/// The tangent of a bilinear operation `op(a, b)`: `op(da, b) + op(a, db)`.
pub fn bilinear_tangent(
    g: &mut Graph,
    op: Op,
    node: Id,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    let [a, b] = g.args2(node);
    let left = dargs[0].map(|da| g.build(op.clone(), &[da, b]));
    let right = dargs[1].map(|db| g.build(op, &[a, db]));
    Ok(sum_terms(g, [left, right]))
}

/// The tangent of an operation on scalars: `Σ ∂c/∂aᵢ daᵢ`, the partials being
/// the adjoint rule's contributions `pᵢ` for `c̄ = 1`. For complex values,
/// `Re(conj(c̄) dc) = Σ Re(conj(pᵢ) daᵢ)` gives `dc = Σ conj(pᵢ) daᵢ` where
/// `c` is holomorphic in each argument, and its real part where `c` is real
/// (`|z|²`, `Re z`).
pub fn scalar_tangent(
    rule: &dyn Rule,
    g: &mut Graph,
    node: Id,
    dargs: &[Option<Id>],
) -> Result<Option<Id>, ()> {
    let one = g.lit(1.0);
    let partials = rule.adjoint(g, node, one);
    let terms: Vec<Option<Id>> = partials
        .into_iter()
        .zip(dargs)
        .map(|(p, d)| match (p, d) {
            (Some(p), Some(d)) => {
                let p = g.conj(p);
                Some(g.times(p, *d))
            }
            _ => None,
        })
        .collect();
    let field = g.field(node);
    Ok(sum_terms(g, terms).map(|t| g.fit(t, field)))
}

/// The graph of these operations.
pub type Graph = crate::ir::graph::Graph<Op>;
/// A node of that graph.
pub type Node = crate::ir::graph::Node<Op>;

macro_rules! ops {
    ($($variant:ident),* $(,)?) => {
        /// Every operation of the IR, each a struct implementing [`Rule`].
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Op {
            $($variant($variant),)*
        }

        impl Op {
            pub fn rule(&self) -> &dyn Rule {
                match self {
                    $(Op::$variant(r) => r,)*
                }
            }
        }

        $(impl From<$variant> for Op {
            fn from(r: $variant) -> Op {
                Op::$variant(r)
            }
        })*
    };
}

ops! {
    // leaves
    Param, Lit, LambdaParam, Captured, Constant, Zeros, ConstCall,
    // integers, `bool`s and casts
    IntLit, BoolLit, Size, Len, IntArith, Compare, Not, Cast,
    // element access
    Entry, Scatter, SetEntry, DataEntry, DataRows, View, ViewScatter, SetView, Diagonal, DiagonalScatter,
    // loops
    RegionParam, Loop, If, Output, Tape, TapeRead, TapeNext,
    // arithmetic
    Neg, Add, Sub, Mul, Div, Scale, DivScalar,
    // complex values
    Adjoint, Conj, Re, Im, FromParts, ToComplex, AdMul, Dotc, NormSqr, Modulus, EntryVar, Entrywise,
    // linear algebra
    MatMul, TrMul, Transpose, Trace, TrDot, Dot, Determinant, Cofactors, CofactorsTangent, Inverse,
    ScaledIdentity,
    // one LU factorisation per matrix
    LuOf, LuDet, LuCofactors, LuLogDet, LuInverse, LuSolve, LuTrSolve,
    // the SVD a determinant's second derivative beyond 3×3 goes through
    SvdOf, SvdCofactorsTangent,
    // one Cholesky factorisation per matrix, triangles and triangular solves
    CholeskyOf, CholeskyL, CholeskySolve, CholeskyInverse, CholeskyDet, CholeskyLnDet, LowerCongruence,
    Triangle, SolveTriangular,
    // structured products
    Kronecker, KroneckerAdjoint, Cross,
    // the matrix exponential and logarithm
    MatFn, Frechet, Frechet2,
    // reductions
    Norm, NormSquared, Sum, Filled,
    AxisSum, AxisMean, Count, Mean, Variance, AddScalar,
    // matrices built from entries and sizes, and rotations
    FromEntries, Fill, Identity, Reshape, Rotation, Skew, Vee, Stumpff,
    // elementwise
    ComponentMul, ComponentDiv, Map, MapAdjoint, MapDerivative,
    Exp, Ln, Sqrt, Sin, Cos, Tanh, Abs, Sign, Recip, Powi, Powf,
    // the rest of the scalar methods, branches and picking reductions
    Ln1p, ExpM1, Log2, Log10, Exp2, Cbrt, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh,
    Signum, ToDegrees, ToRadians, Log, Hypot, Midpoint, Atan2, MulAdd, Max, Min, Clamp, Routed, Extremum, AtExtremum, LpNorm,
    // stable helpers
    Sigmoid, Softplus, Relu, Step, LogSumExp, ExpShifted,
    // special functions of statistics
    Erf, Erfc, NormalCdf, LnGamma, Digamma, Trigamma, Tetragamma,
}

/// Whether `op` places a value into a matrix of zeros (the adjoint of reading
/// an entry, a block or an extremum) that its rule can add into another
/// matrix in place instead (`add_into`).
pub fn adds_in_place(op: &Op) -> bool {
    matches!(
        op,
        Op::Scatter(_) | Op::ViewScatter(_) | Op::AtExtremum(AtExtremum { adjoint: true, .. })
    )
}

/// The argument must be a matrix.
pub(crate) fn matrix(
    s: Shape,
    what: &str,
) -> Result<(crate::shape::Dim, crate::shape::Dim), String> {
    match s {
        Shape::Matrix(r, c) => Ok((r, c)),
        Shape::Scalar => Err(format!("{what} needs a matrix or vector, found a scalar")),
        Shape::Int => Err(format!("{what} needs a matrix or vector, found an integer")),
        Shape::Bool => Err(format!("{what} needs a matrix or vector, found a `bool`")),
        Shape::Data => Err(format!("{what} needs a matrix or vector, found data")),
    }
}

/// The argument must be a scalar.
pub(crate) fn scalar(s: Shape, dims: &Dims, what: &str) -> Result<Shape, String> {
    match s {
        Shape::Scalar => Ok(Shape::Scalar),
        m => Err(format!("{what} needs a scalar, found {}", dims.show(m))),
    }
}

/// Both arguments have the same shape; nalgebra's type of the result.
pub(crate) fn same_shape(a: Shape, b: Shape, dims: &mut Dims, what: &str) -> Result<Shape, String> {
    match (a, b) {
        (Shape::Scalar, Shape::Scalar) => Ok(Shape::Scalar),
        (Shape::Matrix(r1, c1), Shape::Matrix(r2, c2)) => {
            let ok = dims.same(r1, r2) && dims.same(c1, c2)
                || dims.unify(r1, r2).is_ok() && dims.unify(c1, c2).is_ok();
            if ok {
                Ok(Shape::Matrix(
                    crate::shape::merged(r1, r2),
                    crate::shape::merged(c1, c2),
                ))
            } else {
                Err(format!(
                    "{what} needs operands of the same shape, found {} and {}",
                    dims.show(a),
                    dims.show(b)
                ))
            }
        }
        _ => Err(format!(
            "{what} needs two scalars or two matrices of the same shape, found {} and {}",
            dims.show(a),
            dims.show(b)
        )),
    }
}

/// The argument must be a square matrix.
pub fn square(s: Shape, dims: &mut Dims, what: &str) -> Result<Shape, String> {
    let (r, c) = matrix(s, what)?;
    dims.unify(r, c)
        .map(|()| s)
        .map_err(|()| format!("{what} needs a square matrix, found {}", dims.show(s)))
}
