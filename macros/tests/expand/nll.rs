#[allow(dead_code)]
fn nll(x: &Matrix3<f64>, a: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
    let q = (x.transpose() * a * x).trace();
    q + s.determinant().ln() + (s.clone().try_inverse().unwrap() * a).trace()
}
/** Value and gradient of `nll`, derived by `#[grad]`.

 Returns `(value, ∇x, ∇s)`, where

 - `∇x = (a + aᵀ) x`
 - `∇s = u₂ − u₁ᵀ aᵀ u₂`

 where `u₁ = s⁻¹`, `u₂ = u₁ᵀ`*/
#[must_use]
#[allow(unused_variables, unused_parens)]
fn nll_grad(
    x: &Matrix3<f64>,
    a: &Matrix3<f64>,
    s: &Matrix3<f64>,
) -> (f64, Matrix3<f64>, Matrix3<f64>) {
    use ::matgrad::__private as __mg_p;
    let __mg_t7 = a.transpose();
    let __mg_t8 = a + &__mg_t7;
    let __mg_t9 = &__mg_t8 * x;
    let __mg_t10 = x.dot(&__mg_t9);
    let __mg_t16 = __mg_p::inverse(s).unwrap();
    let __mg_t21 = __mg_t16.transpose();
    let __mg_t22 = __mg_t16.tr_mul(&__mg_t7);
    let __mg_t23 = &__mg_t22 * &__mg_t21;
    let __mg_s_bar_27 = __mg_t21 - &__mg_t23;
    (
        (0.5f64 * __mg_t10 + s.determinant().ln() + __mg_t22.trace()),
        __mg_t9,
        __mg_s_bar_27,
    )
}
