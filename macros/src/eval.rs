//! An evaluator of the IR over `nalgebra::DMatrix<f64>` (scalars as `f64`), for
//! tests below the macro: rewrites must preserve values, and gradients must
//! match finite differences of the evaluated forward value.

use std::collections::HashMap;

use nalgebra::DMatrix;

use crate::ir::{Graph, Id};
use crate::ops::*;
use crate::shape::{Dim, Origin, Shape};

/// A value of the IR: a scalar, or a matrix (vectors are `n×1` matrices).
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Scalar(f64),
    Matrix(DMatrix<f64>),
}

impl Val {
    pub fn scalar(&self) -> f64 {
        match self {
            Val::Scalar(s) => *s,
            Val::Matrix(m) => panic!(
                "eval: expected a scalar, found a {}×{} matrix",
                m.nrows(),
                m.ncols()
            ),
        }
    }

    pub fn matrix(&self) -> &DMatrix<f64> {
        match self {
            Val::Matrix(m) => m,
            Val::Scalar(s) => panic!("eval: expected a matrix, found the scalar {s}"),
        }
    }

    /// `f` applied to each entry (the value itself for a scalar).
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Val {
        match self {
            Val::Scalar(s) => Val::Scalar(f(*s)),
            Val::Matrix(m) => Val::Matrix(m.map(f)),
        }
    }

    /// `f` applied entrywise to two values of the same shape.
    pub fn zip(&self, other: &Val, f: impl Fn(f64, f64) -> f64) -> Val {
        match (self, other) {
            (Val::Scalar(x), Val::Scalar(y)) => Val::Scalar(f(*x, *y)),
            (Val::Matrix(x), Val::Matrix(y)) => Val::Matrix(x.zip_map(y, f)),
            _ => panic!("eval: a scalar and a matrix combined entrywise"),
        }
    }
}

/// Evaluates nodes of one graph for given parameter values (indexed like
/// [`Param::index`]) and values of the constants read from fields (indexed like
/// [`Constant::index`]), computing each node once.
pub struct Eval<'a> {
    graph: &'a Graph,
    params: &'a [Val],
    constants: &'a [Val],
    memo: HashMap<Id, Val>,
    /// The value of the closure parameter, inside a `map` body.
    lambda: Option<f64>,
}

impl<'a> Eval<'a> {
    pub fn new(graph: &'a Graph, params: &'a [Val]) -> Self {
        Eval::with_constants(graph, params, &[])
    }

    /// An evaluator that also knows the values of the graph's constants.
    pub fn with_constants(graph: &'a Graph, params: &'a [Val], constants: &'a [Val]) -> Self {
        Eval {
            graph,
            params,
            constants,
            memo: HashMap::new(),
            lambda: None,
        }
    }

    pub fn eval(&mut self, id: Id) -> Val {
        if let Some(v) = self.memo.get(&id) {
            return v.clone();
        }
        let v = self.compute(id);
        self.memo.insert(id, v.clone());
        v
    }

    fn compute(&mut self, id: Id) -> Val {
        use Val::{Matrix as M, Scalar as S};
        let g = self.graph;
        let node = g.node(id);
        let a: Vec<Val> = node.args.iter().map(|&x| self.eval(x)).collect();
        let m = |i: usize| a[i].matrix();
        let s = |i: usize| a[i].scalar();
        match &node.op {
            Op::Param(p) => self.params[p.index].clone(),
            Op::Lit(l) => S(l.value()),
            Op::Constant(c) => self.constant(c.index).clone(),
            Op::LambdaParam(_) => S(self.lambda.expect("eval: closure parameter outside `map`")),
            Op::Neg(_) => a[0].map(|x| -x),
            Op::Add(_) => a[0].zip(&a[1], |x, y| x + y),
            Op::Sub(_) => a[0].zip(&a[1], |x, y| x - y),
            Op::Mul(_) => S(s(0) * s(1)),
            Op::Div(_) => S(s(0) / s(1)),
            Op::Scale(_) => M(m(0) * s(1)),
            Op::DivScalar(_) => M(m(0) / s(1)),
            Op::MatMul(_) => M(m(0) * m(1)),
            Op::TrMul(_) => M(m(0).transpose() * m(1)),
            Op::Transpose(_) => M(m(0).transpose()),
            Op::Trace(_) => S(m(0).trace()),
            Op::TrDot(_) => S((m(0) * m(1)).trace()),
            Op::Dot(_) => S(m(0).component_mul(m(1)).sum()),
            Op::Determinant(_) => S(m(0).determinant()),
            Op::Inverse(Inverse(on)) => M(inverse(m(0), on)),
            Op::ScaledIdentity(ScaledIdentity(shape)) => {
                let (r, c) = self.size(*shape);
                M(DMatrix::from_diagonal_element(r, c, s(0)))
            }
            Op::Norm(_) => S(m(0).norm()),
            Op::NormSquared(_) => S(m(0).norm_squared()),
            Op::Sum(_) => S(m(0).sum()),
            Op::Filled(Filled(shape)) => {
                let (r, c) = self.size(*shape);
                M(DMatrix::from_element(r, c, s(0)))
            }
            Op::ComponentMul(_) => M(m(0).component_mul(m(1))),
            Op::ComponentDiv(_) => M(m(0).component_div(m(1))),
            Op::Map(f) => M(m(0).map(|v| self.closure(f.body, v, None))),
            Op::MapAdjoint(f) => M(m(0).zip_zip_map(m(1), m(2), |cbar, v, c| {
                cbar * self.closure(f.deriv, v, Some((f.body, c)))
            })),
            Op::MapDerivative(f) => {
                M(m(0).zip_map(m(1), |v, c| self.closure(f.deriv, v, Some((f.body, c)))))
            }
            Op::Exp(_) => S(s(0).exp()),
            Op::Ln(_) => S(s(0).ln()),
            Op::Sqrt(_) => S(s(0).sqrt()),
            Op::Sin(_) => S(s(0).sin()),
            Op::Cos(_) => S(s(0).cos()),
            Op::Tanh(_) => S(s(0).tanh()),
            Op::Abs(_) => S(s(0).abs()),
            Op::Sign(_) => S(sign(s(0))),
            Op::Recip(_) => S(s(0).recip()),
            Op::Powi(Powi(n)) => S(s(0).powi(*n)),
            Op::Powf(_) => S(s(0).powf(s(1))),
            Op::Ln1p(_) => S(s(0).ln_1p()),
            Op::ExpM1(_) => S(s(0).exp_m1()),
            Op::Log2(_) => S(s(0).log2()),
            Op::Log10(_) => S(s(0).log10()),
            Op::Exp2(_) => S(s(0).exp2()),
            Op::Cbrt(_) => S(s(0).cbrt()),
            Op::Tan(_) => S(s(0).tan()),
            Op::Asin(_) => S(s(0).asin()),
            Op::Acos(_) => S(s(0).acos()),
            Op::Atan(_) => S(s(0).atan()),
            Op::Sinh(_) => S(s(0).sinh()),
            Op::Cosh(_) => S(s(0).cosh()),
            Op::Asinh(_) => S(s(0).asinh()),
            Op::Acosh(_) => S(s(0).acosh()),
            Op::Atanh(_) => S(s(0).atanh()),
            Op::Signum(_) => S(s(0).signum()),
            Op::ToDegrees(_) => S(s(0).to_degrees()),
            Op::ToRadians(_) => S(s(0).to_radians()),
            Op::Midpoint(_) => S(s(0).midpoint(s(1))),
            Op::Log(_) => S(s(0).log(s(1))),
            Op::Hypot(_) => S(s(0).hypot(s(1))),
            Op::Atan2(_) => S(s(0).atan2(s(1))),
            Op::MulAdd(_) => S(s(0).mul_add(s(1), s(2))),
            Op::Max(_) => S(s(0).max(s(1))),
            Op::Min(_) => S(s(0).min(s(1))),
            Op::Clamp(_) => S(s(0).clamp(s(1), s(2))),
            Op::Routed(r) => {
                let n = a.len() - 1;
                let operands: Vec<f64> = (0..n).map(s).collect();
                S(if branch_arm(r.branch, &operands) == r.arm {
                    s(n)
                } else {
                    0.0
                })
            }
            Op::Extremum(Extremum(pick)) => {
                let k = extremum_index(m(0), *pick);
                S(k.map_or(0.0, |k| match pick {
                    Pick::Max | Pick::Min => m(0)[k],
                    Pick::AMax | Pick::AMin => m(0)[k].abs(),
                }))
            }
            Op::AtExtremum(at) => {
                let k = extremum_index(m(0), at.pick);
                let sign_at = |k: usize| match at.pick {
                    Pick::Max | Pick::Min => 1.0,
                    Pick::AMax | Pick::AMin => sign(m(0)[k]),
                };
                if at.adjoint {
                    let mut out = DMatrix::zeros(m(0).nrows(), m(0).ncols());
                    if let Some(k) = k {
                        out[k] = sign_at(k) * s(1);
                    }
                    M(out)
                } else {
                    S(k.map_or(0.0, |k| sign_at(k) * m(1)[k]))
                }
            }
            Op::LpNorm(LpNorm(p)) => S(m(0).lp_norm(*p)),
            Op::Cofactors(_) | Op::LuCofactors(_) => M(cofactors(m(0))),
            Op::CofactorsTangent(_) => M(cofactors_tangent(m(0), m(1))),
            // The factor node stands for its matrix.
            Op::LuOf(_) => a[0].clone(),
            Op::LuDet(_) => S(m(0).determinant()),
            Op::LuLogDet(_) => S(m(0).determinant().ln()),
            Op::LuInverse(LuInverse(on)) => M(inverse(m(0), on)),
            Op::Kronecker(_) => M(m(0).kronecker(m(1))),
            Op::KroneckerAdjoint(side) => M(kronecker_adjoint(side, m(0), m(1), m(2))),
            Op::Cross(_) => M(m(0).cross(m(1))),
            Op::MatExp(_) => M(m(0).clone().exp()),
            Op::ExpFrechet(_) => M(expm_frechet(m(0), m(1))),
            Op::Sigmoid(_) => S(1.0 / (1.0 + (-s(0)).exp())),
            Op::Softplus(_) => S(s(0).max(0.0) + (-s(0).abs()).exp().ln_1p()),
            Op::Relu(_) => S(s(0).max(0.0)),
            Op::Step(_) => S(if s(0) > 0.0 { 1.0 } else { 0.0 }),
            Op::LogSumExp(_) => {
                let top = m(0).max();
                S(top + m(0).map(|v| (v - top).exp()).sum().ln())
            }
            Op::ExpShifted(_) => M(m(0).map(|v| (v - s(1)).exp())),
            op => panic!("eval: {op:?} is evaluated through the macro, not here"),
        }
    }

    /// A `map` closure's `root` (its body, or its derivative) at `v`, with
    /// `bound` giving a node a known value (the body, for a derivative that
    /// reuses it). Each entry gets a fresh memo, since the closure's nodes
    /// depend on `v`.
    fn closure(&self, root: Id, v: f64, bound: Option<(Id, f64)>) -> f64 {
        let mut inner = Eval {
            lambda: Some(v),
            ..Eval::with_constants(self.graph, self.params, self.constants)
        };
        if let Some((id, value)) = bound {
            inner.memo.insert(id, Val::Scalar(value));
        }
        inner.eval(root).scalar()
    }

    fn constant(&self, index: usize) -> &'a Val {
        self.constants
            .get(index)
            .unwrap_or_else(|| panic!("eval: no value given for constant {index}"))
    }

    /// The run-time rows and columns of a shape.
    fn size(&self, shape: Shape) -> (usize, usize) {
        (self.dim(shape.rows()), self.dim(shape.cols()))
    }

    /// A fixed dimension's number, or a dynamic one read off the parameter its
    /// origin names.
    fn dim(&self, d: Dim) -> usize {
        let g = self.graph;
        match (d, g.dims.value(d)) {
            (_, Some(n)) => n,
            (Dim::Fixed(n), None) => n,
            (Dim::Dynamic(sym), None) => match g.dims.origin(sym) {
                Origin::Param { param, axis } => {
                    let index = (0..g.len() as u32)
                        .map(Id)
                        .find_map(|id| match g.op(id) {
                            Op::Param(p) if g.names.get(&id) == Some(param) => Some(p.index),
                            _ => None,
                        })
                        .unwrap_or_else(|| panic!("eval: no parameter `{param}`"));
                    let m = self.params[index].matrix();
                    [m.nrows(), m.ncols()][*axis]
                }
                Origin::Product(a, b) => self.dim(*a) * self.dim(*b),
                Origin::Int(_) => {
                    panic!("eval: views of run-time size are evaluated through the macro")
                }
                Origin::Constant { index, axis } => {
                    let m = self.constant(*index).matrix();
                    [m.nrows(), m.ncols()][*axis]
                }
            },
        }
    }
}

/// −1, 0 or 1 (NaN stays NaN), as the runtime's `sign`.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// The arm a scalar branch takes, as std's `max`, `min` and `clamp` choose.
fn branch_arm(branch: Branch, x: &[f64]) -> u8 {
    match branch {
        Branch::Max => u8::from(x[0] < x[1] || (x[0].is_nan() && !x[1].is_nan())),
        Branch::Min => u8::from(x[1] < x[0] || (x[0].is_nan() && !x[1].is_nan())),
        Branch::Clamp if x[0] < x[1] => 1,
        Branch::Clamp if x[0] > x[2] => 2,
        Branch::Clamp => 0,
    }
}

/// The column-major index of the entry nalgebra's `max`, `min`, `amax` or
/// `amin` returns: a later entry replaces the kept one only if the kept one
/// is not `>=` (`<=`) it.
fn extremum_index(a: &DMatrix<f64>, pick: Pick) -> Option<usize> {
    let key = |v: f64| match pick {
        Pick::Max | Pick::Min => v,
        Pick::AMax | Pick::AMin => v.abs(),
    };
    let mut best: Option<(usize, f64)> = None;
    for (k, &v) in a.iter().enumerate() {
        let v = key(v);
        best = match best {
            Some((_, b)) if matches!(pick, Pick::Max | Pick::AMax) && b >= v => best,
            Some((_, b)) if matches!(pick, Pick::Min | Pick::AMin) && b <= v => best,
            _ => Some((k, v)),
        };
    }
    best.map(|(k, _)| k)
}

/// The cofactor matrix `adj(A)ᵀ` by its definition: signed minors.
fn cofactors(a: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| {
        let minor = a.clone().remove_row(i).remove_column(j);
        let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
        sign * minor.determinant()
    })
}

/// `Ā` or `B̄` of `C = A ⊗ B` by the definition: `⟨C̄, dA ⊗ B⟩` entry by entry.
fn kronecker_adjoint(
    side: &KroneckerAdjoint,
    cbar: &DMatrix<f64>,
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
) -> DMatrix<f64> {
    let unit = |r: usize, c: usize, i: usize, j: usize| {
        DMatrix::from_fn(r, c, |k, l| f64::from(k == i && l == j))
    };
    match side {
        KroneckerAdjoint::Left => DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| {
            cbar.dot(&unit(a.nrows(), a.ncols(), i, j).kronecker(b))
        }),
        KroneckerAdjoint::Right => DMatrix::from_fn(b.nrows(), b.ncols(), |i, j| {
            cbar.dot(&a.kronecker(&unit(b.nrows(), b.ncols(), i, j)))
        }),
    }
}

/// `L_exp(A, E)` as the top-right block of `exp([[A, E], [0, A]])`.
/// `E` is scaled to unit size (largest entry 1) first (the derivative is linear in it), so a large
/// `E` does not spoil the exponential of the block matrix.
pub fn expm_frechet(a: &DMatrix<f64>, e: &DMatrix<f64>) -> DMatrix<f64> {
    let scale = e.amax();
    if scale == 0.0 {
        return DMatrix::zeros(a.nrows(), a.ncols());
    }
    let e = e / scale;
    let n = a.nrows();
    let mut block = DMatrix::zeros(2 * n, 2 * n);
    block.view_mut((0, 0), (n, n)).copy_from(a);
    block.view_mut((0, n), (n, n)).copy_from(&e);
    block.view_mut((n, n), (n, n)).copy_from(a);
    block.exp().view((0, n), (n, n)).into_owned() * scale
}

/// `A⁻¹`; where `A` is singular, NaN for an inverse only the differentiator
/// needs, as the generated code gives, and a panic for the user's own.
fn inverse(a: &DMatrix<f64>, on: &OnSingular) -> DMatrix<f64> {
    match (a.clone().try_inverse(), on) {
        (Some(inv), _) => inv,
        (None, OnSingular::Nan) => a.map(|_| f64::NAN),
        (None, _) => panic!("eval: singular matrix"),
    }
}

/// The derivative of the cofactor matrix along `da`: each cofactor is a
/// determinant of a minor, whose derivative is `Σ_k det(minor with row k of da)`.
fn cofactors_tangent(a: &DMatrix<f64>, da: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| {
        let (minor, dminor) = (
            a.clone().remove_row(i).remove_column(j),
            da.clone().remove_row(i).remove_column(j),
        );
        let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
        let d: f64 = (0..n - 1)
            .map(|k| {
                let mut m = minor.clone();
                m.set_row(k, &dminor.row(k));
                m.determinant()
            })
            .sum();
        sign * d
    })
}
