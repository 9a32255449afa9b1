//! Random-expression property tests of complex parameters.
//!
//! A type-directed generator writes random real losses of complex matrices
//! `za` (3×3), `zb` (3×2), a complex vector `zx` (3), a complex scalar `zs`,
//! and a real matrix `a` (3×3) and scalar `r` beside them, declared with
//! dynamic or fixed nalgebra types (drawn per case), over every operation
//! complex values support: `adjoint`, `transpose`, `conjugate`, `*`, `+`,
//! `-`, `z * s`, `scale`, `unscale`, `component_mul`, `map` (holomorphic or
//! not, complex to real, real to complex), `pow`, `try_inverse().unwrap()`,
//! `trace`, `dot`, `dotc`, `determinant`, `norm`, `norm_squared`, and on
//! scalars `+ - * /`, `.re`, `.im`, `norm_sqr`, `norm`, `conj`, `exp`, `ln`,
//! `Complex::new`, with real scalar functions of their parts. As it writes
//! the source it computes the value with nalgebra's complex arithmetic.
//!
//! Each case goes through the real pipeline (`parse::body`, which also
//! simplifies, then `diff::gradient`) and is checked four ways: the macro
//! expansion has no `compile_error!`; the engine's forward value (evaluated
//! by `eval_complex.rs`) equals the generator's; every entry of the gradient
//! with respect to every parameter matches central differences taken in its
//! real part and, for a complex parameter, its imaginary part (relative error
//! `|a − n| / max(1, |a|, |n|) ≤ 1e-5`); and the tangent of each gradient
//! along a random direction (a Hessian-vector product) matches differences
//! of the gradient. Values stay in a safe domain by construction: inverses of
//! `za` plus a perturbation of norm below ½ (`za` has 3 added to its
//! diagonal), `exp` of arguments of modulus below 1, `ln` and `/` of values
//! with real part at least ½ (away from the branch cut and from 0). A case
//! whose differences disagree across steps is skipped; more than 10 % of
//! skips fails the test.
//!
//! `MATGRAD_PROPTEST_CASES=N` sets the number of cases (default 2,000, over
//! two tests); `MATGRAD_PROPTEST_SEED=k` runs case `k` alone;
//! `MATGRAD_PROPTEST_SHOW=1` prints every case's source.

use std::panic::{catch_unwind, AssertUnwindSafe};

use nalgebra::{Complex, DMatrix};

use crate::eval_complex::{CEval, CVal};
use crate::ir::ops::{Op, Param};
use crate::ir::{Field, Id};
use crate::random_tests::Rng;
use crate::simplify_tests::{param, parse_over};
use crate::{attr, diff, steps};

type C = Complex<f64>;

const DEFAULT_CASES: u64 = 2_000;
const SHARDS: u64 = 2;
const TOL: f64 = 1e-5;
const STEP: f64 = 1e-5;
const MAX_SKIPPED: f64 = 0.10;

/// The parameters, their shapes and their fields.
const PARAMS: [(&str, usize, usize, Field); 6] = [
    ("za", 3, 3, Field::Complex),
    ("zb", 3, 2, Field::Complex),
    ("zx", 3, 1, Field::Complex),
    ("zs", 1, 1, Field::Complex),
    ("a", 3, 3, Field::Real),
    ("r", 1, 1, Field::Real),
];
const DYNAMIC: &str = "za: &DMatrix<Complex<f64>>, zb: &DMatrix<Complex<f64>>, \
    zx: &DVector<Complex<f64>>, zs: Complex<f64>, a: &DMatrix<f64>, r: f64";
const FIXED: &str = "za: &Matrix3<Complex<f64>>, zb: &Matrix3x2<Complex<f64>>, \
    zx: &Vector3<Complex<f64>>, zs: Complex<f64>, a: &Matrix3<f64>, r: f64";

/// A value as the generator computes it.
#[derive(Clone, Debug)]
enum V {
    Cm(DMatrix<C>),
    Rm(DMatrix<f64>),
    Cs(C),
    Rs(f64),
}

/// An expression: its source and its value.
#[derive(Clone, Debug)]
struct E {
    text: String,
    v: V,
}

impl E {
    fn cm(&self) -> &DMatrix<C> {
        match &self.v {
            V::Cm(m) => m,
            v => unreachable!("not a complex matrix: {v:?}"),
        }
    }
    fn rm(&self) -> &DMatrix<f64> {
        match &self.v {
            V::Rm(m) => m,
            v => unreachable!("not a real matrix: {v:?}"),
        }
    }
    fn cs(&self) -> C {
        match &self.v {
            V::Cs(s) => *s,
            v => unreachable!("not a complex scalar: {v:?}"),
        }
    }
    fn rs(&self) -> f64 {
        match &self.v {
            V::Rs(s) => *s,
            v => unreachable!("not a real scalar: {v:?}"),
        }
    }
}

fn e(text: String, v: V) -> E {
    E { text, v }
}

/// The values of the parameters of one case.
struct Point {
    za: DMatrix<C>,
    zb: DMatrix<C>,
    zx: DMatrix<C>,
    zs: C,
    a: DMatrix<f64>,
    r: f64,
}

impl Point {
    fn new(rng: &mut Rng) -> Point {
        let mut z = |r: usize, c: usize| {
            DMatrix::from_fn(r, c, |_, _| {
                C::new(rng.range(-1.0, 1.0), rng.range(-1.0, 1.0))
            })
        };
        let za = z(3, 3) + DMatrix::from_diagonal_element(3, 3, C::new(3.0, 0.0));
        let (zb, zx) = (z(3, 2), z(3, 1));
        let zs = z(1, 1)[0];
        let a = z(3, 3).map(|v| v.re);
        let r = 0.5 + z(1, 1)[0].re.abs();
        Point {
            za,
            zb,
            zx,
            zs,
            a,
            r,
        }
    }

    /// The values in the order of [`PARAMS`], as the evaluator takes them.
    fn vals(&self) -> Vec<CVal> {
        vec![
            CVal::Matrix(self.za.clone()),
            CVal::Matrix(self.zb.clone()),
            CVal::Matrix(self.zx.clone()),
            CVal::Scalar(self.zs),
            CVal::Matrix(self.a.map(|v| C::new(v, 0.0))),
            CVal::Scalar(C::new(self.r, 0.0)),
        ]
    }
}

/// The generator of one case: random expressions over [`Point`]'s values.
struct Gen<'a> {
    rng: Rng,
    p: &'a Point,
    /// Whether a norm of an exactly zero value was taken (as of `x − x`),
    /// where the norm has no derivative and the engine, as documented,
    /// gives NaN: such a case is skipped.
    norm_of_zero: bool,
}

impl Gen<'_> {
    /// `‖m‖`, noting a norm of zero.
    fn norm_cm(&mut self, m: &DMatrix<C>) -> f64 {
        self.norm_of_zero |= m.iter().all(|v| *v == C::new(0.0, 0.0));
        m.norm()
    }

    /// `|z|`, noting a modulus of zero.
    fn norm_cs(&mut self, z: C) -> f64 {
        self.norm_of_zero |= z == C::new(0.0, 0.0);
        z.norm()
    }

    /// A complex matrix leaf of shape `r×c` (each of 1, 2, 3).
    fn cm_leaf(&mut self, r: usize, c: usize) -> E {
        let p = self.p;
        let (za, zb, zx) = (&p.za, &p.zb, &p.zx);
        let (text, v) = match (r, c) {
            (3, 3) => ("za", za.clone()),
            (3, 2) => ("zb", zb.clone()),
            (3, 1) => ("zx", zx.clone()),
            (2, 3) => ("zb.adjoint()", zb.adjoint()),
            (1, 3) => ("zx.transpose()", zx.transpose()),
            (2, 2) => ("(zb.adjoint() * zb)", zb.adjoint() * zb),
            (2, 1) => ("(zb.adjoint() * zx)", zb.adjoint() * zx),
            (1, 2) => ("(zx.adjoint() * zb)", zx.adjoint() * zb),
            _ => ("(zx.adjoint() * zx)", zx.adjoint() * zx),
        };
        e(text.to_owned(), V::Cm(v))
    }

    fn cm(&mut self, r: usize, c: usize, d: u32) -> E {
        if d == 0 || self.rng.below(5) == 0 {
            return self.cm_leaf(r, c);
        }
        let d = d - 1;
        match self.rng.below(15) {
            0 => {
                let x = self.cm(c, r, d);
                e(format!("{}.adjoint()", x.text), V::Cm(x.cm().adjoint()))
            }
            1 => {
                let x = self.cm(c, r, d);
                e(format!("{}.transpose()", x.text), V::Cm(x.cm().transpose()))
            }
            2 => {
                let x = self.cm(r, c, d);
                e(format!("{}.conjugate()", x.text), V::Cm(x.cm().conjugate()))
            }
            3 | 4 => {
                let k = 1 + self.rng.below(3);
                let (x, y) = (self.cm(r, k, d), self.cm(k, c, d));
                e(format!("({} * {})", x.text, y.text), V::Cm(x.cm() * y.cm()))
            }
            5 => {
                let (x, y) = (self.cm(r, c, d), self.cm(r, c, d));
                if self.rng.below(2) == 0 {
                    e(format!("({} + {})", x.text, y.text), V::Cm(x.cm() + y.cm()))
                } else {
                    e(format!("({} - {})", x.text, y.text), V::Cm(x.cm() - y.cm()))
                }
            }
            6 => {
                let x = self.cm(r, c, d);
                e(format!("(-{})", x.text), V::Cm(-x.cm()))
            }
            7 => {
                let (x, s) = (self.cm(r, c, d), self.cs(d));
                e(format!("({} * {})", x.text, s.text), V::Cm(x.cm() * s.cs()))
            }
            8 => {
                let (x, s) = (self.cm(r, c, d), self.rs(d));
                if self.rng.below(2) == 0 {
                    e(
                        format!("{}.scale({})", x.text, s.text),
                        V::Cm(x.cm().scale(s.rs())),
                    )
                } else {
                    let s = self.positive(s);
                    e(
                        format!("{}.unscale({})", x.text, s.text),
                        V::Cm(x.cm().unscale(s.rs())),
                    )
                }
            }
            9 => {
                let (x, y) = (self.cm(r, c, d), self.cm(r, c, d));
                let v = x.cm().component_mul(y.cm());
                e(format!("{}.component_mul(&{})", x.text, y.text), V::Cm(v))
            }
            10 | 11 => self.map(r, c, d),
            12 if (r, c) == (3, 3) => {
                let t = self.rng.below(2) == 0;
                let phase = |v: f64| C::new(v.cos(), v.sin());
                if t {
                    let v = self.p.a.map(phase);
                    e(
                        "a.map(|t| Complex::new(t.cos(), t.sin()))".to_owned(),
                        V::Cm(v),
                    )
                } else {
                    let x = self.rm(d);
                    let v = x.rm().map(|t| C::new(t, 0.5 * t));
                    e(
                        format!("{}.map(|t| Complex::new(t, 0.5 * t))", x.text),
                        V::Cm(v),
                    )
                }
            }
            13 if r == c => {
                let x = self.cm(r, c, d);
                e(format!("{}.pow(2)", x.text), V::Cm(x.cm() * x.cm()))
            }
            14 if (r, c) == (3, 3) => {
                // za + E with ‖E‖ < ½: invertible, with a condition number about 1.
                let x = self.cm(3, 3, d);
                let scale = 2.0 * (1.0 + self.norm_cm(x.cm()));
                let m = &self.p.za + x.cm().unscale(scale);
                let text = format!(
                    "(za + {}.unscale(2.0 * (1.0 + {}.norm()))).try_inverse().unwrap()",
                    x.text, x.text
                );
                e(text, V::Cm(m.try_inverse().expect("invertible")))
            }
            _ => self.cm_leaf(r, c),
        }
    }

    /// `x.map(|v| …)` of a complex matrix, the closure holomorphic or not.
    fn map(&mut self, r: usize, c: usize, d: u32) -> E {
        let x = self.cm(r, c, d);
        let bounded = self.bounded_cm(x);
        let (body, f): (&str, fn(C) -> C) = match self.rng.below(6) {
            0 => ("v.conj()", |v| v.conj()),
            1 => ("v * v", |v| v * v),
            2 => ("v.exp()", |v| v.exp()),
            3 => ("v * v.conj()", |v| v * v.conj()),
            4 => ("Complex::new(v.re, 2.0 * v.im)", |v| {
                C::new(v.re, 2.0 * v.im)
            }),
            _ => ("v * v.norm_sqr()", |v| v * v.norm_sqr()),
        };
        let v = bounded.cm().map(f);
        e(format!("{}.map(|v| {body})", bounded.text), V::Cm(v))
    }

    /// `x` scaled to a norm below 1.
    fn bounded_cm(&mut self, x: E) -> E {
        let v = x.cm().unscale(1.0 + self.norm_cm(x.cm()));
        e(
            format!("{}.unscale(1.0 + {}.norm())", x.text, x.text),
            V::Cm(v),
        )
    }

    /// `x` scaled to a modulus below 1.
    fn bounded_cs(&mut self, x: E) -> E {
        let v = x.cs() / (1.0 + self.norm_cs(x.cs()));
        e(
            format!("({} / (1.0 + {}.norm()))", x.text, x.text),
            V::Cs(v),
        )
    }

    /// A complex scalar with real part at least ½: `1.5 + x` for `|x| < 1`.
    fn right_half(&mut self, d: u32) -> E {
        let x = self.cs(d);
        let b = self.bounded_cs(x);
        e(format!("({} + 1.5)", b.text), V::Cs(b.cs() + 1.5))
    }

    /// A real scalar at least ½.
    fn positive(&mut self, x: E) -> E {
        e(
            format!("({}.tanh() + 1.5)", x.text),
            V::Rs(x.rs().tanh() + 1.5),
        )
    }

    fn rm(&mut self, d: u32) -> E {
        let leaf = |p: &Point| e("a".to_owned(), V::Rm(p.a.clone()));
        if d == 0 || self.rng.below(3) == 0 {
            return leaf(self.p);
        }
        let d = d - 1;
        match self.rng.below(4) {
            0 => {
                let x = self.cm(3, 3, d);
                e(
                    format!("{}.map(|v| v.re)", x.text),
                    V::Rm(x.cm().map(|v| v.re)),
                )
            }
            1 => {
                let x = self.cm(3, 3, d);
                e(
                    format!("{}.map(|v| v.norm_sqr())", x.text),
                    V::Rm(x.cm().map(|v| v.norm_sqr())),
                )
            }
            2 => {
                let (x, y) = (self.rm(d), self.rm(d));
                e(
                    format!("({} + {}.transpose())", x.text, y.text),
                    V::Rm(x.rm() + y.rm().transpose()),
                )
            }
            _ => leaf(self.p),
        }
    }

    fn cs(&mut self, d: u32) -> E {
        let leaf = |p: &Point| e("zs".to_owned(), V::Cs(p.zs));
        if d == 0 || self.rng.below(5) == 0 {
            return leaf(self.p);
        }
        let d = d - 1;
        match self.rng.below(14) {
            0 => {
                let n = 1 + self.rng.below(3);
                let x = self.cm(n, n, d);
                e(format!("{}.trace()", x.text), V::Cs(x.cm().trace()))
            }
            1 => {
                let (r, c) = (1 + self.rng.below(3), 1 + self.rng.below(3));
                let (x, y) = (self.cm(r, c, d), self.cm(r, c, d));
                e(
                    format!("{}.dotc(&{})", x.text, y.text),
                    V::Cs(x.cm().dotc(y.cm())),
                )
            }
            2 => {
                let (r, c) = (1 + self.rng.below(3), 1 + self.rng.below(3));
                let (x, y) = (self.cm(r, c, d), self.cm(r, c, d));
                e(
                    format!("{}.dot(&{})", x.text, y.text),
                    V::Cs(x.cm().dot(y.cm())),
                )
            }
            3 => {
                let n = 1 + self.rng.below(3);
                let x = self.cm(n, n, d);
                e(
                    format!("{}.determinant()", x.text),
                    V::Cs(x.cm().determinant()),
                )
            }
            4 | 5 => {
                let (x, y) = (self.cs(d), self.cs(d));
                match self.rng.below(3) {
                    0 => e(format!("({} + {})", x.text, y.text), V::Cs(x.cs() + y.cs())),
                    1 => e(format!("({} - {})", x.text, y.text), V::Cs(x.cs() - y.cs())),
                    _ => e(format!("({} * {})", x.text, y.text), V::Cs(x.cs() * y.cs())),
                }
            }
            6 => {
                let (x, y) = (self.cs(d), self.right_half(d));
                e(format!("({} / {})", x.text, y.text), V::Cs(x.cs() / y.cs()))
            }
            7 => {
                let x = self.cs(d);
                e(format!("{}.conj()", x.text), V::Cs(x.cs().conj()))
            }
            8 => {
                let x = self.cs(d);
                let b = self.bounded_cs(x);
                e(format!("{}.exp()", b.text), V::Cs(b.cs().exp()))
            }
            9 => {
                let x = self.right_half(d);
                e(format!("{}.ln()", x.text), V::Cs(x.cs().ln()))
            }
            10 => {
                let (x, y) = (self.rs(d), self.rs(d));
                e(
                    format!("Complex::new({}, {})", x.text, y.text),
                    V::Cs(C::new(x.rs(), y.rs())),
                )
            }
            11 => {
                let (x, y) = (self.cs(d), self.rs(d));
                if self.rng.below(2) == 0 {
                    e(format!("({} * {})", x.text, y.text), V::Cs(x.cs() * y.rs()))
                } else {
                    e(format!("({} * {})", y.text, x.text), V::Cs(y.rs() * x.cs()))
                }
            }
            12 => {
                let (x, y) = (self.cs(d), self.rs(d));
                e(format!("({} + {})", x.text, y.text), V::Cs(x.cs() + y.rs()))
            }
            _ => leaf(self.p),
        }
    }

    fn rs(&mut self, d: u32) -> E {
        let leaf = |p: &Point| e("r".to_owned(), V::Rs(p.r));
        if d == 0 || self.rng.below(8) == 0 {
            return leaf(self.p);
        }
        let d = d - 1;
        match self.rng.below(12) {
            0 | 1 => {
                let x = self.cs(d);
                e(format!("{}.re", x.text), V::Rs(x.cs().re))
            }
            2 => {
                let x = self.cs(d);
                e(format!("{}.im", x.text), V::Rs(x.cs().im))
            }
            3 => {
                let x = self.cs(d);
                e(format!("{}.norm_sqr()", x.text), V::Rs(x.cs().norm_sqr()))
            }
            4 => {
                let x = self.cs(d);
                let v = self.norm_cs(x.cs());
                e(format!("{}.norm()", x.text), V::Rs(v))
            }
            5 => {
                let (r, c) = (1 + self.rng.below(3), 1 + self.rng.below(3));
                let x = self.cm(r, c, d);
                e(
                    format!("{}.norm_squared()", x.text),
                    V::Rs(x.cm().norm_squared()),
                )
            }
            6 => {
                let (r, c) = (1 + self.rng.below(3), 1 + self.rng.below(3));
                let x = self.cm(r, c, d);
                let v = self.norm_cm(x.cm());
                e(format!("{}.norm()", x.text), V::Rs(v))
            }
            7 => {
                let x = self.rm(d);
                e(
                    format!("{}.norm_squared()", x.text),
                    V::Rs(x.rm().norm_squared()),
                )
            }
            8 | 9 => {
                let (x, y) = (self.rs(d), self.rs(d));
                match self.rng.below(3) {
                    0 => e(format!("({} + {})", x.text, y.text), V::Rs(x.rs() + y.rs())),
                    1 => e(format!("({} - {})", x.text, y.text), V::Rs(x.rs() - y.rs())),
                    _ => e(format!("({} * {})", x.text, y.text), V::Rs(x.rs() * y.rs())),
                }
            }
            10 => {
                let x = self.rs(d);
                e(format!("{}.sin()", x.text), V::Rs(x.rs().sin()))
            }
            _ => {
                let x = self.rs(d);
                e(format!("{}.tanh()", x.text), V::Rs(x.rs().tanh()))
            }
        }
    }
}

/// What a case came to.
enum Outcome {
    Pass,
    Skip(&'static str),
    Fail(String),
}

/// `|a − n| / max(1, |a|, |n|)`.
fn rel(a: f64, n: f64) -> f64 {
    (a - n).abs() / a.abs().max(n.abs()).max(1.0)
}

/// The real coordinates of a value: each entry's real part, and its
/// imaginary part if `complex`.
fn coords(v: &CVal, complex: bool) -> Vec<f64> {
    v.entries()
        .iter()
        .flat_map(|x| {
            if complex {
                vec![x.re, x.im]
            } else {
                vec![x.re]
            }
        })
        .collect()
}

/// `v` with real coordinate `k` moved by `t`.
fn moved(v: &CVal, complex: bool, k: usize, t: f64) -> CVal {
    let mut e = v.entries();
    let parts = if complex { 2 } else { 1 };
    let step = if k.is_multiple_of(parts) {
        C::new(t, 0.0)
    } else {
        C::new(0.0, t)
    };
    e[k / parts] += step;
    v.with_entries(&e)
}

fn check(seed: u64) -> (Outcome, String) {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xC0FF_EE00);
    let point = Point::new(&mut rng);
    let fixed = rng.below(2) == 0;
    let depth = 3 + rng.below(3) as u32;
    let mut gen = Gen {
        rng,
        p: &point,
        norm_of_zero: false,
    };
    let root = gen.rs(depth);
    let src = root.text.clone();
    if gen.norm_of_zero {
        return (Outcome::Skip("the norm of exactly zero"), src);
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        run(&src, root.rs(), fixed, &point, seed)
    }))
    .unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        Outcome::Fail(format!("panicked: {msg}"))
    });
    (outcome, src)
}

fn run(src: &str, expected: f64, fixed: bool, point: &Point, seed: u64) -> Outcome {
    let params = if fixed { FIXED } else { DYNAMIC };
    // 1. The expansion is code, not an error.
    let item: syn::ItemFn =
        syn::parse_str(&format!("fn f({params}) -> f64 {{ {src} }}")).expect("parses");
    let attr: proc_macro2::TokenStream = "za, zb, zx, zs, a, r".parse().expect("attribute");
    let out = steps::expand(attr::Kind::Hessian, attr, quote::quote!(#item)).to_string();
    if out.contains("compile_error") {
        return Outcome::Fail(format!("the expansion has an error: {out}"));
    }
    let (mut g, value) = parse_over(params, src);
    let vals = point.vals();
    // 2. The forward value.
    let mut forward = CEval::new(&g, &vals);
    let got = forward.eval(value).scalar();
    if !expected.is_finite() || forward.largest() > 1e8 {
        return Outcome::Skip("a value not finite or beyond 1e8");
    }
    if rel(got.re, expected) > 1e-9 || got.im.abs() > 1e-9 * expected.abs().max(1.0) {
        return Outcome::Fail(format!("forward value {got}, nalgebra gives {expected}"));
    }
    // 3. Gradients against central differences in each real coordinate.
    let ids: Vec<Id> = PARAMS.iter().map(|p| param(&g, p.0)).collect();
    let grads = diff::gradient(&mut g, value, &ids);
    let mut ev = CEval::new(&g, &vals);
    let value_at = |vals: &[CVal]| CEval::new(&g, vals).eval(value).scalar().re;
    for (k, (&(name, _, _, field), grad)) in PARAMS.iter().zip(&grads).enumerate() {
        let complex = field == Field::Complex;
        let analytic = match grad {
            Some(gr) => coords(&ev.eval(*gr), complex),
            None => vec![0.0; coords(&vals[k], complex).len()],
        };
        for (j, &a) in analytic.iter().enumerate() {
            let diff = |h: f64| {
                let (mut plus, mut minus) = (vals.clone(), vals.clone());
                plus[k] = moved(&vals[k], complex, j, h);
                minus[k] = moved(&vals[k], complex, j, -h);
                (value_at(&plus) - value_at(&minus)) / (2.0 * h)
            };
            let (n, n4) = (diff(STEP), diff(STEP / 4.0));
            if rel(n, n4) > 1e-6 {
                return Outcome::Skip("finite differences disagree across steps");
            }
            if !a.is_finite() || rel(a, n4) > TOL {
                return Outcome::Fail(format!(
                    "∂/∂{name} coordinate {j}: the engine gives {a:e}, central differences {n4:e} (seed {seed})"
                ));
            }
        }
    }
    // 4. Hessian-vector products against differences of the gradient.
    for (k, &(name, _, _, field)) in PARAMS.iter().enumerate() {
        let Some(gr) = grads[k] else { continue };
        let complex = field == Field::Complex;
        let Op::Param(p) = g.op(ids[k]).clone() else {
            unreachable!()
        };
        let mut rng = Rng(seed ^ (k as u64 + 1));
        let dir_val = vals[k].with_entries(
            &(0..vals[k].entries().len())
                .map(|_| {
                    C::new(
                        rng.range(-1.0, 1.0),
                        if complex { rng.range(-1.0, 1.0) } else { 0.0 },
                    )
                })
                .collect::<Vec<_>>(),
        );
        let dir = g.build(
            Param {
                index: vals.len(),
                shape: p.shape,
                field: p.field,
            },
            &[],
        );
        let t = match diff::tangents(&mut g, &[gr], &[(ids[k], dir)]) {
            Ok(t) => t[0],
            Err(id) => return Outcome::Fail(format!("no tangent rule for {:?}", g.op(id))),
        };
        let mut all = vals.clone();
        all.push(dir_val.clone());
        let analytic = match t {
            Some(t) => coords(&CEval::new(&g, &all).eval(t), complex),
            None => vec![0.0; coords(&vals[k], complex).len()],
        };
        let grad_at = |s: f64| {
            let mut at = all.clone();
            let e: Vec<C> = (vals[k].entries().iter().zip(dir_val.entries()))
                .map(|(x, d)| x + d * s)
                .collect();
            at[k] = vals[k].with_entries(&e);
            coords(&CEval::new(&g, &at).eval(gr), complex)
        };
        let diff = |h: f64| -> Vec<f64> {
            let (p, m) = (grad_at(h), grad_at(-h));
            p.iter().zip(&m).map(|(p, m)| (p - m) / (2.0 * h)).collect()
        };
        let (n, n4) = (diff(STEP), diff(STEP / 4.0));
        for j in 0..analytic.len() {
            if rel(n[j], n4[j]) > 1e-6 {
                return Outcome::Skip("finite differences of the gradient disagree across steps");
            }
            if !analytic[j].is_finite() || rel(analytic[j], n4[j]) > 1e-4 {
                return Outcome::Fail(format!(
                    "H v in {name}, coordinate {j}: the engine gives {:e}, differences of the gradient {:e}",
                    analytic[j], n4[j]
                ));
            }
        }
    }
    Outcome::Pass
}

fn total_cases() -> u64 {
    std::env::var("MATGRAD_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn run_shard(shard: u64) {
    let show = std::env::var_os("MATGRAD_PROPTEST_SHOW").is_some();
    let seeds: Vec<u64> = match std::env::var("MATGRAD_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        Some(seed) if seed % SHARDS == shard => vec![seed],
        Some(_) => Vec::new(),
        None => (0..total_cases()).filter(|s| s % SHARDS == shard).collect(),
    };
    let (mut passed, mut skipped) = (0usize, std::collections::BTreeMap::<&str, usize>::new());
    let mut failures = Vec::new();
    for &seed in &seeds {
        let (outcome, src) = check(seed);
        if show {
            println!("case {seed}: {src}");
        }
        match outcome {
            Outcome::Pass => passed += 1,
            Outcome::Skip(why) => *skipped.entry(why).or_default() += 1,
            Outcome::Fail(why) => failures.push(format!("case {seed}: {why}\n  source: {src}")),
        }
    }
    let skips: usize = skipped.values().sum();
    println!(
        "complex random expressions, shard {shard}: {} cases, {passed} passed, {skips} skipped {skipped:?}, {} failed",
        seeds.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        skips as f64 <= MAX_SKIPPED * seeds.len() as f64,
        "too many skipped cases: {skipped:?}"
    );
}

#[test]
fn complex_random_expressions_0() {
    run_shard(0);
}

#[test]
fn complex_random_expressions_1() {
    run_shard(1);
}

/// A case is the same source every run (so a seed reproduces a failure).
#[test]
fn cases_are_reproducible() {
    assert_eq!(check(17).1, check(17).1);
}
