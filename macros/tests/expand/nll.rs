#[allow(dead_code)]
fn nll(x: &Matrix3<f64>, a: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
    let q = (x.transpose() * a * x).trace();
    q + s.determinant().ln() + (s.clone().try_inverse().unwrap() * a).trace()
}
/** Value and gradient of `nll`, derived by `#[grad]`.

 Returns `(value, ∇x, ∇s)`, where

 - `∇x = a x + aᵀ x`
 - `∇s = (1/det(s)) adj(s)ᵀ − u₁ᵀ aᵀ u₁ᵀ`

 where `u₁ = s⁻¹`*/
#[must_use]
#[allow(unused_variables, unused_parens)]
fn nll_grad(
    x: &Matrix3<f64>,
    a: &Matrix3<f64>,
    s: &Matrix3<f64>,
) -> (f64, Matrix3<f64>, Matrix3<f64>) {
    use ::matgrad::__private as __mg_p;
    let __mg_t6 = a * x;
    let __mg_q_7 = x.dot(&__mg_t6);
    let __mg_t8 = s.determinant();
    let __mg_t11 = __mg_p::inverse(s).unwrap();
    let __mg_t17 = a.transpose();
    let __mg_t18 = __mg_t11.tr_mul(&__mg_t17);
    let __mg_t23 = __mg_p::small_det_gradient(s) * (1f64 / __mg_t8);
    let __mg_s_bar_24 = __mg_t23 - (&__mg_t18 * __mg_t11.transpose());
    let __mg_x_bar_27 = __mg_t6 + a.tr_mul(x);
    (((__mg_q_7 + __mg_t8.ln()) + __mg_t11.tr_dot(a)), __mg_x_bar_27, __mg_s_bar_24)
}
