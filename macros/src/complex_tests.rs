//! Complex values below the macro: the rewrites on them (one line per rule,
//! evaluated against nalgebra's complex arithmetic), the adjoint and tangent
//! rules against central differences taken in the real and the imaginary
//! part of every entry, the convention (a conjugated gradient fails), and
//! the expansion of a complex loss.

use nalgebra::{Complex, DMatrix, DVector};

use crate::eval_complex::{CEval, CVal};
use crate::formula::Writer;
use crate::ir::ops::*;
use crate::ir::{Graph, Id};
use crate::simplify_tests::{param, parse_over};
use crate::{attr, diff, steps};

type C = Complex<f64>;

/// The signature of every example: complex matrices `za`, `zb` (`N×N`), a
/// complex vector `zx`, a complex scalar `zs`, and a real matrix `a` and
/// scalar `r` beside them.
const PARAMS: &str = "za: &DMatrix<Complex<f64>>, zb: &DMatrix<Complex<f64>>, \
                      zx: &DVector<Complex<f64>>, zs: Complex<f64>, a: &DMatrix<f64>, r: f64";
/// The same with fixed sizes (3×3: determinants and inverses by closed forms).
const FIXED: &str = "za: &Matrix3<Complex<f64>>, zb: &Matrix3<Complex<f64>>, \
                     zx: &Vector3<Complex<f64>>, zs: Complex<f64>, a: &Matrix3<f64>, r: f64";
const N: usize = 3;

/// Seeded values for [`PARAMS`]: parts uniform in [−1, 1), `za` with `N`
/// added to its diagonal (invertible), `zs` and `r` away from 0.
struct Inputs {
    za: DMatrix<C>,
    zb: DMatrix<C>,
    zx: DVector<C>,
    zs: C,
    a: DMatrix<f64>,
    r: f64,
}

impl Inputs {
    fn new(seed: u64) -> Inputs {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut z = |r: usize, c: usize| DMatrix::from_fn(r, c, |_, _| C::new(next(), next()));
        let za = z(N, N) + DMatrix::from_diagonal_element(N, N, C::new(N as f64, 0.0));
        let (zb, zx) = (z(N, N), z(N, 1).column(0).into());
        let zs = C::new(1.0, 0.5) + z(1, 1)[0] * 0.25;
        let a = z(N, N).map(|v| v.re);
        Inputs {
            za,
            zb,
            zx,
            zs,
            a,
            r: 1.0 + 0.25 * next(),
        }
    }

    /// The values in the order of [`PARAMS`].
    fn vals(&self) -> Vec<CVal> {
        let column =
            |v: &DVector<C>| CVal::Matrix(DMatrix::from_column_slice(v.len(), 1, v.as_slice()));
        vec![
            CVal::Matrix(self.za.clone()),
            CVal::Matrix(self.zb.clone()),
            column(&self.zx),
            CVal::Scalar(self.zs),
            CVal::Matrix(self.a.map(|v| C::new(v, 0.0))),
            CVal::Scalar(C::new(self.r, 0.0)),
        ]
    }
}

fn render(g: &Graph, id: Id) -> String {
    Writer::new(g, id, &[id]).write(id).text
}

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

/// `max |x − y| / max(1, |x|, |y|)` over the entries.
fn distance(x: &[C], y: &[C]) -> f64 {
    assert_eq!(x.len(), y.len());
    let scale = x.iter().chain(y).map(|v| v.norm()).fold(1.0, f64::max);
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max)
        / scale
}

// ---------------------------------------------------------------------------
// The rewrites, one line each: the formula, and the value against nalgebra.

macro_rules! complex_rewrites {
    ($params:ident, $bind:pat => $($name:ident: $e:expr => $formula:literal $(, ops $ops:literal)?;)*) => {$(
        #[test]
        fn $name() {
            let (g, root) = parse_over($params, stringify!($e));
            assert_eq!(render(&g, root), $formula, "`{}`", stringify!($e));
            $(assert_eq!(structure(&g, root), $ops, "`{}`", stringify!($e));)?
            let inputs = Inputs::new(7);
            #[allow(unused_variables)]
            let $bind = (&inputs.za, &inputs.zb, &inputs.zx, inputs.zs, &inputs.a, inputs.r);
            let expected: f64 = $e;
            let vals = inputs.vals();
            let got = CEval::new(&g, &vals).eval(root).scalar();
            assert!(
                (got.re - expected).abs() <= 1e-12 * expected.abs().max(1.0) && got.im == 0.0,
                "`{}`: the graph evaluates to {got}, nalgebra to {expected}",
                stringify!($e)
            );
        }
    )*};
}

complex_rewrites! { PARAMS, (za, zb, zx, zs, a, r) =>
    conj_conj: (zs.conj().conj() * zs).re => "Re(zs zs)";
    adjoint_adjoint: za.adjoint().adjoint().trace().re => "Re(tr(za))", ops "Re(Trace(za))";
    conjugate_transposes: za.transpose().conjugate().norm_squared()
        + za.conjugate().adjoint().dot(zb).re + za.adjoint().transpose().trace().re
        => "‖zaᴴ‖² + Re(⟨zaᵀ, zb⟩) + Re(tr(conj(za)))";
    adjoint_scale: (za * zs).adjoint().norm_squared() => "‖conj(zs) zaᴴ‖²";
    adjoint_times_is_ad_mul: (za.adjoint() * zb).norm_squared() => "‖zaᴴ zb‖²", ops "NormSquared(AdMul(za, zb))";
    trace_of_ad_mul_is_dotc: (za.adjoint() * zb).trace().re => "Re(⟨za, zb⟩)", ops "Re(Dotc(za, zb))";
    parts_of_parts: Complex::new(r, zs.re).im + zs.conj().re - zs.conj().im
        => "2 Re(zs) + Im(zs)";
}

/// Rules on nodes the differentiator builds.
#[test]
fn adjoint_identity() {
    let (mut g, _) = parse_over(PARAMS, "r");
    let (za, zs) = (param(&g, "za"), param(&g, "zs"));
    let shape = g.shape(za);
    let si = g.build(ScaledIdentity(shape), &[zs]);
    let h = g.adjoint(si);
    assert_eq!(render(&g, h), "conj(zs) I");
    assert!(matches!(g.op(h), Op::ScaledIdentity(_)));
}

#[test]
fn real_operand_of_complex() {
    let (mut g, _) = parse_over(PARAMS, "r");
    let (za, zs, r) = (param(&g, "za"), param(&g, "zs"), param(&g, "r"));
    let rc = g.complex(r);
    let (p, q) = (g.times(zs, rc), g.times(za, rc));
    assert_eq!(structure(&g, p), "Mul(zs, r)");
    assert_eq!(structure(&g, q), "Scale(za, r)");
    let one = g.lit(1.0);
    let one = g.complex(one);
    assert_eq!(g.times(za, one), za, "Z 1 folds");
    assert_eq!(g.conj(rc), rc, "conj of a real");
}

// ---------------------------------------------------------------------------
// Gradients and tangents against central differences.

/// The value of `value` with parameter `index` at `x` (the others at `vals`).
fn value_at(g: &Graph, value: Id, vals: &[CVal], index: usize, x: CVal) -> f64 {
    let mut vals = vals.to_vec();
    vals[index] = x;
    CEval::new(g, &vals).eval(value).scalar().re
}

/// `∂L/∂Re z + i ∂L/∂Im z` for each entry of parameter `index`, by central
/// differences in each part (the real part alone of a real parameter).
fn numeric_gradient(g: &Graph, value: Id, vals: &[CVal], index: usize, complex: bool) -> Vec<C> {
    let x = &vals[index];
    let entries = x.entries();
    let h = 1e-6;
    let mut out = Vec::new();
    for k in 0..entries.len() {
        let part = |step: C| {
            let (mut plus, mut minus) = (entries.clone(), entries.clone());
            plus[k] += step;
            minus[k] -= step;
            let (fp, fm) = (
                value_at(g, value, vals, index, x.with_entries(&plus)),
                value_at(g, value, vals, index, x.with_entries(&minus)),
            );
            (fp - fm) / (2.0 * h)
        };
        let im = if complex { part(C::new(0.0, h)) } else { 0.0 };
        out.push(C::new(part(C::new(h, 0.0)), im));
    }
    out
}

/// The gradient of the body `src` (over `params`) with respect to `wrt`,
/// evaluated, and its central differences.
fn gradients(params: &str, src: &str, wrt: &str) -> (Vec<C>, Vec<C>, String) {
    let (mut g, value) = parse_over(params, src);
    let x = param(&g, wrt);
    let grad = diff::gradient(&mut g, value, &[x])[0];
    let vals = Inputs::new(11).vals();
    let Op::Param(p) = g.op(x) else {
        unreachable!()
    };
    let complex = p.field == crate::ir::Field::Complex;
    let numeric = numeric_gradient(&g, value, &vals, p.index, complex);
    let analytic = match grad {
        Some(grad) => CEval::new(&g, &vals).eval(grad).entries(),
        None => vec![C::new(0.0, 0.0); numeric.len()],
    };
    let formula = grad.map_or("0".to_owned(), |grad| render(&g, grad));
    (analytic, numeric, formula)
}

/// Checks the gradient of `src` with respect to each of `wrt` against central
/// differences, for dynamic and fixed sizes.
fn check(src: &str, wrt: &[&str]) {
    for params in [PARAMS, FIXED] {
        for name in wrt {
            let (analytic, numeric, formula) = gradients(params, src, name);
            let err = distance(&analytic, &numeric);
            assert!(
                err <= 1e-6,
                "`{src}` ({params}): ∇{name} = {formula}\nevaluates to {analytic:?}\ncentral differences give {numeric:?}\n(error {err:e})"
            );
        }
    }
}

#[test]
fn gradients_of_products_and_adjoints() {
    check("(za.adjoint() * zb * za).trace().re", &["za", "zb"]);
    check("(za * zb.transpose()).trace().im", &["za", "zb"]);
    check(
        "za.tr_mul(&zb).norm_squared() + za.ad_mul(&zb).trace().re",
        &["za", "zb"],
    );
    check(
        "(za.conjugate() - zb).norm() + zx.dotc(&(za * zx)).im",
        &["za", "zx"],
    );
    check(
        "(zx.transpose() * za * zx).trace().norm_sqr()",
        &["za", "zx"],
    );
}

#[test]
fn gradients_of_scalars_and_parts() {
    check("(zs * zs.conj() + zs / (zs + 1.0)).re * r", &["zs", "r"]);
    check(
        "(zs.exp() * zs.ln()).im + zs.norm() - Complex::new(r * r, r).norm_sqr()",
        &["zs", "r"],
    );
    check(
        "(za.scale(r) * zs).trace().re + za.unscale(r).dot(zb).im",
        &["za", "zs", "r"],
    );
    check("(za * zs - zb / zs).norm_squared()", &["za", "zs"]);
}

#[test]
fn gradients_of_determinants_and_inverses() {
    check(
        "za.determinant().re + (za * zb).determinant().norm_sqr()",
        &["za", "zb"],
    );
    check(
        "za.try_inverse().unwrap().trace().im + (zb * za).try_inverse().unwrap().norm_squared()",
        &["za", "zb"],
    );
    check("za.determinant().ln().re", &["za"]);
}

#[test]
fn gradients_of_maps() {
    check("za.map(|v| v.norm_sqr()).norm_squared()", &["za"]);
    check("za.map(|v| v.exp() * v.conj()).trace().re", &["za"]);
    check("za.component_mul(zb).map(|v| v.re).norm()", &["za", "zb"]);
    check(
        "a.map(|t| Complex::new(t.cos(), t.sin())).component_mul(za).trace().re",
        &["a", "za"],
    );
}

#[test]
fn a_conjugated_gradient_fails_the_check() {
    // ∇ of Re tr(M Z) is Mᴴ; its conjugate Mᵀ is JAX's convention, not ours.
    let (analytic, numeric, _) = gradients(PARAMS, "(zb * za).trace().re", "za");
    assert!(distance(&analytic, &numeric) <= 1e-6);
    let conjugated: Vec<C> = analytic.iter().map(|v| v.conj()).collect();
    assert!(
        distance(&conjugated, &numeric) > 0.1,
        "the conjugate of the gradient must not pass"
    );
}

/// The Hessian-vector product of `src` in `wrt` along a direction, against
/// central differences of the gradient.
fn check_tangent(src: &str, wrt: &str) {
    for params in [PARAMS, FIXED] {
        let (mut g, value) = parse_over(params, src);
        let x = param(&g, wrt);
        let grad = diff::gradient(&mut g, value, &[x])[0].expect("a gradient");
        let Op::Param(p) = g.op(x).clone() else {
            unreachable!()
        };
        let mut vals = Inputs::new(13).vals();
        // (A real parameter moves in a real direction.)
        let complex = p.field == crate::ir::Field::Complex;
        let direction = vals[p.index].map_entries(|k| {
            let im = if complex { (k as f64 * 1.3).cos() } else { 0.0 };
            C::new((k as f64 * 0.7).sin(), im)
        });
        let dir = g.build(
            Param {
                index: vals.len(),
                shape: p.shape,
                field: p.field,
            },
            &[],
        );
        let hv = diff::tangents(&mut g, &[grad], &[(x, dir)])
            .unwrap_or_else(|id| panic!("`{src}`: no tangent rule for {:?}", g.op(id)))[0];
        vals.push(direction.clone());
        let analytic = match hv {
            Some(hv) => CEval::new(&g, &vals).eval(hv).entries(),
            None => vec![C::new(0.0, 0.0); direction.entries().len()],
        };
        let h = 1e-5;
        let at = |t: f64| {
            let mut v = vals.clone();
            let moved: Vec<C> = (v[p.index].entries().iter().zip(direction.entries()))
                .map(|(x, d)| x + d * t)
                .collect();
            v[p.index] = v[p.index].with_entries(&moved);
            CEval::new(&g, &v).eval(grad).entries()
        };
        let (plus, minus) = (at(h), at(-h));
        let numeric: Vec<C> = plus
            .iter()
            .zip(&minus)
            .map(|(p, m)| (p - m) / (2.0 * h))
            .collect();
        let err = distance(&analytic, &numeric);
        assert!(
            err <= 1e-6,
            "`{src}` ({params}): H v in {wrt} evaluates to {analytic:?}\ndifferences of the gradient give {numeric:?}\n(error {err:e})"
        );
    }
}

#[test]
fn tangents_of_gradients() {
    check_tangent(
        "(za.adjoint() * zb * za).trace().re + za.norm_squared() * za.norm()",
        "za",
    );
    check_tangent(
        "(zs * zs.conj() + zs / (zs + 1.0)).re + (zs.exp() * zs.ln()).im",
        "zs",
    );
    check_tangent(
        "za.determinant().norm_sqr() + za.try_inverse().unwrap().trace().im",
        "za",
    );
    check_tangent(
        "za.map(|v| v.exp() * v.conj()).trace().re + za.map(|v| v.norm_sqr()).norm()",
        "za",
    );
    check_tangent(
        "(za.scale(r) * zs).trace().re + zx.dotc(&(za * zx)).im",
        "zx",
    );
    check_tangent(
        "a.map(|t| Complex::new(t.cos(), t.sin())).component_mul(za).trace().re",
        "a",
    );
}

impl CVal {
    /// The same shape with entry `k` given by `f(k)`.
    fn map_entries(&self, f: impl Fn(usize) -> C) -> CVal {
        let e: Vec<C> = (0..self.entries().len()).map(f).collect();
        self.with_entries(&e)
    }
}

// ---------------------------------------------------------------------------
// Expansion.

fn expand_pretty(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let tokens = steps::expand(attr::Kind::Grad, attr, item);
    let file: syn::File = syn::parse2(tokens).expect("expansion parses as Rust");
    prettyplease::unparse(&file)
}

#[test]
fn expansion_of_a_quadratic_form() {
    let out = expand_pretty(
        quote::quote!(z),
        quote::quote! {
            fn quad(z: &DMatrix<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
                (z.adjoint() * m * z).trace().re + (z - m).norm_squared()
            }
        },
    );
    crate::expand_tests::check_snapshot("complex_quad", &out);
    // ∇z = mᴴ z + m z + 2 (z − m), no adjoint formed in the forward pass.
    assert!(out.contains("∇z = (zᴴ m)ᴴ + m z + 2 (z − m)"), "{out}");
    assert!(out.contains("z.ad_mul(m)"), "{out}");
    assert!(out.contains(".scale(2f64)"), "{out}");
}
