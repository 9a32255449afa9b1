//! Rule-by-rule tests of the rewrite table [`simplify::RULES`], one line per rule
//! as in egg's `tests/math.rs`: an expression, and the formula it simplifies
//! to. Every example is also evaluated with the IR evaluator on seeded inputs
//! and compared with the value plain nalgebra computes for the expression as
//! written, so a rewrite that changes a value fails here. Below the rules: the
//! gradient-check harness, `diff::gradient` against central finite differences
//! of the evaluated value.

use nalgebra::{DMatrix, DVector};

use crate::errors::Errors;
use crate::eval::{Eval, Val};
use crate::formula::Writer;
use crate::ir::ops::*;
use crate::ir::simplify;
use crate::ir::{Graph, Id, Scalar};
use crate::shape::Dims;
use crate::{diff, parse, signature};

/// Every rule name of `simplify::RULES` with a test in this file (or, for the
/// rules on complex values, in `complex_tests.rs`).
const TESTED: &[&str] = &[
    "fold-literals",
    "int-plus-minus-zero",
    "times-one",
    "literal-factor-first",
    "times-minus-one-is-neg",
    "neg-neg",
    "neg-literal-scale",
    "scale-of-neg",
    "quotient-cancels",
    "transpose-transpose",
    "transpose-scale",
    "transpose-identity",
    "transpose-product-cancel",
    "scale-scale",
    "scale-out-of-product",
    "neg-out-of-product",
    "identity-product",
    "transpose-times-is-tr-mul",
    "trace-of-product-is-tr-dot",
    "trace-of-transpose",
    "tr-dot-of-transpose-is-dot",
    "dot-of-transposes",
    "add-neg-is-sub",
    "plus-zero",
    "sum-of-transposes",
    "add-self-is-double",
    "repeated-term-is-double",
    "powi-zero-one",
    "ln-of-det-is-logdet",
    "cofactors-over-det-is-inverse",
    "kron-mixed-product",
    "kron-transpose",
    "kron-scale-out",
    "trace-of-kron",
    "det-of-kron",
    "inverse-of-kron",
    "hadamard-of-krons",
    "hadamard-scale-out",
    "tr-dot-of-tr-mul-is-dot",
    "quadratic-form-symmetrised",
    "transpose-of-symmetric-sum",
    "tr-mul-of-symmetric-sum",
    "trace-cyclic-cheapest",
    "hadamard-filled-is-scale",
    "map-adjoint-constant-is-scale",
    "map-adjoint-of-filled",
    "map-derivative-of-itself",
    "map-adjoint-of-itself",
    "map-adjoint-captured-is-scale",
    "entry-of-map",
    "entry-of-row",
    "sum-of-neg",
    "sum-of-scale",
    "extremum-of-zero-weight",
    "conj-conj",
    "adjoint-adjoint",
    "conjugate-transposes",
    "adjoint-scale",
    "adjoint-identity",
    "adjoint-times-is-ad-mul",
    "trace-of-ad-mul-is-dotc",
    "parts-of-parts",
    "real-operand-of-complex",
];

#[test]
fn every_rule_has_a_test() {
    let rules: Vec<&str> = simplify::RULES.iter().map(|(name, _)| *name).collect();
    let untested: Vec<&&str> = rules.iter().filter(|r| !TESTED.contains(r)).collect();
    assert!(
        untested.is_empty(),
        "rules without a test in simplify_tests.rs: {untested:?}"
    );
    let stale: Vec<&&str> = TESTED.iter().filter(|t| !rules.contains(t)).collect();
    assert!(
        stale.is_empty(),
        "tested names that are not rules: {stale:?}"
    );
}

// ---------------------------------------------------------------------------
// Fixture: the parameters every example may use, and seeded values for them.

/// The signature of every example; all matrices are `N×N`, vectors `N`.
const PARAMS: &str = "a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, \
                      x: &DVector<f64>, y: &DVector<f64>, s: f64, t: f64";
const N: usize = 4;
const SEED: u64 = 0x5eed;

/// Values for [`PARAMS`]: entries uniform in [−1, 1), except that `a` has `N`
/// added to its diagonal (well conditioned, positive determinant) and `s`, `t`
/// lie in [0.5, 1.5) (so `ln`, `sqrt` and `powf` of them are defined).
pub struct Inputs {
    pub a: DMatrix<f64>,
    pub b: DMatrix<f64>,
    pub c: DMatrix<f64>,
    pub x: DVector<f64>,
    pub y: DVector<f64>,
    pub s: f64,
    pub t: f64,
}

/// A linear congruential generator (Knuth's MMIX constants): no `rand` crate.
struct Lcg(u64);

impl Lcg {
    /// Uniform in [−1, 1).
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

impl Inputs {
    pub fn new(seed: u64) -> Inputs {
        let mut r = Lcg(seed);
        let mut mat = |rows: usize, cols: usize| DMatrix::from_fn(rows, cols, |_, _| r.next());
        let a = mat(N, N) + DMatrix::identity(N, N) * N as f64;
        let (b, c) = (mat(N, N), mat(N, N));
        let (x, y) = (mat(N, 1).column(0).into(), mat(N, 1).column(0).into());
        Inputs {
            a,
            b,
            c,
            x,
            y,
            s: 1.0 + r.next() / 2.0,
            t: 1.0 + r.next() / 2.0,
        }
    }

    /// The values in the order of [`PARAMS`] (as `Param::index` counts).
    pub fn vals(&self) -> Vec<Val> {
        let column =
            |v: &DVector<f64>| Val::Matrix(DMatrix::from_column_slice(v.len(), 1, v.as_slice()));
        vec![
            Val::Matrix(self.a.clone()),
            Val::Matrix(self.b.clone()),
            Val::Matrix(self.c.clone()),
            column(&self.x),
            column(&self.y),
            Val::Scalar(self.s),
            Val::Scalar(self.t),
        ]
    }

    /// The inputs as local bindings for the nalgebra side of an example.
    #[allow(clippy::type_complexity)]
    fn bind(
        &self,
    ) -> (
        &DMatrix<f64>,
        &DMatrix<f64>,
        &DMatrix<f64>,
        &DVector<f64>,
        &DVector<f64>,
        f64,
        f64,
    ) {
        (&self.a, &self.b, &self.c, &self.x, &self.y, self.s, self.t)
    }
}

/// `fn f(PARAMS) -> f64 { <src> }` through `parse::body` (rewrites apply as
/// each node is built): the graph and the node of the value.
pub fn parse(src: &str) -> (Graph, Id) {
    parse_over(PARAMS, src)
}

/// [`PARAMS`] with fixed sizes (the same values fit): for rules that need
/// known dimensions.
const FIXED_PARAMS: &str = "a: &Matrix4<f64>, b: &Matrix4<f64>, c: &Matrix4<f64>, \
                            x: &Vector4<f64>, y: &Vector4<f64>, s: f64, t: f64";

/// `fn f(params) -> f64 { <src> }` through `parse::body`.
pub fn parse_over(params: &str, src: &str) -> (Graph, Id) {
    let text = format!("fn f({params}) -> f64 {{ {src} }}");
    let func: syn::ItemFn = syn::parse_str(&text).unwrap_or_else(|e| panic!("`{src}`: {e}"));
    let (mut errors, mut dims) = (Errors::default(), Dims::default());
    let (params, reported) = signature::params(&func.sig, &mut dims, &mut errors);
    let mut g = Graph::new(Scalar::F64, dims);
    let value = parse::body(
        &mut g,
        &params,
        &reported,
        true,
        &func.block,
        &mut errors,
        &mut crate::compose::Calls::runtime_known(),
    );
    assert!(errors.is_empty(), "`{src}`: {}", errors.to_compile_errors());
    (g, value.expect("the body has a value"))
}

/// The node of the parameter `name`.
pub fn param(g: &Graph, name: &str) -> Id {
    (0..g.len() as u32)
        .map(Id)
        .find(|id| matches!(g.op(*id), Op::Param(_)) && g.names[id] == name)
        .unwrap_or_else(|| panic!("no parameter `{name}`"))
}

/// The node's formula, as the generated doc comment shows it.
fn render(g: &Graph, id: Id) -> String {
    Writer::new(g, id, &[id]).write(id).text
}

/// The node's operation tree, for rewrites whose formula reads the same as the
/// original (`Aᵀ B` and `A.tr_mul(B)` both read `aᵀ b`).
fn structure(g: &Graph, id: Id) -> String {
    let n = g.node(id);
    match &n.op {
        Op::Param(_) => g.names[&id].clone(),
        Op::Lit(l) => l.value().to_string(),
        op => {
            let debug = format!("{op:?}");
            let name = debug.split('(').next().unwrap_or_default();
            let args: Vec<String> = n.args.iter().map(|&a| structure(g, a)).collect();
            format!("{name}({})", args.join(", "))
        }
    }
}

fn eval(g: &Graph, id: Id, inputs: &Inputs) -> Val {
    let vals = inputs.vals();
    Eval::new(g, &vals).eval(id)
}

/// `max |x − y| / max(|x|, |y|)` over the entries (0 when both are zero).
fn rel_err(x: &Val, y: &Val) -> f64 {
    let entries = |v: &Val| match v {
        Val::Scalar(s) => DMatrix::from_element(1, 1, *s),
        Val::Matrix(m) => m.clone(),
    };
    let (x, y) = (entries(x), entries(y));
    if x.shape() != y.shape() {
        return f64::INFINITY;
    }
    let scale = x.amax().max(y.amax());
    if scale == 0.0 {
        0.0
    } else {
        (x - y).amax() / scale
    }
}

fn assert_value(actual: &Val, expected: &Val, what: &str) {
    let err = rel_err(actual, expected);
    assert!(
        err <= 1e-12,
        "`{what}`: the rewritten graph evaluates to {actual:?}, nalgebra to {expected:?} (relative error {err:e})"
    );
}

// ---------------------------------------------------------------------------
// The rules, one line each.

/// `name: expr => "formula"` (optionally `, ops "tree"`) makes a test that
/// parses the scalar body `expr`, checks its formula (and operation tree), and
/// checks that the simplified graph evaluates to what nalgebra computes for
/// `expr` as written. The binding pattern names the inputs for the nalgebra side.
macro_rules! rewrite_tests {
    ($params:ident, $bind:pat => $($name:ident: $e:expr => $formula:literal $(, ops $ops:literal)?;)*) => {$(
        #[test]
        fn $name() {
            let (g, root) = parse_over($params, stringify!($e));
            assert_eq!(render(&g, root), $formula, "`{}`", stringify!($e));
            $(assert_eq!(structure(&g, root), $ops, "`{}`", stringify!($e));)?
            let inputs = Inputs::new(SEED);
            #[allow(unused_variables)]
            let $bind = inputs.bind();
            let expected: f64 = $e;
            assert_value(&eval(&g, root, &inputs), &Val::Scalar(expected), stringify!($e));
        }
    )*};
}

rewrite_tests! { PARAMS, (a, b, c, x, y, s, t) =>
    fold_literals: (-(2.0 * 3.0) + 1.0) / 4.0 * s => "−1.25 s";
    times_one: 1.0 * s * (t / 1.0) + (a * 1.0 / 1.0).trace() => "s t + tr(a)";
    literal_factor_first: 0.5 * s + s * 0.5 + 3.0 * (2.0 * t) => "s + 6 t";
    times_minus_one_is_neg: (0.0 - 1.0) * s * t + (a * (0.5 - 1.5)).trace() => "−s t + tr(−a)";
    neg_neg: -(-s) + (-(-a)).trace() => "s + tr(a)";
    neg_literal_scale: (-(a * 2.0)).trace() + -(2.0 * s) => "tr(−2 a) + −2 s";
    scale_of_neg: ((-a) * 2.0).trace() + ((-b) * s).norm() => "tr(−2 a) + ‖−s b‖";
    quotient_cancels: (t / s) * s * a.trace() + (1.0 / s) * -s + s * -(t / s) => "t tr(a) + −1 − t";
    transpose_transpose: a.transpose().transpose().sum() => "sum(a)";
    transpose_scale: (a * s).transpose().trace() => "tr(s aᵀ)";
    transpose_product_cancel: (a * b.transpose()).transpose().sum() + a.tr_mul(c).transpose().sum()
        => "sum(b aᵀ) + sum(cᵀ a)";
    scale_scale: (a * s * t).trace() => "tr(s t a)";
    scale_out_of_product: (a * s * b).trace() + a.tr_mul(&(c * t)).trace() => "tr(s a b) + tr(t aᵀ c)";
    neg_out_of_product: (-a * b).trace() + a.tr_mul(&-c).trace() => "tr(−(a b)) + tr(−(aᵀ c))";
    transpose_times_is_tr_mul: (a.transpose() * b).sum() => "sum(aᵀ b)", ops "Sum(TrMul(a, b))";
    trace_of_product_is_tr_dot: (a * b).trace() + (a.transpose() * c).trace()
        => "tr(a b) + ⟨a, c⟩", ops "Add(TrDot(a, b), Dot(a, c))";
    trace_of_transpose: a.transpose().trace() + (a * b).transpose().trace() => "tr(a) + tr(a b)";
    tr_dot_of_transpose_is_dot: (a * b.transpose()).trace() + a.transpose().tr_dot(c) => "⟨a, b⟩ + ⟨a, c⟩";
    dot_of_transposes: a.transpose().dot(&b.transpose()) + x.transpose().dot(&y.transpose())
        => "⟨a, b⟩ + ⟨x, y⟩";
    add_neg_is_sub: (s + -t) * (-s + t) + (a - -b).sum() => "(s − t) (t − s) + sum(a + b)";
    plus_zero: (s + 0.0) * (0.0 + t) - 0.0 + (a + DMatrix::<f64>::zeros(4, 4)).trace() => "s t + tr(a)";
    sum_of_transposes: (a.transpose() + b.transpose()).dot(c) + (a.transpose() - b.transpose()).sum()
        => "⟨(a + b)ᵀ, c⟩ + sum((a − b)ᵀ)", ops "Add(Dot(Transpose(Add(a, b)), c), Sum(Transpose(Sub(a, b))))";
    add_self_is_double: s + s + (a + a).trace() => "2 s + tr(2 a)";
    repeated_term_is_double: (a - b + a).trace() + (s + t + t) * (s + (s - b.trace()))
        => "tr(2 a − b) + (s + 2 t) (2 s − tr(b))";
    powi_zero_one: s.powi(0) + t.powi(1) => "1 + t";
    ln_of_det_is_logdet: (a * a.transpose()).determinant().ln() => "ln det(a aᵀ)";
    kron_transpose: a.kronecker(b).transpose().dot(&c.kronecker(a)) => "⟨aᵀ ⊗ bᵀ, c ⊗ a⟩";
    kron_scale_out: (a * s).kronecker(&(b * t)).norm() => "‖t s (a ⊗ b)‖";
    hadamard_of_krons: a.kronecker(b).component_mul(&c.kronecker(a)).sum()
        => "sum((a ⊗ b) ∘ (c ⊗ a))";
    hadamard_scale_out: (a * s).component_mul(&(b * t)).trace() => "tr(t s (a ∘ b))";
    tr_dot_of_tr_mul_is_dot: (a.transpose() * b * c).trace() => "⟨a, b c⟩";
    quadratic_form_symmetrised: (b.transpose() * a * b).trace() + x.dot(&(a * x))
        => "0.5 ⟨b, (a + aᵀ) b⟩ + ⟨x, a x⟩";
    transpose_of_symmetric_sum: (a + a.transpose()).transpose().dot(b) => "⟨a + aᵀ, b⟩";
    tr_mul_of_symmetric_sum: (a.transpose() + a).tr_mul(b).sum() => "sum((aᵀ + a) b)";
    entry_of_map: a.map(|v| (v * s).exp())[(1, 2)] + x.map(|v| v - t)[2]
        => "exp(a[1, 2] s) + (x[2] − t)", ops "Add(Exp(Mul(Entry(a, IntLit(), IntLit()), s)), Sub(Entry(x, IntLit()), t))";
    entry_of_row: a.row(1)[2] + b.row(0)[(0, 3)]
        => "a[1, 2] + b[0, 3]", ops "Add(Entry(a, IntLit(), IntLit()), Entry(b, IntLit(), IntLit()))";
    sum_of_neg: (-a).sum() => "−sum(a)";
    sum_of_scale: (a * s).sum() => "s sum(a)";
}

// Rules that need fixed sizes: the same values, as `Matrix4` and `Vector4`.
rewrite_tests! { FIXED_PARAMS, (a, b, c, x, y, s, t) =>
    kron_mixed_product: (a.kronecker(b) * c.kronecker(a)).sum()
        + (a.kronecker(b).transpose() * c.kronecker(a)).sum()
        => "sum((a c) ⊗ (b a)) + sum((aᵀ c) ⊗ (bᵀ a))";
    trace_of_kron: a.kronecker(b).trace() => "tr(a) tr(b)";
    det_of_kron: a.kronecker(b).determinant() => "det(a)^4 det(b)^4";
    log_det_of_kron: a.kronecker(&a.transpose()).determinant().ln() => "4 ln det(a) + 4 ln det(aᵀ)";
    inverse_of_kron: a.kronecker(&a.transpose()).try_inverse().unwrap().sum() => "sum(a⁻¹ ⊗ aᵀ⁻¹)";
    hadamard_of_krons_fixed: a.kronecker(b).component_mul(&c.kronecker(a)).sum()
        => "sum((a ∘ c) ⊗ (b ∘ a))";
    trace_cyclic_cheapest: (x * y.transpose() * a).trace() => "tr(x yᵀ a)", ops "TrDot(x, TrMul(y, a))";
}

/// Rules that fire only on nodes the differentiator builds: `build` makes the
/// node in a graph over [`PARAMS`]; the test checks its formula, and its value
/// against `expected`, computed by nalgebra from the inputs.
fn built(
    formula: &str,
    build: impl FnOnce(&mut Graph) -> Id,
    expected: impl FnOnce(&Inputs) -> DMatrix<f64>,
) {
    let (mut g, _) = parse("s");
    let root = build(&mut g);
    assert_eq!(render(&g, root), formula);
    let inputs = Inputs::new(SEED);
    assert_value(
        &eval(&g, root, &inputs),
        &Val::Matrix(expected(&inputs)),
        formula,
    );
}

/// `s I` shaped like the parameter `like`, as the adjoint of `trace` builds it.
fn scaled_identity(g: &mut Graph, like: &str) -> Id {
    let (m, s) = (param(g, like), param(g, "s"));
    let shape = g.shape(m);
    g.build(ScaledIdentity(shape), &[s])
}

#[test]
fn transpose_identity() {
    // An n×1 "identity" (s e₁), so that transposing its shape matters.
    built(
        "s I",
        |g| {
            let si = scaled_identity(g, "x");
            g.transpose(si)
        },
        |p| (DMatrix::identity(N, 1) * p.s).transpose(),
    );
}

#[test]
fn identity_product() {
    built(
        "s b + s a + s c + s aᵀ",
        |g| {
            let [a, b, c] = ["a", "b", "c"].map(|n| param(g, n));
            // As `trace` does before its adjoint builds `s I`: `a` is square.
            g.build(Trace, &[a]);
            let si = scaled_identity(g, "a");
            let terms = [
                g.matmul(si, b),
                g.matmul(a, si),
                g.tr_mul(si, c),
                g.tr_mul(a, si),
            ];
            terms.into_iter().reduce(|x, y| g.plus(x, y)).unwrap()
        },
        |p| {
            let si = DMatrix::identity(N, N) * p.s;
            &si * &p.b + &p.a * &si + si.tr_mul(&p.c) + p.a.tr_mul(&si)
        },
    );
}

/// `identity-product` leaves a rectangular `s I` alone: it is no identity.
#[test]
fn identity_product_of_a_rectangular_identity() {
    let (mut g, _) = parse("s");
    let y = param(&g, "y");
    let si = scaled_identity(&mut g, "x");
    let yt = g.transpose(y);
    let product = g.matmul(si, yt);
    let p = Inputs::new(SEED);
    let expected = DMatrix::identity(N, 1) * p.s * p.y.transpose();
    assert_value(
        &eval(&g, product, &p),
        &Val::Matrix(expected),
        "(s I) yᵀ, I of shape n×1",
    );
}

#[test]
fn cofactors_over_det_is_inverse() {
    // The gradient of `ln det a` as `Determinant`'s and `ln`'s adjoints build
    // it, `adj(a)ᵀ (1 / det a)`, beside the loss's own `a⁻¹`.
    let ln_det_gradient = |src: &str| {
        let (mut g, _) = parse_over("a: &Matrix3<f64>", src);
        let a = param(&g, "a");
        let (det, cof, one) = (
            g.build(Determinant, &[a]),
            g.build(Cofactors, &[a]),
            g.lit(1.0),
        );
        let q = g.over(one, det);
        let gradient = g.times(cof, q);
        (g, gradient)
    };
    let (g, gradient) = ln_det_gradient("a.try_inverse().unwrap().trace()");
    assert_eq!(render(&g, gradient), "a⁻¹ᵀ");
    let m = nalgebra::Matrix3::new(2.0, 0.3, -0.5, 0.1, 1.5, 0.2, -0.4, 0.6, 3.0);
    let vals = [Val::Matrix(DMatrix::from_column_slice(3, 3, m.as_slice()))];
    let expected = m.try_inverse().unwrap().transpose();
    let expected = DMatrix::from_column_slice(3, 3, expected.as_slice());
    let got = Eval::new(&g, &vals).eval(gradient);
    assert_value(&got, &Val::Matrix(expected), "a⁻¹ᵀ");
    // Without the inverse in the graph, the cofactors stay.
    let (g, gradient) = ln_det_gradient("a.determinant()");
    assert_eq!(render(&g, gradient), "(1/det(a)) adj(a)ᵀ");
}

#[test]
fn hadamard_filled_is_scale() {
    built(
        "s a + s b",
        |g| {
            let [a, b, s] = ["a", "b", "s"].map(|n| param(g, n));
            let shape = g.shape(a);
            let filled = g.build(Filled(shape), &[s]);
            let (l, r) = (g.component_mul(filled, a), g.component_mul(b, filled));
            g.plus(l, r)
        },
        |p| {
            let filled = DMatrix::from_element(N, N, p.s);
            filled.component_mul(&p.a) + p.b.component_mul(&filled)
        },
    );
}

#[test]
fn extremum_of_zero_weight() {
    // The adjoint and the tangent of `a.max()` with the weight 0 (as the
    // shift of a stable softmax gets): zeros, no pass over `a`.
    let (mut g, _) = parse("a.max()");
    let a = param(&g, "a");
    let zero = g.lit(0.0);
    let pick = |g: &Graph, adjoint| {
        let max = (0..g.len() as u32)
            .map(Id)
            .find(|&id| matches!(g.op(id), Op::Extremum(_)));
        let Op::Extremum(Extremum(pick)) = g.op(max.expect("a max node")) else {
            unreachable!()
        };
        AtExtremum {
            pick: *pick,
            adjoint,
        }
    };
    let (at, entry) = (pick(&g, true), pick(&g, false));
    let adjoint = g.build(at, &[a, zero]);
    let tangent = g.build(entry, &[a, zero]);
    assert_eq!(structure(&g, adjoint), "Filled(0)");
    assert_eq!(g.lit_value(tangent), Some(0.0));
    let p = Inputs::new(SEED);
    assert_value(
        &eval(&g, adjoint, &p),
        &Val::Matrix(DMatrix::zeros(N, N)),
        "0",
    );
}

#[test]
fn map_adjoint_constant_is_scale() {
    // The adjoint of `a.map(|v| 3.0 * v)` for an incoming adjoint `b`.
    let (mut g, root) = parse("a.map(|v| 3.0 * v).sum()");
    let map = g.node(root).args[0];
    let Op::Map(Map { body }) = *g.op(map) else {
        panic!("not a map: {}", structure(&g, map))
    };
    let deriv = diff::derivative(&mut g, body).expect("the body depends on v");
    let [a, b] = ["a", "b"].map(|n| param(&g, n));
    let adjoint = g.build(MapAdjoint { body, deriv }, &[b, a, map]);
    assert_eq!(render(&g, adjoint), "3 b");
    let p = Inputs::new(SEED);
    let expected = p.b.component_mul(&p.a.map(|_| 3.0));
    assert_value(&eval(&g, adjoint, &p), &Val::Matrix(expected), "3 b");
}

#[test]
fn map_adjoint_of_filled() {
    // The adjoint of `a.map(|v| v.sin())` under `s * sum(…)`: `s cos.(A)`, no filled matrix.
    let (mut g, root) = parse("a.map(|v| v.sin()).sum()");
    let map = g.node(root).args[0];
    let Op::Map(Map { body }) = *g.op(map) else {
        panic!("not a map: {}", structure(&g, map))
    };
    let deriv = diff::derivative(&mut g, body).expect("the body depends on v");
    let [a, s] = ["a", "s"].map(|n| param(&g, n));
    let shape = g.shape(a);
    let filled = g.build(Filled(shape), &[s]);
    let adjoint = g.build(MapAdjoint { body, deriv }, &[filled, a, map]);
    assert_eq!(render(&g, adjoint), "s map(a, v ↦ cos(v))");
    assert!(
        matches!(g.op(g.node(adjoint).args[0]), Op::MapDerivative(_)),
        "{}",
        structure(&g, adjoint)
    );
    let p = Inputs::new(SEED);
    assert_value(
        &eval(&g, adjoint, &p),
        &Val::Matrix(p.a.map(f64::cos) * p.s),
        "s cos.(a)",
    );
}

// ---------------------------------------------------------------------------
// Gradients against finite differences.

/// Checks `diff::gradient` of the scalar body `src` (over [`PARAMS`]) with
/// respect to each parameter in `wrt`: the evaluated gradient must match
/// central finite differences of the evaluated value to 1e-6 (relative, over
/// the entries of each gradient).
pub fn check_expression(src: &str, wrt: &[&str]) {
    check_expression_at(src, wrt, &Inputs::new(SEED));
}

pub fn check_expression_at(src: &str, wrt: &[&str], inputs: &Inputs) {
    let (mut g, value) = parse(src);
    let ids: Vec<Id> = wrt.iter().map(|n| param(&g, n)).collect();
    let grads = diff::gradient(&mut g, value, &ids);
    let vals = inputs.vals();
    let mut ev = Eval::new(&g, &vals);
    for ((name, id), grad) in wrt.iter().zip(ids).zip(grads) {
        let Op::Param(p) = g.op(id) else {
            unreachable!()
        };
        let numeric = finite_differences(&g, value, &vals, p.index);
        let analytic = match grad {
            Some(grad) => ev.eval(grad),
            None => numeric.map(|_| 0.0),
        };
        let err = rel_err(&analytic, &numeric);
        let formula = grad.map_or("0".to_owned(), |grad| render(&g, grad));
        assert!(
            err <= 1e-6,
            "`{src}`: ∇{name} = {formula}\nevaluates to {analytic:?}\nfinite differences give {numeric:?}\n(relative error {err:e})"
        );
    }
}

/// Central differences of the value of `value` in each entry of parameter `index`.
fn finite_differences(g: &Graph, value: Id, vals: &[Val], index: usize) -> Val {
    const H: f64 = 1e-6;
    let f = |v: Val| {
        let mut vals = vals.to_vec();
        vals[index] = v;
        Eval::new(g, &vals).eval(value).scalar()
    };
    match &vals[index] {
        Val::Scalar(x) => Val::Scalar((f(Val::Scalar(x + H)) - f(Val::Scalar(x - H))) / (2.0 * H)),
        Val::Matrix(m) => Val::Matrix(DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
            let (mut up, mut down) = (m.clone(), m.clone());
            up[(i, j)] += H;
            down[(i, j)] -= H;
            (f(Val::Matrix(up)) - f(Val::Matrix(down))) / (2.0 * H)
        })),
    }
}

#[test]
fn gradient_of_least_squares() {
    check_expression("let r = a * x - y; r.norm_squared()", &["a", "x", "y"]);
}

#[test]
fn gradient_with_fan_out() {
    check_expression(
        "let p = a * b; let q = p * p.transpose(); q.component_mul(&p).sum() + p.trace() * s",
        &["a", "b", "s"],
    );
}

#[test]
fn gradient_through_tr_mul_dot_sqrt() {
    check_expression(
        "let w = a.tr_mul(x); w.dot(&w).sqrt() * s + (x.transpose() * w).trace()",
        &["a", "x", "s"],
    );
}

#[test]
fn gradient_of_map() {
    check_expression("a.map(|v| v.sin() * v.exp() + v.tanh()).sum()", &["a"]);
    check_expression("a.map(|v| 3.0 * v - 1.0).norm_squared()", &["a"]);
}

#[test]
fn gradient_of_map_with_fan_out() {
    check_expression(
        "let z = a * b; z.map(|v| (v * v + 1.0).ln()).component_mul(&z).sum()",
        &["a", "b"],
    );
    check_expression(
        "let e = x.map(|v| v.exp()); e.dot(&y) / e.sum() + a.map(|v| v.powi(3) * 2.0).trace()",
        &["x", "y", "a"],
    );
}

#[test]
fn gradient_of_inverse() {
    check_expression(
        "(a.try_inverse().unwrap() * b).trace() + a.try_inverse().unwrap().norm_squared()",
        &["a", "b"],
    );
}

#[test]
fn gradient_of_determinant() {
    check_expression(
        "let m = a.transpose() * a; m.determinant().ln() + a.determinant() * s",
        &["a", "s"],
    );
}

#[test]
fn gradient_of_component_div() {
    check_expression(
        "a.component_div(&b.map(|v| v * v + 1.0)).sum() + x.component_div(&y.map(|v| v.exp())).dot(&x)",
        &["a", "b", "x", "y"],
    );
}

#[test]
fn gradient_of_powf() {
    check_expression(
        "s.powf(2.5) + x.norm().powf(t) + b.map(|v| (v * v + 0.5).powf(1.5)).sum()",
        &["s", "t", "x", "b"],
    );
}

#[test]
fn gradient_of_norm_and_scalar_division() {
    check_expression(
        "(a * x).norm() / s + (b * s).norm() * (a - b).norm()",
        &["a", "b", "x", "s"],
    );
}

#[test]
fn gradient_of_scalar_functions() {
    check_expression(
        "let q = s * t; (q.sqrt() + t.recip() + s.cos() * t.sin() - (s - t).abs()).exp() + q.powi(3)",
        &["s", "t"],
    );
}

#[test]
fn gradient_of_scaling_tr_dot_and_abs() {
    check_expression(
        "(a / s).component_mul(&b).sum() + a.tr_dot(&c) * s.powi(2) - (b * x).map(|v| v.abs()).sum()",
        &["a", "b", "c", "x", "s"],
    );
}

#[test]
fn gradient_of_quadratic_form_times_trace() {
    check_expression(
        "let l = -(a * b.transpose()).trace(); (x.transpose() * b * x).trace() * l",
        &["a", "b", "x"],
    );
}

/// `i − 0 ⇒ i`, `i + 0 ⇒ i`, `0 + i ⇒ i` on integers (the tape position of a
/// loop from 0); `0 − i` stays.
#[test]
fn int_plus_minus_zero() {
    let mut g = Graph::new(Scalar::F64, Dims::default());
    let i = g.build(
        RegionParam {
            k: 0,
            shape: crate::shape::Shape::Int,
        },
        &[],
    );
    let zero = g.build(IntLit(0), &[]);
    assert_eq!(g.build(IntArith::Sub, &[i, zero]), i);
    assert_eq!(g.build(IntArith::Add, &[i, zero]), i);
    assert_eq!(g.build(IntArith::Add, &[zero, i]), i);
    assert_ne!(g.build(IntArith::Sub, &[zero, i]), i);
}
