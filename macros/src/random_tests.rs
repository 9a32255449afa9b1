//! Random-expression property tests.
//!
//! A type-directed generator writes the *source text* of random `#[grad]`
//! bodies (`let w0 = …; let w1 = …; <scalar tail>`) over every operation the
//! parser accepts, for parameters of several shapes declared with dynamic,
//! static or mixed nalgebra types. Each case is one of four variants of the
//! same kind of function, drawn from the seed independently of the body:
//!
//! - a function of `f64`: `fn f(a: &DMatrix<f64>, …, s: f64, t: f64) -> f64`;
//! - a function generic over the scalar, `fn f<T: RealField + Copy>(a:
//!   &DMatrix<T>, …) -> T`, whose literals are written `T::from_f64(c).unwrap()`,
//!   `nalgebra::convert(c)`, `convert(c)`, `T::one()` or `T::zero()`, and whose
//!   typed `let`s and closure parameters are of `T` (the graph is built with the
//!   generic scalar, as the macro builds it);
//! - a method, `fn f(&self, <some parameters>) -> f64`, where a random subset
//!   of the parameters (at least one, never all) has become fields of `self`:
//!   each is read either directly (`self.b`, `&self.b`) where its context gives
//!   the parser its shape — an operand of `+`/`−` beside a non-field, a factor
//!   of `*` beside a non-field of the same kind, the divisor of `/`, the
//!   receiver or argument of a method that says what it is — or, where it
//!   does not, through a `let` with its type (`let b: &DMatrix<f64> =
//!   &self.b;`). The attribute lists the remaining parameters;
//! - a generic method, both at once.
//!
//! About a third of the bodies also have `for` loops (see [`ForLoop`]):
//! sums (`w += …`, `-=`), recurrences on scalars, vectors and matrices kept
//! bounded (`tanh`, scalings by 1/2, `*=` by factors near 1, `/=` by factors
//! at least 1), nested loops (updating the outer carried values, or a local
//! accumulator `u0` folded into one), over ranges (`lo..hi`, `..=`,
//! reversed, bounds literal or `x.len()`, `a.nrows()`, `b.ncols()`) or
//! entries (`x.iter()`, `.rev()`, `.enumerate()`, `.zip(…)`), reading the
//! index as a float (`i0 as f64`, in functions of `f64` only), the elements,
//! and entries `x[i]`, `a[(i, j)]` at indices in range (`i0`, `i0 - 1`,
//! `k - i0`, `i0 % k`).
//!
//! Each case goes through the real pipeline (`parse::body`, which also
//! simplifies, then `diff::gradient`), and is checked four ways:
//!
//! 1. the whole macro expansion (`expand::grad`) yields code, not `compile_error!`;
//! 2. the engine's forward value (evaluated by `eval.rs`, in `f64` whatever the
//!    declared scalar, with the fields' values as the values of the constants
//!    read from them) equals the value of the same source interpreted directly
//!    with nalgebra by [`Reference`] (so parser and rewrite table must preserve
//!    values), and so does the value `_grad` returns, its traces read off the
//!    gradient's products (`share`);
//! 3. every entry of the gradient with respect to every parameter the
//!    attribute lists (all of them; for a method, all but the fields) matches
//!    central finite differences of the evaluated forward value, relative error
//!    `|a − n| / max(1, |a|, |n|) ≤ 1e-5`;
//! 4. the tangent of those gradients along a random direction (a
//!    Hessian-vector product) matches differences of the gradients. Loop
//!    programs are checked too: the tangent of a loop is a loop carrying the
//!    values and their tangents, which `eval.rs` runs like any other (with
//!    its tapes, `TapeNext`, and the branches an `if` makes). Not run where
//!    an operation has no tangent rule (none has today), counted by reason;
//!    the counts for loop programs are reported apart.
//!
//! Values stay in a safe domain by construction: `ln`, `sqrt`, `powf`, `recip`,
//! `ln_1p`, `log2`, `log10`, `cbrt`, `log` of positive expressions (`log` to a
//! base ≥ 1.5, `acosh` of values ≥ 1.5), `exp`, `exp_m1`, `exp2`, `sinh`,
//! `cosh` of bounded ones, `asin`, `acos`, `atanh` of `0.9 tanh(x)` and `tan`
//! of `1.2 tanh(x)`, inverses,
//! log-determinants and logarithms (`matgrad::logm`) of symmetric positive
//! definite matrices or of `p + E` with `‖E‖₂ ≤ 1/2` (not symmetric, so that
//! adjoints confusing a matrix with its transpose show), `cross` of operands typed as vectors. A mismatch
//! counts as a failure only if the finite differences are trustworthy there:
//! they agree across steps h/4, h, 4h, are not drowned in rounding (judged
//! from the largest intermediate value), and the point is not a kink (`abs`,
//! `relu`, `signum`) or a tie (`max`, `min`, `clamp`, and the entries a
//! matrix's `max`, `min`, `amax`, `amin` choose among). Otherwise the case is
//! skipped with its reason, as are cases whose plain-nalgebra value is not
//! finite, cases with an intermediate value not finite or beyond 1e8, and
//! cases that take the norm (`norm()`, `lp_norm(2)`) of an exactly zero
//! matrix (where `‖·‖` has no derivative and the engine, as documented, gives
//! NaN). Intermediate values, norms of zero, kinks and ties are seen by the
//! evaluator's watch ([`Eval::watching`]), in every iteration of the loops
//! too (kinks inside `map` closures are not looked at). Skips are counted and
//! reported; more than 10 % fails the test.
//!
//! `MATGRAD_PROPTEST_CASES=N` sets the number of cases (default 2,000, split
//! over four tests, seeds 0..N); `MATGRAD_PROPTEST_SEED=k` runs case `k` alone;
//! `MATGRAD_PROPTEST_SHOW=1` prints every case's source. Run with
//! `-- --nocapture` to see the counts, in total and per variant. A failure
//! prints its seed, its source, a minimised source and a ready regression line
//! (`check_source(…)`, or `check_generic_source(…)` for the generic variants;
//! a method's parameter list starts with `&self` and its fields are the
//! parameters it no longer declares); the regressions found so far are at the
//! end of this file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use nalgebra::DMatrix;
use proc_macro2::TokenStream;
use syn::{BinOp, Expr, Lit, Pat, Stmt, UnOp};

use crate::errors::Errors;
use crate::eval::{Eval, Val};
use crate::ir::ops::{Fun, Op};
use crate::ir::{Graph, Id, Scalar};
use crate::shape::Dims;
use crate::{attr, diff, parse, signature, steps};

// ---------------------------------------------------------------------------
// Settings.

const DEFAULT_CASES: u64 = 2_000;
/// The cases are split over this many `#[test]`s, which run in parallel.
const SHARDS: u64 = 4;
/// Gradient entries must match finite differences to this relative error.
const TOL: f64 = 1e-5;
/// The base step of the central differences (scaled by `max(1, |x|)`).
const STEP: f64 = 1e-5;
/// The engine's forward value must match the reference to this relative error.
const FORWARD_TOL: f64 = 1e-9;
const MAX_SKIPPED: f64 = 0.10;
/// Cases with an intermediate value larger than this are skipped.
const MAX_MAGNITUDE: f64 = 1e8;
/// The chances that a case is generic over the scalar, and that it is a
/// method (drawn independently of each other and of the body).
const P_GENERIC: f64 = 0.3;
const P_METHOD: f64 = 0.3;
/// The chance that a parameter becomes a field, in a method.
const P_FIELD: f64 = 0.4;
/// Mixed into the seed for the draws of the variant.
const VARIANT_SALT: u64 = 0x7A21_A47E_0F5C_A1E5;

fn total_cases() -> u64 {
    std::env::var("MATGRAD_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

// ---------------------------------------------------------------------------
// A seeded generator (SplitMix64): no `rand` crate.

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x2545_F491_4F6C_DD1D)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// An index drawn with the given weights (not all zero).
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut r = self.below(total as usize) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        unreachable!()
    }
}

// ---------------------------------------------------------------------------
// The parameters of every case.

/// Declared in this order: `a` n×n, `b` n×m, `p` n×n and `q` m×m symmetric
/// positive definite (by their values), `x` n, `y` m, `s` a scalar in
/// [−1, 1), `t` a scalar in [0.5, 1.5).
const NAMES: [&str; 8] = ["a", "b", "p", "q", "x", "y", "s", "t"];
const PA: usize = 0;
const PB: usize = 1;
const PP: usize = 2;
const PQ: usize = 3;
const PX: usize = 4;
const PY: usize = 5;
const PS: usize = 6;
const PT: usize = 7;

fn param_shape(i: usize, n: usize, m: usize) -> Sh {
    match i {
        PA | PP => Sh::M(n, n),
        PB => Sh::M(n, m),
        PQ => Sh::M(m, m),
        PX => Sh::M(n, 1),
        PY => Sh::M(m, 1),
        _ => Sh::S,
    }
}

/// What a case runs on: the dimensions, the seed of the parameter values, the
/// parameter list as declared (types vary; names and order do not; a method's
/// starts with `&self` and leaves out the parameters that became fields), and
/// whether the scalar is the type parameter `T` (in the declared types too).
#[derive(Clone, Debug)]
pub struct Fixture {
    pub n: usize,
    pub m: usize,
    pub seed: u64,
    pub params: String,
    pub generic: bool,
}

/// Random dimensions in 1..=5 and random parameter declarations of `f64`:
/// all dynamic (`DMatrix`, or one dimension dynamic: `OMatrix<f64, U3, Dyn>`,
/// `MatrixXx2`), all static (`SMatrix`, `Matrix3`, …) or mixed.
fn random_decls(rng: &mut Rng) -> (usize, usize, Vec<String>) {
    let (n, m) = (1 + rng.below(5), 1 + rng.below(5));
    let mode = rng.below(3);
    let mut decls = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let dynamic = match mode {
            0 => true,
            1 => false,
            _ => rng.chance(0.5),
        };
        // The second draw also picks, for a dynamic parameter, between the
        // `D…` aliases and the owned types spelled out, one dimension fixed.
        let ty = match param_shape(i, n, m) {
            Sh::S => "f64".to_owned(),
            Sh::M(r, _) if i == PX || i == PY => match (dynamic, rng.chance(0.5)) {
                (true, true) => "DVector<f64>".to_owned(),
                (true, false) => "OVector<f64, Dyn>".to_owned(),
                (false, true) => format!("SVector<f64, {r}>"),
                (false, false) => format!("Vector{r}<f64>"),
            },
            Sh::M(r, c) => match (dynamic, rng.chance(0.5)) {
                (true, true) => "DMatrix<f64>".to_owned(),
                (true, false) => match i % 3 {
                    0 => format!("OMatrix<f64, U{r}, Dyn>"),
                    1 => format!("MatrixXx{c}<f64>"),
                    _ => format!("OMatrix<f64, Dyn, Const<{c}>>"),
                },
                (false, true) => format!("SMatrix<f64, {r}, {c}>"),
                (false, false) if r == c => format!("Matrix{r}<f64>"),
                (false, false) => format!("Matrix{r}x{c}<f64>"),
            },
        };
        let by_ref = ty != "f64" && rng.chance(0.85);
        decls.push(format!("{name}: {}{ty}", if by_ref { "&" } else { "" }));
    }
    (n, m, decls)
}

impl Fixture {
    /// The function with this signature and `body`.
    pub(crate) fn function(&self, body: &str) -> String {
        let generics = if self.generic {
            "<T: RealField + Copy>"
        } else {
            ""
        };
        format!(
            "fn f{generics}({}) -> {} {{ {body} }}",
            self.params,
            self.style().scalar()
        )
    }

    /// The declared parameters (indices into [`NAMES`]), in order.
    fn declared(&self) -> Vec<usize> {
        let sig: syn::Signature =
            syn::parse_str(&format!("fn f({})", self.params)).expect("a parameter list");
        sig.inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(t) => match &*t.pat {
                    Pat::Ident(p) => NAMES.iter().position(|n| p.ident == n),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect()
    }

    /// Whether the first parameter is `self` (by reference or not).
    fn is_method(&self) -> bool {
        let first = self.params.split(',').next().unwrap_or_default().trim();
        matches!(first, "self" | "&self" | "mut self" | "&mut self")
    }

    /// The parameters that are fields of `self` (in a method): those it does
    /// not declare.
    fn fields(&self) -> Vec<usize> {
        if !self.is_method() {
            return Vec::new();
        }
        let declared = self.declared();
        (0..NAMES.len()).filter(|i| !declared.contains(i)).collect()
    }

    fn variant(&self) -> &'static str {
        match (self.generic, self.is_method()) {
            (false, false) => "function of f64",
            (true, false) => "generic function",
            (false, true) => "method",
            (true, true) => "generic method",
        }
    }

    pub(crate) fn style(&self) -> Style {
        Style {
            generic: self.generic,
        }
    }

    /// The parameter values, in declaration order (vectors as n×1 matrices).
    fn values(&self) -> Vec<Val> {
        let (n, m) = (self.n, self.m);
        let mut r = Rng::new(self.seed ^ 0x5EED_F00D);
        let mut mat =
            |rows: usize, cols: usize| DMatrix::from_fn(rows, cols, |_, _| r.range(-1.0, 1.0));
        let a = mat(n, n);
        let b = mat(n, m);
        // L Lᵀ / k + I: symmetric, eigenvalues in [1, 1 + k/3 or so].
        let spd = |l: DMatrix<f64>| {
            let k = l.nrows();
            &l * l.transpose() / k as f64 + DMatrix::identity(k, k)
        };
        let p = spd(mat(n, n));
        let q = spd(mat(m, m));
        let x = mat(n, 1);
        let y = mat(m, 1);
        let st = mat(1, 2);
        [a, b, p, q, x, y]
            .into_iter()
            .map(Val::Matrix)
            .chain([Val::Scalar(st[0]), Val::Scalar(1.0 + st[1] / 2.0)])
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The generator's syntax tree: rendered to source, and shrunk on failure.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sh {
    S,
    M(usize, usize),
}

/// What the generator knows about a value, beyond its shape.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Any,
    /// A scalar of magnitude at most about 3.
    Bounded,
    /// A scalar bounded away from 0 from above.
    Positive,
    /// A symmetric positive definite matrix, well conditioned.
    Spd,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum K {
    Param(usize),
    Let(usize),
    Lit(f64),
    /// The closure parameter `v` of a `map`.
    V,
    Neg,
    Add,
    Sub,
    /// `*` in all its meanings (scalar, scaling, matrix product).
    Mul,
    /// `/` by a scalar.
    Div,
    Transpose,
    TrMul,
    Dot,
    TrDot,
    Trace,
    Det,
    /// `try_inverse().unwrap()` or (`true`) `.expect("…")`.
    Inverse(bool),
    CompMul,
    CompDiv,
    Norm,
    NormSq,
    Sum,
    Kron,
    Cross,
    MatExp,
    Pow(u32),
    Exp,
    Ln,
    Sqrt,
    Sin,
    Cos,
    Tanh,
    Abs,
    Recip,
    Powi(i32),
    Powf,
    /// `args[0].map(|v| args[1])`.
    Map,
    /// `args[0].map(matgrad::f)`.
    MapFn(&'static str),
    /// A scalar method of `f64` with the other arguments as its arguments,
    /// `args[0].f(args[1], …)`, or (alternatively) by its path,
    /// `f64::f(args[0], …)`.
    Method(&'static str),
    /// `args[0].map(f64::f)` (`T::f` when generic), `f` a scalar method.
    MapMethod(&'static str),
    /// A method of matrices picking an entry or taking magnitudes: `max`,
    /// `min`, `amax`, `amin`, `abs`.
    MatMethod(&'static str),
    /// `args[0].lp_norm(p)`.
    LpNorm(i32),
    /// `matgrad::f(args[0])` (or `f(args[0])` when not qualified).
    Call(&'static str, bool),
    /// `args[0].clone()`.
    Clone,
    /// `&args[0]`.
    Ref,
    /// A parameter become a field, read directly: `self.<name>`.
    Field(usize),
    /// The index of the loop at depth `d` as a float: `i{d} as f64`.
    Index(usize),
    /// An element bound by the loop at depth `d` (`e{d}`, or `f{d}` for the
    /// second of a `zip`), written `*e{d}` (`true`) when bound by reference.
    Elem(usize, usize, bool),
    /// The local accumulator `u{d}` declared in the body of the loop at depth `d`.
    Local(usize),
    /// `args[0][i]` (column-major) or `args[0][(i, j)]`.
    Entry(Ix, Option<Ix>),
    /// `args[0].row_sum()`, `column_sum`, `row_mean`, `column_mean`.
    AxisReduce(&'static str),
    /// `args[0].mean()`, `args[0].variance()`.
    Moment(&'static str),
    /// `args[0].add_scalar(args[1])`.
    AddScalar,
    /// `DMatrix::from_element(r, c, args[0])` of the node's shape (or
    /// `DVector::from_element(r, …)`), `repeat`, `from_diagonal_element`.
    Fill(&'static str),
    /// `DMatrix::zeros(r, c) + args[0]`.
    ZerosPlus,
    /// `Matrix2x3::new(args…)` (row-major), `Vector3::new`, `RowVector2::new`,
    /// or (alt, for a vector) `SVector::<f64, 3>::from([args…])`.
    New,
    /// A factorisation of `args[0]` and what is read off it (with `args[1]`
    /// for a solve).
    Factor(Fac),
}

/// What the generator reads off a factorisation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fac {
    /// `a.clone().cholesky().unwrap().solve(&b)` (`.expect(…)` when `alt`).
    CholSolve,
    /// `….ln_determinant()`.
    CholLnDet,
    /// `….determinant().ln()`.
    CholDetLn,
    /// `….inverse()`.
    CholInverse,
    /// `….l()`.
    CholL,
    /// `a.clone().lu().solve(&b).unwrap()` (`.expect(…)` when `alt`).
    LuSolve,
    /// `a.clone().lu().determinant().ln()`.
    LuLogDet,
    /// `a.solve_lower_triangular(&b).unwrap()`, `solve_upper_triangular`,
    /// and (`true`) their `tr_` forms.
    TriSolve(bool, bool),
}

/// An index into a matrix, from the loop indices in scope; valid by
/// construction for the ranges the loops run over.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ix {
    /// `i{d}`, or `i{d} - 1` (offset −1).
    Var(usize, i64),
    /// `{k} - i{d}`: from the end (`k` is the length less one).
    Back(usize, usize),
    /// `i{d} % {k}`.
    Rem(usize, usize),
    Lit(usize),
}

impl Ix {
    fn render(self) -> String {
        match self {
            Ix::Var(d, 0) => format!("i{d}"),
            Ix::Var(d, off) => format!("i{d} - {}", -off),
            Ix::Back(d, k) => format!("{k} - i{d}"),
            Ix::Rem(d, k) => format!("i{d} % {k}"),
            Ix::Lit(k) => format!("{k}"),
        }
    }
}

/// A loop of a body: `for <pattern> in <iteration> { <statements> }`.
#[derive(Clone, Debug)]
struct ForLoop {
    /// Written just before `let w{at}` (after the first `at` lets); for a
    /// nested loop, unused.
    at: usize,
    /// The nesting depth, which names the index `i{depth}`, the elements
    /// `e{depth}`, `f{depth}` and the local `u{depth}`.
    depth: usize,
    iter: Iter,
    body: Vec<LStmt>,
}

#[derive(Clone, Debug)]
enum Iter {
    /// `lo..hi` or `lo..=hi`, reversed as `(…).rev()`; binds `i{d}`.
    Range {
        lo: usize,
        hi: Bound,
        inclusive: bool,
        rev: bool,
    },
    /// `x.iter()`, `.rev()`, `.enumerate()` (binding `i{d}` too) or
    /// `.zip(y.iter())`; binds `e{d}` (and `f{d}`), as `&e{d}` or by
    /// reference (then read as `*e{d}`).
    Entries {
        of: E,
        zip: Option<E>,
        enumerate: bool,
        rev: bool,
        by_ref: bool,
    },
}

/// A loop's upper bound: a literal, or a size (`x.len()`, `a.nrows()`, `b.ncols()`).
#[derive(Clone, Debug)]
enum Bound {
    Lit(usize),
    Size(E, &'static str),
}

/// A statement of a loop body.
#[derive(Clone, Debug)]
enum LStmt {
    /// `target = e;` or `target op= e;`.
    Update(Target, Upd, E),
    /// `let mut u{d} = e;`, an accumulator of the nested loop that follows.
    Local(usize, E),
    For(ForLoop),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Let(usize),
    Local(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Upd {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

impl ForLoop {
    fn render(&self, st: Style, out: &mut String) {
        let d = self.depth;
        let (pattern, iteration) = match &self.iter {
            Iter::Range {
                lo,
                hi,
                inclusive,
                rev,
            } => {
                let hi = match hi {
                    Bound::Lit(k) => k.to_string(),
                    Bound::Size(x, method) => format!("{}.{method}()", x.receiver(st)),
                };
                let range = format!("{lo}..{}{hi}", if *inclusive { "=" } else { "" });
                let range = if *rev {
                    format!("({range}).rev()")
                } else {
                    range
                };
                (format!("i{d}"), range)
            }
            Iter::Entries {
                of,
                zip,
                enumerate,
                rev,
                by_ref,
            } => {
                let amp = if *by_ref { "" } else { "&" };
                let mut it = format!("{}.iter()", of.receiver(st));
                let mut pat = format!("{amp}e{d}");
                if let Some(y) = zip {
                    it = format!("{it}.zip({}.iter())", y.receiver(st));
                    pat = format!("({pat}, {amp}f{d})");
                }
                if *rev {
                    it = format!("{it}.rev()");
                }
                if *enumerate {
                    it = format!("{it}.enumerate()");
                    pat = format!("(i{d}, {pat})");
                }
                (pat, it)
            }
        };
        let _ = write!(out, "for {pattern} in {iteration} {{ ");
        for stmt in &self.body {
            match stmt {
                LStmt::Update(target, upd, e) => {
                    let name = match target {
                        Target::Let(i) => format!("w{i}"),
                        Target::Local(d) => format!("u{d}"),
                    };
                    let op = match upd {
                        Upd::Set => "=",
                        Upd::Add => "+=",
                        Upd::Sub => "-=",
                        Upd::Mul => "*=",
                        Upd::Div => "/=",
                    };
                    let _ = write!(out, "{name} {op} {}; ", e.render(st));
                }
                LStmt::Local(d, e) => {
                    let _ = write!(out, "let mut u{d} = {}; ", e.render(st));
                }
                LStmt::For(inner) => inner.render(st, out),
            }
        }
        out.push_str("} ");
    }

    /// Whether the loop (or one nested in it) assigns `target`.
    fn assigns(&self, target: Target) -> bool {
        self.body.iter().any(|s| match s {
            LStmt::Update(t, ..) => *t == target,
            LStmt::Local(..) => false,
            LStmt::For(inner) => inner.assigns(target),
        })
    }

    /// Every expression of the loop: its bounds and what it iterates over,
    /// then its statements', in order.
    fn exprs<'e>(&'e self, out: &mut Vec<&'e E>) {
        match &self.iter {
            Iter::Range {
                hi: Bound::Size(x, _),
                ..
            } => out.push(x),
            Iter::Range { .. } => {}
            Iter::Entries { of, zip, .. } => {
                out.push(of);
                out.extend(zip.iter());
            }
        }
        for stmt in &self.body {
            match stmt {
                LStmt::Update(_, _, e) | LStmt::Local(_, e) => out.push(e),
                LStmt::For(inner) => inner.exprs(out),
            }
        }
    }

    fn exprs_mut<'e>(&'e mut self, out: &mut Vec<&'e mut E>) {
        match &mut self.iter {
            Iter::Range {
                hi: Bound::Size(x, _),
                ..
            } => out.push(x),
            Iter::Range { .. } => {}
            Iter::Entries { of, zip, .. } => {
                out.push(of);
                out.extend(zip.iter_mut());
            }
        }
        for stmt in &mut self.body {
            match stmt {
                LStmt::Update(_, _, e) | LStmt::Local(_, e) => out.push(e),
                LStmt::For(inner) => inner.exprs_mut(out),
            }
        }
    }

    /// The targets renumbered after `let w{i}` is removed.
    fn renumber(&mut self, i: usize) {
        for stmt in &mut self.body {
            match stmt {
                LStmt::Update(Target::Let(j), ..) if *j > i => *j -= 1,
                LStmt::For(inner) => inner.renumber(i),
                _ => {}
            }
        }
    }

    /// The programs with one statement fewer somewhere in the loop (keeping
    /// at least one per body), for the shrinker.
    fn smaller(&self) -> Vec<ForLoop> {
        let mut out = Vec::new();
        for k in 0..self.body.len() {
            if self.body.len() > 1 {
                let mut l = self.clone();
                l.body.remove(k);
                out.push(l);
            }
            if let LStmt::For(inner) = &self.body[k] {
                for smaller in inner.smaller() {
                    let mut l = self.clone();
                    l.body[k] = LStmt::For(smaller);
                    out.push(l);
                }
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
struct E {
    k: K,
    args: Vec<E>,
    sh: Sh,
    /// Written another way the parser also accepts: `|v: f64|`, `map(sigmoid)`,
    /// `clone_owned()`, an integer literal.
    alt: bool,
    /// How a literal is written for a generic scalar (see [`generic_literal`]).
    form: u8,
}

fn node(k: K, args: Vec<E>, sh: Sh) -> E {
    E {
        k,
        args,
        sh,
        alt: false,
        form: 0,
    }
}

/// How a body is written: with the scalar `f64` or the type parameter `T`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    generic: bool,
}

impl Style {
    fn scalar(self) -> &'static str {
        if self.generic {
            "T"
        } else {
            "f64"
        }
    }
}

/// A literal of a generic scalar `T`, in one of the forms the parser accepts.
fn generic_literal(v: f64, form: u8) -> String {
    match form {
        1 => format!("nalgebra::convert({v:?})"),
        2 => format!("convert({v:?})"),
        3 if v == 1.0 => "T::one()".to_owned(),
        3 if v == 0.0 => "T::zero()".to_owned(),
        3 if v == -1.0 => "-T::one()".to_owned(),
        _ => format!("T::from_f64({v:?}).unwrap()"),
    }
}

fn lit(v: f64) -> E {
    node(K::Lit(v), vec![], Sh::S)
}

/// An operation whose result has the shape of its (first) argument.
fn same(k: K, a: E) -> E {
    let sh = a.sh;
    node(k, vec![a], sh)
}

fn same2(k: K, a: E, b: E) -> E {
    let sh = a.sh;
    node(k, vec![a, b], sh)
}

fn to_scalar(k: K, args: Vec<E>) -> E {
    node(k, args, Sh::S)
}

/// `a * b` as nalgebra reads it.
fn mul(a: E, b: E) -> E {
    let sh = match (a.sh, b.sh) {
        (Sh::S, s) | (s, Sh::S) => s,
        (Sh::M(r, _), Sh::M(_, c)) => Sh::M(r, c),
    };
    node(K::Mul, vec![a, b], sh)
}

fn transpose(a: E) -> E {
    let sh = match a.sh {
        Sh::M(r, c) => Sh::M(c, r),
        Sh::S => Sh::S,
    };
    node(K::Transpose, vec![a], sh)
}

fn tr_mul(a: E, b: E) -> E {
    let (Sh::M(_, c1), Sh::M(_, c2)) = (a.sh, b.sh) else {
        unreachable!()
    };
    node(K::TrMul, vec![a, b], Sh::M(c1, c2))
}

fn plus_lit(a: E, v: f64) -> E {
    same2(K::Add, a, lit(v))
}

impl E {
    fn size(&self) -> usize {
        1 + self.args.iter().map(E::size).sum::<usize>()
    }

    fn uses_let(&self, i: usize) -> bool {
        self.k == K::Let(i) || self.args.iter().any(|a| a.uses_let(i))
    }

    fn uses_param(&self, i: usize) -> bool {
        self.k == K::Param(i) || self.args.iter().any(|a| a.uses_param(i))
    }

    /// Whether a node satisfies `f`.
    fn any(&self, f: &dyn Fn(&E) -> bool) -> bool {
        f(self) || self.args.iter().any(|a| a.any(f))
    }

    /// Every node, root first.
    fn nodes_mut(&mut self, f: &mut dyn FnMut(&mut E)) {
        f(self);
        for a in &mut self.args {
            a.nodes_mut(f);
        }
    }

    /// Replaces `Let(i)` by `with` and renumbers later lets down by one.
    fn inline_let(&self, i: usize, with: &E) -> E {
        match self.k {
            K::Let(j) if j == i => with.clone(),
            K::Let(j) if j > i => node(K::Let(j - 1), vec![], self.sh),
            _ => E {
                args: self.args.iter().map(|a| a.inline_let(i, with)).collect(),
                ..self.clone()
            },
        }
    }

    fn at(&self, path: &[usize]) -> &E {
        match path.split_first() {
            None => self,
            Some((&i, rest)) => self.args[i].at(rest),
        }
    }

    fn replaced(&self, path: &[usize], with: &E) -> E {
        match path.split_first() {
            None => with.clone(),
            Some((&i, rest)) => {
                let mut e = self.clone();
                e.args[i] = self.args[i].replaced(rest, with);
                e
            }
        }
    }

    /// Every node's path, root first, with whether it lies in a closure body.
    fn paths(&self, prefix: &mut Vec<usize>, closure: bool, out: &mut Vec<(Vec<usize>, bool)>) {
        out.push((prefix.clone(), closure));
        for (i, a) in self.args.iter().enumerate() {
            prefix.push(i);
            a.paths(prefix, closure || (self.k == K::Map && i == 1), out);
            prefix.pop();
        }
    }

    /// Picks the alternative spellings at random.
    fn vary(&mut self, rng: &mut Rng) {
        self.alt = rng.chance(0.15);
        for a in &mut self.args {
            a.vary(rng);
        }
    }

    /// Whether the rendering needs no parentheses as an operand of `+ - * /`.
    fn primary(&self) -> bool {
        match self.k {
            K::Lit(v) => v >= 0.0,
            K::Neg | K::Add | K::Sub | K::Mul | K::Div | K::Ref | K::Index(_) | K::ZerosPlus => {
                false
            }
            K::Elem(_, _, deref) => !deref,
            _ => true,
        }
    }

    /// As the receiver of a method call.
    fn receiver(&self, st: Style) -> String {
        if self.primary() && !matches!(self.k, K::Lit(_)) {
            self.render(st)
        } else {
            format!("({})", self.render(st))
        }
    }

    fn operand(&self, st: Style) -> String {
        // `&self.x * w`, as one writes it.
        let field_ref = self.k == K::Ref && matches!(self.args[0].k, K::Field(_));
        if self.primary() || field_ref {
            self.render(st)
        } else {
            format!("({})", self.render(st))
        }
    }

    /// As a by-reference argument: `&x`, `&(x + y)`.
    fn by_ref(&self, st: Style) -> String {
        match self.k {
            K::Ref => self.render(st),
            _ if self.primary() => format!("&{}", self.render(st)),
            _ => format!("&({})", self.render(st)),
        }
    }

    fn render(&self, st: Style) -> String {
        let a = &self.args;
        let method = |name: &str| format!("{}.{name}()", a[0].receiver(st));
        let method1 = |name: &str| format!("{}.{name}({})", a[0].receiver(st), a[1].by_ref(st));
        let infix = |op: &str| format!("{} {op} {}", a[0].operand(st), a[1].operand(st));
        match &self.k {
            K::Param(i) => NAMES[*i].to_owned(),
            K::Field(i) => format!("self.{}", NAMES[*i]),
            K::Let(i) => format!("w{i}"),
            K::Lit(v) if st.generic => generic_literal(*v, self.form),
            K::Lit(v) if self.alt && v.fract() == 0.0 && v.abs() < 100.0 => format!("{v}"),
            K::Lit(v) => format!("{v:?}"),
            K::V => "v".to_owned(),
            K::Neg => format!("-{}", a[0].operand(st)),
            K::Add => infix("+"),
            K::Sub => infix("-"),
            K::Mul => infix("*"),
            K::Div => infix("/"),
            K::Transpose => method("transpose"),
            K::TrMul => method1("tr_mul"),
            K::Dot => method1("dot"),
            K::TrDot => method1("tr_dot"),
            K::Trace => method("trace"),
            K::Det => method("determinant"),
            K::Inverse(false) => method("try_inverse().unwrap"),
            K::Inverse(true) => format!(
                "{}.try_inverse().expect(\"singular matrix\")",
                a[0].receiver(st)
            ),
            K::CompMul => method1("component_mul"),
            K::CompDiv => method1("component_div"),
            K::Norm => method("norm"),
            K::NormSq => method("norm_squared"),
            K::Sum => method("sum"),
            K::Kron => method1("kronecker"),
            K::Cross => method1("cross"),
            K::MatExp | K::Exp => method("exp"),
            K::Pow(k) => format!("{}.pow({k})", a[0].receiver(st)),
            K::Ln => method("ln"),
            K::Sqrt => method("sqrt"),
            K::Sin => method("sin"),
            K::Cos => method("cos"),
            K::Tanh => method("tanh"),
            K::Abs => method("abs"),
            K::Recip => method("recip"),
            K::Powi(k) => format!("{}.powi({k})", a[0].receiver(st)),
            K::Powf => format!("{}.powf({})", a[0].receiver(st), a[1].render(st)),
            K::Map if self.alt => format!(
                "{}.map(|v: {}| {})",
                a[0].receiver(st),
                st.scalar(),
                a[1].render(st)
            ),
            K::Map => format!("{}.map(|v| {})", a[0].receiver(st), a[1].render(st)),
            K::MapFn(f) if self.alt => format!("{}.map({f})", a[0].receiver(st)),
            K::MapFn(f) => format!("{}.map(matgrad::{f})", a[0].receiver(st)),
            K::Method(f) if self.alt => {
                let args: Vec<String> = a.iter().map(|x| x.render(st)).collect();
                format!("{}::{f}({})", st.scalar(), args.join(", "))
            }
            K::Method(f) => {
                let args: Vec<String> = a[1..].iter().map(|x| x.render(st)).collect();
                format!("{}.{f}({})", a[0].receiver(st), args.join(", "))
            }
            K::MapMethod(f) => format!("{}.map({}::{f})", a[0].receiver(st), st.scalar()),
            K::MatMethod(f) => method(f),
            K::LpNorm(p) => format!("{}.lp_norm({p})", a[0].receiver(st)),
            K::Call(f, qualified) => {
                let arg = match a[0].sh {
                    Sh::S => a[0].render(st),
                    Sh::M(..) => a[0].by_ref(st),
                };
                let path = if *qualified { "matgrad::" } else { "" };
                format!("{path}{f}({arg})")
            }
            K::Clone if self.alt => method("clone_owned"),
            K::Clone => method("clone"),
            K::Ref => format!("&{}", a[0].operand(st)),
            K::Index(d) => format!("i{d} as f64"),
            K::Elem(d, which, deref) => {
                format!("{}{}{d}", if *deref { "*" } else { "" }, ["e", "f"][*which])
            }
            K::Local(d) => format!("u{d}"),
            K::Factor(f) => {
                let x = a[0].receiver(st);
                let unwrap = if self.alt {
                    ".expect(\"singular\")"
                } else {
                    ".unwrap()"
                };
                let chol = format!("{x}.clone().cholesky(){unwrap}");
                match f {
                    Fac::CholSolve => format!("{chol}.solve({})", a[1].by_ref(st)),
                    Fac::CholLnDet => format!("{chol}.ln_determinant()"),
                    Fac::CholDetLn => format!("{chol}.determinant().ln()"),
                    Fac::CholInverse => format!("{chol}.inverse()"),
                    Fac::CholL => format!("{chol}.l()"),
                    Fac::LuSolve => format!("{x}.clone().lu().solve({}){unwrap}", a[1].by_ref(st)),
                    Fac::LuLogDet => format!("{x}.clone().lu().determinant().ln()"),
                    Fac::TriSolve(lower, tr) => format!(
                        "{x}.{}solve_{}_triangular({}){unwrap}",
                        if *tr { "tr_" } else { "" },
                        if *lower { "lower" } else { "upper" },
                        a[1].by_ref(st)
                    ),
                }
            }
            K::Entry(i, None) => format!("{}[{}]", a[0].receiver(st), i.render()),
            K::Entry(i, Some(j)) => {
                format!("{}[({}, {})]", a[0].receiver(st), i.render(), j.render())
            }
            K::AxisReduce(f) | K::Moment(f) => method(f),
            K::AddScalar => format!("{}.add_scalar({})", a[0].receiver(st), a[1].render(st)),
            K::Fill(f) => {
                let Sh::M(r, c) = self.sh else {
                    unreachable!("a matrix")
                };
                let value = a[0].render(st);
                if self.alt && c == 1 && *f != "from_diagonal_element" {
                    format!("DVector::{f}({r}, {value})")
                } else {
                    format!("DMatrix::{f}({r}, {c}, {value})")
                }
            }
            K::ZerosPlus => {
                let Sh::M(r, c) = self.sh else {
                    unreachable!("a matrix")
                };
                format!("DMatrix::zeros({r}, {c}) + {}", a[0].operand(st))
            }
            K::New => {
                let Sh::M(r, c) = self.sh else {
                    unreachable!("a matrix")
                };
                let entries: Vec<String> = a.iter().map(|x| x.render(st)).collect();
                let entries = entries.join(", ");
                match (r, c) {
                    (_, 1) if self.alt => {
                        format!("SVector::<{}, {r}>::from([{entries}])", st.scalar())
                    }
                    (_, 1) => format!("Vector{r}::new({entries})"),
                    (1, _) => format!("RowVector{c}::new({entries})"),
                    _ if r == c => format!("Matrix{r}::new({entries})"),
                    _ => format!("Matrix{r}x{c}::new({entries})"),
                }
            }
        }
    }
}

/// A generated body: `let` bindings, `for` loops updating some of them
/// (declared `let mut`), and a scalar tail, after (in a method) the typed
/// `let`s that bind fields to their parameters' names.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    lets: Vec<(E, bool)>,
    tail: E,
    /// `let b: &DMatrix<f64> = &self.b;` for parameter `b`, written only if
    /// the body uses `b`.
    prelude: Vec<(usize, String)>,
    /// The loops, each written before the `let` its `at` names (or before
    /// the tail).
    loops: Vec<ForLoop>,
}

impl Program {
    /// The body's source; `typed` lets get a type annotation.
    pub(crate) fn render(&self, st: Style) -> String {
        let mut out = String::new();
        for (i, stmt) in &self.prelude {
            if self.uses_param(*i) {
                let _ = write!(out, "{stmt} ");
            }
        }
        for (i, (e, typed)) in self.lets.iter().enumerate() {
            for l in self.loops.iter().filter(|l| l.at == i) {
                l.render(st, &mut out);
            }
            let ty = match (typed, e.sh) {
                (false, _) => String::new(),
                (true, Sh::S) => format!(": {}", st.scalar()),
                (true, Sh::M(..)) => format!(": DMatrix<{}>", st.scalar()),
            };
            let mutable = if self.assigned(i) { "mut " } else { "" };
            let _ = write!(out, "let {mutable}w{i}{ty} = {}; ", e.render(st));
        }
        for l in self.loops.iter().filter(|l| l.at >= self.lets.len()) {
            l.render(st, &mut out);
        }
        out + &self.tail.render(st)
    }

    /// Whether a loop assigns `let w{i}`.
    fn assigned(&self, i: usize) -> bool {
        self.loops.iter().any(|l| l.assigns(Target::Let(i)))
    }

    fn has_loops(&self) -> bool {
        !self.loops.is_empty()
    }

    /// The matrix functions the program calls, for the counts.
    fn matrix_functions(&self) -> Vec<&'static str> {
        let roots = self.roots();
        let calls = |f: &dyn Fn(&K) -> bool| roots.iter().any(|e| e.any(&|x| f(&x.k)));
        let mut out = Vec::new();
        if calls(&|k| matches!(k, K::MatExp)) {
            out.push("the matrix exponential");
        }
        if calls(&|k| matches!(k, K::Call("logm", _))) {
            out.push("logm");
        }
        out
    }

    /// Whether a loop index is read as a float (`i0 as f64`), which a body
    /// generic over the scalar cannot write.
    fn casts_index(&self) -> bool {
        self.roots()
            .iter()
            .any(|e| e.any(&|x| matches!(x.k, K::Index(_))))
    }

    /// `let w{i}` removed, its uses replaced by its definition.
    fn without_let(&self, i: usize) -> Program {
        let def = self.lets[i].0.clone();
        let mut q = self.clone();
        q.lets.remove(i);
        for l in &mut q.loops {
            l.renumber(i);
            if l.at > i {
                l.at -= 1;
            }
        }
        let mut k = 0;
        q.for_each_root(|e| {
            if k >= i {
                *e = e.inline_let(i, &def);
            }
            k += 1;
        });
        q
    }

    fn uses_param(&self, i: usize) -> bool {
        self.roots().iter().any(|e| e.uses_param(i))
    }

    /// Whether every field read directly gets its shape from its context.
    fn fields_inferable(&self) -> bool {
        // The `let`s whose values read a field, directly or through a `let`.
        let mut reads = Vec::new();
        for (e, _) in &self.lets {
            let r = reads_field(e, &reads);
            reads.push(r);
        }
        self.roots()
            .iter()
            .all(|e| field_of(e).is_none() && fields_inferable(e, &reads))
    }

    fn size(&self) -> usize {
        self.roots().iter().map(|e| e.size()).sum::<usize>()
    }

    /// The expressions of the body: the `let`s', the tail, then the loops'.
    fn roots(&self) -> Vec<&E> {
        let mut out: Vec<&E> = self
            .lets
            .iter()
            .map(|(e, _)| e)
            .chain([&self.tail])
            .collect();
        for l in &self.loops {
            l.exprs(&mut out);
        }
        out
    }

    fn for_each_root(&mut self, mut f: impl FnMut(&mut E)) {
        let mut roots: Vec<&mut E> = self.lets.iter_mut().map(|(e, _)| e).collect();
        roots.push(&mut self.tail);
        for l in &mut self.loops {
            l.exprs_mut(&mut roots);
        }
        for e in roots {
            f(e);
        }
    }

    fn with_root(&self, root: usize, e: E) -> Program {
        let mut p = self.clone();
        let mut k = 0;
        p.for_each_root(|x| {
            if k == root {
                *x = e.clone();
            }
            k += 1;
        });
        p
    }
}

// ---------------------------------------------------------------------------
// The type-directed generator.

struct Gen {
    rng: Rng,
    n: usize,
    m: usize,
    /// The `let`s in scope: shape and class.
    lets: Vec<(Sh, Class)>,
    /// Generating a `map` closure body: leaves are `v` and literals.
    closure: bool,
    /// What the enclosing loops bind, outermost first.
    vars: Vec<LoopVar>,
}

/// What a loop binds, for the expressions of its body.
#[derive(Clone, Debug, Default)]
struct LoopVar {
    /// The values the index `i{d}` takes, if the loop binds one and runs.
    index: Option<(usize, usize)>,
    /// The elements it binds (`e{d}`, then `f{d}`), each read through `*`
    /// or not; entries of `a`, `b`, `x` or `y`, in [−1, 1).
    elems: Vec<bool>,
    /// Whether the local accumulator `u{d}` is declared (a scalar).
    local: bool,
}

/// The chance that a body has loops.
const P_LOOP: f64 = 0.35;

/// How a loop updates a carried value; [`Form::class`] of what it holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    /// `c += e` or `c -= e`.
    Sum,
    /// `c = (k c + e).tanh()` (a scalar), `c = (c k + e).map(|v| v.tanh())`
    /// or `c = b c k + e` (a matrix, `b` bounded, `k` ≤ 1/2).
    Squash,
    /// `c = 0.5 c ± e`.
    Damp,
    /// `c *= e` (`e` in [0.75, 1.25], or a bounded matrix), or `c /= e` (`e ≥ 1`).
    Scale,
    /// `c = e`, `e` reading anything in scope.
    Set,
}

impl Form {
    fn class(self, sh: Sh) -> Class {
        match (self, sh) {
            (Form::Squash, Sh::S) => Class::Bounded,
            _ => Class::Any,
        }
    }
}

const ANY_LITS: &[f64] = &[0.5, 2.0, -1.0, 1.0, 0.25, 3.0, -0.5, 1.5, 0.0, -2.0];
const BOUNDED_LITS: &[f64] = &[-1.0, 0.5, 1.0, 2.0, -0.25, 0.75];
const POSITIVE_LITS: &[f64] = &[0.5, 1.0, 1.5, 2.0, 0.75, 3.0];

impl Gen {
    /// The dimensions products may contract over: 1, n and m.
    fn dims(&self) -> Vec<usize> {
        let mut d = vec![1, self.n, self.m];
        d.sort_unstable();
        d.dedup();
        d
    }

    fn spd_ok(&self, k: usize) -> bool {
        k == self.n || k == self.m
    }

    /// `x + y` or `x − y`, but not `x − x` (an exact zero, where `norm` has no
    /// derivative, would waste the case).
    fn add_or_sub(&mut self, x: E, y: E) -> E {
        let k = if x == y {
            K::Add
        } else {
            self.rng.pick(&[K::Add, K::Sub])
        };
        same2(k, x, y)
    }

    /// A leaf among `options`, preferring `let`s (for shared subexpressions).
    fn choose(&mut self, lets: Vec<E>, others: Vec<E>) -> E {
        if !lets.is_empty() && (others.is_empty() || self.rng.chance(0.5)) {
            let i = self.rng.below(lets.len());
            return lets[i].clone();
        }
        let i = self.rng.below(others.len());
        others[i].clone()
    }

    fn lets_of(&self, sh: Sh, classes: &[Class]) -> Vec<E> {
        self.lets
            .iter()
            .enumerate()
            .filter(|(_, (s, c))| *s == sh && classes.contains(c))
            .map(|(i, _)| node(K::Let(i), vec![], sh))
            .collect()
    }

    fn param(&self, i: usize) -> E {
        node(K::Param(i), vec![], param_shape(i, self.n, self.m))
    }

    /// Wraps a leaf in `.clone()` or `&` now and then (both transparent).
    fn decorate(&mut self, e: E) -> E {
        match self.rng.below(12) {
            0 => same(K::Clone, e),
            1 => same(K::Ref, e),
            _ => e,
        }
    }

    fn scalar_leaf(&mut self, class: Class) -> E {
        if self.closure && self.rng.chance(0.15) {
            return self.captured(class);
        }
        let r = &mut self.rng;
        if self.closure {
            let v = node(K::V, vec![], Sh::S);
            return match class {
                Class::Positive => match r.below(4) {
                    0 => lit(r.pick(POSITIVE_LITS)),
                    1 => plus_lit(mul(v.clone(), v), 0.5),
                    2 => plus_lit(same(K::Abs, v), 1.0),
                    _ => same(K::Exp, same(K::Tanh, v)),
                },
                Class::Bounded => match r.below(4) {
                    0 => lit(r.pick(BOUNDED_LITS)),
                    1 => same(K::Sin, v),
                    2 => same(K::Cos, v),
                    _ => same(K::Tanh, v),
                },
                _ if r.chance(0.85) => v,
                _ => lit(r.pick(ANY_LITS)),
            };
        }
        if !self.vars.is_empty() && self.rng.chance(0.4) {
            if let Some(e) = self.loop_leaf(class) {
                return e;
            }
        }
        let lets = match class {
            Class::Positive => self.lets_of(Sh::S, &[Class::Positive]),
            Class::Bounded => self.lets_of(Sh::S, &[Class::Bounded]),
            _ => self.lets_of(Sh::S, &[Class::Any, Class::Bounded, Class::Positive]),
        };
        if !lets.is_empty() && self.rng.chance(0.5) {
            return self.choose(lets, vec![]);
        }
        // Now and then a reduction of a matrix leaf, so that scalars depend on
        // the matrices.
        if self.rng.chance(0.4) {
            let d = self.dims();
            let (r, c) = (self.rng.pick(&d), self.rng.pick(&d));
            let x = self.matrix_leaf(r, c);
            return match (class, self.rng.below(3)) {
                (Class::Positive, 0) => plus_lit(to_scalar(K::Norm, vec![x]), 0.5),
                (Class::Positive, _) => plus_lit(to_scalar(K::NormSq, vec![x]), 1.0),
                (Class::Bounded, 0) => same(K::Tanh, to_scalar(K::Sum, vec![x])),
                (Class::Bounded, _) => {
                    let y = self.matrix_leaf(r, c);
                    same(K::Sin, to_scalar(K::Dot, vec![x, y]))
                }
                (_, 0) => to_scalar(K::Sum, vec![x]),
                (_, 1) => to_scalar(K::NormSq, vec![x]),
                _ => {
                    let y = self.matrix_leaf(r, c);
                    to_scalar(K::Dot, vec![x, y])
                }
            };
        }
        let (param, lits, w) = match class {
            Class::Positive => (PT, POSITIVE_LITS, [0, 2, 1]),
            Class::Bounded => (PS, BOUNDED_LITS, [2, 0, 1]),
            _ => (PS, ANY_LITS, [3, 2, 2]),
        };
        match self.rng.weighted(&w) {
            0 => self.param(param),
            1 => self.param(PT),
            _ => lit(self.rng.pick(lits)),
        }
    }

    /// A matrix of shape r×c with no operations if a parameter or `let` has
    /// that shape, else a transposed one, a 1×1 inner product, or a Kronecker
    /// product of such.
    fn matrix_leaf(&mut self, r: usize, c: usize) -> E {
        let sh = Sh::M(r, c);
        let params: Vec<E> = (0..6)
            .filter(|&i| param_shape(i, self.n, self.m) == sh)
            .map(|i| self.param(i))
            .collect();
        let lets = self.lets_of(sh, &[Class::Any, Class::Spd]);
        if !params.is_empty() || !lets.is_empty() {
            let e = self.choose(lets, params);
            return self.decorate(e);
        }
        let flipped = (0..6).find(|&i| param_shape(i, self.n, self.m) == Sh::M(c, r));
        if let Some(i) = flipped {
            return transpose(self.param(i));
        }
        if (r, c) == (1, 1) {
            let v = self.rng.pick(&[PX, PY]);
            let w = if self.n == self.m {
                self.rng.pick(&[PX, PY])
            } else {
                v
            };
            return tr_mul(self.param(v), self.param(w));
        }
        let (r1, r2, c1, c2) = self.factor(r, c).expect("a generatable shape");
        let (x, y) = (self.matrix_leaf(r1, c1), self.matrix_leaf(r2, c2));
        same_kron(x, y)
    }

    /// A random factorisation `r = r1 r2`, `c = c1 c2` over [`Gen::dims`].
    fn factor(&mut self, r: usize, c: usize) -> Option<(usize, usize, usize, usize)> {
        let d = self.dims();
        let mut out = Vec::new();
        for &r1 in &d {
            for &r2 in &d {
                for &c1 in &d {
                    for &c2 in &d {
                        if r1 * r2 == r && c1 * c2 == c {
                            out.push((r1, r2, c1, c2));
                        }
                    }
                }
            }
        }
        (!out.is_empty()).then(|| out[self.rng.below(out.len())])
    }

    /// A shape for a matrix reduced to a scalar: mostly of n, m and 1, now and
    /// then a Kronecker product's.
    fn some_shape(&mut self) -> (usize, usize) {
        let d = self.dims();
        if self.rng.chance(0.1) {
            let (r, c) = (
                self.rng.pick(&d) * self.rng.pick(&d),
                self.rng.pick(&d) * self.rng.pick(&d),
            );
            if r * c <= 36 {
                return (r, c);
            }
        }
        (self.rng.pick(&d), self.rng.pick(&d))
    }

    fn scalar(&mut self, d: u32) -> E {
        if d == 0 {
            return self.scalar_leaf(Class::Any);
        }
        let reduce = if self.closure { 0 } else { 10 };
        let w = [3, 3, 1, 2, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 2, 4, reduce];
        let d1 = d - 1;
        match self.rng.weighted(&w) {
            0 => self.scalar_leaf(Class::Any),
            1 => {
                let (x, y) = (self.scalar(d1), self.scalar(d1));
                self.add_or_sub(x, y)
            }
            2 => same(K::Neg, self.scalar(d1)),
            3 => {
                let (x, y) = (self.scalar(d1), self.scalar(d1));
                mul(x, y)
            }
            4 => {
                let (x, y) = (self.scalar(d1), self.positive(d1));
                same2(K::Div, x, y)
            }
            5 => self.bounded(d),
            6 => self.positive(d),
            7 => {
                let k = self.rng.pick(&[K::Sin, K::Cos, K::Tanh, K::Abs]);
                same(k, self.scalar(d1))
            }
            8 => {
                let f = self.rng.pick(&["sigmoid", "softplus", "relu"]);
                let x = self.scalar(d1);
                self.call(f, x)
            }
            9 => same(K::Exp, self.bounded(d1)),
            10 => {
                let k = self.rng.pick(&[K::Ln, K::Sqrt, K::Recip]);
                same(k, self.positive(d1))
            }
            11 => {
                let k = self.rng.pick(&[2, 3, 4, 0, 1]);
                same(K::Powi(k), self.bounded(d1))
            }
            12 => {
                let k = self.rng.pick(&[-1, -2, 2]);
                same(K::Powi(k), self.positive(d1))
            }
            13 => self.powf(d1),
            14 => same(K::Powi(2), self.scalar(d1)),
            15 => self.scalar_method(d1),
            _ => self.reduction(d1),
        }
    }

    /// One of the scalar methods of `ln_1p`'s family, with arguments in its
    /// domain: `asin`, `acos`, `atanh` of `0.9 tanh(x)`, `tan` of
    /// `1.2 tanh(x)`, logarithms of positive values, `acosh` of values ≥ 1.5,
    /// exponentials of bounded ones; the branches `max`, `min`, `clamp` (with
    /// literal bounds) and `signum`.
    fn scalar_method(&mut self, d: u32) -> E {
        let m = |f: &'static str, args: Vec<E>| node(K::Method(f), args, Sh::S);
        match self.rng.below(10) {
            0 => {
                let f = self.rng.pick(&["atan", "asinh", "to_radians", "signum"]);
                m(f, vec![self.scalar(d)])
            }
            1 => {
                let f = self
                    .rng
                    .pick(&["sinh", "cosh", "exp_m1", "exp2", "to_degrees"]);
                m(f, vec![self.bounded(d)])
            }
            2 => {
                let (f, k) =
                    self.rng
                        .pick(&[("asin", 0.9), ("acos", 0.9), ("atanh", 0.9), ("tan", 1.2)]);
                let x = same(K::Tanh, self.scalar(d));
                m(f, vec![mul(lit(k), x)])
            }
            3 => {
                let f = self.rng.pick(&["ln_1p", "log2", "log10", "cbrt"]);
                m(f, vec![self.positive(d)])
            }
            4 => {
                let x = self.positive_at_least_half(d);
                m("acosh", vec![plus_lit(x, 1.0)])
            }
            5 => {
                let f = self.rng.pick(&["hypot", "atan2", "midpoint", "max", "min"]);
                let (x, y) = (self.scalar(d), self.scalar(d));
                m(f, vec![x, y])
            }
            6 => {
                let x = self.positive(d);
                let b = self.positive_at_least_half(d);
                m("log", vec![x, plus_lit(b, 1.0)])
            }
            7 => {
                let (x, y, z) = (self.scalar(d), self.scalar(d), self.scalar(d));
                m("mul_add", vec![x, y, z])
            }
            8 => {
                let (lo, hi) = self.rng.pick(&[(-0.5, 0.5), (0.0, 1.0), (0.25, 2.0)]);
                m("clamp", vec![self.scalar(d), lit(lo), lit(hi)])
            }
            _ => {
                let x = self.scalar(d);
                let y = lit(self.rng.pick(&[0.0, 0.5, -1.0]));
                m(self.rng.pick(&["max", "min"]), vec![x, y])
            }
        }
    }

    fn call(&mut self, f: &'static str, arg: E) -> E {
        let qualified = self.rng.chance(0.7);
        to_scalar(K::Call(f, qualified), vec![arg])
    }

    /// `x.powf(e)`, `x` positive, `e` a literal or now and then an expression.
    fn powf(&mut self, d: u32) -> E {
        let x = self.positive(d);
        let e = if self.rng.chance(0.8) {
            lit(self.rng.pick(&[0.5, 1.5, -0.5, 2.5, 0.3, -1.25]))
        } else {
            self.bounded(d.min(2))
        };
        to_scalar(K::Powf, vec![x, e])
    }

    /// A matrix reduced to a scalar.
    fn reduction(&mut self, d: u32) -> E {
        let (r, c) = self.some_shape();
        let d_ = self.dims();
        let k = self.rng.pick(&d_);
        match self.rng.below(14) {
            0 | 1 => to_scalar(K::Sum, vec![self.matrix(r, c, d)]),
            12 => to_scalar(K::Moment("mean"), vec![self.matrix(r, c, d)]),
            13 => to_scalar(K::Moment("variance"), vec![self.matrix(r, c, d)]),
            2 => to_scalar(K::NormSq, vec![self.matrix(r, c, d)]),
            3 => to_scalar(K::Norm, vec![self.matrix(r, c, d)]),
            4 => {
                let (x, y) = (self.matrix(r, c, d), self.matrix(r, c, d));
                to_scalar(K::Dot, vec![x, y])
            }
            5 => {
                let (x, y) = (self.matrix(r, c, d), self.matrix(c, r, d));
                to_scalar(K::TrDot, vec![x, y])
            }
            6 => to_scalar(K::Trace, vec![self.matrix(k, k, d)]),
            7 => to_scalar(K::Det, vec![self.matrix(k, k, d)]),
            8 if self.spd_ok(k) => match self.rng.below(5) {
                0 => same(K::Ln, to_scalar(K::Det, vec![self.invertible(k, d)])),
                1 => {
                    let a = self.invertible(k, d);
                    self.call("logdet", a)
                }
                2 => to_scalar(K::Factor(Fac::LuLogDet), vec![self.invertible(k, d)]),
                3 => to_scalar(K::Factor(Fac::CholLnDet), vec![self.spd(k, d)]),
                _ => to_scalar(K::Factor(Fac::CholDetLn), vec![self.spd(k, d)]),
            },
            9 if self.rng.chance(0.4) => {
                let a = self.matrix(r, c, d);
                self.call("log_sum_exp", a)
            }
            9 => {
                let a = self.matrix(r, c, d);
                match self.rng.below(7) {
                    0 => to_scalar(K::LpNorm(1), vec![a]),
                    1 => to_scalar(K::LpNorm(2), vec![a]),
                    2 => to_scalar(K::Sum, vec![same(K::MatMethod("abs"), a)]),
                    3 => to_scalar(K::MatMethod("max"), vec![a]),
                    4 => to_scalar(K::MatMethod("min"), vec![a]),
                    5 => to_scalar(K::MatMethod("amax"), vec![a]),
                    _ => to_scalar(K::MatMethod("amin"), vec![a]),
                }
            }
            10 if self.spd_ok(k) => {
                // A bilinear form through an inverse.
                let a = self.invertible(k, d);
                let (v, w) = (self.matrix(k, 1, d), self.matrix(k, 1, d));
                let inv = same(K::Inverse(self.rng.chance(0.3)), a);
                to_scalar(K::Dot, vec![v, mul(inv, w)])
            }
            _ => to_scalar(K::Sum, vec![self.matrix(r, c, d)]),
        }
    }

    fn bounded(&mut self, d: u32) -> E {
        if d == 0 {
            return self.scalar_leaf(Class::Bounded);
        }
        let d1 = d - 1;
        match self.rng.below(9) {
            0 => self.scalar_leaf(Class::Bounded),
            1 | 2 => {
                let k = self.rng.pick(&[K::Sin, K::Cos, K::Tanh]);
                same(k, self.scalar(d1))
            }
            3 => {
                let x = self.scalar(d1);
                self.call("sigmoid", x)
            }
            4 => {
                let (x, y) = (self.bounded(d1), self.bounded(d1));
                mul(x, y)
            }
            5 => {
                let (x, y) = (self.bounded(d1), self.bounded(d1));
                self.add_or_sub(x, y)
            }
            6 => same(K::Neg, self.bounded(d1)),
            7 => same(K::Recip, self.positive_at_least_half(d1)),
            _ => {
                let x = self.bounded(d1);
                mul(lit(self.rng.pick(&[0.5, -0.5, 1.5])), x)
            }
        }
    }

    /// A positive scalar no smaller than about 0.5.
    fn positive_at_least_half(&mut self, d: u32) -> E {
        let x = self.positive(d);
        plus_lit(x, 0.5)
    }

    fn positive(&mut self, d: u32) -> E {
        if d == 0 {
            return self.scalar_leaf(Class::Positive);
        }
        let d1 = d - 1;
        let matrices = if self.closure { 0 } else { 3 };
        let w = [2, 2, 1, 1, 1, 1, 1, 2, 1, 1, matrices];
        match self.rng.weighted(&w) {
            0 => self.scalar_leaf(Class::Positive),
            1 => same(K::Exp, self.bounded(d1)),
            2 => {
                let x = same(K::Abs, self.scalar(d1));
                plus_lit(x, self.rng.pick(&[0.5, 1.0]))
            }
            3 => {
                let x = self.scalar(d1);
                let sq = if self.rng.chance(0.5) {
                    same(K::Powi(2), x)
                } else {
                    mul(x.clone(), x)
                };
                plus_lit(sq, 0.5)
            }
            4 => {
                let x = self.scalar(d1);
                let x = self.call("sigmoid", x);
                plus_lit(x, 0.5)
            }
            5 => {
                let x = self.scalar(d1);
                let x = self.call("softplus", x);
                plus_lit(x, 0.25)
            }
            6 => {
                let x = same(K::Cos, self.scalar(d1));
                plus_lit(x, 1.5)
            }
            7 => {
                let (x, y) = (self.positive(d1), self.positive(d1));
                match self.rng.below(3) {
                    0 => same2(K::Add, x, y),
                    1 => mul(x, y),
                    _ => same2(K::Div, x, y),
                }
            }
            8 => same(K::Sqrt, self.positive(d1)),
            9 => {
                let x = self.positive(d1);
                to_scalar(K::Powf, vec![x, lit(self.rng.pick(&[0.5, 1.5, -0.5]))])
            }
            _ => {
                let (r, c) = self.some_shape();
                let d_ = self.dims();
                let k = self.rng.pick(&d_);
                match self.rng.below(3) {
                    0 => plus_lit(to_scalar(K::NormSq, vec![self.matrix(r, c, d1)]), 1.0),
                    1 => plus_lit(to_scalar(K::Norm, vec![self.matrix(r, c, d1)]), 0.5),
                    _ if self.spd_ok(k) => to_scalar(K::Det, vec![self.spd(k, d1)]),
                    _ => self.scalar_leaf(Class::Positive),
                }
            }
        }
    }

    /// A closure's leaf reading a scalar from around it, `κ` (a parameter, a
    /// `let`, a loop's value or index, a reduction): `v κ`, `tanh(v κ)` or
    /// `(v κ)² + ½` by class.
    fn captured(&mut self, class: Class) -> E {
        self.closure = false;
        let kappa = self.scalar_leaf(Class::Bounded);
        self.closure = true;
        let scaled = mul(node(K::V, vec![], Sh::S), kappa);
        match class {
            Class::Positive => plus_lit(mul(scaled.clone(), scaled), 0.5),
            Class::Bounded => same(K::Tanh, scaled),
            _ => scaled,
        }
    }

    /// A `map` closure body of the given class.
    fn closure_body(&mut self, class: Class, d: u32) -> E {
        let saved = std::mem::replace(&mut self.closure, true);
        let d = d.min(3);
        let body = match class {
            Class::Bounded => self.bounded(d),
            Class::Positive => self.positive(d),
            _ => self.scalar(d),
        };
        self.closure = saved;
        body
    }

    fn map(&mut self, a: E, class: Class, d: u32) -> E {
        let body = self.closure_body(class, d);
        same2(K::Map, a, body)
    }

    fn matrix(&mut self, r: usize, c: usize, d: u32) -> E {
        if d == 0 {
            return self.matrix_leaf(r, c);
        }
        let d1 = d - 1;
        let square = r == c;
        let (n, m) = (self.n, self.m);
        let in_d = |x: usize| x == 1 || x == n || x == m;
        let kron = self.factor(r, c).is_some() && r * c > 1;
        let w = [
            3,                                                   // leaf
            1,                                                   // neg
            3,                                                   // add, sub
            2,                                                   // scale
            1,                                                   // divide by a scalar
            u32::from(in_d(r) || in_d(c)) * 3,                   // matrix product
            u32::from(in_d(c)) * 2,                              // tr_mul
            2,                                                   // transpose
            2,                                                   // component_mul
            1,                                                   // component_div
            2,                                                   // map
            1,                                                   // map(matgrad::f)
            u32::from(square && self.spd_ok(r)) * 2,             // inverse
            u32::from(square && in_d(r)),                        // pow
            u32::from(square && in_d(r)),                        // matrix exponential
            u32::from(kron),                                     // kronecker
            u32::from((r, c) == (3, 1) || (r, c) == (1, 3)) * 2, // cross
            u32::from(self.spd_ok(r)) * 2,                       // a solve
            u32::from(square && self.spd_ok(r)),                 // Cholesky's L, inverse
            u32::from(r == 1 || c == 1) * 2,                     // an axis reduction
            1,                                                   // add_scalar
            1,                                                   // from_element, …
            u32::from(r * c <= 6 && r <= 6 && c <= 6),           // Matrix2x3::new, …
            u32::from(square && self.spd_ok(r)) * 2,             // matrix logarithm
        ];
        match self.rng.weighted(&w) {
            0 => self.matrix_leaf(r, c),
            1 => same(K::Neg, self.matrix(r, c, d1)),
            19 => {
                // A row vector from the rows of an m×c matrix, a column
                // vector from the columns of an r×k one.
                let k = self.rng.pick(&self.dims());
                let f = if r == 1 && (c != 1 || self.rng.chance(0.5)) {
                    self.rng.pick(&["row_sum", "row_mean"])
                } else {
                    self.rng.pick(&["column_sum", "column_mean"])
                };
                let x = if f.starts_with("row") {
                    self.matrix(k, c, d1)
                } else {
                    self.matrix(r, k, d1)
                };
                node(K::AxisReduce(f), vec![x], Sh::M(r, c))
            }
            20 => {
                let (x, s) = (self.matrix(r, c, d1), self.scalar(d1));
                same2(K::AddScalar, x, s)
            }
            21 if self.rng.chance(0.25) => {
                let x = self.matrix(r, c, d1);
                node(K::ZerosPlus, vec![x], Sh::M(r, c))
            }
            21 => {
                let f = self
                    .rng
                    .pick(&["from_element", "repeat", "from_diagonal_element"]);
                node(K::Fill(f), vec![self.scalar(d1)], Sh::M(r, c))
            }
            23 => {
                // Of an invertible matrix (SPD, or p + E with p ⪰ I and
                // ‖E‖₂ ≤ 1/2): eigenvalues with real parts at least 1/2,
                // inside the logarithm's domain.
                let a = self.invertible(r, d1);
                let qualified = self.rng.chance(0.7);
                node(K::Call("logm", qualified), vec![a], Sh::M(r, r))
            }
            22 => {
                let entries = (0..r * c)
                    .map(|_| self.scalar(d1.saturating_sub(1)))
                    .collect();
                node(K::New, entries, Sh::M(r, c))
            }
            2 => {
                let (x, y) = (self.matrix(r, c, d1), self.matrix(r, c, d1));
                self.add_or_sub(x, y)
            }
            3 => {
                let x = self.matrix(r, c, d1);
                let s = if self.rng.chance(0.4) {
                    lit(self.rng.pick(ANY_LITS))
                } else {
                    self.scalar(d1)
                };
                if self.rng.chance(0.5) {
                    mul(s, x)
                } else {
                    mul(x, s)
                }
            }
            4 => {
                let (x, s) = (self.matrix(r, c, d1), self.positive(d1));
                same2(K::Div, x, s)
            }
            5 => {
                // r×k times k×c, with k among 1, n, m (the products stay small).
                let k = self.rng.pick(&self.dims());
                let (x, y) = (self.matrix(r, k, d1), self.matrix(k, c, d1));
                mul(x, y)
            }
            6 => {
                let k = self.rng.pick(&self.dims());
                let (x, y) = (self.matrix(k, r, d1), self.matrix(k, c, d1));
                tr_mul(x, y)
            }
            7 => transpose(self.matrix(c, r, d1)),
            8 => {
                let (x, y) = (self.matrix(r, c, d1), self.matrix(r, c, d1));
                same2(K::CompMul, x, y)
            }
            9 => {
                let x = self.matrix(r, c, d1);
                let y = self.matrix(r, c, d1);
                let y = self.map(y, Class::Positive, d1);
                same2(K::CompDiv, x, y)
            }
            10 => {
                let x = self.matrix(r, c, d1);
                self.map(x, Class::Any, d1)
            }
            11 if self.rng.chance(0.3) => {
                let f = self.rng.pick(&["atan", "asinh", "tanh"]);
                same(K::MapMethod(f), self.matrix(r, c, d1))
            }
            11 => {
                let f = self.rng.pick(&["sigmoid", "softplus", "relu"]);
                same(K::MapFn(f), self.matrix(r, c, d1))
            }
            12 => {
                let a = self.invertible(r, d1);
                same(K::Inverse(self.rng.chance(0.3)), a)
            }
            13 => {
                let k = self.rng.pick(&[0, 1, 2, 3]);
                same(K::Pow(k), self.bounded_matrix(r, c, d1))
            }
            14 => same(K::MatExp, self.bounded_matrix(r, c, d1)),
            15 => {
                let (r1, r2, c1, c2) = self.factor(r, c).expect("checked");
                let (x, y) = (self.matrix(r1, c1, d1), self.matrix(r2, c2, d1));
                same_kron(x, y)
            }
            17 => {
                // Cholesky of an SPD matrix; LU and the triangular solves of
                // the invertible ones (a triangle of an SPD matrix has its
                // diagonal bounded away from 0).
                let rhs = self.matrix(r, c, d1);
                let (fac, a) = match self.rng.below(4) {
                    0 | 1 => (Fac::CholSolve, self.spd(r, d1)),
                    2 => (Fac::LuSolve, self.invertible(r, d1)),
                    _ => {
                        let (lower, tr) = (self.rng.chance(0.5), self.rng.chance(0.3));
                        (Fac::TriSolve(lower, tr), self.spd(r, d1))
                    }
                };
                // A⁻¹ A = I up to rounding: entries at 0, kinks of a `relu`
                // the Hessian check does not see inside `map`.
                let rhs = if rhs == a {
                    let sin = same(K::Sin, node(K::V, vec![], Sh::S));
                    same2(K::Map, rhs, sin)
                } else {
                    rhs
                };
                node(K::Factor(fac), vec![a, rhs], Sh::M(r, c))
            }
            18 => {
                let fac = if self.rng.chance(0.5) {
                    Fac::CholL
                } else {
                    Fac::CholInverse
                };
                same(K::Factor(fac), self.spd(r, d1))
            }
            _ => {
                // One operand a vector by its type: `cross` needs to know
                // statically that its operands are vectors.
                let v = self.vector(3, d1);
                let v = if r == 1 { transpose(v) } else { v };
                let other = self.matrix(r, c, d1);
                if self.rng.chance(0.5) {
                    same2(K::Cross, v, other)
                } else {
                    same2(K::Cross, other, v)
                }
            }
        }
    }

    /// A k×1 matrix whose type says it is a vector (its column count is a
    /// static 1): built from `x` or `y` (`k` is n or m).
    fn vector(&mut self, k: usize, d: u32) -> E {
        let leaves: Vec<E> = [PX, PY]
            .into_iter()
            .filter(|&i| param_shape(i, self.n, self.m) == Sh::M(k, 1))
            .map(|i| self.param(i))
            .collect();
        if d == 0 || self.rng.chance(0.3) {
            let i = self.rng.below(leaves.len());
            return leaves[i].clone();
        }
        let d1 = d - 1;
        match self.rng.below(5) {
            0 => {
                let (v, other) = (self.vector(k, d1), self.matrix(k, 1, d1));
                let op = self.rng.pick(&[K::Add, K::Sub]);
                if self.rng.chance(0.5) {
                    same2(op, v, other)
                } else {
                    same2(op, other, v)
                }
            }
            1 => {
                let (v, s) = (self.vector(k, d1), self.scalar(d1));
                mul(s, v)
            }
            2 => {
                let v = self.vector(k, d1);
                self.map(v, Class::Any, d1)
            }
            3 => {
                let j = self.rng.pick(&[self.n, self.m]);
                let (a, v) = (self.matrix(k, j, d1), self.vector(j, d1));
                mul(a, v)
            }
            _ => {
                let (v, other) = (self.vector(k, d1), self.matrix(k, 1, d1));
                same2(K::CompMul, v, other)
            }
        }
    }

    /// A matrix with entries of magnitude at most about 1, for `pow` and `exp`.
    fn bounded_matrix(&mut self, r: usize, c: usize, d: u32) -> E {
        match self.rng.below(4) {
            0 => {
                let x = self.matrix(r, c, d);
                self.map(x, Class::Bounded, d)
            }
            1 => {
                let x = self.matrix(r, c, d);
                mul(same(K::MapFn("sigmoid"), x), lit(0.5))
            }
            2 => {
                let x = self.matrix(r, c, d);
                let tanh = same(K::Tanh, node(K::V, vec![], Sh::S));
                mul(lit(0.5), same2(K::Map, x, tanh))
            }
            _ => {
                // A parameter with entries in [−1, 1), when one has the shape.
                let params: Vec<usize> = [PA, PB, PX, PY]
                    .into_iter()
                    .filter(|&i| param_shape(i, self.n, self.m) == Sh::M(r, c))
                    .collect();
                match params.first() {
                    Some(_) => {
                        let i = self.rng.pick(&params);
                        self.param(i)
                    }
                    None => {
                        let x = self.matrix(r, c, d);
                        self.map(x, Class::Bounded, d)
                    }
                }
            }
        }
    }

    /// A k×k matrix with singular values bounded away from 0 and positive
    /// determinant: symmetric positive definite, or `p` (or `q`) plus a
    /// perturbation of spectral norm at most 1/2 (its eigenvalues are at least
    /// 1), which is not symmetric, so that adjoints that confuse a matrix with
    /// its transpose show.
    fn invertible(&mut self, k: usize, d: u32) -> E {
        if self.rng.chance(0.5) {
            return self.spd(k, d);
        }
        let base = if k == self.n { PP } else { PQ };
        let base = self.param(base);
        let d1 = d.saturating_sub(1);
        let x = self.matrix(k, k, d1);
        // Entries in [−1, 1], so the spectral norm is at most k.
        let entries = match self.rng.below(4) {
            0 => {
                let tanh = same(K::Tanh, node(K::V, vec![], Sh::S));
                same2(K::Map, x, tanh)
            }
            1 => {
                let sin = same(K::Sin, node(K::V, vec![], Sh::S));
                same2(K::Map, x, sin)
            }
            2 => same(K::MapFn("sigmoid"), x),
            _ if k == self.n => self.param(PA),
            _ => same(K::MapFn("sigmoid"), x),
        };
        let scale = lit([0.5, 0.25, 0.15, 0.12, 0.1][k - 1]);
        let perturbation = if self.rng.chance(0.5) {
            mul(entries, scale)
        } else {
            mul(scale, entries)
        };
        if self.rng.chance(0.5) {
            same2(K::Add, base, perturbation)
        } else {
            same2(K::Sub, base, perturbation)
        }
    }

    /// A k×k symmetric positive definite matrix with eigenvalues bounded away
    /// from 0 (`k` is n or m).
    fn spd(&mut self, k: usize, d: u32) -> E {
        let mut bases = self.lets_of(Sh::M(k, k), &[Class::Spd]);
        let params: Vec<E> = [PP, PQ]
            .into_iter()
            .filter(|&i| param_shape(i, self.n, self.m) == Sh::M(k, k))
            .map(|i| self.param(i))
            .collect();
        let base = self.choose(std::mem::take(&mut bases), params.clone());
        if d == 0 {
            return base;
        }
        let d1 = d - 1;
        match self.rng.below(9) {
            0 => base,
            1 => {
                let s = self.positive(d1);
                if self.rng.chance(0.5) {
                    mul(s, base)
                } else {
                    mul(base, s)
                }
            }
            2 | 3 => {
                // base + G Gᵀ (or Gᵀ G), scaled.
                let j = self.rng.pick(&self.dims());
                let gram = if self.rng.chance(0.5) {
                    let g = self.matrix(j, k, d1);
                    tr_mul(g.clone(), g)
                } else {
                    let g = self.matrix(k, j, d1);
                    mul(g.clone(), transpose(g))
                };
                let gram = mul(gram, lit(self.rng.pick(&[0.1, 0.5, 1.0])));
                same2(K::Add, base, gram)
            }
            4 => {
                let other = self.spd(k, d1);
                same2(K::Add, base, other)
            }
            5 => {
                let inner = self.spd(k, d1);
                same(K::Inverse(self.rng.chance(0.3)), inner)
            }
            6 => mul(base.clone(), base),
            7 => transpose(self.spd(k, d1)),
            _ => {
                // The exponential of a parameter (eigenvalues at most ~3).
                let i = self.rng.below(params.len());
                same(K::MatExp, params[i].clone())
            }
        }
    }

    /// A scalar the enclosing loops bind: an index (as a float), an element,
    /// a local accumulator, an entry at indices in range; `None` if none fits
    /// `class`.
    fn loop_leaf(&mut self, class: Class) -> Option<E> {
        let mut options = Vec::new();
        for (d, v) in self.vars.clone().into_iter().enumerate() {
            for (w, deref) in v.elems.into_iter().enumerate() {
                options.push(node(K::Elem(d, w, deref), vec![], Sh::S));
            }
            if class == Class::Any && v.index.is_some() {
                options.push(node(K::Index(d), vec![], Sh::S));
            }
            if class == Class::Any && v.local {
                options.push(node(K::Local(d), vec![], Sh::S));
            }
        }
        // Entries of `a`, `b`, `x` and `y` are in [−1, 1); of `p` and `q`,
        // or of a product, anything.
        for _ in 0..2 {
            let base = match (class, self.rng.below(6)) {
                (Class::Any, 0) => {
                    let d = self.dims();
                    let (r, c) = (self.rng.pick(&d), self.rng.pick(&d));
                    self.matrix(r, c, 1)
                }
                (Class::Any, 1) => {
                    let i = self.rng.pick(&[PP, PQ]);
                    self.param(i)
                }
                _ => {
                    let i = self.rng.pick(&[PA, PB, PX, PY]);
                    self.param(i)
                }
            };
            options.extend(self.entry(base));
        }
        let i = self.rng.below(options.len());
        let e = options.swap_remove(i);
        Some(match class {
            Class::Positive if matches!(e.k, K::Index(_)) => plus_lit(e, 0.5),
            Class::Positive => plus_lit(mul(e.clone(), e), 0.5),
            _ => e,
        })
    }

    /// An entry of `base` at indices valid in every iteration.
    fn entry(&mut self, base: E) -> Option<E> {
        let Sh::M(r, c) = base.sh else { return None };
        if c == 1 || self.rng.chance(0.4) {
            let i = self.ix(r * c);
            Some(node(K::Entry(i, None), vec![base], Sh::S))
        } else {
            let (i, j) = (self.ix(r), self.ix(c));
            Some(node(K::Entry(i, Some(j)), vec![base], Sh::S))
        }
    }

    /// An index below `len` from the loop indices in scope (a literal now
    /// and then, or if none fits).
    fn ix(&mut self, len: usize) -> Ix {
        let mut options = Vec::new();
        for (d, v) in self.vars.iter().enumerate() {
            let Some((lo, hi)) = v.index else { continue };
            if hi < len {
                options.push(Ix::Var(d, 0));
                options.push(Ix::Back(d, len - 1));
            }
            if lo >= 1 && hi - 1 < len {
                options.push(Ix::Var(d, -1));
            }
            options.push(Ix::Rem(d, len));
        }
        if options.is_empty() || self.rng.chance(0.1) {
            return Ix::Lit(self.rng.below(len));
        }
        self.rng.pick(&options)
    }

    /// What a loop at `depth` iterates over, and what it binds.
    fn iteration(&mut self, depth: usize) -> (Iter, LoopVar) {
        let (n, m) = (self.n, self.m);
        let len = |i: usize| match i {
            PX => n,
            PY => m,
            PA => n * n,
            _ => n * m,
        };
        if self.rng.below(10) < 6 {
            let lo = self.rng.pick(&[0, 0, 0, 1, 2]);
            let (hi, value) = if self.rng.chance(0.5) {
                let k = 1 + self.rng.below(5);
                (Bound::Lit(k), k)
            } else {
                let (i, method, value) = self.rng.pick(&[
                    (PX, "len", n),
                    (PY, "len", m),
                    (PA, "nrows", n),
                    (PA, "ncols", n),
                    (PB, "nrows", n),
                    (PB, "ncols", m),
                    (PQ, "nrows", m),
                    (PX, "nrows", n),
                ]);
                (Bound::Size(self.param(i), method), value)
            };
            let inclusive = self.rng.chance(0.25);
            let last = if inclusive {
                Some(value)
            } else {
                value.checked_sub(1)
            };
            let index = last.filter(|&l| l >= lo).map(|l| (lo, l));
            let iter = Iter::Range {
                lo,
                hi,
                inclusive,
                rev: self.rng.chance(0.3),
            };
            return (
                iter,
                LoopVar {
                    index,
                    ..LoopVar::default()
                },
            );
        }
        let bases: &[usize] = if depth == 0 {
            &[PX, PY, PA, PB]
        } else {
            &[PX, PY]
        };
        let of = self.rng.pick(bases);
        let zip = self.rng.chance(0.2).then(|| self.rng.pick(&[PX, PY]));
        let count = zip.map_or(len(of), |z| len(of).min(len(z)));
        let enumerate = self.rng.chance(0.4);
        let by_ref = self.rng.chance(0.3);
        let iter = Iter::Entries {
            of: self.param(of),
            zip: zip.map(|z| self.param(z)),
            enumerate,
            rev: !enumerate && zip.is_none() && self.rng.chance(0.3),
            by_ref,
        };
        let var = LoopVar {
            index: (enumerate && count > 0).then(|| (0, count - 1)),
            elems: vec![by_ref; 1 + usize::from(zip.is_some())],
            local: false,
        };
        (iter, var)
    }

    /// A loop block: one or two new `let mut`s (pushed on `lets`), and the
    /// loop that updates them, written after them.
    fn loop_block(&mut self, lets: &mut Vec<(E, bool)>) -> ForLoop {
        let mut targets = Vec::new();
        for _ in 0..1 + usize::from(self.rng.chance(0.35)) {
            let forms = [Form::Sum, Form::Squash, Form::Damp, Form::Scale, Form::Set];
            let form = forms[self.rng.weighted(&[4, 3, 2, 2, 1])];
            let (sh, init) = if self.rng.chance(0.35) {
                let d = self.dims();
                let (r, c) = (self.rng.pick(&d), self.rng.pick(&d));
                let init = if self.rng.chance(0.5) {
                    self.matrix_leaf(r, c)
                } else {
                    self.matrix(r, c, 1)
                };
                // A value, not a reference to one.
                let init = match init.k {
                    K::Ref => init.args[0].clone(),
                    _ => init,
                };
                (Sh::M(r, c), init)
            } else {
                let init = match (form, self.rng.below(4)) {
                    (Form::Squash, 0) => self.bounded(1),
                    (Form::Squash, _) | (_, 0) => lit(self.rng.pick(&[0.0, 1.0, 0.5])),
                    (_, 1) => self.param(PS),
                    (_, 2) => lit(0.0),
                    _ => self.scalar(1),
                };
                (Sh::S, init)
            };
            self.lets.push((sh, form.class(sh)));
            lets.push((init, self.rng.chance(0.2)));
            targets.push((Target::Let(lets.len() - 1), sh, form));
        }
        let at = lets.len();
        self.for_loop(0, &targets, at)
    }

    /// A loop at `depth` updating `targets` (of their shapes, in their forms),
    /// now and then with a nested loop.
    fn for_loop(&mut self, depth: usize, targets: &[(Target, Sh, Form)], at: usize) -> ForLoop {
        let (iter, var) = self.iteration(depth);
        self.vars.push(var);
        let mut body = Vec::new();
        for &(t, sh, form) in targets {
            body.push(self.update(t, sh, form));
        }
        if depth == 0 && self.rng.chance(0.3) {
            let sums: Vec<(Target, Sh, Form)> = targets
                .iter()
                .copied()
                .filter(|&(_, sh, form)| form.class(sh) == Class::Any)
                .collect();
            if sums.is_empty() || self.rng.chance(0.5) {
                // A local accumulator, summed by the nested loop, then folded
                // into a carried value.
                let init = match self.rng.below(3) {
                    0 => self.bounded(1),
                    _ => lit(self.rng.pick(&[0.0, 1.0])),
                };
                body.push(LStmt::Local(depth, init));
                self.vars[depth].local = true;
                let local = (Target::Local(depth), Sh::S, Form::Sum);
                let inner = self.for_loop(depth + 1, &[local], 0);
                body.push(LStmt::For(inner));
                let (t, sh, form) = targets[self.rng.below(targets.len())];
                body.push(self.fold(t, sh, form, depth));
            } else {
                let inner = self.for_loop(depth + 1, &sums, 0);
                let k = self.rng.below(body.len() + 1);
                body.insert(k, LStmt::For(inner));
            }
        }
        self.vars.pop();
        ForLoop {
            at,
            depth,
            iter,
            body,
        }
    }

    /// The carried value (or local) `t` as an expression.
    fn target(t: Target, sh: Sh) -> E {
        match t {
            Target::Let(i) => node(K::Let(i), vec![], sh),
            Target::Local(d) => node(K::Local(d), vec![], sh),
        }
    }

    /// One update of `t` in its form.
    fn update(&mut self, t: Target, sh: Sh, form: Form) -> LStmt {
        let c = Gen::target(t, sh);
        let d = 1 + self.rng.below(3) as u32;
        let (upd, e) = match (form, sh) {
            (Form::Sum, Sh::S) => (self.rng.pick(&[Upd::Add, Upd::Sub]), self.scalar(d)),
            (Form::Sum, Sh::M(r, cc)) => {
                (self.rng.pick(&[Upd::Add, Upd::Sub]), self.matrix(r, cc, d))
            }
            (Form::Squash, Sh::S) => {
                let k = lit(self.rng.pick(&[0.5, -0.5, 0.9]));
                let x = self.scalar(d);
                (Upd::Set, same(K::Tanh, self.add_or_sub(mul(k, c), x)))
            }
            (Form::Squash, Sh::M(r, cc)) => {
                let x = self.matrix(r, cc, d);
                if self.rng.chance(0.5) {
                    let k = lit(self.rng.pick(&[0.5, -0.5]));
                    let tanh = same(K::Tanh, node(K::V, vec![], Sh::S));
                    (Upd::Set, same2(K::Map, same2(K::Add, mul(c, k), x), tanh))
                } else {
                    let b = self.bounded_matrix(r, r, d - 1);
                    let bc = mul(mul(b, c), lit(0.5));
                    (Upd::Set, self.add_or_sub(bc, x))
                }
            }
            (Form::Damp, _) => {
                let x = match sh {
                    Sh::S => self.bounded(d),
                    Sh::M(r, cc) => self.matrix(r, cc, d),
                };
                let half = if self.rng.chance(0.5) {
                    mul(lit(0.5), c)
                } else {
                    mul(c, lit(0.5))
                };
                (Upd::Set, self.add_or_sub(half, x))
            }
            (Form::Scale, Sh::S) if self.rng.chance(0.5) => {
                let x = self.scalar(d);
                (Upd::Div, plus_lit(same(K::Powi(2), x), 1.0))
            }
            (Form::Scale, Sh::S) => {
                let x = same(K::Cos, self.scalar(d));
                (Upd::Mul, plus_lit(mul(lit(0.25), x), 1.0))
            }
            (Form::Scale, Sh::M(_, cc)) => match self.rng.below(3) {
                0 => (Upd::Mul, lit(self.rng.pick(&[0.5, -0.5, 0.9]))),
                1 => (Upd::Mul, same(K::Tanh, self.scalar(d))),
                _ => {
                    let b = self.bounded_matrix(cc, cc, d - 1);
                    (Upd::Mul, mul(b, lit(0.5)))
                }
            },
            (Form::Set, Sh::S) => (Upd::Set, self.scalar(d)),
            (Form::Set, Sh::M(r, cc)) => (Upd::Set, self.matrix(r, cc, d)),
        };
        LStmt::Update(t, upd, self.per_iteration(e, form))
    }

    /// Most updates read what the iteration binds (an index, an element, an
    /// entry): `e` gets a term or factor of it, where the form allows.
    fn per_iteration(&mut self, e: E, form: Form) -> E {
        if !self.rng.chance(0.75) {
            return e;
        }
        match (form, e.k, e.sh) {
            // Inside the squashing function.
            (Form::Squash, K::Tanh, Sh::S) => {
                let leaf = self.loop_leaf(Class::Any).expect("a leaf");
                let inner = self.add_or_sub(e.args[0].clone(), leaf);
                same(K::Tanh, inner)
            }
            (Form::Sum | Form::Set, _, Sh::S) => {
                let leaf = self.loop_leaf(Class::Any).expect("a leaf");
                match self.rng.below(3) {
                    0 => mul(e, leaf),
                    _ => self.add_or_sub(e, leaf),
                }
            }
            (Form::Damp, _, Sh::S) => {
                let leaf = self.loop_leaf(Class::Bounded).expect("a leaf");
                self.add_or_sub(e, leaf)
            }
            (Form::Sum | Form::Set | Form::Damp, _, Sh::M(..)) => {
                let leaf = self.loop_leaf(Class::Bounded).expect("a leaf");
                if self.rng.chance(0.5) {
                    mul(e, leaf)
                } else {
                    mul(leaf, e)
                }
            }
            (Form::Scale, K::Mul, Sh::M(..)) if e.args[1].sh == Sh::S => {
                // A bounded matrix times 0.5, or a scalar factor.
                let leaf = self.loop_leaf(Class::Bounded).expect("a leaf");
                mul(e, same(K::Tanh, leaf))
            }
            _ => e,
        }
    }

    /// `t` updated with the local accumulator `u{depth}`, keeping its form's class.
    fn fold(&mut self, t: Target, sh: Sh, form: Form, depth: usize) -> LStmt {
        let (c, u) = (Gen::target(t, sh), node(K::Local(depth), vec![], Sh::S));
        match (form.class(sh), sh) {
            (Class::Bounded, _) => {
                let x = self.add_or_sub(c, mul(u, lit(0.5)));
                LStmt::Update(t, Upd::Set, same(K::Tanh, x))
            }
            (_, Sh::S) => {
                let x = self.bounded(1);
                LStmt::Update(t, self.rng.pick(&[Upd::Add, Upd::Sub]), mul(u, x))
            }
            (_, Sh::M(r, cc)) => {
                let x = self.matrix(r, cc, 1);
                LStmt::Update(t, Upd::Add, mul(x, same(K::Tanh, u)))
            }
        }
    }

    /// A random body: up to four `let`s, now and then loop blocks among
    /// them, then a scalar tail.
    fn program(&mut self) -> Program {
        let mut lets = Vec::new();
        let mut loops = Vec::new();
        let count = self.rng.below(5);
        let mut blocks: Vec<usize> = Vec::new();
        if self.rng.chance(P_LOOP) {
            for _ in 0..1 + usize::from(self.rng.chance(0.25)) {
                blocks.push(self.rng.below(count + 1));
            }
        }
        for j in 0..=count {
            for _ in blocks.iter().filter(|&&b| b == j) {
                let l = self.loop_block(&mut lets);
                loops.push(l);
            }
            if j == count {
                break;
            }
            let depth = 1 + self.rng.below(4) as u32;
            let (e, class) = match self.rng.below(10) {
                0 => (self.scalar(depth), Class::Any),
                1 => (self.bounded(depth), Class::Bounded),
                2 => (self.positive(depth), Class::Positive),
                3 => {
                    let k = self.rng.pick(&[self.n, self.m]);
                    (self.spd(k, depth), Class::Spd)
                }
                _ => {
                    let d = self.dims();
                    let (r, c) = (self.rng.pick(&d), self.rng.pick(&d));
                    (self.matrix(r, c, depth), Class::Any)
                }
            };
            self.lets.push((e.sh, class));
            lets.push((e, self.rng.chance(0.2)));
        }
        let depth = 2 + self.rng.below(5) as u32;
        let mut tail = self.scalar(depth);
        // Most `let`s the tail would leave unused join it as a term.
        for i in 0..lets.len() {
            let used = tail.uses_let(i) || lets[i + 1..].iter().any(|(e, _)| e.uses_let(i));
            if used || self.rng.chance(0.1) {
                continue;
            }
            let sh = lets[i].0.sh;
            let w = node(K::Let(i), vec![], sh);
            let term = match sh {
                Sh::S => w,
                Sh::M(r, c) => match self.rng.below(3) {
                    0 => to_scalar(K::Sum, vec![w]),
                    1 => to_scalar(K::NormSq, vec![w]),
                    _ => {
                        let y = self.matrix(r, c, 1);
                        to_scalar(K::Dot, vec![w, y])
                    }
                },
            };
            tail = same2(self.rng.pick(&[K::Add, K::Sub]), tail, term);
        }
        let mut program = Program {
            lets,
            tail,
            prelude: Vec::new(),
            loops,
        };
        let rng = &mut self.rng;
        program.for_each_root(|e| e.vary(rng));
        program
    }
}

fn same_kron(x: E, y: E) -> E {
    let (Sh::M(r1, c1), Sh::M(r2, c2)) = (x.sh, y.sh) else {
        unreachable!()
    };
    node(K::Kron, vec![x, y], Sh::M(r1 * r2, c1 * c2))
}

/// The fixture and program of case `seed`. The body is drawn first, as for
/// a function of `f64`; the variant (generic, method) is drawn from a
/// separate stream and only changes how the body is written.
pub(crate) fn generate(seed: u64) -> (Fixture, Program) {
    let mut rng = Rng::new(seed);
    let (n, m, decls) = random_decls(&mut rng);
    let mut gen = Gen {
        rng,
        n,
        m,
        lets: Vec::new(),
        closure: false,
        vars: Vec::new(),
    };
    let mut program = gen.program();
    let mut vr = Rng::new(seed ^ VARIANT_SALT);
    let (generic, method) = (vr.chance(P_GENERIC), vr.chance(P_METHOD));
    // `i as f64` has no spelling generic over the scalar (`as T` is not
    // Rust): a body that casts an index is a function of `f64`.
    let generic = generic && !program.casts_index();
    let mut decls: Vec<String> = match generic {
        true => decls.iter().map(|d| d.replace("f64", "T")).collect(),
        false => decls,
    };
    if generic {
        let mut forms = |e: &mut E| {
            if matches!(e.k, K::Lit(_)) {
                e.form = vr.weighted(&[4, 4, 1, 2]) as u8;
            }
        };
        program.for_each_root(|e| e.nodes_mut(&mut forms));
    }
    if method {
        let fields = make_method(&mut program, &decls, &mut vr);
        decls = std::iter::once("&self".to_owned())
            .chain(
                decls
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| !fields.contains(i))
                    .map(|(_, d)| d),
            )
            .collect();
    }
    let fixture = Fixture {
        n,
        m,
        seed,
        params: decls.join(", "),
        generic,
    };
    (fixture, program)
}

/// Turns a random subset of the parameters (at least one the body uses, if
/// it uses any; never all, and never all it uses when it uses two or more)
/// into fields of `self`, each read directly where the parser can tell its
/// shape from every place it is read, else bound by a typed `let` of its
/// parameter's name. Returns the fields.
fn make_method(program: &mut Program, decls: &[String], vr: &mut Rng) -> Vec<usize> {
    let all: Vec<usize> = (0..NAMES.len()).collect();
    let used: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| program.uses_param(i))
        .collect();
    let mut fields: Vec<usize> = all.iter().copied().filter(|_| vr.chance(P_FIELD)).collect();
    if !used.is_empty() && !used.iter().any(|i| fields.contains(i)) {
        fields.push(vr.pick(&used));
    }
    if used.len() >= 2 && used.iter().all(|i| fields.contains(i)) {
        let keep = vr.pick(&used);
        fields.retain(|&i| i != keep);
    }
    if fields.len() == NAMES.len() {
        let keep = vr.pick(&all);
        fields.retain(|&i| i != keep);
    }
    fields.sort_unstable();
    for &i in &fields {
        if !vr.chance(0.7) {
            continue;
        }
        let mut direct = program.clone();
        direct.for_each_root(|e| {
            e.nodes_mut(&mut |x| {
                if x.k == K::Param(i) {
                    x.k = K::Field(i);
                }
            });
        });
        if direct.fields_inferable() {
            *program = direct;
        }
    }
    program.for_each_root(|e| *e = dress_fields(e.clone(), None));
    // A typed `let` binds each field to its parameter's name, written where
    // the body reads that name: for the fields not read directly, and for
    // the others where the shrinker puts the name back.
    for &i in &fields {
        let (name, ty) = decls[i].split_once(": ").expect("`name: type`");
        let init = match ty.strip_prefix('&') {
            Some(_) => format!("&self.{name}"),
            None if ty.starts_with('D') => format!("self.{name}.clone()"),
            None => format!("self.{name}"),
        };
        program
            .prelude
            .push((i, format!("let {name}: {ty} = {init};")));
    }
    fields
}

/// Writes direct field reads as one would: matrices by reference as operands
/// (`&self.x * w`), and cloned before `try_inverse`, which takes its receiver
/// by value. `parent` is the kind of the node `e` is an argument of.
fn dress_fields(e: E, parent: Option<K>) -> E {
    if let K::Field(_) = e.k {
        let matrix = matches!(e.sh, Sh::M(..));
        return match parent {
            Some(K::Add | K::Sub | K::Mul | K::Div | K::ZerosPlus) if matrix => same(K::Ref, e),
            Some(K::Inverse(_)) => same(K::Clone, e),
            _ => e,
        };
    }
    let k = e.k;
    E {
        args: e
            .args
            .into_iter()
            .map(|a| dress_fields(a, Some(k)))
            .collect(),
        ..e
    }
}

/// The field a node reads directly, through `&` and `.clone()` (as the parser
/// sees through them).
fn field_of(e: &E) -> Option<usize> {
    match e.k {
        K::Field(i) => Some(i),
        K::Ref | K::Clone => field_of(&e.args[0]),
        _ => None,
    }
}

/// Whether `e` reads a field directly, or a `let` that does (`reads`, by index).
fn reads_field(e: &E, reads: &[bool]) -> bool {
    match e.k {
        K::Field(_) => true,
        K::Let(j) => reads[j],
        _ => e.args.iter().any(|a| reads_field(a, reads)),
    }
}

/// Whether the parser can tell the shape of every field `e` reads directly,
/// from the place it is read, and tells it right: beside a non-field operand
/// of `+` or `−` (its shape), in `*` and `/` beside a non-field operand (a
/// scalar if bare, a matrix if borrowed or cloned; a bare field times a matrix
/// is undecided), as the receiver of a method of matrices only or of scalars
/// only (`determinant().ln()` included), as an argument of a method (the
/// receiver's shape, its transpose, a matrix, or a scalar for `powf`), or of
/// a function (a matrix for `logdet` and `log_sum_exp`, a scalar otherwise).
/// A field read alone, negated, mapped, or as the receiver of `exp` (of
/// scalars and of matrices) has no shape there.
/// And `cross` must see that its operands are vectors, which a field's shape
/// from its context may not say: no field is read in its operands (`reads`:
/// the `let`s that read one).
fn fields_inferable(e: &E, reads: &[bool]) -> bool {
    let here = e.args.iter().enumerate().all(|(k, a)| {
        if field_of(a).is_none() {
            return true;
        }
        let other = || &e.args[1 - k];
        match e.k {
            K::Add | K::Sub => field_of(other()).is_none(),
            // In `*` and `/` a bare field is a scalar and a borrowed or cloned
            // one a matrix; a bare field times a matrix is left undecided.
            K::Mul | K::Div if field_of(other()).is_some() => false,
            K::Mul if a.sh == Sh::S => is_bare(a) && other().sh == Sh::S,
            K::Div if a.sh == Sh::S => is_bare(a),
            K::Mul | K::Div => !is_bare(a),
            K::Transpose
            | K::TrMul
            | K::Dot
            | K::TrDot
            | K::Trace
            | K::Det
            | K::Inverse(_)
            | K::CompMul
            | K::CompDiv
            | K::Norm
            | K::NormSq
            | K::Sum
            | K::Kron
            | K::Cross
            | K::Pow(_)
            | K::Ln
            | K::Sqrt
            | K::Sin
            | K::Cos
            | K::Tanh
            | K::Abs
            | K::Recip
            | K::Powi(_)
            | K::Powf
            | K::Ref
            | K::Clone
            | K::Factor(_) => true,
            K::Call(f, _) => (a.sh == Sh::S) != matches!(f, "logdet" | "log_sum_exp" | "logm"),
            // `max` and `min` are methods of scalars and of matrices, so is
            // `abs`; by its path, a scalar method takes scalars.
            K::Method(f) => e.alt || k > 0 || !matches!(f, "max" | "min"),
            K::MatMethod(f) => !matches!(f, "max" | "min" | "abs"),
            K::LpNorm(_) => true,
            // Methods of matrices; `add_scalar`'s argument is a scalar; beside
            // `DMatrix::zeros(..)` in `+`, the shape of the zeros.
            K::AxisReduce(_) | K::Moment(_) | K::AddScalar | K::ZerosPlus => true,
            // A constructor's arguments have no shape from their place.
            K::Fill(_) | K::New => false,
            K::Exp | K::MatExp | K::Neg | K::Map | K::MapFn(_) | K::MapMethod(_) => false,
            // The parser cannot tell the shape of a field indexed.
            K::Entry(..) => false,
            K::Param(_)
            | K::Let(_)
            | K::Lit(_)
            | K::V
            | K::Field(_)
            | K::Index(_)
            | K::Elem(..)
            | K::Local(_) => unreachable!("a leaf"),
        }
    });
    let cross = e.k == K::Cross && reads_field(e, reads);
    here && !cross && e.args.iter().all(|a| fields_inferable(a, reads))
}

/// Whether the field `e` reads is read bare (`self.x`, not `&self.x` or
/// `self.x.clone()`).
fn is_bare(e: &E) -> bool {
    e.k == K::Field(field_of(e).unwrap_or(0))
}

// ---------------------------------------------------------------------------
// The second path: the same source interpreted directly with nalgebra.

/// Evaluates a body as plain nalgebra code would, statement by statement,
/// sharing nothing with the engine but `syn`. Fields are in scope as
/// `self.<name>`; literals of a generic scalar are their numbers.
struct Reference {
    scope: Vec<(String, Val)>,
}

fn rm(v: &Val) -> &DMatrix<f64> {
    v.matrix()
}

impl Reference {
    fn block(mut self, block: &syn::Block) -> Val {
        let mut tail = None;
        for stmt in &block.stmts {
            match stmt {
                Stmt::Expr(e, None) if !is_statement(e) => tail = Some(self.expr(e)),
                _ => self.statement(stmt),
            }
        }
        tail.expect("reference: a tail expression")
    }

    /// A `let` (of one name, `mut` or not), an assignment (`=`, `+=`, `-=`,
    /// `*=`, `/=`) to a name in scope, or a `for` loop.
    fn statement(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Local(local) => {
                let pat = match &local.pat {
                    Pat::Type(t) => &*t.pat,
                    p => p,
                };
                let Pat::Ident(ident) = pat else {
                    panic!("reference: a `let` of one name")
                };
                let init = local.init.as_ref().expect("reference: `let` with a value");
                let v = self.expr(&init.expr);
                self.scope.push((ident.ident.to_string(), v));
            }
            Stmt::Expr(Expr::Assign(a), _) => {
                let v = self.expr(&a.right);
                self.assign(&a.left, v);
            }
            Stmt::Expr(Expr::Binary(b), _) if is_statement(&Expr::Binary(b.clone())) => {
                let (l, r) = (self.expr(&b.left), self.expr(&b.right));
                let v = self.arithmetic(&b.op, l, r);
                self.assign(&b.left, v);
            }
            Stmt::Expr(Expr::ForLoop(f), _) => self.for_loop(f),
            _ => panic!("reference: unsupported statement"),
        }
    }

    fn assign(&mut self, target: &Expr, v: Val) {
        let Expr::Path(p) = target else {
            panic!("reference: assignment to a name")
        };
        let name = p.path.get_ident().expect("reference: a name").to_string();
        let slot = self
            .scope
            .iter()
            .rposition(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("reference: unknown `{name}`"));
        self.scope[slot].1 = v;
    }

    /// `for pattern in iteration { body }`: the iteration's values are taken
    /// first (as Rust evaluates the iterator before the body runs), then the
    /// body runs for each, its `let`s dropped at the end of every iteration.
    fn for_loop(&mut self, f: &syn::ExprForLoop) {
        let items = self.iteration(&f.expr);
        for item in items {
            let mark = self.scope.len();
            bind(&f.pat, item, &mut self.scope);
            for stmt in &f.body.stmts {
                self.statement(stmt);
            }
            self.scope.truncate(mark);
        }
    }

    /// The values a loop iterates over: integers of a range (reversed or
    /// not), entries of a matrix (column-major, as nalgebra iterates), pairs
    /// of `enumerate` and `zip`.
    fn iteration(&mut self, e: &Expr) -> Vec<Item> {
        match e {
            Expr::Paren(p) => self.iteration(&p.expr),
            Expr::Range(r) => {
                let bound = |me: &mut Self, b: &Option<Box<Expr>>| {
                    let v = me
                        .expr(b.as_ref().expect("reference: a bounded range"))
                        .scalar();
                    assert!(v.fract() == 0.0 && v >= 0.0, "reference: bound {v}");
                    v as i64
                };
                let (lo, hi) = (bound(self, &r.start), bound(self, &r.end));
                let hi = match r.limits {
                    syn::RangeLimits::Closed(_) => hi + 1,
                    syn::RangeLimits::HalfOpen(_) => hi,
                };
                (lo..hi).map(|i| Item::One(Val::Scalar(i as f64))).collect()
            }
            Expr::MethodCall(m) => match (m.method.to_string().as_str(), m.args.len()) {
                ("rev", 0) => {
                    let mut items = self.iteration(&m.receiver);
                    items.reverse();
                    items
                }
                ("enumerate", 0) => self
                    .iteration(&m.receiver)
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| {
                        Item::Pair(Box::new(Item::One(Val::Scalar(i as f64))), Box::new(x))
                    })
                    .collect(),
                ("zip", 1) => {
                    let (a, b) = (self.iteration(&m.receiver), self.iteration(&m.args[0]));
                    a.into_iter()
                        .zip(b)
                        .map(|(x, y)| Item::Pair(Box::new(x), Box::new(y)))
                        .collect()
                }
                ("iter", 0) => rm(&self.expr(&m.receiver))
                    .iter()
                    .map(|&v| Item::One(Val::Scalar(v)))
                    .collect(),
                _ => panic!("reference: iteration `{}`", m.method),
            },
            _ => panic!("reference: unsupported iteration"),
        }
    }

    /// `l op r` on scalars (integers among them) and matrices; `op=` as `op`.
    fn arithmetic(&self, op: &BinOp, l: Val, r: Val) -> Val {
        use Val::{Matrix as M, Scalar as S};
        match (op, &l, &r) {
            (BinOp::Add(_) | BinOp::AddAssign(_), ..) => l.zip(&r, |x, y| x + y),
            (BinOp::Sub(_) | BinOp::SubAssign(_), S(x), S(y)) => S(x - y),
            (BinOp::Sub(_) | BinOp::SubAssign(_), ..) => l.zip(&r, |x, y| x - y),
            (BinOp::Mul(_) | BinOp::MulAssign(_), S(x), S(y)) => S(x * y),
            (BinOp::Mul(_) | BinOp::MulAssign(_), S(x), M(y)) => M(y * *x),
            (BinOp::Mul(_) | BinOp::MulAssign(_), M(x), S(y)) => M(x * *y),
            (BinOp::Mul(_) | BinOp::MulAssign(_), M(x), M(y)) => {
                assert_eq!(x.ncols(), y.nrows(), "reference: product shapes");
                M(x * y)
            }
            (BinOp::Div(_) | BinOp::DivAssign(_), S(x), S(y)) => S(x / y),
            (BinOp::Div(_) | BinOp::DivAssign(_), M(x), S(y)) => M(x / *y),
            (BinOp::Rem(_), S(x), S(y)) => S(x % y),
            _ => panic!("reference: binary operator"),
        }
    }

    fn expr(&mut self, e: &Expr) -> Val {
        use Val::{Matrix as M, Scalar as S};
        match e {
            Expr::Path(p) => {
                let name = p.path.get_ident().expect("reference: a name").to_string();
                self.scope
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .unwrap_or_else(|| panic!("reference: unknown `{name}`"))
                    .1
                    .clone()
            }
            Expr::Lit(l) => match &l.lit {
                Lit::Float(f) => S(f.base10_parse().expect("reference: float")),
                Lit::Int(i) => S(i.base10_parse().expect("reference: int")),
                _ => panic!("reference: literal"),
            },
            Expr::Field(f) => {
                let (Expr::Path(base), syn::Member::Named(field)) = (&*f.base, &f.member) else {
                    panic!("reference: a field of `self`")
                };
                assert!(base.path.is_ident("self"), "reference: a field of `self`");
                let name = format!("self.{field}");
                self.scope
                    .iter()
                    .find(|(n, _)| *n == name)
                    .unwrap_or_else(|| panic!("reference: unknown field `{name}`"))
                    .1
                    .clone()
            }
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Unary(u) => match u.op {
                UnOp::Neg(_) => self.expr(&u.expr).map(|x| -x),
                UnOp::Deref(_) => self.expr(&u.expr),
                _ => panic!("reference: unary operator"),
            },
            Expr::Binary(b) => {
                let (l, r) = (self.expr(&b.left), self.expr(&b.right));
                self.arithmetic(&b.op, l, r)
            }
            // Integers are scalars holding integers here; `as` an integer
            // type truncates.
            Expr::Cast(c) => {
                let x = self.expr(&c.expr).scalar();
                match crate::errors::show(&c.ty).as_str() {
                    "f64" | "f32" => S(x),
                    _ => S(x.trunc()),
                }
            }
            Expr::Index(i) => {
                let x = rm(&self.expr(&i.expr)).clone();
                let index = |me: &mut Self, e: &Expr| {
                    let v = me.expr(e).scalar();
                    assert!(v.fract() == 0.0 && v >= 0.0, "reference: index {v}");
                    v as usize
                };
                let (r, c) = x.shape();
                match &*i.index {
                    Expr::Tuple(t) if t.elems.len() == 2 => {
                        let (a, b) = (index(self, &t.elems[0]), index(self, &t.elems[1]));
                        assert!(
                            a < r && b < c,
                            "reference: index ({a}, {b}) of a {r}×{c} matrix"
                        );
                        S(x[(a, b)])
                    }
                    e => {
                        let a = index(self, e);
                        assert!(a < r * c, "reference: index {a} of a {r}×{c} matrix");
                        S(x[a])
                    }
                }
            }
            Expr::MethodCall(m) => self.method(m),
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else {
                    panic!("reference: call")
                };
                let name = p.path.segments.last().expect("a name").ident.to_string();
                // Literals of a generic scalar: `nalgebra::convert(c)`,
                // `T::one()`, `T::zero()`.
                match (name.as_str(), c.args.len()) {
                    ("convert", 1) => return S(self.expr(&c.args[0]).scalar()),
                    ("one", 0) => return S(1.0),
                    ("zero", 0) => return S(0.0),
                    _ => {}
                }
                if let Some(built) = self.constructor(p, c) {
                    return built;
                }
                let first = &p.path.segments[0].ident;
                if p.path.segments.len() == 2 && (first == "f64" || first == "T") {
                    let args: Vec<f64> = c.args.iter().map(|a| self.expr(a).scalar()).collect();
                    return S(scalar_method(&name, args[0], &args[1..]));
                }
                let x = self.expr(&c.args[0]);
                match (name.as_str(), &x) {
                    ("log_sum_exp", M(a)) => {
                        let max = a.max();
                        S(max + a.map(|v| (v - max).exp()).sum().ln())
                    }
                    ("logdet", M(a)) => S(a.determinant().ln()),
                    // (The runtime's, against the evaluator's own.)
                    ("logm", M(a)) => M(matgrad::logm(a)),
                    (f, S(v)) => S(stable(f, *v)),
                    _ => panic!("reference: function `{name}`"),
                }
            }
            _ => panic!("reference: unsupported expression"),
        }
    }

    /// nalgebra's constructors: `Matrix2x3::new(..)` (row-major),
    /// `Vector3::new`, `RowVector2::new`, `SVector::<f64, 3>::from([..])`,
    /// `DMatrix::from_element(r, c, s)`, `DVector::from_element(r, s)`,
    /// `repeat`, `from_diagonal_element`, `zeros`. `None` for other calls.
    fn constructor(&mut self, p: &syn::ExprPath, c: &syn::ExprCall) -> Option<Val> {
        let n = p.path.segments.len();
        if n != 2 {
            return None;
        }
        let ty = p.path.segments[0].ident.to_string();
        let f = p.path.segments[1].ident.to_string();
        let args: Vec<&Expr> = c.args.iter().collect();
        let mut value = |e: &Expr| self.expr(e).scalar();
        let digits = |s: &str| -> Option<usize> { s.parse().ok() };
        let m = match (ty.as_str(), f.as_str()) {
            (_, "new") => {
                let (r, cols) = if let Some(k) = ty.strip_prefix("RowVector") {
                    (1, digits(k)?)
                } else if let Some(k) = ty.strip_prefix("Vector") {
                    (digits(k)?, 1)
                } else {
                    let rest = ty.strip_prefix("Matrix")?;
                    match rest.split_once('x') {
                        Some((r, c)) => (digits(r)?, digits(c)?),
                        None => (digits(rest)?, digits(rest)?),
                    }
                };
                let entries: Vec<f64> = args.iter().map(|e| value(e)).collect();
                DMatrix::from_row_slice(r, cols, &entries)
            }
            ("SVector", "from") => {
                let Expr::Array(a) = args[0] else { return None };
                let entries: Vec<f64> = a.elems.iter().map(&mut value).collect();
                DMatrix::from_column_slice(entries.len(), 1, &entries)
            }
            ("DMatrix" | "DVector", _) => {
                let sizes = if ty == "DMatrix" { 2 } else { 1 };
                let size = |v: f64| v as usize;
                let r = size(value(args[0]));
                let cols = if sizes == 2 { size(value(args[1])) } else { 1 };
                match f.as_str() {
                    "zeros" => DMatrix::zeros(r, cols),
                    "from_element" | "repeat" => DMatrix::from_element(r, cols, value(args[sizes])),
                    "from_diagonal_element" => {
                        DMatrix::from_diagonal_element(r, cols, value(args[sizes]))
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(Val::Matrix(m))
    }

    fn method(&mut self, m: &syn::ExprMethodCall) -> Val {
        use Val::{Matrix as M, Scalar as S};
        let name = m.method.to_string();
        if let Some(v) = self.factorised(m) {
            return v;
        }
        if name == "unwrap" || name == "expect" {
            // `T::from_f64(c).unwrap()`.
            if let Expr::Call(c) = &*m.receiver {
                let Expr::Path(p) = &*c.func else {
                    panic!("reference: unwrap")
                };
                let f = p.path.segments.last().expect("a name").ident.to_string();
                assert_eq!(f, "from_f64", "reference: unwrap");
                return S(self.expr(&c.args[0]).scalar());
            }
            let Expr::MethodCall(inner) = &*m.receiver else {
                panic!("reference: unwrap")
            };
            let a = rm(&self.expr(&inner.receiver)).clone();
            let n = a.nrows();
            return M(a
                .try_inverse()
                .unwrap_or_else(|| DMatrix::from_element(n, n, f64::NAN)));
        }
        let x = self.expr(&m.receiver);
        if name == "map" {
            let a = rm(&x);
            return M(match &m.args[0] {
                Expr::Closure(c) => {
                    let param = match &c.inputs[0] {
                        Pat::Type(t) => &*t.pat,
                        p => p,
                    };
                    let Pat::Ident(v) = param else {
                        panic!("reference: closure parameter")
                    };
                    let v = v.ident.to_string();
                    a.map(|entry| {
                        // (The closure may read names from around it.)
                        let mut scope = self.scope.clone();
                        scope.push((v.clone(), S(entry)));
                        let mut inner = Reference { scope };
                        inner.expr(&c.body).scalar()
                    })
                }
                Expr::Path(p) => {
                    let f = p.path.segments.last().expect("a name").ident.to_string();
                    if p.path.segments.len() == 2 && p.path.segments[0].ident != "matgrad" {
                        a.map(|entry| scalar_method(&f, entry, &[]))
                    } else {
                        a.map(|entry| stable(&f, entry))
                    }
                }
                _ => panic!("reference: map"),
            });
        }
        let args: Vec<Val> = m.args.iter().map(|a| self.expr(a)).collect();
        let int_arg = || match &m.args[0] {
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => i.base10_parse::<i32>().expect("int"),
                _ => panic!("reference: integer"),
            },
            Expr::Unary(u) => match &*u.expr {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Int(i), ..
                }) => -i.base10_parse::<i32>().expect("int"),
                _ => panic!("reference: integer"),
            },
            _ => panic!("reference: integer"),
        };
        match (&x, name.as_str()) {
            (_, "clone" | "clone_owned") => x.clone(),
            (M(a), "nrows") => S(a.nrows() as f64),
            (M(a), "ncols") => S(a.ncols() as f64),
            (M(a), "len") => S(a.len() as f64),
            (S(v), _) => S(match name.as_str() {
                "exp" => v.exp(),
                "ln" => v.ln(),
                "sqrt" => v.sqrt(),
                "sin" => v.sin(),
                "cos" => v.cos(),
                "tanh" => v.tanh(),
                "abs" => v.abs(),
                "recip" => v.recip(),
                "powi" => v.powi(int_arg()),
                "powf" => v.powf(args[0].scalar()),
                _ => {
                    let rest: Vec<f64> = args.iter().map(Val::scalar).collect();
                    scalar_method(&name, *v, &rest)
                }
            }),
            (M(a), _) => {
                let arg = || rm(&args[0]);
                match name.as_str() {
                    "transpose" => M(a.transpose()),
                    "tr_mul" => M(a.tr_mul(arg())),
                    "dot" => S(a.dot(arg())),
                    "tr_dot" => S(a.tr_dot(arg())),
                    "trace" => S(a.trace()),
                    "determinant" => S(a.determinant()),
                    "component_mul" => M(a.component_mul(arg())),
                    "component_div" => M(a.component_div(arg())),
                    "norm" => S(a.norm()),
                    "norm_squared" => S(a.norm_squared()),
                    "sum" => S(a.sum()),
                    "kronecker" => M(a.kronecker(arg())),
                    "cross" => M(a.cross(arg())),
                    "exp" => M(a.exp()),
                    "pow" => M(a.pow(int_arg() as u32)),
                    "max" => S(a.max()),
                    "min" => S(a.min()),
                    "amax" => S(a.amax()),
                    "amin" => S(a.amin()),
                    "abs" => M(a.abs()),
                    "lp_norm" => S(a.lp_norm(int_arg())),
                    "row_sum" => M(DMatrix::from_row_slice(
                        1,
                        a.ncols(),
                        a.row_sum().as_slice(),
                    )),
                    "row_mean" => M(DMatrix::from_row_slice(
                        1,
                        a.ncols(),
                        a.row_mean().as_slice(),
                    )),
                    "column_sum" => M(DMatrix::from_column_slice(
                        a.nrows(),
                        1,
                        a.column_sum().as_slice(),
                    )),
                    "column_mean" => M(DMatrix::from_column_slice(
                        a.nrows(),
                        1,
                        a.column_mean().as_slice(),
                    )),
                    "mean" => S(a.mean()),
                    "variance" => S(a.variance()),
                    "add_scalar" => M(a.add_scalar(args[0].scalar())),
                    _ => panic!("reference: matrix method `{name}`"),
                }
            }
        }
    }
}

impl Reference {
    /// What is read off a factorisation (`….cholesky().unwrap().solve(&b)`,
    /// `….lu().solve(&b).unwrap()`, `….lu().determinant()`), or a triangular
    /// solve, computed by nalgebra; `None` for other methods.
    fn factorised(&mut self, m: &syn::ExprMethodCall) -> Option<Val> {
        use Val::{Matrix as M, Scalar as S};
        let name = m.method.to_string();
        let Expr::MethodCall(inner) = &*m.receiver else {
            return None;
        };
        let inner_name = inner.method.to_string();
        let arg = |r: &mut Reference| rm(&r.expr(&m.args[0])).clone();
        if inner_name == "lu" && name == "determinant" {
            return Some(S(rm(&self.expr(&inner.receiver))
                .clone()
                .lu()
                .determinant()));
        }
        if name == "unwrap" || name == "expect" {
            let lu = match &*inner.receiver {
                Expr::MethodCall(base) if base.method == "lu" => Some(base),
                _ => None,
            };
            let b = |r: &mut Reference| rm(&r.expr(&inner.args[0])).clone();
            return match (inner_name.as_str(), lu) {
                ("solve", Some(base)) => {
                    let a = rm(&self.expr(&base.receiver)).clone();
                    Some(M(a.lu().solve(&b(self)).expect("reference: singular")))
                }
                (
                    "solve_lower_triangular"
                    | "solve_upper_triangular"
                    | "tr_solve_lower_triangular"
                    | "tr_solve_upper_triangular",
                    _,
                ) => {
                    let a = rm(&self.expr(&inner.receiver)).clone();
                    let b = b(self);
                    Some(M(match inner_name.as_str() {
                        "solve_lower_triangular" => a.solve_lower_triangular(&b),
                        "solve_upper_triangular" => a.solve_upper_triangular(&b),
                        "tr_solve_lower_triangular" => a.tr_solve_lower_triangular(&b),
                        _ => a.tr_solve_upper_triangular(&b),
                    }
                    .expect("reference: zero on the diagonal")))
                }
                _ => None,
            };
        }
        // `….cholesky().unwrap().method(…)`.
        if inner_name != "unwrap" && inner_name != "expect" {
            return None;
        }
        let Expr::MethodCall(base) = &*inner.receiver else {
            return None;
        };
        if base.method != "cholesky" {
            return None;
        }
        let chol = rm(&self.expr(&base.receiver))
            .clone()
            .cholesky()
            .expect("reference: not positive definite");
        Some(match name.as_str() {
            "solve" => M(chol.solve(&arg(self))),
            "ln_determinant" => S(chol.ln_determinant()),
            "determinant" => S(chol.determinant()),
            "inverse" => M(chol.inverse()),
            "l" => M(chol.l()),
            _ => panic!("reference: Cholesky method `{name}`"),
        })
    }
}

/// `x.f(rest…)` for the scalar methods of `f64` beyond the first few.
fn scalar_method(f: &str, x: f64, rest: &[f64]) -> f64 {
    match (f, rest) {
        ("exp", []) => x.exp(),
        ("ln", []) => x.ln(),
        ("sqrt", []) => x.sqrt(),
        ("sin", []) => x.sin(),
        ("cos", []) => x.cos(),
        ("tanh", []) => x.tanh(),
        ("abs", []) => x.abs(),
        ("recip", []) => x.recip(),
        ("ln_1p", []) => x.ln_1p(),
        ("exp_m1", []) => x.exp_m1(),
        ("log2", []) => x.log2(),
        ("log10", []) => x.log10(),
        ("exp2", []) => x.exp2(),
        ("cbrt", []) => x.cbrt(),
        ("tan", []) => x.tan(),
        ("asin", []) => x.asin(),
        ("acos", []) => x.acos(),
        ("atan", []) => x.atan(),
        ("sinh", []) => x.sinh(),
        ("cosh", []) => x.cosh(),
        ("asinh", []) => x.asinh(),
        ("acosh", []) => x.acosh(),
        ("atanh", []) => x.atanh(),
        ("signum", []) => x.signum(),
        ("to_degrees", []) => x.to_degrees(),
        ("to_radians", []) => x.to_radians(),
        ("powf", [e]) => x.powf(*e),
        ("log", [b]) => x.log(*b),
        ("hypot", [y]) => x.hypot(*y),
        ("atan2", [y]) => x.atan2(*y),
        ("midpoint", [y]) => x.midpoint(*y),
        ("max", [y]) => x.max(*y),
        ("min", [y]) => x.min(*y),
        ("mul_add", [y, z]) => x.mul_add(*y, *z),
        ("clamp", [lo, hi]) => x.clamp(*lo, *hi),
        _ => panic!(
            "reference: scalar method `{f}` of {} arguments",
            rest.len() + 1
        ),
    }
}

/// What one iteration of a loop binds to its pattern.
enum Item {
    One(Val),
    Pair(Box<Item>, Box<Item>),
}

/// Binds the names of a loop's pattern (`i`, `&e`, `_`, `(i, e)`) to `item`.
fn bind(pat: &Pat, item: Item, scope: &mut Vec<(String, Val)>) {
    match (pat, item) {
        (Pat::Wild(_), _) => {}
        (Pat::Ident(p), Item::One(v)) => scope.push((p.ident.to_string(), v)),
        (Pat::Reference(r), item) => bind(&r.pat, item, scope),
        (Pat::Paren(p), item) => bind(&p.pat, item, scope),
        (Pat::Tuple(t), Item::Pair(a, b)) if t.elems.len() == 2 => {
            bind(&t.elems[0], *a, scope);
            bind(&t.elems[1], *b, scope);
        }
        _ => panic!("reference: loop pattern"),
    }
}

/// Whether `e` is written as a statement: an assignment or a loop.
fn is_statement(e: &Expr) -> bool {
    match e {
        Expr::Assign(_) | Expr::ForLoop(_) => true,
        Expr::Binary(b) => matches!(
            b.op,
            BinOp::AddAssign(_) | BinOp::SubAssign(_) | BinOp::MulAssign(_) | BinOp::DivAssign(_)
        ),
        _ => false,
    }
}

/// The runtime's scalar functions, written plainly.
fn stable(f: &str, x: f64) -> f64 {
    match f {
        "sigmoid" => 1.0 / (1.0 + (-x).exp()),
        "softplus" => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        "relu" => x.max(0.0),
        _ => panic!("reference: function `{f}`"),
    }
}

// ---------------------------------------------------------------------------
// The harness.

#[derive(Debug)]
enum Outcome {
    /// Every gradient entry matched (the count of entries compared), and
    /// whether the Hessian-vector products were checked too.
    Pass(usize, Hessian),
    /// Not checkable: why, and the entries compared before deciding so.
    Skip(&'static str, usize),
    Fail(Failure),
}

/// Whether check 4 ran on a case that passed checks 1 to 3.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Hessian {
    Checked,
    /// Not run, and why: the tangent (forward mode) of an operation of the
    /// program is not implemented (the matrix exponential, LU cofactors).
    NotRun(&'static str),
}

#[derive(Debug, Clone)]
struct Failure {
    /// The kind of failure, kept while minimising.
    kind: String,
    detail: String,
}

fn fail(kind: impl Into<String>, detail: impl Into<String>) -> Outcome {
    Outcome::Fail(Failure {
        kind: kind.into(),
        detail: detail.into(),
    })
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".to_owned()
    }
}

/// Checks one body over one fixture.
fn check(fx: &Fixture, body: &str) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| check_unguarded(fx, body))) {
        Ok(outcome) => outcome,
        Err(p) => {
            let msg = panic_message(&*p);
            if msg.contains("eval: singular matrix") {
                return Outcome::Skip("singular matrix", 0);
            }
            // The program as written panics there too (its `.unwrap()`).
            if msg.contains("reference: not positive definite") {
                return Outcome::Skip(
                    "a Cholesky factorisation of a matrix not positive definite",
                    0,
                );
            }
            // The kind is the message up to its first detail.
            let kind: String = msg
                .split([':', '`', '\n'])
                .next()
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect();
            fail(format!("panic: {kind}"), msg)
        }
    }
}

/// The index in [`NAMES`] of a parameter or field.
fn name_index(name: &str) -> usize {
    NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("no parameter or field `{name}`"))
}

fn check_unguarded(fx: &Fixture, body: &str) -> Outcome {
    let text = fx.function(body);
    let func: syn::ItemFn = match syn::parse_str(&text) {
        Ok(f) => f,
        Err(e) => return fail("not Rust syntax", e.to_string()),
    };
    // The declared parameters, all differentiated; in a method, the others
    // are fields.
    let names: Vec<&str> = func
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            syn::FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(NAMES[name_index(&p.ident.to_string())]),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let fields: Vec<usize> = match fx.is_method() {
        true => (0..NAMES.len())
            .filter(|&i| !names.contains(&NAMES[i]))
            .collect(),
        false => Vec::new(),
    };

    // 1. The whole expansion gives code, not errors.
    let item: TokenStream = text.parse().expect("tokens");
    let attr: TokenStream = names.join(", ").parse().expect("tokens");
    let expanded = steps::expand(attr::Kind::Grad, attr, item).to_string();
    if expanded.contains("compile_error") {
        let start = expanded.find("compile_error").unwrap_or(0);
        return fail("expansion error", expanded[start..].to_owned());
    }

    // The engine's graph (of the declared scalar, as the macro builds it) and
    // gradients.
    let (mut errors, mut dims) = (Errors::default(), Dims::default());
    let scalar = signature::return_scalar(&func.sig, &mut errors);
    let (params, reported) = signature::params(&func.sig, &mut dims, &mut errors);
    let mut g = Graph::new(scalar.unwrap_or(Scalar::F64), dims);
    let value = parse::body(
        &mut g,
        &params,
        &reported,
        true,
        &func.block,
        &mut errors,
        &mut crate::compose::Calls::runtime_known(),
    );
    if !errors.is_empty() {
        return fail("parse error", errors.to_compile_errors().to_string());
    }
    let value = value.expect("a value without errors");
    let all = fx.values();
    let vals: Vec<Val> = names.iter().map(|n| all[name_index(n)].clone()).collect();
    // The values of the constants the body reads from fields, by index.
    let consts: Vec<Val> = g
        .constants
        .iter()
        .map(|tokens| {
            let field: syn::ExprField = syn::parse2(tokens.clone()).expect("a field");
            let syn::Member::Named(name) = &field.member else {
                panic!("a named field")
            };
            all[name_index(&name.to_string())].clone()
        })
        .collect();

    // 2. The forward value against plain nalgebra.
    let scope = names
        .iter()
        .map(|n| n.to_string())
        .zip(vals.clone())
        .chain(
            fields
                .into_iter()
                .map(|i| (format!("self.{}", NAMES[i]), all[i].clone())),
        )
        .collect();
    let expected = Reference { scope }.block(&func.block).scalar();
    let mut ev = Eval::watching(&g, &vals, &consts);
    let forward = ev.eval(value).scalar();
    // What the forward pass met (its largest value, kinks and ties, norms of
    // zero, saturations): the gradient check below consults it too.
    let watch = ev.watch.take().expect("watching");
    if !expected.is_finite() {
        return Outcome::Skip("value not finite", 0);
    }
    // Loops that square or double a carried value make it overflow, or grow
    // so large that rounding (in `sin`, `cos` of it) and oscillations finer
    // than any step decide the comparisons: neither value nor differences
    // can be trusted there.
    if watch.non_finite {
        return Outcome::Skip("an intermediate value not finite", 0);
    }
    if watch.largest > MAX_MAGNITUDE {
        return Outcome::Skip("an intermediate value beyond 1e8", 0);
    }
    let err = (forward - expected).abs() / expected.abs().max(1.0);
    if err > FORWARD_TOL && chaotic(&g, value, &vals, &consts, forward) {
        return Outcome::Skip("a value that rounding in the inputs changes (chaotic)", 0);
    }
    if err.is_nan() || err > FORWARD_TOL {
        return fail(
            "forward value",
            format!("the engine evaluates to {forward:e}, nalgebra to {expected:e} (relative error {err:e})"),
        );
    }

    // 3. Every gradient against finite differences.
    let ids: Vec<Id> = names.iter().map(|n| param_node(&g, n)).collect();
    let grads = diff::gradient(&mut g, value, &ids);
    // The value as `_grad` returns it, its traces read off the gradient's products.
    let roots: Vec<Id> = grads.iter().flatten().copied().collect();
    let shared = crate::share::traces_from_products(&mut g, value, &roots);
    let mut ev = Eval::with_constants(&g, &vals, &consts);
    if shared != value {
        let read = ev.eval(shared).scalar();
        let err = (read - forward).abs() / forward.abs().max(1.0);
        if err.is_nan() || err > FORWARD_TOL {
            return fail(
                "value read off the gradient's products",
                format!("{read:e} where the forward value is {forward:e}"),
            );
        }
    }
    let (mut compared, mut skipped) = (0, None);
    for (i, (&id, grad)) in ids.iter().zip(&grads).enumerate() {
        let analytic = grad.map(|gid| ev.eval(gid));
        let entries = |v: &Val| match v {
            Val::Scalar(s) => DMatrix::from_element(1, 1, *s),
            Val::Matrix(m) => m.clone(),
        };
        let x = entries(&vals[i]);
        let a = match &analytic {
            Some(v) => {
                let same_kind = matches!(
                    (v, &vals[i]),
                    (Val::Scalar(_), Val::Scalar(_)) | (Val::Matrix(_), Val::Matrix(_))
                );
                let a = entries(v);
                if !same_kind || a.shape() != x.shape() {
                    return fail(
                        "gradient shape",
                        format!(
                            "∇{} has shape {:?}, the parameter {:?}",
                            names[i],
                            a.shape(),
                            x.shape()
                        ),
                    );
                }
                a
            }
            None => DMatrix::zeros(x.nrows(), x.ncols()),
        };
        let uses = g.depends_on(value, |n, _| n == id)[value.index()];
        if !uses {
            if a.iter().any(|&v| v != 0.0) {
                return fail(
                    "gradient of an unused parameter",
                    format!("∇{} = {a} but the value does not depend on it", names[i]),
                );
            }
            continue;
        }
        for j in 0..x.len() {
            // The value with entry j of parameter i moved by `delta`.
            let at = |delta: f64| {
                let mut vals = vals.clone();
                vals[i] = match &vals[i] {
                    Val::Scalar(s) => Val::Scalar(s + delta),
                    Val::Matrix(m) => {
                        let mut m = m.clone();
                        m[j] += delta;
                        Val::Matrix(m)
                    }
                };
                Eval::with_constants(&g, &vals, &consts)
                    .eval(value)
                    .scalar()
            };
            let h = STEP * x[j].abs().max(1.0);
            let (up, down) = (at(h), at(-h));
            let n1 = (up - down) / (2.0 * h);
            compared += 1;
            if a[j].is_finite() && n1.is_finite() && rel(a[j], n1) <= TOL {
                continue;
            }
            match mismatch(a[j], [up, forward, down], h, &at, || {
                let noise = value_noise(&g, value, &vals, &consts, forward);
                watch.largest.max(noise / (4.0 * f64::EPSILON))
            }) {
                Verdict::Agree => {}
                Verdict::Unreliable(why) => {
                    skipped.get_or_insert(why);
                }
                Verdict::NormOfZero if watch.norm_of_zero => {
                    return Outcome::Skip(
                        "a norm of zero, or hypot or atan2 at the origin",
                        compared,
                    );
                }
                Verdict::Differ if up == down && watch.saturated => {
                    return Outcome::Skip(
                        "a saturated tanh or sigmoid: the value as computed is flat",
                        compared,
                    );
                }
                Verdict::Differ if watch.near_kink => {
                    return Outcome::Skip(
                        "a kink (abs, relu, signum) or a tie (max, min, clamp)",
                        compared,
                    );
                }
                Verdict::NormOfZero | Verdict::Differ => {
                    let (r, c) = (j % x.nrows(), j / x.nrows());
                    let ns = [h / 4.0, h, 4.0 * h, h * 1e-4, h * 1e-5]
                        .map(|h| (at(h) - at(-h)) / (2.0 * h));
                    return fail(
                        "gradient mismatch",
                        format!(
                            "∂f/∂{}[({r}, {c})]: the engine's gradient gives {:e}, finite differences {:e} (steps h/4, h, 4h: {:e}, {:e}, {:e}; h/10⁴, h/10⁵: {:e}, {:e}; h = {h:e})\n∇{} = {a}",
                            names[i], a[j], n1, ns[0], ns[1], ns[2], ns[3], ns[4], names[i]
                        ),
                    );
                }
            }
        }
    }
    let hessian = match check_hessian(&mut g, &names, value, &ids, &grads, &vals, &consts) {
        Ok(hessian) => hessian,
        Err(outcome) => return outcome,
    };
    match skipped {
        Some(why) => Outcome::Skip(why, compared),
        None => Outcome::Pass(compared, hessian),
    }
}

/// Check 4, second derivatives: the tangent of every gradient along one
/// random direction of all parameters together (a Hessian-vector product)
/// against central differences of the gradients along that direction.
/// Programs with loops and branches are checked too: their tangents are
/// loops carrying the values and their tangents (evaluated like any loop).
/// `Ok(Checked)` if they agree, `Ok(NotRun(why))` where an operation has no
/// tangent rule yet (LU cofactors), else the outcome.
fn check_hessian(
    g: &mut Graph,
    names: &[&str],
    value: Id,
    ids: &[Id],
    grads: &[Option<Id>],
    vals: &[Val],
    consts: &[Val],
) -> Result<Hessian, Outcome> {
    let mut rng = Rng::new(0x5eed_4e55);
    let mut seeds = Vec::new();
    let mut directions = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        let shape = g.shape(id);
        let dir = g.build(
            crate::ir::ops::Param {
                index: vals.len() + i,
                shape,
                field: g.field(id),
            },
            &[],
        );
        seeds.push((id, dir));
        directions.push(match &vals[i] {
            Val::Scalar(_) => Val::Scalar(rng.unit() - 0.5),
            Val::Matrix(m) => Val::Matrix(m.map(|_| rng.unit() - 0.5)),
        });
    }
    let present: Vec<(usize, Id)> = grads
        .iter()
        .enumerate()
        .filter_map(|(i, gr)| gr.map(|gr| (i, gr)))
        .collect();
    let targets: Vec<Id> = present.iter().map(|&(_, gr)| gr).collect();
    // An operation without a tangent rule (none today) leaves nothing to
    // check, which is counted (by reason).
    let tangents = match diff::tangents(g, &targets, &seeds) {
        Ok(tangents) => tangents,
        Err(_) => return Ok(Hessian::NotRun("no tangent rule")),
    };
    // What the kink test evaluates: everything the comparison below reads.
    let mut roots = vec![value];
    roots.extend(targets.iter().copied());
    roots.extend(tangents.iter().flatten().copied());
    let mut all = vals.to_vec();
    all.extend(directions.iter().cloned());
    let mut ev = Eval::with_constants(g, &all, consts);
    // The gradients with every parameter moved by `t` along its direction.
    let moved = |t: f64| -> Vec<DMatrix<f64>> {
        let mut at = all.clone();
        for (i, d) in directions.iter().enumerate() {
            at[i] = match (&at[i], d) {
                (Val::Scalar(x), Val::Scalar(v)) => Val::Scalar(x + t * v),
                (Val::Matrix(x), Val::Matrix(v)) => Val::Matrix(x + v * t),
                _ => unreachable!("a direction has its parameter's kind"),
            };
        }
        let mut ev = Eval::with_constants(g, &at, consts);
        targets.iter().map(|&gr| entries_of(&ev.eval(gr))).collect()
    };
    let h = STEP;
    let (up, down) = (moved(h), moved(-h));
    let (up4, down4) = (moved(h / 4.0), moved(-h / 4.0));
    let (up_big, down_big) = (moved(4.0 * h), moved(-4.0 * h));
    for (k, &(i, _)) in present.iter().enumerate() {
        let analytic = match tangents[k] {
            Some(t) => entries_of(&ev.eval(t)),
            None => DMatrix::zeros(up[k].nrows(), up[k].ncols()),
        };
        let fd = (&up[k] - &down[k]) / (2.0 * h);
        let fd4 = (&up4[k] - &down4[k]) / (h / 2.0);
        let fd_big = (&up_big[k] - &down_big[k]) / (8.0 * h);
        for j in 0..analytic.len() {
            // Richardson's extrapolation of central differences at steps h
            // and h/4 cancels their h² error; the one from 4h and h must agree
            // with it, or rounding and curvature make them untrustworthy here.
            let a = analytic[j];
            let n = (16.0 * fd4[j] - fd[j]) / 15.0;
            let n_big = (16.0 * fd[j] - fd_big[j]) / 15.0;
            if !(n.is_finite() && n_big.is_finite()) || rel(n, n_big) > 1e-5 {
                return Err(Outcome::Skip(
                    "finite differences of the gradient disagree across steps",
                    0,
                ));
            }
            if !a.is_finite() || rel(a, n) > 1e-4 {
                if near_kink(g, &roots, &all, consts) {
                    return Err(Outcome::Skip(
                        "a kink (abs, relu, signum) or a tie (max, min, clamp)",
                        0,
                    ));
                }
                return Err(fail(
                    "Hessian-vector mismatch",
                    format!("entry {j} of the derivative of ∇{} along a random direction: the engine gives {a:e}, finite differences of the gradient {n:e}", names[i]),
                ));
            }
        }
    }
    Ok(Hessian::Checked)
}

/// Whether the evaluation of `roots` (the forward value, the gradients and
/// their tangents), in every iteration of the loops among them, passes so
/// near a kink or a tie that the steps of finite differences cross it: the
/// argument of an `abs`, `relu`, `sign`, `signum` or step near 0, the
/// operands of a `max`, `min` or `clamp` near a tie, the entries a matrix's
/// `max`, `min`, `amax`, `amin` picks among near one (the evaluator's watch,
/// [`crate::eval::kink_gap`]; kinks inside `map` closures are not looked at).
fn near_kink(g: &Graph, roots: &[Id], vals: &[Val], consts: &[Val]) -> bool {
    let mut ev = Eval::watching(g, vals, consts);
    for &root in roots {
        ev.eval(root);
    }
    ev.watch.expect("watching").near_kink
}

fn entries_of(v: &Val) -> DMatrix<f64> {
    match v {
        Val::Scalar(s) => DMatrix::from_element(1, 1, *s),
        Val::Matrix(m) => m.clone(),
    }
}

/// `|p − q| / max(1, |p|, |q|)`.
fn rel(p: f64, q: f64) -> f64 {
    (p - q).abs() / p.abs().max(q.abs()).max(1.0)
}

enum Verdict {
    /// The gradient matches at another step.
    Agree,
    /// Finite differences cannot decide here.
    Unreliable(&'static str),
    /// A non-finite gradient: fine only at the norm of a zero matrix.
    NormOfZero,
    /// A wrong gradient.
    Differ,
}

/// Decides a mismatch between the gradient entry `a` and the central
/// difference of `[f(x + h), f(x), f(x − h)]`: the entry is wrong only if the
/// finite differences are trustworthy here, that is, agree across steps
/// h/4, h, 4h, are not drowned in rounding (intermediate values up to
/// `magnitude()`), and `f` has no kink at `x` (where central differences
/// average the two one-sided slopes).
fn mismatch(
    a: f64,
    [up, mid, down]: [f64; 3],
    h: f64,
    at: &dyn Fn(f64) -> f64,
    magnitude: impl FnOnce() -> f64,
) -> Verdict {
    let central = |h: f64| (at(h) - at(-h)) / (2.0 * h);
    let ns = [(up - down) / (2.0 * h), central(h / 4.0), central(4.0 * h)];
    if ns.iter().any(|n| !n.is_finite()) {
        return Verdict::Unreliable("finite differences not finite");
    }
    if a.is_finite() && ns.iter().any(|&n| rel(a, n) <= TOL) {
        return Verdict::Agree;
    }
    if !a.is_finite() {
        return Verdict::NormOfZero;
    }
    let scale = a.abs().max(ns[0].abs()).max(1.0);
    let spread = ns
        .iter()
        .flat_map(|&p| ns.iter().map(move |&q| rel(p, q)))
        .fold(0.0, f64::max);
    if spread > TOL / 4.0 {
        return Verdict::Unreliable("finite differences disagree across steps");
    }
    // Rounding: each value is off by about ε·M for intermediates up to M,
    // so the differences by about ε·M/h.
    if 4.0 * f64::EPSILON * magnitude() / h > TOL / 4.0 * scale {
        return Verdict::Unreliable("finite differences drowned in rounding");
    }
    // A kink: the one-sided slopes differ by a jump that does not shrink
    // with the step (for a smooth f their gap is about h f″).
    let gap = |up: f64, down: f64, h: f64| ((up - mid) - (mid - down)).abs() / h;
    let (g1, g4) = (gap(up, down, h), gap(at(h / 4.0), at(-h / 4.0), h / 4.0));
    if g1 > TOL * scale && g4 > g1 / 2.0 {
        return Verdict::Unreliable("a kink at the point");
    }
    // A function so curved at the point (as `cos` of a value a loop has
    // multiplied by 2²⁵) that steps around h average over its oscillation:
    // far smaller steps decide, if they converge (the finest within TOL of
    // the gradient, the one 10 times larger within 10 TOL of it).
    let fine = [central(h * 1e-4), central(h * 1e-5)];
    if fine.iter().all(|n| n.is_finite())
        && rel(fine[0], fine[1]) <= 10.0 * TOL
        && rel(a, fine[1]) <= TOL
    {
        return Verdict::Agree;
    }
    // The other way round: a value whose rounding error varies over the
    // steps around h (a determinant cancelling large terms, whose entries'
    // last bits quantise the step) while steps 100 and 1000 times larger
    // both agree with the gradient: the small steps cannot decide.
    let coarse = [central(h * 100.0), central(h * 1000.0)];
    if coarse
        .iter()
        .all(|&n| n.is_finite() && rel(a, n) <= 10.0 * TOL)
    {
        return Verdict::Unreliable(
            "finite differences at small steps see rounding; larger ones agree",
        );
    }
    Verdict::Differ
}

/// How much the value moves when every input moves by one part in 10¹³
/// (either way), about what rounding does: the rounding error of the value
/// as computed, which intermediate magnitudes miss where a determinant or a
/// solve cancels large terms. Finite differences at step `h` are off by
/// about this over `h`.
fn value_noise(g: &Graph, value: Id, vals: &[Val], consts: &[Val], forward: f64) -> f64 {
    [1e-13, -1e-13]
        .map(|t| {
            let nudged: Vec<Val> = vals.iter().map(|v| v.map(|x| x * (1.0 + t))).collect();
            let moved = Eval::with_constants(g, &nudged, consts)
                .eval(value)
                .scalar();
            let change = (moved - forward).abs();
            if change.is_finite() {
                change
            } else {
                f64::INFINITY
            }
        })
        .into_iter()
        .fold(0.0, f64::max)
}

/// Whether the value moves by more than the forward tolerance when every
/// input moves by one part in 10¹³, about what rounding does: then two
/// evaluations that round differently (the engine's and nalgebra's, as
/// `powi(2)` against `v * v`) need not agree, as in a loop iterating
/// `w -= cos(w²)`, which amplifies rounding at every step.
fn chaotic(g: &Graph, value: Id, vals: &[Val], consts: &[Val], forward: f64) -> bool {
    value_noise(g, value, vals, consts, forward) / forward.abs().max(1.0) > FORWARD_TOL
}

fn param_node(g: &Graph, name: &str) -> Id {
    (0..g.len() as u32)
        .map(Id)
        .find(|id| matches!(g.op(*id), Op::Param(_)) && g.names.get(id).is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("no parameter `{name}`"))
}

// ---------------------------------------------------------------------------
// Minimising a failure.

/// The same failure on a smaller program: drops or inlines `let`s, and
/// replaces subexpressions by one of their arguments of the same shape or by
/// a leaf, while the failure (of the same kind) persists. In a method, only
/// programs whose direct field reads have a shape from their context count
/// (others fail by design, with a different error).
fn shrink(fx: &Fixture, program: &Program, kind: &str) -> Program {
    let fails = |p: &Program| {
        p.fields_inferable()
            && matches!(check(fx, &p.render(fx.style())), Outcome::Fail(f) if f.kind == kind)
    };
    let mut best = program.clone();
    let mut budget = 3_000;
    'outer: loop {
        for candidate in candidates(fx, &best) {
            if budget == 0 {
                break 'outer;
            }
            budget -= 1;
            if fails(&candidate) {
                best = candidate;
                continue 'outer;
            }
        }
        break;
    }
    best
}

fn candidates(fx: &Fixture, p: &Program) -> Vec<Program> {
    let mut out = Vec::new();
    // The parameters in scope: declared, or bound to a field by a `let`.
    let mut bound = fx.declared();
    bound.extend(p.prelude.iter().map(|(i, _)| *i));
    // Fewer loops, or fewer statements in one.
    for k in 0..p.loops.len() {
        let mut q = p.clone();
        q.loops.remove(k);
        out.push(q);
        for l in p.loops[k].smaller() {
            let mut q = p.clone();
            q.loops[k] = l;
            out.push(q);
        }
    }
    // Fewer lets: drop an unused one, or inline it (not one a loop assigns).
    for i in (0..p.lets.len()).rev() {
        if !p.assigned(i) {
            out.push(p.without_let(i));
        }
    }
    // Smaller expressions, largest replacements first.
    let size = p.size();
    let mut smaller = Vec::new();
    for (root, e) in p.roots().into_iter().enumerate() {
        let mut paths = Vec::new();
        e.paths(&mut Vec::new(), false, &mut paths);
        for (path, closure) in paths {
            let sub = e.at(&path);
            let mut replacements: Vec<E> = sub
                .args
                .iter()
                .enumerate()
                .filter(|(i, a)| a.sh == sub.sh && !(sub.k == K::Map && *i == 1))
                .map(|(_, a)| a.clone())
                .collect();
            replacements.extend(simple_leaves(fx, &bound, sub.sh, closure));
            for r in replacements {
                if r.size() < sub.size() {
                    let q = p.with_root(root, e.replaced(&path, &r));
                    smaller.push((size - q.size(), q));
                }
            }
        }
    }
    smaller.sort_by_key(|(gain, _)| std::cmp::Reverse(*gain));
    out.extend(smaller.into_iter().map(|(_, q)| q));
    out
}

/// Leaves of a shape, for the shrinker, among the parameters in scope (`bound`).
fn simple_leaves(fx: &Fixture, bound: &[usize], sh: Sh, closure: bool) -> Vec<E> {
    let (n, m) = (fx.n, fx.m);
    let param = |i: usize| node(K::Param(i), vec![], param_shape(i, n, m));
    let matrices = || (0..6).filter(|i| bound.contains(i));
    match sh {
        Sh::S if closure => vec![node(K::V, vec![], Sh::S), lit(0.5)],
        Sh::S => std::iter::once(lit(0.5))
            .chain(
                [PT, PS]
                    .into_iter()
                    .filter(|i| bound.contains(i))
                    .map(param),
            )
            .collect(),
        Sh::M(r, c) => {
            let direct: Vec<E> = matrices()
                .filter(|&i| param_shape(i, n, m) == sh)
                .map(param)
                .collect();
            if !direct.is_empty() {
                return direct;
            }
            matrices()
                .filter(|&i| param_shape(i, n, m) == Sh::M(c, r))
                .map(|i| transpose(param(i)))
                .collect()
        }
    }
}

// ---------------------------------------------------------------------------
// The property tests.

#[derive(Default)]
struct Stats {
    passed: usize,
    skipped: BTreeMap<&'static str, usize>,
    entries: usize,
    failures: Vec<String>,
    /// Per variant: cases passed, skipped and failed.
    variants: BTreeMap<&'static str, [usize; 3]>,
    /// The same for the programs with a loop, per variant.
    loops: BTreeMap<&'static str, [usize; 3]>,
    /// The programs with a loop skipped, by reason.
    loops_skipped: BTreeMap<&'static str, usize>,
    /// Cases that passed checks 1 to 3 without check 4, by reason.
    hessian_not_run: BTreeMap<&'static str, usize>,
    /// Programs with a loop that passed with check 4 run.
    loops_hessian_checked: usize,
    /// Programs with a loop that passed without check 4, by reason.
    loops_hessian_not_run: BTreeMap<&'static str, usize>,
    /// Programs calling a matrix function (`exp`, `logm`), per function:
    /// passed with check 4 run, passed without, skipped, failed.
    matrix_functions: BTreeMap<&'static str, [usize; 4]>,
}

impl Stats {
    fn cases(&self) -> usize {
        self.passed + self.skipped.values().sum::<usize>() + self.failures.len()
    }

    fn skips(&self) -> usize {
        self.skipped.values().sum()
    }

    /// The counts, and (from its second line) the counts per variant.
    fn summary(&self, what: &str) -> String {
        let mut out = format!(
            "{what}: {} cases, {} passed, {} skipped {:?}, {} failed; {} gradient entries compared",
            self.cases(),
            self.passed,
            self.skips(),
            self.skipped,
            self.failures.len(),
            self.entries
        );
        let _ = write!(
            out,
            "\n  Hessian-vector check not run on passed cases: {:?}",
            self.hessian_not_run
        );
        for (variant, [passed, skipped, failed]) in &self.variants {
            let _ = write!(
                out,
                "\n  {variant}: {} cases, {passed} passed, {skipped} skipped, {failed} failed",
                passed + skipped + failed
            );
        }
        let mut total = [0; 3];
        for (variant, counts) in &self.loops {
            let [passed, skipped, failed] = *counts;
            let _ = write!(
                out,
                "\n  with loops, {variant}: {} cases, {passed} passed, {skipped} skipped, {failed} failed",
                passed + skipped + failed
            );
            for k in 0..3 {
                total[k] += counts[k];
            }
        }
        let _ = write!(
            out,
            "\n  with loops, all variants: {} cases, {} passed, {} skipped {:?}, {} failed",
            total.iter().sum::<usize>(),
            total[0],
            total[1],
            self.loops_skipped,
            total[2]
        );
        let _ = write!(
            out,
            "\n  with loops, Hessian-vector check run on {} passed cases, not run on {:?}",
            self.loops_hessian_checked, self.loops_hessian_not_run
        );
        for (f, [checked, unchecked, skipped, failed]) in &self.matrix_functions {
            let _ = write!(
                out,
                "\n  calling {f}: {} cases, {} passed ({checked} with the Hessian-vector check), {skipped} skipped, {failed} failed",
                checked + unchecked + skipped + failed,
                checked + unchecked
            );
        }
        out
    }
}

/// Runs case `seed`, minimising and describing it if it fails.
fn run_case(seed: u64, stats: &mut Stats) {
    let (fx, program) = generate(seed);
    let src = program.render(fx.style());
    if std::env::var_os("MATGRAD_PROPTEST_SHOW").is_some() {
        println!(
            "case {seed} ({}): n = {}, m = {}, {}\n  {src}",
            fx.variant(),
            fx.n,
            fx.m,
            fx.params
        );
    }
    let outcome = check(&fx, &src);
    let column = match outcome {
        Outcome::Pass(..) => 0,
        Outcome::Skip(..) => 1,
        Outcome::Fail(_) => 2,
    };
    stats.variants.entry(fx.variant()).or_default()[column] += 1;
    if program.has_loops() {
        stats.loops.entry(fx.variant()).or_default()[column] += 1;
    }
    let loops = program.has_loops();
    for f in program.matrix_functions() {
        let counts = stats.matrix_functions.entry(f).or_default();
        counts[match &outcome {
            Outcome::Pass(_, Hessian::Checked) => 0,
            Outcome::Pass(..) => 1,
            Outcome::Skip(..) => 2,
            Outcome::Fail(_) => 3,
        }] += 1;
    }
    match outcome {
        Outcome::Pass(entries, hessian) => {
            stats.passed += 1;
            stats.entries += entries;
            match hessian {
                Hessian::NotRun(why) => {
                    *stats.hessian_not_run.entry(why).or_default() += 1;
                    if loops {
                        *stats.loops_hessian_not_run.entry(why).or_default() += 1;
                    }
                }
                Hessian::Checked if loops => stats.loops_hessian_checked += 1,
                Hessian::Checked => {}
            }
        }
        Outcome::Skip(why, entries) => {
            *stats.skipped.entry(why).or_default() += 1;
            if loops {
                *stats.loops_skipped.entry(why).or_default() += 1;
            }
            stats.entries += entries;
        }
        Outcome::Fail(f) => {
            // Minimising takes many runs: only for the first few failures.
            let small = if stats.failures.len() < 5 {
                shrink(&fx, &program, &f.kind)
            } else {
                program.clone()
            };
            let small_src = small.render(fx.style());
            let detail = match check(&fx, &small_src) {
                Outcome::Fail(g) => g.detail,
                _ => f.detail.clone(),
            };
            let checker = if fx.generic {
                "check_generic_source"
            } else {
                "check_source"
            };
            stats.failures.push(format!(
                "case {seed} ({}, {}): {}\n  params: {}\n  source: {src}\n  minimal: {small_src}\n  {}\n  regression:\n    {checker}({}, {}, {}, \"{}\", \"{}\");\n",
                fx.variant(),
                f.kind,
                f.detail.lines().next().unwrap_or_default(),
                fx.params,
                detail.replace('\n', "\n  "),
                fx.n,
                fx.m,
                fx.seed,
                fx.params,
                small_src.replace('"', "\\\""),
            ));
        }
    }
}

fn run_shard(shard: u64) {
    let mut stats = Stats::default();
    let started = std::time::Instant::now();
    let seeds = match std::env::var("MATGRAD_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(seed) if shard == 0 => seed..seed + 1,
        Some(_) => 0..0,
        None => {
            let total = total_cases();
            total * shard / SHARDS..total * (shard + 1) / SHARDS
        }
    };
    let what = format!("random expressions, seeds {seeds:?}");
    for seed in seeds {
        run_case(seed, &mut stats);
    }
    let what = format!("{what} in {:.1?}", started.elapsed());
    println!("{}", stats.summary(&what));
    for f in &stats.failures {
        println!("{f}");
    }
    assert!(
        stats.failures.is_empty(),
        "{}\n{}",
        stats.summary(&what),
        stats.failures.join("\n")
    );
    assert!(
        stats.skips() as f64 <= MAX_SKIPPED * stats.cases() as f64,
        "too many skipped cases: {}",
        stats.summary(&what)
    );
}

#[test]
fn random_expressions_0() {
    run_shard(0);
}

#[test]
fn random_expressions_1() {
    run_shard(1);
}

#[test]
fn random_expressions_2() {
    run_shard(2);
}

#[test]
fn random_expressions_3() {
    run_shard(3);
}

/// Checks one body (as a regression test): `n`, `m` and `seed` give the
/// parameter values, `params` their declared types (of `f64`). A list that
/// starts with `&self` makes a method whose fields are the parameters it
/// leaves out, with the values they would have as parameters.
fn check_source(n: usize, m: usize, seed: u64, params: &str, body: &str) {
    check_fixture(n, m, seed, params, false, body);
}

/// [`check_source`] for a function generic over the scalar `T: RealField +
/// Copy` (declared in `params`, returned).
fn check_generic_source(n: usize, m: usize, seed: u64, params: &str, body: &str) {
    check_fixture(n, m, seed, params, true, body);
}

fn check_fixture(n: usize, m: usize, seed: u64, params: &str, generic: bool, body: &str) {
    let fx = Fixture {
        n,
        m,
        seed,
        params: params.to_owned(),
        generic,
    };
    match check(&fx, body) {
        Outcome::Fail(f) => panic!("`{body}`: {}: {}", f.kind, f.detail),
        Outcome::Skip(why, _) => panic!("`{body}`: skipped ({why})"),
        Outcome::Pass(..) => {}
    }
}

/// Values whose traces `_grad` reads off a product the gradient (or the value)
/// forms, `share`: the value read that way is checked with the rest.
#[test]
fn traces_read_off_products() {
    for body in [
        "p.determinant().ln() + (p.clone().try_inverse().unwrap() * q).trace()",
        "(a * b.transpose()).norm_squared() + a.dot(&b) + (a * b.transpose()).trace()",
    ] {
        check_source(3, 3, 7, PLAIN, body);
    }
}

/// The matrix exponential and logarithm pass all four checks, the
/// Hessian-vector one (their second Fréchet derivatives) included.
#[test]
fn matrix_functions_differentiated_twice() {
    for body in [
        "matgrad::logm(&p).trace()",
        "(matgrad::logm(&(p + a * 0.1)) * b).sum()",
        "logm(&q).norm_squared() + (a * 0.5).exp().dot(&p)",
        "(a.exp() * b).norm_squared() + matgrad::logm(&a.exp()).trace()",
    ] {
        let fx = Fixture {
            n: 3,
            m: 2,
            seed: 7,
            params: PLAIN.to_owned(),
            generic: false,
        };
        match check(&fx, body) {
            Outcome::Pass(_, Hessian::Checked) => {}
            Outcome::Pass(_, Hessian::NotRun(why)) => panic!("`{body}`: Hessian not run ({why})"),
            Outcome::Fail(f) => panic!("`{body}`: {}: {}", f.kind, f.detail),
            Outcome::Skip(why, _) => panic!("`{body}`: skipped ({why})"),
        }
    }
}

// ---------------------------------------------------------------------------
// The generator itself.

/// Every operation of the body language shows up in the first few hundred cases.
#[test]
fn generator_covers_every_operation() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..1000 {
        let (_, p) = generate(seed);
        fn walk(e: &E, seen: &mut std::collections::BTreeSet<String>) {
            let name = format!("{:?}", e.k);
            let name = name.split('(').next().unwrap_or_default().to_owned();
            let extra = match &e.k {
                K::Call(f, _) | K::MapFn(f) | K::Method(f) | K::MapMethod(f) | K::MatMethod(f) => {
                    format!("{name}:{f}")
                }
                K::Factor(f) => format!("{f:?}"),
                _ => name.clone(),
            };
            seen.insert(name);
            seen.insert(extra);
            for a in &e.args {
                walk(a, seen);
            }
        }
        for r in p.roots() {
            walk(r, &mut seen);
        }
    }
    let expected = [
        "Param",
        "Let",
        "Lit",
        "V",
        "Neg",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Transpose",
        "TrMul",
        "Dot",
        "TrDot",
        "Trace",
        "Det",
        "Inverse",
        "CompMul",
        "CompDiv",
        "Norm",
        "NormSq",
        "Sum",
        "Kron",
        "Cross",
        "MatExp",
        "Pow",
        "Exp",
        "Ln",
        "Sqrt",
        "Sin",
        "Cos",
        "Tanh",
        "Abs",
        "Recip",
        "Powi",
        "Powf",
        "Map",
        "MapFn",
        "Clone",
        "Ref",
        "Field",
        "Call:sigmoid",
        "Call:softplus",
        "Call:relu",
        "Call:log_sum_exp",
        "Call:logdet",
        "Call:logm",
        "MapFn:sigmoid",
        "MapFn:softplus",
        "MapFn:relu",
        "LpNorm",
        "MapMethod:atan",
        "MapMethod:asinh",
        "MatMethod:max",
        "MatMethod:min",
        "MatMethod:amax",
        "MatMethod:amin",
        "MatMethod:abs",
        "CholSolve",
        "CholLnDet",
        "CholDetLn",
        "CholInverse",
        "CholL",
        "LuSolve",
        "LuLogDet",
        "TriSolve(true, false)",
        "TriSolve(false, false)",
        "TriSolve(true, true)",
        "TriSolve(false, true)",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(
        [
            "atan",
            "asinh",
            "to_radians",
            "signum",
            "sinh",
            "cosh",
            "exp_m1",
            "exp2",
            "to_degrees",
            "asin",
            "acos",
            "atanh",
            "tan",
            "ln_1p",
            "log2",
            "log10",
            "cbrt",
            "acosh",
            "hypot",
            "atan2",
            "midpoint",
            "max",
            "min",
            "log",
            "mul_add",
            "clamp",
        ]
        .iter()
        .map(|f| format!("Method:{f}")),
    )
    .collect::<Vec<String>>();
    let missing: Vec<&String> = expected.iter().filter(|e| !seen.contains(*e)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

/// The shrinker keeps the failure and drops everything else: an unused `let`,
/// and the half of a sum that does not fail.
#[test]
fn shrinker_minimises_a_failure() {
    let (fx, _) = generate(7);
    let x = node(K::Param(PS), vec![], Sh::S);
    let bad = to_scalar(K::Call("no_such_function", true), vec![x.clone()]);
    let program = Program {
        lets: vec![(same(K::Sin, x.clone()), false)],
        tail: same2(K::Add, same(K::Exp, x), bad),
        prelude: Vec::new(),
        loops: Vec::new(),
    };
    let st = fx.style();
    let Outcome::Fail(f) = check(&fx, &program.render(st)) else {
        panic!("an unknown function must fail")
    };
    let small = shrink(&fx, &program, &f.kind);
    assert_eq!(small.render(st), "matgrad::no_such_function(s)");
}

/// One body with every operation, through the harness, over dynamic, static
/// and mixed parameter types.
#[test]
fn every_operation_in_one_body() {
    let body = "let w0 = (a * x).cross(&(b * y)); \
                let w1 = (p + a * 0.1).try_inverse().unwrap(); \
                let w2: f64 = matgrad::logdet(&(q * t)) + p.determinant().ln(); \
                let w3 = b.tr_mul(&a).kronecker(&y.transpose()).map(|v| v.tanh()); \
                w0.dot(&x) + w1.tr_dot(&a.transpose().pow(2)) + w2.exp().sqrt() * s \
                + (a * 0.5).exp().trace() - w3.norm_squared() + w3.norm() \
                + x.component_div(&x.map(|v: f64| v * v + 1.0)).sum() \
                + b.component_mul(&b).map(matgrad::softplus).sum() / t.powf(1.5) \
                + matgrad::log_sum_exp(&(b * q).map(sigmoid)) + (-s).sin().powi(3) \
                + s.cos().abs().recip() + relu(s) + a.try_inverse().expect(\"singular\").trace() \
                + 2 * (x.transpose() * x).determinant()";
    check_source(3, 2, 1, "a: &DMatrix<f64>, b: &DMatrix<f64>, p: &DMatrix<f64>, q: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>, s: f64, t: f64", body);
    check_source(3, 2, 2, "a: &Matrix3<f64>, b: &SMatrix<f64, 3, 2>, p: Matrix3<f64>, q: &Matrix2<f64>, x: &Vector3<f64>, y: &SVector<f64, 2>, s: f64, t: f64", body);
    check_source(3, 2, 3, "a: &DMatrix<f64>, b: &Matrix3x2<f64>, p: &DMatrix<f64>, q: &Matrix2<f64>, x: &DVector<f64>, y: &Vector2<f64>, s: f64, t: f64", body);
}

/// The same body generic over the scalar, with every form of literal, over
/// dynamic and static parameter types.
#[test]
fn every_operation_in_one_generic_body() {
    let body = "let w0 = (a * x).cross(&(b * y)); \
                let w1 = (p + a * T::from_f64(0.1).unwrap()).try_inverse().unwrap(); \
                let w2: T = matgrad::logdet(&(q * t)) + p.determinant().ln(); \
                let w3: DMatrix<T> = b.tr_mul(&a).kronecker(&y.transpose()).map(|v| v.tanh()); \
                w0.dot(&x) + w1.tr_dot(&a.transpose().pow(2)) + w2.exp().sqrt() * s \
                + (a * nalgebra::convert(0.5)).exp().trace() - w3.norm_squared() + w3.norm() \
                + x.component_div(&x.map(|v: T| v * v + T::one())).sum() \
                + b.component_mul(&b).map(matgrad::softplus).sum() / t.powf(convert(1.5)) \
                + matgrad::log_sum_exp(&(b * q).map(sigmoid)) + (-s).sin().powi(3) \
                + s.cos().abs().recip() + relu(s) + a.try_inverse().expect(\"singular\").trace() \
                + T::from_f64(-2.0).unwrap() * (x.transpose() * x).determinant() + T::zero()";
    check_generic_source(3, 2, 1, "a: &DMatrix<T>, b: &DMatrix<T>, p: &DMatrix<T>, q: &DMatrix<T>, x: &DVector<T>, y: &DVector<T>, s: T, t: T", body);
    check_generic_source(3, 2, 2, "a: &Matrix3<T>, b: &SMatrix<T, 3, 2>, p: Matrix3<T>, q: &Matrix2<T>, x: &Vector3<T>, y: &SVector<T, 2>, s: T, t: T", body);
}

/// The same body as a method: `b` and `q` fields bound by typed `let`s, `p`,
/// `y` and `s` fields read directly where the context gives their shapes;
/// plain and generic over the scalar.
#[test]
fn every_operation_in_one_method() {
    let body = |ty: &str, lit: &dyn Fn(f64) -> String| {
        format!(
            "let b: &DMatrix<{ty}> = &self.b; let q: DMatrix<{ty}> = self.q.clone(); \
             let w0 = (a * x).cross(&(b * &self.y)); \
             let w1 = (&self.p + a * {c01}).try_inverse().unwrap(); \
             let w2: {ty} = matgrad::logdet(&(q * t)) + self.p.determinant().abs().sqrt(); \
             let w3 = b.tr_mul(&a).kronecker(&self.y.transpose()).map(|v| v.tanh()); \
             w0.dot(&x) + w1.tr_dot(&a.transpose().pow(2)) + w2.exp().sqrt() * self.s \
             + (a * {c05}).exp().trace() - w3.norm_squared() + w3.norm() \
             + x.component_div(&x.map(|v| v * v + {c1})).sum() \
             + b.component_mul(&b).map(matgrad::softplus).sum() / t.powf(self.s.abs() + {c1}) \
             + matgrad::log_sum_exp(&(b * q).map(sigmoid)) + (t - self.s).sin().powi(3) \
             + self.s.cos().abs().recip() + self.p.clone().try_inverse().expect(\"singular\").trace() \
             + {c2} * (x.transpose() * x).determinant() + x.dot(&(&self.p * x)) / self.s.exp()",
            c01 = lit(0.1),
            c05 = lit(0.5),
            c1 = lit(1.0),
            c2 = lit(2.0),
        )
    };
    let plain = body("f64", &|v| format!("{v:?}"));
    let generic = body("T", &|v| format!("T::from_f64({v:?}).unwrap()"));
    check_source(
        3,
        2,
        1,
        "&self, a: &DMatrix<f64>, x: &DVector<f64>, t: f64",
        &plain,
    );
    check_source(
        3,
        2,
        2,
        "&self, a: &Matrix3<f64>, x: &Vector3<f64>, t: f64",
        &plain,
    );
    check_generic_source(
        3,
        2,
        3,
        "&self, a: &DMatrix<T>, x: &DVector<T>, t: T",
        &generic,
    );
}

/// In a method, the shrinker keeps to programs whose fields have shapes, and
/// drops the typed `let` of a field the minimal body no longer reads.
#[test]
fn shrinker_minimises_a_method() {
    let fx = Fixture {
        n: 2,
        m: 3,
        seed: 5,
        params: "&self, a: &DMatrix<T>, t: T".to_owned(),
        generic: true,
    };
    let (n, m) = (fx.n, fx.m);
    let param = |i: usize| node(K::Param(i), vec![], param_shape(i, n, m));
    let field = |i: usize| node(K::Field(i), vec![], param_shape(i, n, m));
    let bad = to_scalar(K::Call("no_such_function", true), vec![param(PT)]);
    let program = Program {
        lets: vec![(mul(field(PS), param(PT)), false)],
        tail: same2(
            K::Add,
            same2(
                K::Add,
                node(K::Let(0), vec![], Sh::S),
                to_scalar(K::Dot, vec![param(PB), same(K::Ref, field(PB))]),
            ),
            bad,
        ),
        prelude: vec![(PB, "let b: &DMatrix<T> = &self.b;".to_owned())],
        loops: Vec::new(),
    };
    assert!(program.fields_inferable());
    let st = fx.style();
    let source = program.render(st);
    assert!(
        source.starts_with("let b: &DMatrix<T> = &self.b; "),
        "{source}"
    );
    let Outcome::Fail(f) = check(&fx, &source) else {
        panic!("an unknown function must fail")
    };
    let small = shrink(&fx, &program, &f.kind);
    assert_eq!(small.render(st), "matgrad::no_such_function(t)");
}

/// Every variant shows up in the first few hundred cases, with every form of
/// generic literal and every way of reading a field; methods declare at least
/// one parameter, have at least one field, and read fields only where the
/// parser can tell their shapes.
#[test]
fn generator_covers_every_variant() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..1000 {
        let (fx, p) = generate(seed);
        seen.insert(fx.variant().to_owned());
        let src = p.render(fx.style());
        if fx.generic {
            for form in [
                "T::from_f64(",
                "nalgebra::convert(",
                " convert(",
                "(convert(",
                "T::one()",
                "T::zero()",
            ] {
                if src.contains(form) {
                    seen.insert(form.trim_start_matches([' ', '(']).to_owned());
                }
            }
            let plain = src.replace("from_f64", "");
            assert!(
                !plain.contains("f64") && !fx.params.contains("f64"),
                "{src}"
            );
        }
        if fx.is_method() {
            assert!(
                !fx.declared().is_empty() && !fx.fields().is_empty(),
                "case {seed}"
            );
            assert!(p.fields_inferable(), "case {seed}: {src}");
            if src.contains(" = &self.") || src.contains(" = self.") {
                seen.insert("typed let of a field".to_owned());
            }
            fn walk(e: &E, parent: Option<K>, seen: &mut std::collections::BTreeSet<String>) {
                if let K::Field(i) = e.k {
                    let sh = if param_shape(i, 2, 2) == Sh::S {
                        "scalar"
                    } else {
                        "matrix"
                    };
                    let name = parent.map_or("root".to_owned(), |k| format!("{k:?}"));
                    let name = name.split('(').next().unwrap_or_default();
                    seen.insert(format!("{sh} field in {name}"));
                }
                // The context of a field under `&` or `.clone()` is theirs.
                let context = match e.k {
                    K::Ref | K::Clone if field_of(e).is_some() => parent,
                    _ => Some(e.k),
                };
                for a in &e.args {
                    walk(a, context, seen);
                }
            }
            for r in p.roots() {
                walk(r, None, &mut seen);
            }
        }
    }
    let expected = [
        "function of f64",
        "generic function",
        "method",
        "generic method",
        "T::from_f64(",
        "nalgebra::convert(",
        "convert(",
        "T::one()",
        "T::zero()",
        "typed let of a field",
        "matrix field in Add",
        "matrix field in Inverse",
        "matrix field in Transpose",
        "matrix field in Dot",
        "matrix field in Mul",
        "scalar field in Mul",
        "scalar field in Add",
        "scalar field in Div",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|e| !seen.contains(*e))
        .collect();
    assert!(
        missing.is_empty(),
        "never generated: {missing:?}\nseen: {seen:?}"
    );
}

// ---------------------------------------------------------------------------
// Regressions: failures the random tests found, minimised. They are ignored
// until fixed (run them with `cargo test -p matgrad-macros regression --
// --ignored`); un-ignore each with its fix.

/// Found by the random tests (11 of the 100,000-case run, e.g. case 93531;
/// this fixture is from an earlier run), in the test evaluator `eval.rs`, not
/// in generated code: `eval` computes `softplus(x)` as `exp(x).ln_1p()`,
/// which is +∞ for x > 709.78, where `matgrad::softplus` (what the generated
/// code calls) returns x. Here the engine's value is 0 (0.5/∞) and nalgebra's
/// 2.7e-4. In one line: `1.0 / matgrad::softplus(t * 2000.0)`.
#[test]
fn regression_eval_softplus_overflows() {
    check_source(
        5,
        2,
        87851,
        "a: &DMatrix<f64>, b: &DMatrix<f64>, p: &DMatrix<f64>, q: &DMatrix<f64>, x: &DVector<f64>, y: DVector<f64>, s: f64, t: f64",
        "0.5 / matgrad::softplus((x.tr_mul(&x) * (x.tr_mul(&x) * 2.0)).norm_squared().powi(2))",
    );
    check_source(2, 2, 1, PLAIN, "1.0 / matgrad::softplus(t * 2000.0)");
}

/// The same in `eval.rs`'s `log_sum_exp` (cases 35980 and 54333 of the
/// 100,000-case run, with long minimal sources; this one is hand-made): it sums
/// `exp` of the entries without shifting by their maximum, so it is +∞ where
/// `matgrad::log_sum_exp` is finite (here ≈ 1000 p₀₀ + ln(…)).
#[test]
fn regression_eval_log_sum_exp_overflows() {
    check_source(2, 2, 1, PLAIN, "matgrad::log_sum_exp(&(p * 1000.0))");
}

/// Found by the random tests (an earlier 100,000-case run; the fixture keeps
/// its values), in the test evaluator `eval.rs`, not in generated code: `eval`'s `frechet(Exp, A, E)` took the top-right block of
/// `exp([[A, E], [0, A]])` without normalising `E`; for a large `‖E‖` (here
/// the adjoint C̄ of `‖e^{q/s}‖⁸`, entries about 1e160, with `s` ≈ 0.033) the
/// scaling and squaring of the block loses everything: the engine's gradient
/// evaluates to 2.9e152 where finite differences give 6.6e168 (∂f/∂q₀₀).
/// `L(A, E) = ‖E‖ L(A, E/‖E‖)` fixes it; the runtime's `expm_frechet` scales
/// `A` and `E` together and is not affected.
#[test]
fn regression_eval_expm_frechet_large_direction() {
    // The source above, reduced to its cause: L(A, E) is linear in E, so a
    // direction of norm 1e160 must give 1e160 times the unit direction's.
    let a = nalgebra::DMatrix::from_fn(4, 4, |i, j| ((i * 4 + j) as f64).sin());
    let e = nalgebra::DMatrix::from_fn(4, 4, |i, j| ((i + 3 * j) as f64).cos());
    let unit = crate::eval::frechet(Fun::Exp, &a, &e);
    let large = crate::eval::frechet(Fun::Exp, &a, &(&e * 1e160));
    let err = (&large / 1e160 - &unit).norm() / unit.norm();
    assert!(err < 1e-10, "relative error {err:e}");
}

/// The parameters with dynamic types.
const PLAIN: &str = "a: &DMatrix<f64>, b: &DMatrix<f64>, p: &DMatrix<f64>, q: &DMatrix<f64>, \
                     x: &DVector<f64>, y: &DVector<f64>, s: f64, t: f64";

/// Found by the Hessian check: the second derivative of `det` at a singular
/// matrix was taken through `A⁻¹` and came out a wrong finite number; it is
/// now exact (closed forms up to a fixed 3×3, an SVD beyond and for dynamic
/// sizes, as here).
#[test]
fn regression_second_derivative_of_det_at_a_singular_matrix() {
    check_source(3, 2, 366, PLAIN, "(b * b.transpose()).determinant()");
}

/// `a[i]` of a matrix counts down its columns: a sum over it read as matrix
/// operations took the matrix for a vector of the loop's length.
#[test]
fn regression_batched_sum_of_a_matrix_read_by_one_index() {
    check_source(
        4,
        3,
        17973,
        "a: &SMatrix<f64, 4, 4>, b: &SMatrix<f64, 4, 3>, p: &Matrix4<f64>, q: SMatrix<f64, 3, 3>, x: &SVector<f64, 4>, y: Vector3<f64>, s: f64, t: f64",
        "let mut w0 = 0.5; for i0 in 0..=4 { let mut u0 = w0; for i1 in 0..b.nrows() { u0 += b[i1]; } w0 = u0; } w0",
    );
    check_source(
        2,
        3,
        16998,
        "a: Matrix2<f64>, b: &SMatrix<f64, 2, 3>, p: &DMatrix<f64>, q: &DMatrix<f64>, x: &Vector2<f64>, y: &SVector<f64, 3>, s: f64, t: f64",
        "let mut w0 = x.transpose(); for i0 in 0..3 { let mut u0 = 0.5; for i1 in (0..b.nrows()).rev() { u0 += a[i1]; } w0 += w0 * u0; } (y * y.add_scalar(w0.norm_squared()).transpose()).sum()",
    );
}

/// A high-degree polynomial inside `sin`: one central difference of the
/// gradient was 1.6e-4 off through its h² error; the extrapolated one agrees.
#[test]
fn regression_hessian_check_extrapolates() {
    check_source(
        1,
        5,
        21353,
        "a: &DMatrix<f64>, b: DMatrix<f64>, p: &DMatrix<f64>, q: &DMatrix<f64>, x: &DVector<f64>, y: &DVector<f64>, s: f64, t: f64",
        "((b * (b.dot(&b) * q).dot(&(q * q.try_inverse().unwrap()))).dot(&(b * (b.dot(&b) * q).dot(&(q * q.try_inverse().unwrap())))).sin() * s.powi(2).sin()).powi(2).powi(2)",
    );
}

/// An ill-conditioned log-determinant: differences of the gradient lose their
/// digits to rounding; the three-step agreement rule must skip, not fail.
#[test]
fn regression_hessian_check_ill_conditioned() {
    let fx_params = "a: &SMatrix<f64, 4, 4>, b: &Matrix4<f64>, p: &Matrix4<f64>, q: &SMatrix<f64, 4, 4>, x: &SVector<f64, 4>, y: &SVector<f64, 4>, s: f64, t: f64";
    let body = "logdet(&(p + (b.map(|v| -1.0).pow(3).tr_mul(&(b.map(|v| -1.0).pow(3) * p.transpose())) * 0.1)))";
    let result = std::panic::catch_unwind(|| check_source(4, 4, 25876, fx_params, body));
    if let Err(e) = result {
        let msg = panic_message(&*e);
        assert!(msg.contains("skipped"), "{msg}");
    }
}

/// `relu` of a value that is 0 up to rounding (`q` symmetric, `b − bᵀ`
/// antisymmetric): the differences cross the kink; the check must skip.
#[test]
fn regression_hessian_check_at_a_kink() {
    let fx_params = "a: &SMatrix<f64, 4, 4>, b: &SMatrix<f64, 4, 4>, p: &SMatrix<f64, 4, 4>, q: &SMatrix<f64, 4, 4>, x: &Vector4<f64>, y: &SVector<f64, 4>, s: f64, t: f64";
    let result = std::panic::catch_unwind(|| {
        check_source(
            4,
            4,
            65761,
            fx_params,
            "matgrad::relu(q.dot(&(b - b.transpose())))",
        )
    });
    if let Err(e) = result {
        let msg = panic_message(&*e);
        assert!(msg.contains("skipped"), "{msg}");
    }
}

/// Case 80056, minimised: a loop whose adjoints grow to 1e50 while its values
/// stay small, and `tanh(u)` at u ≈ 14.8, whose slope is 1e-12: a step moves
/// it by less than its rounding, so finite differences are exactly 0, while
/// the gradient is about 1e34. The check must skip it as saturated.
#[test]
fn regression_saturated_tanh_is_skipped() {
    let fx = Fixture {
        n: 3,
        m: 5,
        seed: 80056,
        params: "a: &SMatrix<f64, 3, 3>, b: &MatrixXx5<f64>, p: &SMatrix<f64, 3, 3>, q: &Matrix5<f64>, x: &Vector3<f64>, y: &OVector<f64, Dyn>, s: f64, t: f64".to_owned(),
        generic: false,
    };
    let body = "let mut w0 = q; for (i0, &e0) in b.iter().enumerate() { w0 = w0.map(|v| v.sin()) * w0; let mut u0 = 0.75; for i1 in 1..q.nrows() { u0 += x.transpose().dot(&x.transpose()) * (i1 as f64); } w0 += w0 * u0.tanh(); } w0.dot(&q)";
    match check(&fx, body) {
        Outcome::Skip(why, _) => assert!(why.contains("saturated"), "{why}"),
        Outcome::Pass(..) => panic!("passed: the case no longer saturates, pick another"),
        Outcome::Fail(f) => panic!("{}: {}", f.kind, f.detail),
    }
}

/// Checks that each body passes, for the method with `params`.
fn passes(params: &str, bodies: &[&str]) {
    check_method_bodies(params, bodies, false);
}

/// Checks that each body either passes or is rejected by the expansion with
/// an error (never accepted and then wrong), for the method with `params`.
fn accepted_only_if_right(params: &str, bodies: &[&str]) {
    check_method_bodies(params, bodies, true);
}

fn check_method_bodies(params: &str, bodies: &[&str], may_be_rejected: bool) {
    let fx = Fixture {
        n: 3,
        m: 2,
        seed: 1,
        params: params.to_owned(),
        generic: false,
    };
    for body in bodies {
        match check(&fx, body) {
            Outcome::Pass(..) => {}
            Outcome::Fail(f) if may_be_rejected && f.kind == "expansion error" => {}
            Outcome::Fail(f) => panic!("`{body}`: {}: {}", f.kind, f.detail),
            Outcome::Skip(why, _) => panic!("`{body}`: skipped ({why})"),
        }
    }
}

/// Found while bounding the contexts in which the method variant reads fields
/// directly (the generator avoids it): in `*`, a field beside a matrix is taken
/// for a matrix of unknown size, so a scalar field scaling a matrix or vector
/// parameter is accepted and differentiated as a matrix product; the generated
/// code does not compile (`&f64 * &Matrix`, `transpose` of an `f64`). With
/// `struct M { lambda: f64 }`, `#[grad(w)] fn f(&self, w: &DVector<f64>) -> f64
/// { (w * self.lambda).norm_squared() }` is the smallest user-facing case.
#[test]
fn regression_scalar_field_scaling_a_matrix() {
    // A bare field times a matrix may be a scaling or a product with a `Copy`
    // matrix: an error asks for its type, unless an earlier read settled it.
    accepted_only_if_right(
        "&self, a: &DMatrix<f64>, x: &DVector<f64>",
        &[
            "(a * self.s).sum()",
            "(self.s * a).sum()",
            "(x * self.s).norm_squared()",
        ],
    );
    passes(
        "&self, a: &DMatrix<f64>, x: &DVector<f64>",
        &[
            "(a * (self.s * 2.0)).sum() + (a * self.s).sum()",
            "let s: f64 = self.s; (self.s * a).sum() * s",
            "self.s * x.sum() + (x * self.s).norm_squared()",
        ],
    );
}

/// Found the same way: `try_inverse()` tells the parser that its receiver is
/// a matrix, and when the receiver is not itself a field, that shape is left
/// over for the next field read that has none of its own, deeper in the
/// receiver: `-self.s` (or `matgrad::sigmoid(self.s)`, which is then reported
/// as "`sigmoid` needs a scalar, found a rows×columns matrix") becomes a
/// matrix, and `a * (-self.s)` a matrix product, accepted.
#[test]
fn regression_inverse_hint_leaks_into_its_receiver() {
    // `-self.s` alone does not tell (an error asks for a typed `let`); as the
    // argument of `sigmoid` it is a scalar.
    accepted_only_if_right(
        "&self, a: &DMatrix<f64>",
        &["(a * (-self.s)).try_inverse().unwrap().trace()"],
    );
    passes(
        "&self, a: &DMatrix<f64>",
        &["(a * matgrad::sigmoid(self.s)).try_inverse().unwrap().trace()"],
    );
}

/// Loop forms written by hand, through the harness (the evaluator's and the
/// reference's loops, entries, sizes and casts against each other and the
/// gradients against finite differences): sums, recurrences on scalars and
/// matrices, reversed and inclusive ranges, `iter`, `enumerate`, `zip`,
/// nested loops, several carried values, `-=` and `*=`.
#[test]
fn loops_by_hand() {
    let bodies = [
        "let mut w0 = 0.0; for i0 in 0..x.len() { w0 += x[i0] * (i0 as f64) + a[(i0, 0)] * s; } w0",
        "let mut w0 = x.clone(); for _ in 0..3 { w0 = (a * &w0 * 0.5).map(|v| v.tanh()) + x; } w0.norm_squared()",
        "let mut w0 = 0.0; for i0 in (1..=x.len()).rev() { w0 = t * w0 * 0.5 + x[i0 - 1]; } w0 * w0",
        "let mut w0 = 0.0; let mut w1 = 1.0; for (i0, &e0) in x.iter().enumerate() { w0 += e0 * y[i0 % y.len()]; w1 *= 1.0 + e0 * e0; } w0 + w1.ln()",
        "let mut w0 = 0.0; for i0 in 0..a.nrows() { for i1 in 0..a.ncols() { w0 += a[(i0, i1)] * b[(i0, 0)].sin(); } } w0",
        "let mut w0 = s; for e0 in x.iter().rev() { w0 -= 0.5 * *e0 * w0.tanh(); } w0",
        "let mut w0 = 0.0; for (&e0, &e1) in x.iter().zip(x.iter()) { w0 += e0 * e1.cos(); } w0",
        "let mut w0 = p.clone(); let mut w1 = 0.0; for i0 in 0..2 { let w2 = w0.trace(); w0 = &w0 * 0.5 + a * (i0 as f64); w1 += w2 * t; } w1 + w0.norm()",
        "let mut w0 = 0.0; for i0 in (0..x.len()).rev() { let mut w1 = 0.0; for i1 in 0..=i0 { w1 += x[i1]; } w0 += w1.tanh() * x[x.len() - 1 - i0]; } w0",
        "let mut w0 = 1.0; for i0 in 2..5 { w0 *= (x[i0 % x.len()] * s).sin() + 1.5; w0 /= t; } w0",
    ];
    for body in bodies {
        check_source(3, 2, 1, PLAIN, body);
        check_source(3, 2, 2, "a: &Matrix3<f64>, b: &SMatrix<f64, 3, 2>, p: Matrix3<f64>, q: &Matrix2<f64>, x: &Vector3<f64>, y: &SVector<f64, 2>, s: f64, t: f64", body);
    }
}

/// Found by the loop programs (case 896 of the default run, minimised): `w0`
/// doubles 25 times, so `cos(w0)` oscillates in `b` with a period of about
/// 1e-7; central differences at steps around h = 1e-5 average the
/// oscillation out and agree with each other (3.76582e7) but not with the
/// gradient (3.73184e7), which is right: steps h/10⁴ and h/10⁵ converge to
/// it. The harness now decides such a point with those steps; the case must
/// pass or be skipped, never fail.
#[test]
fn regression_harness_oscillation_after_a_doubling_loop() {
    let fx = Fixture {
        n: 5,
        m: 1,
        seed: 896,
        params: "a: &Matrix5<f64>, b: &Matrix5x1<f64>, q: &Matrix1<f64>, x: &Vector5<f64>, y: &SVector<f64, 1>, s: f64, t: f64".to_owned(),
        generic: false,
    };
    let body = "let mut w0 = s; for e0 in a.iter() { for i1 in (1..2).rev() { w0 -= b.transpose().norm(); } w0 -= -w0; } let mut w1 = b; for &e0 in y.iter() { let mut u0 = w0.cos(); for e1 in y.iter() { u0 -= b.transpose().dot(&b.transpose()); } w1 += x * u0.tanh(); } w0 - b.component_mul(&w1).sum()";
    if let Outcome::Fail(f) = check(&fx, body) {
        panic!("{}: {}", f.kind, f.detail);
    }
}

/// Writes the first 40 generated loop programs (functions, not methods) as
/// `#[grad]` functions to the file `MATGRAD_PROPTEST_EXPORT` names, for the
/// fuzzers' seed extraction (`fuzz/README.md`). Ignored: run it with
/// `cargo test -p matgrad-macros --release export_loop_programs -- --ignored`.
#[test]
#[ignore]
fn export_loop_programs() {
    let path = std::env::var("MATGRAD_PROPTEST_EXPORT").expect("MATGRAD_PROPTEST_EXPORT");
    let mut out = String::from(
        "//! Loop programs of the random tests (`macros/src/random_tests.rs`), as `#[grad]` functions.\n\n",
    );
    let mut count = 0;
    for seed in 0.. {
        let (fx, p) = generate(seed);
        if !p.has_loops() || fx.is_method() {
            continue;
        }
        let names: Vec<&str> = fx.declared().into_iter().map(|i| NAMES[i]).collect();
        let function =
            fx.function(&p.render(fx.style()))
                .replacen("fn f", &format!("fn case_{seed}"), 1);
        let _ = writeln!(out, "#[grad({})]\n{function}\n", names.join(", "));
        count += 1;
        if count == 40 {
            break;
        }
    }
    std::fs::write(&path, out).expect("written");
}

/// Every loop form shows up in the first few hundred cases.
#[test]
fn generator_covers_every_loop_form() {
    let mut sources = String::new();
    let mut loops = 0;
    for seed in 0..400 {
        let (fx, p) = generate(seed);
        if p.has_loops() {
            loops += 1;
            sources += &p.render(fx.style());
            sources.push('\n');
        }
    }
    assert!(loops >= 100, "{loops} loop programs of 400");
    let forms = [
        "let mut w",
        "for i0 in 0..",
        "for i0 in 1..",
        "..=",
        ").rev() {",
        ".len() {",
        ".nrows() {",
        ".ncols() {",
        ".iter() {",
        ".iter().rev()",
        ".iter().enumerate()",
        ".zip(",
        "for &e0 in",
        "*e0",
        "for i1 in",
        "let mut u0",
        "u0 +=",
        " += ",
        " -= ",
        " *= ",
        " /= ",
        "i0 as f64",
        "i1 as f64",
        "[i0]",
        "[i0 - 1]",
        "[(i0, ",
        " % ",
        "f0",
        ".tanh(); }",
    ];
    let missing: Vec<&str> = forms
        .iter()
        .copied()
        .filter(|f| !sources.contains(f))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

// Findings of the 100,000-case run with loop programs (seeds 0..100,000),
// minimised. Each is ignored until fixed (or, for the harness's own, until
// the harness handles it); the reason is in its doc comment.

/// The gradients of `body` (a function of `params`, which must all be
/// scalars or matrices) at `vals`, through the pipeline and the evaluator.
fn gradients_at(params: &str, body: &str, vals: &[Val]) -> Vec<Option<Val>> {
    let func: syn::ItemFn =
        syn::parse_str(&format!("fn f({params}) -> f64 {{ {body} }}")).expect("a function");
    let (mut errors, mut dims) = (Errors::default(), Dims::default());
    let (sig, reported) = signature::params(&func.sig, &mut dims, &mut errors);
    let mut g = Graph::new(Scalar::F64, dims);
    let value = parse::body(
        &mut g,
        &sig,
        &reported,
        true,
        &func.block,
        &mut errors,
        &mut crate::compose::Calls::runtime_known(),
    );
    assert!(errors.is_empty(), "{}", errors.to_compile_errors());
    let value = value.expect("a value");
    let ids: Vec<Id> = sig
        .iter()
        .map(|p| param_node(&g, &p.ident.to_string()))
        .collect();
    let grads = diff::gradient(&mut g, value, &ids);
    let mut ev = Eval::new(&g, vals);
    grads.iter().map(|gr| gr.map(|gr| ev.eval(gr))).collect()
}

/// Engine (loop adjoint), found as cases 11169, 45212, 68263 and 78776
/// (minimal: `let mut w0 = s; let mut w1 = x.transpose(); for (i0, &e0) in
/// a.iter().enumerate() { w0 = 0.5; w1 += w1.component_mul(&w1); } w0`).
/// The loss does not read `w1`, but the reverse loop carries an adjoint for
/// every carried value, zero for `w1`, and multiplies it by `w1`'s taped
/// values; once `w1` overflows, 0 · ∞ makes the gradient with respect to
/// `x` (here `t`) NaN instead of 0. Fixed: a carried value whose final value
/// no seeded output reads gets no adjoint in the reverse loop.
#[test]
fn regression_loop_adjoint_of_an_unread_carried_value() {
    let body = "let mut w0 = s; let mut w1 = t; for i0 in 0..40 { w0 = 0.5; w1 += w1 * w1; } w0";
    let grads = gradients_at(
        "s: f64, t: f64",
        body,
        &[Val::Scalar(0.3), Val::Scalar(0.9)],
    );
    for (name, gr) in ["s", "t"].iter().zip(&grads) {
        if let Some(v) = gr {
            assert_eq!(v, &Val::Scalar(0.0), "∂f/∂{name}");
        }
    }
}

/// Harness (Hessian check), found as cases 49554, 65144 and 90783 and, with
/// a factorisation, 19322 of a 100,000-case run: `abs` or `relu` inside a
/// `map` closure (or `a.abs()`), applied to entries that are 0 up to rounding
/// (`q − qᵀ` for a symmetric `q`; off-diagonal entries of `pᵀp⁻¹` and of
/// `chol(q).solve(q)`), so the differences of the gradient cross the kink. Not
/// engine errors: the watch now sees a kink of a `map`'s own parameter, and
/// these cases are skipped at the kink. (49554, `v.abs() + (v + v)` in a
/// closure, is still not seen: only a closure that is the kink itself is.)
#[test]
fn regression_hessian_check_kink_inside_a_closure() {
    let cases = [
        (4, 4, 90783, false, "a: &Matrix4<f64>, b: &Matrix4<f64>, p: &SMatrix<f64, 4, 4>, q: &Matrix4<f64>, x: &SVector<f64, 4>, y: Vector4<f64>, s: f64, t: f64", "p.tr_mul(&p.try_inverse().expect(\"singular matrix\")).map(|v| v.abs()).sum()"),
        (1, 5, 65144, false, "a: &OMatrix<f64, U1, Dyn>, b: &MatrixXx5<f64>, p: &OMatrix<f64, Dyn, Const<1>>, q: &DMatrix<f64>, x: &OVector<f64, Dyn>, y: &OVector<f64, Dyn>, s: f64, t: f64", "q.tr_mul(&q.try_inverse().expect(\"singular matrix\")).map(relu).dot(&q)"),
        (5, 5, 19322, false, "a: &OMatrix<f64, U5, Dyn>, b: &MatrixXx5<f64>, p: OMatrix<f64, Dyn, Const<5>>, q: &DMatrix<f64>, x: &OVector<f64, Dyn>, y: &DVector<f64>, s: f64, t: f64", "q.clone().cholesky().expect(\"singular\").solve(&q).abs().sum()"),
    ];
    for (n, m, seed, generic, params, body) in cases {
        let fx = Fixture {
            n,
            m,
            seed,
            params: params.to_owned(),
            generic,
        };
        match check(&fx, body) {
            Outcome::Skip(why, _) => assert!(why.contains("kink"), "`{body}`: {why}"),
            Outcome::Fail(f) => panic!("`{body}`: {}: {}", f.kind, f.detail),
            Outcome::Pass(..) => panic!("`{body}`: checked across a kink"),
        }
    }
}

/// Harness (forward check), found as cases 22780 and 38823: values computed
/// at singular matrices (the determinant of a rank-one Kronecker product,
/// 1.4e-9 against −1.5e-9; the inverse of the rank-one `y (1.5 y)ᵀ`), where
/// any two orders of evaluation differ by more than the 1e-9 tolerance. Not
/// engine errors: the generator should not build these (the shrinker reached
/// the second from a case with a relative error of 1.6e-9). The first is now
/// skipped (an intermediate value beyond 1e8), the second still fails.
#[test]
#[ignore = "harness: forward values at singular matrices differ by rounding beyond the tolerance"]
fn regression_forward_value_at_singular_matrices() {
    check_source(3, 4, 22780, "a: &Matrix3<f64>, b: MatrixXx4<f64>, p: &SMatrix<f64, 3, 3>, q: &SMatrix<f64, 4, 4>, x: &SVector<f64, 3>, y: Vector4<f64>, s: f64, t: f64", "x.transpose().kronecker(&x).kronecker(&(x.tr_mul(&x) + x.tr_mul(&x)).map(matgrad::softplus).map(|v| ((v * v) * ((v * v) + 0.5)).powi(2))).determinant()");
    check_source(5, 4, 38823, "a: &SMatrix<f64, 5, 5>, b: Matrix5x4<f64>, p: &OMatrix<f64, Dyn, Const<5>>, q: &Matrix4<f64>, x: &OVector<f64, Dyn>, y: &SVector<f64, 4>, s: f64, t: f64", "(y.tr_mul(&(y * (y * 1.5).transpose()).try_inverse().unwrap()) * b.transpose()).sum()");
}

/// Undecided, found as case 80171 (a method; `b` and `y` fields): the
/// gradient of the determinant of a nearly singular 4×4 matrix. The engine
/// gives ∂f/∂x₀ = 1.14e-4, central differences 8.07e-5, 8.23e-5 and 8.26e-5
/// at steps h/4, h, 4h but −2.3e-3 and −6.1e-3 at h/10⁴ and h/10⁵: the
/// differences are not converging, and the relative measure (divided by
/// max(1, |·|)) lets their 2 % spread pass at this magnitude. Either the
/// cofactors at a nearly singular matrix lose their digits or the
/// differences do; to be looked at with the determinant's owners.
#[test]
#[ignore = "undecided: gradient of a nearly singular determinant, differences not converging"]
fn regression_gradient_of_a_nearly_singular_determinant() {
    check_source(4, 5, 80171, "&self, a: &Matrix4<f64>, q: &SMatrix<f64, 5, 5>, x: &SVector<f64, 4>, s: f64, t: f64", "let b: &SMatrix<f64, 4, 5> = &self.b; let y: &SVector<f64, 5> = &self.y; (y * x.transpose()).map(matgrad::softplus).tr_mul(&q.map(|v| 2.0).exp().tr_mul(&b.transpose())).determinant()");
}

/// Engine (loop adjoint), found by the merged loop programs in nearly every
/// loop program with a carried value computed in the body (the default
/// 2,000-case run; `tests/loops.rs` fails the same way). Since the reverse
/// body reads a carried value's new value off the tape (`TapeNext`) instead
/// of computing it again, `loop_adjoint` maps the forward body's output to
/// that `TapeNext` before cloning the body, so the seed `c̄` of the sweep is
/// put on the `TapeNext` (which has no adjoint) rather than on the computed
/// value: the body's adjoint is never built, `c̄` leaving an iteration is 0
/// and the captured values' accumulators stay 0. Minimal: `let mut w0 = s;
/// for i0 in 0..1 { w0 = w0.sin(); } w0` gives ∂f/∂s = 0, not cos s; a sum,
/// `w0 += s * t` twice, gives 0 for both. Fixed: the read off the tape
/// stands for the computation it equals, which is differentiated in its
/// place.
#[test]
fn regression_loop_adjoint_seeded_on_the_tape_read() {
    let (s, t) = (0.3_f64, 0.9_f64);
    let cases: [(&str, [f64; 2]); 3] = [
        (
            "let mut w0 = s; for i0 in 0..1 { w0 = w0.sin(); } w0",
            [s.cos(), 0.0],
        ),
        (
            "let mut w0 = s; for i0 in 0..2 { w0 = w0 * t; } w0",
            [t * t, 2.0 * s * t],
        ),
        (
            "let mut w0 = 0.0; for i0 in 0..2 { w0 += s * t; } w0",
            [2.0 * t, 2.0 * s],
        ),
    ];
    for (body, expected) in cases {
        let grads = gradients_at("s: f64, t: f64", body, &[Val::Scalar(s), Val::Scalar(t)]);
        for ((name, gr), e) in ["s", "t"].iter().zip(&grads).zip(expected) {
            let got = gr.as_ref().map_or(0.0, Val::scalar);
            assert!(
                (got - e).abs() <= 1e-12,
                "`{body}`: ∂f/∂{name} = {got}, expected {e}"
            );
        }
    }
    check_source(
        1,
        1,
        0,
        "s: f64, t: f64",
        "let mut w0 = s; for i0 in 0..1 { w0 = w0.sin(); } w0",
    );
}

/// Undecided (engine or harness), found as case 14523 of a 20,000-case run
/// (not a loop program): `atan2` at (0, 0), here of entries of `y − y`,
/// which are exactly 0. `f` does not depend on `y` (the entries are 0
/// whatever `y`), so differences give 0; the engine's chain rule multiplies
/// `∂atan2 = (x, −y)/(x² + y²) = 0/0 = NaN` by the zero derivative of
/// `y − y` and gives NaN. Like `‖·‖` at a zero matrix, `atan2` has no
/// derivative at the origin: the harness skips such points (as it does norms
/// of zero), also inside closures; this case must be skipped, not fail.
#[test]
fn regression_atan2_at_the_origin() {
    let fx = Fixture {
        n: 3,
        m: 4,
        seed: 14523,
        params: "a: &SMatrix<f64, 3, 3>, b: &Matrix3x4<f64>, p: &SMatrix<f64, 3, 3>, q: &Matrix4<f64>, x: Vector3<f64>, y: &Vector4<f64>, s: f64, t: f64".to_owned(),
        generic: false,
    };
    let body = "q.kronecker(&(y.transpose() * (y - y)).map(|v| v.atan2(v))).norm_squared()";
    match check(&fx, body) {
        Outcome::Skip(why, _) => assert!(why.contains("origin"), "{why}"),
        Outcome::Fail(f) => panic!("`{body}`: {}: {}", f.kind, f.detail),
        Outcome::Pass(..) => panic!("`{body}`: checked at a point without a derivative"),
    }
}

/// The checks skip what finite differences cannot decide, and programs that
/// panic as written, with the reason: the cases 100,000-program runs failed
/// on, minimised. None is a wrong
/// derivative (case 40936 also had its generated code fail to compile, fixed
/// and tested in `tests/half_dynamic.rs`).
#[test]
fn regression_undecidable_cases_are_skipped() {
    let cases: [(usize, usize, u64, bool, &str, &str, &str); 5] = [
        // A loop iterating `w -= cos(w²)`: rounding decides the value.
        (5, 1, 6777, false, "&self, a: &Matrix5<f64>, p: &Matrix5<f64>, q: SMatrix<f64, 1, 1>, x: &Vector5<f64>, s: f64, t: f64",
         "let mut w0 = s; for i0 in 0..=5 { for &e1 in x.iter() { w0 -= w0.powi(2).cos(); } w0 += p.tr_dot(&p); } w0",
         "chaotic"),
        // `min` of a matrix with two entries tied up to rounding.
        (4, 4, 28414, false, "a: &SMatrix<f64, 4, 4>, b: &SMatrix<f64, 4, 4>, p: &SMatrix<f64, 4, 4>, q: &SMatrix<f64, 4, 4>, x: &SVector<f64, 4>, y: &Vector4<f64>, s: f64, t: f64",
         "let mut w0: DMatrix<f64> = q; for i0 in 2..=4 { w0 = w0 - q.component_div(&p.try_inverse().unwrap()); let mut u0 = 0.0; for i1 in 0..1 { u0 += w0.min(); } w0 += q.try_inverse().unwrap() * u0.tanh(); } w0.norm_squared()",
         "tie"),
        // `K⁻¹K`'s entries, 0 and 1 up to rounding, at a clamp's bounds.
        (1, 4, 36992, true, "&self, a: &SMatrix<T, 1, 1>, p: &Matrix1<T>, q: &SMatrix<T, 4, 4>, x: Vector1<T>, y: &Vector4<T>, s: T, t: T",
         "(q.clone().cholesky().expect(\"singular\").solve(&q).map(|v: T| v.clamp(nalgebra::convert(0.0), convert(1.0))) * y).variance()",
         "kink"),
        // The same at `abs` inside the closure.
        (2, 1, 66966, false, "a: &Matrix2<f64>, b: &Matrix2x1<f64>, p: &SMatrix<f64, 2, 2>, q: &Matrix1<f64>, x: &SVector<f64, 2>, y: &Vector1<f64>, s: f64, t: f64",
         "p.transpose().clone().cholesky().unwrap().solve(&p).map(|v| v.abs().atan()).sum()",
         "kink"),
        // A determinant cancelling a large rank-one term: small steps see
        // its rounding (steps 100 and 1000 times larger agree with the
        // gradient), and so do the differences of the gradient.
        (2, 3, 40936, false, "a: &OMatrix<f64, U2, Dyn>, b: &Matrix2x3<f64>, p: &DMatrix<f64>, q: &SMatrix<f64, 3, 3>, x: &OVector<f64, Dyn>, y: &SVector<f64, 3>, s: f64, t: f64",
         "let mut w0 = 1.0; for i0 in 0..5 { w0 -= q.trace(); for &e1 in y.iter() { w0 += a[i0 % 4]; } } (q + DMatrix::from_diagonal_element(3, 3, w0 * w0).row_sum().tr_mul(&DMatrix::from_diagonal_element(3, 3, w0 * w0).map(|v| v / 1.5).row_sum())).determinant()",
         "gradient disagree"),
    ];
    let cases = cases.into_iter().chain([
        // A loop makes the matrix a Cholesky factorisation reads indefinite:
        // the program as written panics.
        (5, 2, 42764, false, "a: &SMatrix<f64, 5, 5>, b: &SMatrix<f64, 5, 2>, p: &Matrix5<f64>, q: &SMatrix<f64, 2, 2>, x: &Vector5<f64>, y: Vector2<f64>, s: f64, t: f64",
         "let mut w0: DMatrix<f64> = b.transpose(); for &e0 in x.iter() { w0 += s * b.transpose(); } (w0 * b).clone().cholesky().unwrap().l().norm_squared()",
         "not positive definite"),
    ]);
    for (n, m, seed, generic, params, body, reason) in cases {
        let fx = Fixture {
            n,
            m,
            seed,
            params: params.to_owned(),
            generic,
        };
        match check(&fx, body) {
            Outcome::Skip(why, _) => assert!(why.contains(reason), "case {seed}: {why}"),
            Outcome::Pass(..) => {}
            Outcome::Fail(f) => panic!("case {seed}: {}: {}", f.kind, f.detail),
        }
    }
}
