#[allow(dead_code)]
fn quad(z: &DMatrix<Complex<f64>>, m: &DMatrix<Complex<f64>>) -> f64 {
    (z.adjoint() * m * z).trace().re + (z - m).norm_squared()
}
/** Value and gradient of `quad`, derived by `#[grad]`.

 Returns `(value, ∇z)`, where

 - `∇z = (zᴴ m)ᴴ + m z + 2 (z − m)`*/
#[must_use]
#[allow(unused_variables, unused_parens)]
fn quad_grad(
    z: &DMatrix<Complex<f64>>,
    m: &DMatrix<Complex<f64>>,
) -> (f64, DMatrix<Complex<f64>>) {
    use ::matgrad::__private as __mg_p;
    let __mg_t2 = z - m;
    let __mg_t3 = __mg_t2.norm_squared();
    let __mg_t5 = z.ad_mul(m);
    let __mg_t15 = __mg_t5.adjoint() + __mg_p::mul(m, z);
    let __mg_t17 = __mg_t2.scale(2f64);
    let __mg_z_bar_20 = __mg_t15 + __mg_t17;
    ((__mg_t5.tr_dot(z).re + __mg_t3), __mg_z_bar_20)
}
