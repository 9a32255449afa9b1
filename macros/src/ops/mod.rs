//! The operation registry: one struct per operation, each implementing [`Rule`]
//! — its shape rule, how it is emitted as nalgebra code, its adjoint rule (with
//! the derivation from MATH.md as doc comment) and how it reads in a formula.
//!
//! Adding an operation means one struct and its `Rule` impl in the family file,
//! one line in [`ops!`] below, and one entry in the parser's name table.

mod arith;
mod build;
mod elementwise;
mod factor;
mod leaf;
mod linalg;
mod reduce;
mod stable;
mod structured;

pub use arith::*;
pub use elementwise::*;
pub use factor::*;
pub use leaf::*;
pub use linalg::*;
pub use reduce::*;
pub use stable::*;
pub use structured::*;

use proc_macro2::TokenStream;

use crate::emit::{EmitCx, Value};
use crate::formula::Formula;
use crate::ir::{Graph, Id};
use crate::shape::{Dims, Shape};

/// What every operation knows about itself.
pub trait Rule {
    /// The shape of the result, or a message saying why the arguments do not fit.
    fn shape(&self, args: &[Shape], dims: &mut Dims) -> Result<Shape, String>;

    /// The nalgebra expression computing the result from its arguments.
    fn emit(&self, cx: &EmitCx, args: &[Value]) -> TokenStream;

    /// Given `cbar`, the adjoint of the result `node`, the contribution to the
    /// adjoint of each argument (`None` where it is zero).
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>>;

    /// How the operation reads in the formula shown in the generated docs.
    fn formula(&self, args: &[Formula]) -> Formula;
}

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
    Param, Lit, LambdaParam, Constant,
    // arithmetic
    Neg, Add, Sub, Mul, Div, Scale, DivScalar,
    // linear algebra
    MatMul, TrMul, Transpose, Trace, TrDot, Dot, Determinant, Cofactors, Inverse,
    ScaledIdentity,
    // one LU factorisation per matrix
    LuOf, LuDet, LuCofactors, LuLogDet, LuInverse,
    // structured products and the matrix exponential
    Kronecker, KroneckerAdjoint, Cross, MatExp, ExpFrechet,
    // reductions
    Norm, NormSquared, Sum, Filled,
    // elementwise
    ComponentMul, ComponentDiv, Map, MapAdjoint,
    Exp, Ln, Sqrt, Sin, Cos, Tanh, Abs, Sign, Recip, Powi, Powf,
    // stable helpers
    Sigmoid, Softplus, Relu, Step, LogSumExp, ExpShifted,
}

/// The argument must be a matrix.
pub(crate) fn matrix(
    s: Shape,
    what: &str,
) -> Result<(crate::shape::Dim, crate::shape::Dim), String> {
    match s {
        Shape::Matrix(r, c) => Ok((r, c)),
        Shape::Scalar => Err(format!("{what} needs a matrix or vector, found a scalar")),
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
