//! An evaluator of the IR over `nalgebra::DMatrix<f64>` (scalars as `f64`), for
//! tests below the macro: rewrites must preserve values, and gradients must
//! match finite differences of the evaluated forward value.

use std::collections::HashMap;
use std::rc::Rc;

use nalgebra::DMatrix;

use crate::ir::ops::*;
use crate::ir::{Graph, Id, RegionId};
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
/// [`Constant::index`]), computing each node once (a node inside a loop's
/// region once per iteration).
///
/// Integers and `bool`s are `Val::Scalar`s holding an integer (`true` is 1).
/// A loop's own value is a placeholder (NaN); what it computed, the carried
/// values after the last iteration and as they entered each one, is kept
/// beside the memo, for its `Output`s, `Tape`s, `TapeRead`s and `TapeNext`s.
/// Tangent loops (carrying `2n` values, the tangents after the values) are
/// loops like any other. An `if` is the same: a placeholder, its values
/// (those of the side taken, whose nodes alone are evaluated) kept for its
/// `Output`s.
pub struct Eval<'a> {
    graph: &'a Graph,
    params: &'a [Val],
    constants: &'a [Val],
    memo: HashMap<Id, Val>,
    /// The value of the closure parameter, inside a `map` body.
    lambda: Option<f64>,
    /// Inside a `map` closure: the values of its captures.
    captured: Vec<f64>,
    /// The runs of the loops evaluated (and not forgotten since).
    runs: HashMap<Id, Rc<Run>>,
    /// The nodes of each region run so far, nested regions included.
    region_nodes: HashMap<RegionId, Rc<Vec<Id>>>,
    /// What the evaluation has seen, when asked for ([`Eval::watching`]).
    pub watch: Option<Watch>,
}

/// One run of a loop (or of the side of an `if` taken, without tapes).
#[derive(Debug)]
struct Run {
    /// The carried values after the last iteration (the values the `if` yields).
    outputs: Vec<Val>,
    /// Per carried value, its value as it entered each iteration, in order.
    tapes: Vec<Vec<Val>>,
}

/// `|x|` beyond which `tanh′(x) = 1 − tanh²(x) < 1e-10`: moving `x` by a
/// finite-difference step moves `tanh(x)` by less than its rounding.
const TANH_SATURATES: f64 = 12.0;
/// `|x|` beyond which `sigmoid′(x) < 1e-10`, likewise.
const SIGMOID_SATURATES: f64 = 23.0;

/// Observations of an evaluation, inside loops too (where a node has one
/// value per iteration).
#[derive(Clone, Debug, Default)]
pub struct Watch {
    /// The largest magnitude of a finite entry of any value computed.
    pub largest: f64,
    /// Whether a norm (`norm()`, `lp_norm(2)`) of an exactly zero matrix was
    /// taken, or `hypot` or `atan2` at the origin (in closures too): points
    /// without a derivative, where the engine gives NaN.
    pub norm_of_zero: bool,
    /// Whether a point was within 1e-6 of a kink or a tie (outside a `map`
    /// closure): the argument of an `abs`, `relu`, `sign`, `signum` or step
    /// near 0, the operands of a `max`, `min` or `clamp` (or of the adjoints
    /// and tangents routed by them) near a tie, or the entries a matrix's
    /// `max`, `min`, `amax`, `amin` picks among near one (for `amax`,
    /// `amin`, the one picked near 0). See [`kink_gap`].
    pub near_kink: bool,
    /// The iterations run, over all loops.
    pub iterations: usize,
    /// Whether a value had a non-finite entry (an overflow on the way).
    pub non_finite: bool,
    /// Whether `tanh` or `sigmoid` was taken so far out that its slope is
    /// below 1e-10 (in closures too): finite differences see it flat, while
    /// its derivative, tiny but not zero, may meet huge adjoints.
    pub saturated: bool,
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
            captured: Vec::new(),
            runs: HashMap::new(),
            region_nodes: HashMap::new(),
            watch: None,
        }
    }

    /// An evaluator that records a [`Watch`] of what it computes.
    pub fn watching(graph: &'a Graph, params: &'a [Val], constants: &'a [Val]) -> Self {
        Eval {
            watch: Some(Watch::default()),
            ..Eval::with_constants(graph, params, constants)
        }
    }

    pub fn eval(&mut self, id: Id) -> Val {
        if let Some(v) = self.memo.get(&id) {
            return v.clone();
        }
        let v = self.compute(id);
        if self.watch.is_some() {
            self.observe(id, &v);
        }
        self.memo.insert(id, v.clone());
        v
    }

    fn observe(&mut self, id: Id, v: &Val) {
        let g = self.graph;
        let node = g.node(id);
        let args: Vec<Option<&Val>> = node.args.iter().map(|a| self.memo.get(a)).collect();
        let zero_norm = matches!(node.op, Op::Norm(_) | Op::LpNorm(LpNorm(2)))
            && matches!(args[0], Some(Val::Matrix(m)) if m.iter().all(|&e| e == 0.0))
            // `hypot` and `atan2` at the origin: no derivative either.
            || matches!(node.op, Op::Hypot(_) | Op::Atan2(_))
                && args.iter().all(|a| matches!(a, Some(Val::Scalar(x)) if *x == 0.0));
        let kink =
            kink_gap(&node.op, &args).is_some_and(|gap| gap < 1e-6) || map_kink(g, &node.op, &args);
        let saturated = match (&node.op, args.first().copied().flatten()) {
            (Op::Tanh(_), Some(Val::Scalar(x))) => x.abs() >= TANH_SATURATES,
            (Op::Sigmoid(_), Some(Val::Scalar(x))) => x.abs() >= SIGMOID_SATURATES,
            _ => false,
        };
        let non_finite = match v {
            Val::Scalar(s) => !s.is_finite(),
            Val::Matrix(m) => m.iter().any(|e| !e.is_finite()),
        } && !matches!(node.op, Op::Loop(_) | Op::If(_) | Op::Tape(_));
        let largest = match v {
            Val::Scalar(s) if s.is_finite() => s.abs(),
            Val::Scalar(_) => 0.0,
            Val::Matrix(m) => m
                .iter()
                .filter(|e| e.is_finite())
                .fold(0.0, |a: f64, e| a.max(e.abs())),
        };
        let w = self.watch.as_mut().expect("watching");
        w.largest = w.largest.max(largest);
        w.norm_of_zero |= zero_norm;
        w.near_kink |= kink;
        w.non_finite |= non_finite;
        w.saturated |= saturated;
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
            Op::Captured(c) => S(self.captured[c.0]),
            Op::Neg(_) => a[0].map(|x| -x),
            Op::Add(_) => a[0].zip(&a[1], |x, y| x + y),
            Op::Sub(_) => a[0].zip(&a[1], |x, y| x - y),
            Op::Mul(_) => S(s(0) * s(1)),
            Op::Div(_) => S(s(0) / s(1)),
            Op::Scale(_) => M(m(0) * s(1)),
            Op::DivScalar(_) => M(m(0) / s(1)),
            Op::MatMul(_) => M(m(0) * m(1)),
            Op::TrMul(_) => M(m(0).transpose() * m(1)),
            // (Of real matrices, as a real loss may write them.)
            Op::Transpose(_) | Op::Adjoint(_) => M(m(0).transpose()),
            Op::Conj(_) | Op::Re(_) => a[0].clone(),
            Op::AdMul(_) => M(m(0).transpose() * m(1)),
            Op::Dotc(_) => S(m(0).component_mul(m(1)).sum()),
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
            Op::Map(f) => {
                let caps = scalars(&a[1..]);
                M(m(0).map(|v| self.closure(f.body, v, None, &caps)))
            }
            Op::MapAdjoint(f) => {
                let caps = scalars(&a[3..]);
                M(m(0).zip_zip_map(m(1), m(2), |cbar, v, c| {
                    cbar * self.closure(f.deriv, v, Some((f.body, c)), &caps)
                }))
            }
            Op::MapDerivative(f) => {
                let caps = scalars(&a[2..]);
                M(m(0).zip_map(m(1), |v, c| {
                    self.closure(f.deriv, v, Some((f.body, c)), &caps)
                }))
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
            Op::CofactorsTangent(_) | Op::SvdCofactorsTangent(_) => {
                M(cofactors_tangent(m(0), m(1)))
            }
            // The factor nodes stand for their matrix.
            Op::LuOf(_) | Op::SvdOf(_) => a[0].clone(),
            Op::LuDet(_) => S(m(0).determinant()),
            Op::LuLogDet(_) => S(m(0).determinant().ln()),
            Op::LuInverse(LuInverse(on)) => M(inverse(m(0), on)),
            Op::LuSolve(_) => M(m(0)
                .clone()
                .lu()
                .solve(m(1))
                .expect("eval: singular matrix")),
            Op::LuTrSolve(_) => M(m(0)
                .transpose()
                .lu()
                .solve(m(1))
                .expect("eval: singular matrix")),
            // The Cholesky factor stands for the symmetric matrix it factorises.
            Op::CholeskyOf(_) => M(triangle(Part::SymmetricFromLower, m(0))),
            Op::CholeskyL(_) => M(cholesky(m(0)).l()),
            Op::CholeskySolve(_) => M(cholesky(m(0)).solve(m(1))),
            Op::CholeskyInverse(_) => M(cholesky(m(0)).inverse()),
            Op::CholeskyDet(_) => S(cholesky(m(0)).determinant()),
            Op::CholeskyLnDet(_) => S(cholesky(m(0)).ln_determinant()),
            Op::LowerCongruence(c) => {
                let x = triangle(Part::Lower, m(0))
                    .try_inverse()
                    .expect("eval: singular factor");
                let mid = if c.diagonal {
                    DMatrix::from_diagonal(&m(1).column(0).into_owned())
                } else {
                    m(1).clone()
                };
                M(x.transpose() * mid * x)
            }
            Op::Triangle(Triangle(part)) => M(triangle(*part, m(0))),
            Op::SolveTriangular(t) => M(solve_triangular(t, m(0), m(1))),
            Op::Kronecker(_) => M(m(0).kronecker(m(1))),
            Op::KroneckerAdjoint(side) => M(kronecker_adjoint(side, m(0), m(1), m(2))),
            Op::Cross(_) => M(m(0).cross(m(1))),
            Op::MatFn(MatFn(Fun::Exp)) => M(m(0).clone().exp()),
            Op::MatFn(MatFn(Fun::Log)) => M(logm(m(0))),
            Op::Frechet(Frechet(f)) => M(frechet(*f, m(0), m(1))),
            Op::Frechet2(Frechet2(f)) => M(frechet2(*f, m(0), m(1), m(2))),
            Op::Sigmoid(_) => S(1.0 / (1.0 + (-s(0)).exp())),
            Op::Softplus(_) => S(s(0).max(0.0) + (-s(0).abs()).exp().ln_1p()),
            Op::Relu(_) => S(s(0).max(0.0)),
            Op::Step(_) => S(if s(0) > 0.0 { 1.0 } else { 0.0 }),
            Op::LogSumExp(_) => {
                let top = m(0).max();
                S(top + m(0).map(|v| (v - top).exp()).sum().ln())
            }
            Op::ExpShifted(_) => M(m(0).map(|v| (v - s(1)).exp())),
            // Integers, `bool`s and casts.
            Op::IntLit(IntLit(v)) => S(*v as f64),
            Op::Size(Size(d)) => S(self.dim(*d) as f64),
            Op::IntArith(op) => S(match op {
                IntArith::Add => s(0) + s(1),
                IntArith::Sub => s(0) - s(1),
                IntArith::Mul => s(0) * s(1),
                IntArith::Div => (s(0) / s(1)).trunc(),
                IntArith::Rem => s(0) % s(1),
                IntArith::Min => s(0).min(s(1)),
            }),
            Op::Compare(c) => S(f64::from(match c {
                Compare::Lt => s(0) < s(1),
                Compare::Le => s(0) <= s(1),
                Compare::Gt => s(0) > s(1),
                Compare::Ge => s(0) >= s(1),
                Compare::Eq => s(0) == s(1),
                Compare::Ne => s(0) != s(1),
            })),
            Op::Not(_) => S(1.0 - s(0)),
            Op::Cast(Cast { ty, to_float }) => S(match (to_float, ty.starts_with('u')) {
                (true, _) => s(0),
                (false, true) => s(0).trunc().max(0.0),
                (false, false) => s(0).trunc(),
            }),
            // Element access.
            Op::Entry(_) => S(m(0)[self.position(m(0), &a[1..])]),
            Op::Scatter(Scatter(shape)) => {
                let (r, c) = self.size(*shape);
                let mut z = DMatrix::zeros(r, c);
                let at = self.position(&z, &a[1..]);
                z[at] = s(0);
                M(z)
            }
            Op::SetEntry(_) => {
                let mut z = m(0).clone();
                let at = self.position(&z, &a[2..]);
                z[at] = s(1);
                M(z)
            }
            Op::Zeros(Zeros(shape)) => {
                let (r, c) = self.size(*shape);
                M(DMatrix::zeros(r, c))
            }
            // Views, and the blocks they read or write.
            Op::View(v) => {
                let (i, j, r, c) = block(v.kind, m(0), &a[1..]);
                M(m(0).view((i, j), (r, c)).into_owned())
            }
            Op::ViewScatter(v) => {
                let (rows, cols) = self.size(v.shape);
                let mut z = DMatrix::zeros(rows, cols);
                let (i, j, r, c) = block(v.kind, &z, &a[1..]);
                z.view_mut((i, j), (r, c)).copy_from(m(0));
                M(z)
            }
            Op::SetView(v) => {
                let mut z = m(0).clone();
                let (i, j, r, c) = block(v.kind, &z, &a[2..]);
                z.view_mut((i, j), (r, c)).copy_from(m(1));
                M(z)
            }
            Op::Diagonal(_) => {
                let d = m(0).diagonal();
                M(DMatrix::from_column_slice(d.len(), 1, d.as_slice()))
            }
            Op::DiagonalScatter(DiagonalScatter(shape)) => {
                let (r, c) = self.size(*shape);
                let mut z = DMatrix::zeros(r, c);
                for (k, &d) in m(0).iter().enumerate() {
                    z[(k, k)] = d;
                }
                M(z)
            }
            // Axis reductions, moments, `add_scalar`.
            Op::AxisSum(AxisSum(axis)) => M(axis_sum(m(0), *axis)),
            Op::AxisMean(AxisMean(axis)) => {
                let (r, c) = m(0).shape();
                let n = match axis {
                    Axis::Rows => r,
                    Axis::Columns => c,
                };
                let sum = M(axis_sum(m(0), *axis));
                if n == 0 {
                    sum.map(|_| 0.0)
                } else {
                    sum.map(|x| x / n as f64)
                }
            }
            Op::Count(count) => S(match count {
                Count::Rows => m(0).nrows(),
                Count::Columns => m(0).ncols(),
                Count::Entries => m(0).len(),
            } as f64),
            Op::Mean(_) => S(m(0).mean()),
            Op::Variance(_) => S(m(0).variance()),
            Op::AddScalar(_) => M(m(0).add_scalar(s(1))),
            // Matrices built from entries and sizes, rotations.
            Op::FromEntries(f) => {
                let entries: Vec<f64> = (0..a.len()).map(s).collect();
                M(DMatrix::from_column_slice(f.rows, f.cols, &entries))
            }
            Op::Fill(Fill(shape)) => {
                let (r, c) = self.size(*shape);
                M(DMatrix::from_element(r, c, s(0)))
            }
            Op::Identity(Identity(shape)) => {
                let (r, c) = self.size(*shape);
                M(DMatrix::from_diagonal_element(r, c, s(0)))
            }
            Op::Reshape(Reshape(shape)) => {
                let (r, c) = self.size(*shape);
                assert_eq!(m(0).len(), r * c, "eval: a reshape to another count");
                M(DMatrix::from_column_slice(r, c, m(0).as_slice()))
            }
            Op::Rotation(_) => {
                let v = nalgebra::Vector3::new(m(0)[0], m(0)[1], m(0)[2]);
                let r = nalgebra::Rotation3::new(v).into_inner();
                M(DMatrix::from_column_slice(3, 3, r.as_slice()))
            }
            Op::Skew(_) => {
                let v = m(0);
                M(DMatrix::from_row_slice(
                    3,
                    3,
                    &[0.0, -v[2], v[1], v[2], 0.0, -v[0], -v[1], v[0], 0.0],
                ))
            }
            Op::Vee(_) => {
                let x = m(0);
                M(DMatrix::from_column_slice(
                    3,
                    1,
                    &[
                        x[(2, 1)] - x[(1, 2)],
                        x[(0, 2)] - x[(2, 0)],
                        x[(1, 0)] - x[(0, 1)],
                    ],
                ))
            }
            Op::Stumpff(Stumpff(k)) => S(stumpff(*k, s(0))),
            // Loops.
            Op::RegionParam(_) => panic!("eval: a region input read outside its loop"),
            Op::Loop(l) => {
                let run = self.run(l, &a);
                self.runs.insert(id, Rc::new(run));
                S(f64::NAN)
            }
            Op::If(i) => {
                let side = if s(0) != 0.0 { i.then } else { i.otherwise };
                let outputs = self.side(side);
                assert_eq!(outputs.len(), i.outputs, "eval: the values of an `if`");
                self.runs.insert(
                    id,
                    Rc::new(Run {
                        outputs,
                        tapes: Vec::new(),
                    }),
                );
                S(f64::NAN)
            }
            Op::Output(o) => self.run_of(node.args[0]).outputs[o.k].clone(),
            // A tape stands for its loop's run.
            Op::Tape(_) => S(f64::NAN),
            Op::TapeRead(_) => {
                let tape = node.args[0];
                let Op::Tape(t) = g.op(tape) else {
                    panic!("eval: a tape read of something else than a tape")
                };
                let run = self.run_of(g.node(tape).args[0]);
                let at = int(s(1));
                let entries = &run.tapes[t.k];
                assert!(
                    at < entries.len(),
                    "eval: tape read at position {at} of a tape of {} entries",
                    entries.len()
                );
                entries[at].clone()
            }
            Op::TapeNext(_) => {
                let tape = node.args[0];
                let Op::Tape(t) = g.op(tape) else {
                    panic!("eval: the next entry of something else than a tape")
                };
                let run = self.run_of(g.node(tape).args[0]);
                let next = int(s(1)) + 1;
                match run.tapes[t.k].get(next) {
                    Some(v) => v.clone(),
                    None => a[2].clone(),
                }
            }
            op => panic!("eval: {op:?} is evaluated through the macro, not here"),
        }
    }

    /// The linear position in `x` of the entry at `index` (one linear index,
    /// column-major as nalgebra's `x[i]`, or a row and a column), checked.
    fn position(&self, x: &DMatrix<f64>, index: &[Val]) -> usize {
        let (r, c) = x.shape();
        match index {
            [i] => {
                let i = int(i.scalar());
                assert!(
                    i < r * c,
                    "eval: index {i} out of range of a {r}×{c} matrix"
                );
                i
            }
            [i, j] => {
                let (i, j) = (int(i.scalar()), int(j.scalar()));
                assert!(
                    i < r && j < c,
                    "eval: index ({i}, {j}) out of range of a {r}×{c} matrix"
                );
                i + r * j
            }
            _ => panic!("eval: one or two indices"),
        }
    }

    fn run_of(&self, l: Id) -> Rc<Run> {
        self.runs
            .get(&l)
            .cloned()
            .unwrap_or_else(|| panic!("eval: the run of loop {l:?} is not known here"))
    }

    /// Runs loop `l` with evaluated arguments `a` (`lo, hi, inits…,
    /// captures…`): each iteration binds the region's inputs (the index and
    /// the carried values) and evaluates its outputs with a fresh memo for the
    /// region's nodes, the nested regions' included.
    fn run(&mut self, l: &Loop, a: &[Val]) -> Run {
        let (lo, hi) = (a[0].scalar(), a[1].scalar());
        assert!(
            lo.fract() == 0.0 && hi.fract() == 0.0,
            "eval: loop bounds {lo} and {hi} not integers"
        );
        let (lo, hi) = (lo as i64, hi as i64);
        let end = if l.range.inclusive { hi + 1 } else { hi };
        let indices: Vec<i64> = match l.range.rev {
            false => (lo..end).collect(),
            true => (lo..end).rev().collect(),
        };
        let info = self.graph.region_info(l.region).clone();
        assert_eq!(
            info.inputs.len(),
            1 + l.carried,
            "eval: a loop's region takes the index and the carried values"
        );
        let nodes = self.nodes_of(l.region);
        let mut carried: Vec<Val> = a[l.inits()].to_vec();
        let mut tapes: Vec<Vec<Val>> = vec![Vec::with_capacity(indices.len()); l.carried];
        for i in indices {
            self.forget(&nodes);
            self.memo.insert(info.inputs[0], Val::Scalar(i as f64));
            for (k, c) in carried.iter().enumerate() {
                tapes[k].push(c.clone());
                self.memo.insert(info.inputs[1 + k], c.clone());
            }
            carried = info.outputs.iter().map(|&o| self.eval(o)).collect();
            if let Some(w) = &mut self.watch {
                w.iterations += 1;
            }
        }
        self.forget(&nodes);
        Run {
            outputs: carried,
            tapes,
        }
    }

    /// The outputs of region `r`, a side of an `if` (no inputs: it reads the
    /// enclosing regions' values directly), evaluated afresh.
    fn side(&mut self, r: RegionId) -> Vec<Val> {
        let nodes = self.nodes_of(r);
        self.forget(&nodes);
        let info = self.graph.region_info(r).clone();
        assert!(
            info.inputs.is_empty(),
            "eval: a side of an `if` with inputs"
        );
        info.outputs.iter().map(|&o| self.eval(o)).collect()
    }

    /// Drops the values (and loop runs) of `nodes`.
    fn forget(&mut self, nodes: &[Id]) {
        for id in nodes {
            self.memo.remove(id);
            self.runs.remove(id);
        }
    }

    /// The nodes of region `r` and of the regions nested in it.
    fn nodes_of(&mut self, r: RegionId) -> Rc<Vec<Id>> {
        let g = self.graph;
        self.region_nodes
            .entry(r)
            .or_insert_with(|| {
                Rc::new(
                    (0..g.len() as u32)
                        .map(Id)
                        .filter(|&id| g.within(g.node(id).region, r))
                        .collect(),
                )
            })
            .clone()
    }

    /// A `map` closure's `root` (its body, or its derivative) at `v`, with
    /// `bound` giving a node a known value (the body, for a derivative that
    /// reuses it). Each entry gets a fresh memo, since the closure's nodes
    /// depend on `v`.
    fn closure(&mut self, root: Id, v: f64, bound: Option<(Id, f64)>, captured: &[f64]) -> f64 {
        let mut inner = Eval {
            lambda: Some(v),
            captured: captured.to_vec(),
            watch: self.watch.as_ref().map(|_| Watch::default()),
            ..Eval::with_constants(self.graph, self.params, self.constants)
        };
        if let Some((id, value)) = bound {
            inner.memo.insert(id, Val::Scalar(value));
        }
        let value = inner.eval(root).scalar();
        // Points without a derivative count inside closures too.
        if let (Some(w), Some(inner)) = (self.watch.as_mut(), inner.watch) {
            w.norm_of_zero |= inner.norm_of_zero;
            w.saturated |= inner.saturated;
        }
        value
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
                Origin::Element { .. } => {
                    panic!("eval: sizes of data elements are evaluated through the macro")
                }
                Origin::Constant { index, axis } => {
                    let m = self.constant(*index).matrix();
                    [m.nrows(), m.ncols()][*axis]
                }
            },
        }
    }
}

/// An integer held by a scalar, as an index or position (non-negative).
fn int(x: f64) -> usize {
    assert!(
        x.fract() == 0.0 && x >= 0.0,
        "eval: {x} is not a non-negative integer"
    );
    x as usize
}

/// The block `(row, column, rows, columns)` a view of kind `kind` reads in
/// `x`, from its integer arguments `a`, checked to be in range.
fn block(kind: ViewKind, x: &DMatrix<f64>, a: &[Val]) -> (usize, usize, usize, usize) {
    let (rows, cols) = x.shape();
    let n = |k: usize| int(a[k].scalar());
    let b = match kind {
        ViewKind::Row => (n(0), 0, 1, cols),
        ViewKind::Column => (0, n(0), rows, 1),
        ViewKind::Rows => (n(0), 0, n(1), cols),
        ViewKind::Columns => (0, n(0), rows, n(1)),
        ViewKind::FixedRows(k) => (n(0), 0, k, cols),
        ViewKind::FixedColumns(k) => (0, n(0), rows, k),
        ViewKind::FixedView(r, c) => (n(0), n(1), r, c),
        ViewKind::View => (n(0), n(1), n(2), n(3)),
    };
    assert!(
        b.0 + b.2 <= rows && b.1 + b.3 <= cols,
        "eval: a {}×{} block at ({}, {}) out of range of a {rows}×{cols} matrix",
        b.2,
        b.3,
        b.0,
        b.1
    );
    b
}

/// How near the point is to a kink or a tie of operation `op`, from its
/// evaluated arguments `a` (`None` for an operation without one, or
/// arguments not at hand): the argument of `abs`, `relu`, `sign`, `signum`
/// or a step; the distance between the operands of `max`, `min` (the nearer
/// bound for `clamp`), and of the `Routed` adjoints and tangents they
/// choose; the gap between the two entries a matrix's `max`, `min`, `amax`,
/// `amin` (or the `AtExtremum` of its derivatives) picks between, and for
/// `amax`, `amin` the magnitude of the one picked (a kink of `|·|`).
pub fn kink_gap(op: &Op, a: &[Option<&Val>]) -> Option<f64> {
    let s = |i: usize| match a.get(i) {
        Some(Some(Val::Scalar(x))) => Some(*x),
        _ => None,
    };
    let m = |i: usize| match a.get(i) {
        Some(Some(Val::Matrix(x))) => Some(x),
        _ => None,
    };
    let tie = |branch: Branch| -> Option<f64> {
        let x = s(0)?;
        Some(match branch {
            Branch::Max | Branch::Min => (x - s(1)?).abs(),
            Branch::Clamp => (x - s(1)?).abs().min((x - s(2)?).abs()),
        })
    };
    match op {
        Op::Abs(_) | Op::Relu(_) | Op::Sign(_) | Op::Step(_) | Op::Signum(_) => Some(s(0)?.abs()),
        Op::Max(_) => tie(Branch::Max),
        Op::Min(_) => tie(Branch::Min),
        Op::Clamp(_) => tie(Branch::Clamp),
        Op::Routed(r) => tie(r.branch),
        Op::Extremum(Extremum(pick)) => Some(pick_gap(m(0)?, *pick)),
        Op::AtExtremum(at) => Some(pick_gap(m(0)?, at.pick)),
        _ => None,
    }
}

/// The values of scalar arguments (a closure's captures).
fn scalars(a: &[Val]) -> Vec<f64> {
    a.iter().map(Val::scalar).collect()
}

/// Whether a `map` whose closure bends at a point of its parameter
/// (`a.abs()`, `a.map(|v| v.abs().atan())`, `a.map(|v| v.clamp(0.0, 1.0))`)
/// has an entry there.
fn map_kink(g: &Graph, op: &Op, a: &[Option<&Val>]) -> bool {
    let Op::Map(f) = op else { return false };
    let Some(Some(Val::Matrix(m))) = a.first() else {
        return false;
    };
    // The points where a part of the closure applied to `v` itself bends:
    // 0, or a clamp's literal bounds.
    let mut kinks = Vec::new();
    let mut stack = vec![f.body];
    while let Some(id) = stack.pop() {
        let node = g.node(id);
        stack.extend(node.args.iter().copied());
        if !matches!(
            node.args.first().map(|&v| g.op(v)),
            Some(Op::LambdaParam(_))
        ) {
            continue;
        }
        match node.op {
            Op::Abs(_) | Op::Relu(_) | Op::Signum(_) | Op::Sign(_) | Op::Step(_) => kinks.push(0.0),
            Op::Clamp(_) => kinks.extend(node.args[1..].iter().filter_map(|&b| g.lit_value(b))),
            _ => {}
        }
    }
    m.iter().any(|e| kinks.iter().any(|k| (e - k).abs() < 1e-6))
}

/// How far the entry a matrix's `max`, `min`, `amax` or `amin` picks is from
/// a tie with the next (in its order), or (`amax`, `amin`) from a kink of
/// `|·|`.
fn pick_gap(x: &DMatrix<f64>, pick: Pick) -> f64 {
    let magnitude = matches!(pick, Pick::AMax | Pick::AMin);
    let mut keys: Vec<f64> = x
        .iter()
        .map(|&v| if magnitude { v.abs() } else { v })
        .collect();
    keys.sort_by(f64::total_cmp);
    if matches!(pick, Pick::Max | Pick::AMax) {
        keys.reverse();
    }
    let tie = match keys.as_slice() {
        [a, b, ..] => (a - b).abs(),
        _ => f64::INFINITY,
    };
    match (magnitude, keys.first()) {
        (true, Some(k)) => tie.min(k.abs()),
        _ => tie,
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

/// `f(A)` for a matrix function of the engine.
fn apply(f: Fun, a: &DMatrix<f64>) -> DMatrix<f64> {
    match f {
        Fun::Exp => a.clone().exp(),
        Fun::Log => logm(a),
    }
}

/// The principal logarithm, independently of the runtime's: square roots by
/// the Denman–Beavers iteration until `‖Y − I‖ ≤ 1/4`, then the Mercator
/// series `log(I + Z) = Σ (−1)^{k+1} Z^k / k` to 60 terms (4⁻⁶⁰, below rounding).
/// NaN where the iteration does not converge (an eigenvalue on the negative
/// real axis).
pub fn logm(a: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    let id = DMatrix::<f64>::identity(n, n);
    let mut y = a.clone();
    let mut roots = 0;
    while (&y - &id).norm() > 0.25 {
        // Y → A^{1/2}, Z → A^{-1/2}.
        let mut z = id.clone();
        for _ in 0..200 {
            let (Some(yi), Some(zi)) = (y.clone().try_inverse(), z.clone().try_inverse()) else {
                return a.map(|_| f64::NAN);
            };
            let next = (&y + zi) / 2.0;
            z = (&z + yi) / 2.0;
            let change = (&next - &y).norm();
            y = next;
            if change <= 1e-13 * y.norm() {
                break;
            }
        }
        roots += 1;
        if roots > 60 || !y.iter().all(|v| v.is_finite()) {
            return a.map(|_| f64::NAN);
        }
    }
    let z = &y - &id;
    let mut power = id;
    let mut log = DMatrix::zeros(n, n);
    for k in 1..=60 {
        power = &power * &z;
        let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
        log += &power * (sign / f64::from(k));
    }
    log * 2f64.powi(roots)
}

/// `L_f(A, E)` as the top-right block of `f([[A, E], [0, A]])`.
/// `E` is scaled to unit size (largest entry 1) first (the derivative is linear in it), so a large
/// `E` does not spoil the function of the block matrix.
pub fn frechet(f: Fun, a: &DMatrix<f64>, e: &DMatrix<f64>) -> DMatrix<f64> {
    let scale = e.amax();
    if scale == 0.0 {
        return DMatrix::zeros(a.nrows(), a.ncols());
    }
    let n = a.nrows();
    let mut block = DMatrix::zeros(2 * n, 2 * n);
    block.view_mut((0, 0), (n, n)).copy_from(a);
    block.view_mut((0, n), (n, n)).copy_from(&(e / scale));
    block.view_mut((n, n), (n, n)).copy_from(a);
    apply(f, &block).view((0, n), (n, n)).into_owned() * scale
}

/// `L²_f(A; E, F)` as the top-right block of `f` of the 4×4 block matrix
/// `[[A, E, F, 0], [0, A, 0, F], [0, 0, A, E], [0, 0, 0, A]]` (Higham and
/// Relton 2014), `E` and `F` scaled to unit size first.
pub fn frechet2(f: Fun, a: &DMatrix<f64>, e: &DMatrix<f64>, g: &DMatrix<f64>) -> DMatrix<f64> {
    let (se, sg) = (e.amax(), g.amax());
    if se == 0.0 || sg == 0.0 {
        return DMatrix::zeros(a.nrows(), a.ncols());
    }
    let (e, g) = (e / se, g / sg);
    let n = a.nrows();
    let mut block = DMatrix::zeros(4 * n, 4 * n);
    for k in 0..4 {
        block.view_mut((k * n, k * n), (n, n)).copy_from(a);
    }
    for (i, j, m) in [(0, 1, &e), (0, 2, &g), (1, 3, &g), (2, 3, &e)] {
        block.view_mut((i * n, j * n), (n, n)).copy_from(m);
    }
    apply(f, &block).view((0, 3 * n), (n, n)).into_owned() * (se * sg)
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

/// The Cholesky factorisation of a symmetric positive definite matrix.
fn cholesky(s: &DMatrix<f64>) -> nalgebra::linalg::Cholesky<f64, nalgebra::Dyn> {
    s.clone().cholesky().expect("eval: not positive definite")
}

/// One of the linear maps onto a triangle, entry by entry.
fn triangle(part: Part, m: &DMatrix<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| match part {
        Part::Lower if i >= j => m[(i, j)],
        Part::Upper if i <= j => m[(i, j)],
        Part::LowerHalfDiagonal if i > j => m[(i, j)],
        Part::LowerHalfDiagonal if i == j => 0.5 * m[(i, j)],
        Part::FoldOntoLower if i > j => m[(i, j)] + m[(j, i)],
        Part::FoldOntoLower if i == j => m[(i, j)],
        Part::SymmetricFromLower if i >= j => m[(i, j)],
        Part::SymmetricFromLower => m[(j, i)],
        _ => 0.0,
    })
}

/// `T⁻¹ B` or `T⁻ᵀ B` for the triangle `T` of `a`, by a general solve.
fn solve_triangular(t: &SolveTriangular, a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    let part = if t.lower { Part::Lower } else { Part::Upper };
    let tri = triangle(part, a);
    let tri = if t.transposed { tri.transpose() } else { tri };
    tri.lu().solve(b).expect("eval: singular triangle")
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

/// Stumpff's `c_k(t) = Σₙ (−t)ⁿ/(2n + k)!`, summed directly (the runtime's
/// `stumpff` switches to closed forms for large `t`; the two must agree).
fn stumpff(k: u32, t: f64) -> f64 {
    let mut term = 1.0 / (1..=k).map(f64::from).product::<f64>();
    let mut sum = term;
    for n in 1..60u32 {
        term *= -t / (f64::from(2 * n + k - 1) * f64::from(2 * n + k));
        sum += term;
    }
    sum
}

/// `row_sum` (1×c) or `column_sum` (r×1), as a `DMatrix`.
fn axis_sum(x: &DMatrix<f64>, axis: Axis) -> DMatrix<f64> {
    let (r, c) = x.shape();
    match axis {
        Axis::Rows => DMatrix::from_row_slice(1, c, x.row_sum().as_slice()),
        Axis::Columns => DMatrix::from_column_slice(r, 1, x.column_sum().as_slice()),
    }
}
