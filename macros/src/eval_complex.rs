//! An evaluator of the IR over complex numbers, for tests of complex
//! parameters below the macro: every value is a `Complex<f64>` or a
//! `DMatrix<Complex<f64>>` (a real one with no imaginary part), for the
//! operations that have rules for complex values and the scalar functions
//! of real values a complex loss may apply to their parts.

use std::collections::HashMap;

use nalgebra::{Complex, DMatrix};

use crate::ir::ops::*;
use crate::ir::{Graph, Id};
use crate::shape::{Dim, Origin, Shape};

type C = Complex<f64>;

/// A complex scalar or matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum CVal {
    Scalar(C),
    Matrix(DMatrix<C>),
}

impl CVal {
    pub fn scalar(&self) -> C {
        match self {
            CVal::Scalar(s) => *s,
            CVal::Matrix(m) => panic!("ceval: expected a scalar, found a {:?} matrix", m.shape()),
        }
    }

    pub fn matrix(&self) -> &DMatrix<C> {
        match self {
            CVal::Matrix(m) => m,
            CVal::Scalar(s) => panic!("ceval: expected a matrix, found the scalar {s}"),
        }
    }

    /// The value's entries, column by column (a scalar's one).
    pub fn entries(&self) -> Vec<C> {
        match self {
            CVal::Scalar(s) => vec![*s],
            CVal::Matrix(m) => m.iter().copied().collect(),
        }
    }

    /// The same shape with entries `e`.
    pub fn with_entries(&self, e: &[C]) -> CVal {
        match self {
            CVal::Scalar(_) => CVal::Scalar(e[0]),
            CVal::Matrix(m) => CVal::Matrix(DMatrix::from_column_slice(m.nrows(), m.ncols(), e)),
        }
    }

    fn map(&self, f: impl Fn(C) -> C) -> CVal {
        match self {
            CVal::Scalar(s) => CVal::Scalar(f(*s)),
            CVal::Matrix(m) => CVal::Matrix(m.map(f)),
        }
    }

    fn zip(&self, other: &CVal, f: impl Fn(C, C) -> C) -> CVal {
        match (self, other) {
            (CVal::Scalar(x), CVal::Scalar(y)) => CVal::Scalar(f(*x, *y)),
            (CVal::Matrix(x), CVal::Matrix(y)) => CVal::Matrix(x.zip_map(y, f)),
            _ => panic!("ceval: a scalar and a matrix combined entrywise"),
        }
    }
}

/// Evaluates nodes of one graph for given parameter values (indexed like
/// [`Param::index`]), each node once.
pub struct CEval<'a> {
    graph: &'a Graph,
    params: &'a [CVal],
    memo: HashMap<Id, CVal>,
    /// The values of the closure parameters, inside a map's body.
    vars: HashMap<Id, C>,
}

impl<'a> CEval<'a> {
    pub fn new(graph: &'a Graph, params: &'a [CVal]) -> Self {
        CEval {
            graph,
            params,
            memo: HashMap::new(),
            vars: HashMap::new(),
        }
    }

    pub fn eval(&mut self, id: Id) -> CVal {
        if let Some(v) = self.memo.get(&id) {
            return v.clone();
        }
        let v = self.compute(id);
        self.memo.insert(id, v.clone());
        v
    }

    fn compute(&mut self, id: Id) -> CVal {
        use CVal::{Matrix as M, Scalar as S};
        let g = self.graph;
        let node = g.node(id);
        if let Some(v) = self.vars.get(&id) {
            return S(*v);
        }
        let a: Vec<CVal> = node.args.iter().map(|&x| self.eval(x)).collect();
        let m = |i: usize| a[i].matrix();
        let s = |i: usize| a[i].scalar();
        let real = |x: C| C::new(x.re, 0.0);
        // A function of a real value, computed in real arithmetic.
        let of_real = |f: fn(f64) -> f64| S(C::new(f(s(0).re), 0.0));
        match &node.op {
            Op::Param(p) => self.params[p.index].clone(),
            Op::Lit(l) => S(C::new(l.value(), 0.0)),
            Op::Neg(_) => a[0].map(|x| -x),
            Op::Add(_) => a[0].zip(&a[1], |x, y| x + y),
            Op::Sub(_) => a[0].zip(&a[1], |x, y| x - y),
            Op::Mul(_) => S(s(0) * s(1)),
            Op::Div(_) => S(s(0) / s(1)),
            Op::Scale(_) => M(m(0) * s(1)),
            Op::DivScalar(_) => M(m(0) / s(1)),
            Op::MatMul(_) => M(m(0) * m(1)),
            Op::TrMul(_) => M(m(0).transpose() * m(1)),
            Op::AdMul(_) => M(m(0).adjoint() * m(1)),
            Op::Transpose(_) => M(m(0).transpose()),
            Op::Adjoint(_) => M(m(0).adjoint()),
            Op::Conj(_) => a[0].map(|x| x.conj()),
            Op::Re(_) => a[0].map(real),
            Op::Im(_) => S(C::new(s(0).im, 0.0)),
            Op::FromParts(_) => S(C::new(s(0).re, s(1).re)),
            Op::ToComplex(_) => a[0].clone(),
            Op::Trace(_) => S(m(0).trace()),
            Op::TrDot(_) => S((m(0) * m(1)).trace()),
            Op::Dot(_) => S(m(0).component_mul(m(1)).sum()),
            Op::Dotc(_) => S(m(0).map(|x| x.conj()).component_mul(m(1)).sum()),
            Op::Determinant(_) | Op::LuDet(_) => S(m(0).determinant()),
            Op::Inverse(_) | Op::LuInverse(_) => {
                M(m(0).clone().try_inverse().expect("ceval: singular matrix"))
            }
            // The factor nodes stand for their matrix.
            Op::LuOf(_) | Op::SvdOf(_) => a[0].clone(),
            Op::Cofactors(_) | Op::LuCofactors(_) => M(cofactors(m(0))),
            Op::CofactorsTangent(_) | Op::SvdCofactorsTangent(_) => {
                M(cofactors_tangent(m(0), m(1)))
            }
            Op::ScaledIdentity(ScaledIdentity(shape)) => {
                let (r, c) = self.size(*shape);
                M(DMatrix::from_diagonal_element(r, c, s(0)))
            }
            Op::Norm(_) => S(C::new(m(0).norm(), 0.0)),
            Op::NormSquared(_) => S(C::new(m(0).norm_squared(), 0.0)),
            Op::NormSqr(_) => S(C::new(s(0).norm_sqr(), 0.0)),
            Op::Modulus(_) => S(C::new(s(0).norm(), 0.0)),
            Op::ComponentMul(_) => M(m(0).component_mul(m(1))),
            Op::Entrywise(f) => {
                let args: Vec<&DMatrix<C>> = (0..a.len()).map(m).collect();
                let (r, c) = args[0].shape();
                M(DMatrix::from_fn(r, c, |i, j| {
                    let entries: Vec<C> = args.iter().map(|x| x[(i, j)]).collect();
                    self.closure(f.body, &f.vars, &entries)
                }))
            }
            // Functions of real values (of the parts of complex ones, say),
            // and the holomorphic `exp` and `ln`.
            Op::Exp(_) => S(s(0).exp()),
            Op::Ln(_) => S(s(0).ln()),
            Op::Sqrt(_) => of_real(f64::sqrt),
            Op::Sin(_) => of_real(f64::sin),
            Op::Cos(_) => of_real(f64::cos),
            Op::Tanh(_) => of_real(f64::tanh),
            Op::Recip(_) => of_real(f64::recip),
            Op::Powi(Powi(n)) => S(C::new(s(0).re.powi(*n), 0.0)),
            op => panic!("ceval: no complex evaluation of {op:?}"),
        }
    }

    /// The largest modulus of an entry of any value computed so far.
    pub fn largest(&self) -> f64 {
        (self.memo.values())
            .flat_map(CVal::entries)
            .map(|v| v.norm())
            .fold(0.0, f64::max)
    }

    /// The body of a map at one entry: its parameters `vars` bound to `entries`.
    fn closure(&self, body: Id, vars: &[Id], entries: &[C]) -> C {
        let mut inner = CEval::new(self.graph, self.params);
        inner.vars = vars.iter().copied().zip(entries.iter().copied()).collect();
        inner.eval(body).scalar()
    }

    /// The run-time rows and columns of a shape.
    fn size(&self, shape: Shape) -> (usize, usize) {
        (self.dim(shape.rows()), self.dim(shape.cols()))
    }

    fn dim(&self, d: Dim) -> usize {
        let g = self.graph;
        match (d, g.dims.value(d)) {
            (_, Some(n)) | (Dim::Fixed(n), None) => n,
            (Dim::Dynamic(sym), None) => match g.dims.origin(sym) {
                Origin::Param { param, axis } => {
                    let index = (0..g.len() as u32)
                        .map(Id)
                        .find_map(|id| match g.op(id) {
                            Op::Param(p) if g.names.get(&id) == Some(param) => Some(p.index),
                            _ => None,
                        })
                        .unwrap_or_else(|| panic!("ceval: no parameter `{param}`"));
                    let m = self.params[index].matrix();
                    [m.nrows(), m.ncols()][*axis]
                }
                Origin::Product(a, b) => self.dim(*a) * self.dim(*b),
                origin => panic!("ceval: no size for {origin:?}"),
            },
        }
    }
}

/// The cofactor matrix by minors.
fn cofactors(a: &DMatrix<C>) -> DMatrix<C> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| {
        let minor = a.clone().remove_row(i).remove_column(j);
        let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
        minor.determinant() * sign
    })
}

/// The derivative of [`cofactors`] at `a` in direction `da`: each minor's
/// determinant differentiated row by row.
fn cofactors_tangent(a: &DMatrix<C>, da: &DMatrix<C>) -> DMatrix<C> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| {
        let minor = a.clone().remove_row(i).remove_column(j);
        let dminor = da.clone().remove_row(i).remove_column(j);
        let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
        let d: C = (0..n - 1)
            .map(|k| {
                let mut m = minor.clone();
                m.set_row(k, &dminor.row(k));
                m.determinant()
            })
            .sum();
        d * sign
    })
}
