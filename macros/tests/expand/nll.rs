fn nll(x: &Matrix3<f64>, a: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
    let q = (x.transpose() * a * x).trace();
    q + s.determinant().ln() + (s.clone().try_inverse().unwrap() * a).trace()
}
/** Value and gradient of `nll`, derived by `#[grad]`.

 Returns `(value, ∇x, ∇s)`, where

 - `∇x = aᵀ x + a x`
 - `∇s = u₂ − u₁ᵀ aᵀ u₂`

 where `u₁ = s⁻¹`, `u₂ = u₁ᵀ`*/
#[must_use]
#[allow(unused_variables)]
fn nll_grad(
    x: &Matrix3<f64>,
    a: &Matrix3<f64>,
    s: &Matrix3<f64>,
) -> (f64, Matrix3<f64>, Matrix3<f64>) {
    let __mg_t4 = x.tr_mul(a);
    let __mg_q_6 = __mg_t4.tr_dot(x);
    let __mg_t7 = ::matgrad::__private::Lu::new(s);
    let __mg_t8 = __mg_t7.ln_determinant();
    let __mg_t9 = __mg_q_6 + __mg_t8;
    let __mg_t10 = ::matgrad::__private::inverse(s).unwrap();
    let __mg_t12 = __mg_t10.tr_dot(a);
    let __mg_t13 = __mg_t9 + __mg_t12;
    let __mg_t15 = __mg_t10.transpose();
    let __mg_t16 = a.transpose();
    let __mg_t17 = __mg_t10.tr_mul(&__mg_t16);
    let __mg_t18 = &__mg_t17 * &__mg_t15;
    let __mg_s_bar_20 = &__mg_t15 - &__mg_t18;
    let __mg_t21 = a.tr_mul(x);
    let __mg_t22 = a * x;
    let __mg_x_bar_24 = &__mg_t21 + &__mg_t22;
    (__mg_t13, __mg_x_bar_24, __mg_s_bar_20)
}
