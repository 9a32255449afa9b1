//! Hygiene and strictness: the generated code must compile without a single
//! warning under `#![deny(warnings)]` (plus a few stricter lints), must not
//! collide with whatever names the user picks (including names that look
//! like matgrad's own temporaries), and must keep the visibility of the
//! annotated function, in nested modules too. Every case is also checked
//! against central finite differences.
#![deny(warnings)]
#![deny(missing_docs, unused_qualifications, rust_2018_idioms)]
#![deny(clippy::all)]

#[macro_use]
mod common;

use common::*;
use matgrad::nalgebra::{DMatrix, Matrix2x3, Matrix3, OMatrix, Vector3};

/// User names that could clash with the generated code's: `tmp`, `grad`,
/// `out`, `x_bar`, `lsq_grad_value`, `__mg_t3`, `__mg_v`, … as parameters,
/// `let` bindings and closure parameters.
pub mod names {
    use matgrad::grad;
    use matgrad::nalgebra::{DMatrix, DVector, Matrix3, Vector3};

    /// Parameters named like the generated code's locals.
    #[grad(tmp, x_bar, grad)]
    pub fn lsq(
        tmp: &DVector<f64>,
        x_bar: &DMatrix<f64>,
        grad: &DVector<f64>,
        lsq_grad_value: f64,
    ) -> f64 {
        let out = x_bar * tmp - grad;
        let __mg_t3 = out.norm_squared();
        __mg_t3 * lsq_grad_value
    }

    /// `let` names and closure parameters named like matgrad's temporaries;
    /// the closure parameter shadows a parameter of the function.
    #[grad(__mg_t3, out)]
    pub fn temporaries(__mg_t3: &Matrix3<f64>, out: Vector3<f64>, __mg_v: f64) -> f64 {
        let __mg_t0 = __mg_t3 * out;
        let __mg_c6 = __mg_t0.map(|__mg_v| __mg_v.tanh() * 2.0);
        let __mg_a_bar_15 = __mg_c6.dot(&out);
        let x_bar = __mg_t3.map(|out| out * out).sum();
        __mg_a_bar_15 + x_bar * __mg_v
    }

    /// A parameter named like the function's own generated name, and one
    /// named like the value and each gradient slot.
    #[grad(value, lsq_grad)]
    pub fn lsq2(value: f64, lsq_grad: &DVector<f64>, lsq2_grad: f64) -> f64 {
        let grad = lsq_grad * value;
        let tmp = grad.norm_squared();
        tmp + lsq2_grad * value
    }

    /// The closure parameter has the name of the matrix it maps over.
    #[grad(v)]
    pub(crate) fn shadowing(v: &DMatrix<f64>, s: f64) -> f64 {
        let s2 = v.map(|v| v.sin() * v).sum();
        let v = v * s;
        let s = v.norm_squared() + s2;
        s * s
    }
}

/// `pub`, `pub(crate)`, `pub(super)` and `pub(in …)` functions in nested
/// modules, called from outside their modules.
pub mod outer {
    /// One level down.
    pub mod inner {
        use matgrad::grad;
        use matgrad::nalgebra::{DMatrix, DVector};

        /// `pub`, from two levels of modules.
        #[grad(w)]
        pub fn ridge(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
            (x * w - y).norm_squared() + lambda * w.norm_squared()
        }

        #[grad(a)]
        pub(crate) fn crate_visible(a: &DMatrix<f64>) -> f64 {
            a.map(|v| v.exp()).sum().ln()
        }

        #[grad(a, b)]
        pub(super) fn parent_visible(a: DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
            a.component_mul(b).sum()
        }

        #[grad(a)]
        pub(in crate::outer) fn path_visible(a: &DMatrix<f64>) -> f64 {
            a.transpose().tr_mul(a).trace() // tr(AA), A square
        }

        /// Three levels down, private to its module except for one function.
        pub mod deepest {
            use matgrad::grad;
            use matgrad::nalgebra::Matrix2x3;

            #[grad(m)]
            fn private_helper(m: &Matrix2x3<f64>) -> f64 {
                m.norm()
            }

            /// Calls the private function and its gradient from inside.
            pub fn helper_and_grad(m: &Matrix2x3<f64>) -> (f64, (f64, Matrix2x3<f64>)) {
                (private_helper(m), private_helper_grad(m))
            }
        }
    }

    use matgrad::nalgebra::DMatrix;

    /// What `from_parent` returns: `(parent_visible_grad, parent_visible,
    /// path_visible_grad, path_visible)`.
    pub type FromParent = (
        (f32, DMatrix<f32>, DMatrix<f32>),
        f32,
        (f64, DMatrix<f64>),
        f64,
    );

    /// Uses the `pub(super)` and `pub(in crate::outer)` functions.
    pub fn from_parent(a: &DMatrix<f32>, b: &DMatrix<f32>, c: &DMatrix<f64>) -> FromParent {
        (
            inner::parent_visible_grad(a.clone(), b),
            inner::parent_visible(a.clone(), b),
            inner::path_visible_grad(c),
            inner::path_visible(c),
        )
    }
}

/// An annotated function in a function-local scope, with `OMatrix` imported
/// so that fully qualified paths in the generated code would be reported by
/// `unused_qualifications` if they were written against the user's imports.
fn local_scope(a: &OMatrix<f64, matgrad::nalgebra::U2, matgrad::nalgebra::U2>) -> f64 {
    use matgrad::grad;

    #[grad(m)]
    fn det(m: &Matrix3<f64>) -> f64 {
        m.determinant() + m.try_inverse().unwrap().trace()
    }

    let m = Matrix3::identity() * 2.0 + Matrix3::from_fn(|i, j| (i + 2 * j) as f64 * 0.1);
    let (v, g) = det_grad(&m);
    assert_eq!(v, det(&m));
    check_gradient_here(&m, &g, det);
    a.sum()
}

fn check_gradient_here(m: &Matrix3<f64>, g: &Matrix3<f64>, f: fn(&Matrix3<f64>) -> f64) {
    matgrad::check_gradient(f, m, g).assert_within(1e-6);
}

#[test]
fn names_do_not_clash() {
    use names::*;
    let (tmp, x_bar, grad, lsq_grad_value) = (dv(3, 1), dm(4, 3, 2), dv(4, 3), sc(4));
    check!(lsq(&tmp, &x_bar, &grad, lsq_grad_value) => lsq_grad[tmp, x_bar, grad]);

    let (__mg_t3, out, __mg_v) = (sm(1), sm(2), sc(3));
    check!(temporaries(&__mg_t3, out, __mg_v) => temporaries_grad[__mg_t3, out]);

    {
        // (A local `lsq_grad` shadows the function `lsq_grad` in this block.)
        let (value, lsq_grad, third) = (sc(1), dv(3, 2), sc::<f64>(3));
        check!(lsq2(value, &lsq_grad, third) => lsq2_grad[value, lsq_grad]);
    }

    let (v, s) = (dm(2, 3, 1), sc(2));
    check!(shadowing(&v, s) => shadowing_grad[v]);
}

#[test]
fn visibility_from_outside() {
    let (w, x, y, lambda) = (dv(3, 1), dm(5, 3, 2), dv(5, 3), sc(4));
    {
        use outer::inner::{ridge, ridge_grad};
        check!(ridge(&w, &x, &y, lambda) => ridge_grad[w]);
    }
    // The same through the full path, as an outside caller would write it.
    let (value, dw) = outer::inner::ridge_grad(&w, &x, &y, lambda);
    assert_eq!(value, outer::inner::ridge(&w, &x, &y, lambda));
    let expected = (x.tr_mul(&(&x * &w - &y)) + &w * lambda) * 2.0;
    assert!((dw - expected).norm() < 1e-12);

    let a = dm(3, 2, 5);
    let (value, da) = outer::inner::crate_visible_grad(&a);
    assert_eq!(value, outer::inner::crate_visible(&a));
    fd("crate_visible", outer::inner::crate_visible, &a, &da);

    let (a32, b32, c) = (dm(2, 3, 1), dm(2, 3, 2), dm(3, 3, 3));
    let ((v32, ga, gb), plain32, (v64, gc), plain64) = outer::from_parent(&a32, &b32, &c);
    same_value("parent_visible", v32, plain32);
    fd(
        "parent_visible wrt a",
        |a| inner_parent(a.clone(), &b32),
        &a32,
        &ga,
    );
    fd(
        "parent_visible wrt b",
        |b| inner_parent(a32.clone(), b),
        &b32,
        &gb,
    );
    same_value("path_visible", v64, plain64);
    // ∇ tr(AA) = 2Aᵀ
    assert!((&gc - c.transpose() * 2.0).norm() < 1e-12);
    fd("path_visible", |c: &DMatrix<f64>| (c * c).trace(), &c, &gc);

    let m = sm(4);
    let (plain, (value, dm_)) = outer::inner::deepest::helper_and_grad(&m);
    assert_eq!(value, plain);
    fd("private_helper", |m: &Matrix2x3<f64>| m.norm(), &m, &dm_);

    let a2 = sm(5);
    assert_eq!(local_scope(&a2), a2.sum());
}

/// `parent_visible` is `pub(super)`: outside `outer` it is reached only
/// through `outer::from_parent`; this recomputes its value for the checks.
fn inner_parent(a: DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    a.component_mul(b).sum()
}

/// Fully qualified parameter types and raw identifiers.
#[matgrad::grad(r#fn, r#type)]
pub fn paths_and_raw(
    r#fn: &matgrad::nalgebra::DVector<f64>,
    r#type: &::matgrad::nalgebra::Matrix4<f64>,
) -> f64 {
    let r#let = r#type * r#fn;
    r#let.norm_squared() + r#fn.sum()
}

#[test]
fn qualified_paths_and_raw_identifiers() {
    let (r#fn, r#type) = (dv(4, 1), sm(2));
    check!(paths_and_raw(&r#fn, &r#type) => paths_and_raw_grad[r#fn, r#type]);
}

/// A function with every kind of parameter, by reference and by value, all
/// differentiated, under the strict lints of this file.
#[matgrad::grad(a, b, v, s, t)]
pub fn everything(
    a: &DMatrix<f64>,
    b: DMatrix<f64>,
    v: Vector3<f64>,
    s: f64,
    t: &f64,
    m: &Matrix2x3<f64>,
) -> f64 {
    let tmp: DMatrix<f64> = a * &b;
    let out = m * v;
    let grad = tmp.clone().try_inverse().expect("invertible").trace() * s;
    grad + out.norm_squared() * t + (&tmp / s).dot(&b) + tmp.determinant().abs().ln()
}

#[test]
fn everything_at_once() {
    let (a, b, v, s, t, m) = (dm_well(3, 1), dm_well(3, 2), sm(3), sc(4), sc(5), sm(6));
    check!(everything(&a, b.clone(), v, s, &t, &m) => everything_grad[a, b, v, s, t]);
}
