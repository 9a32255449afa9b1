#[allow(dead_code)]
pub fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let r = x * w - y;
    r.norm_squared()
}
/** Value and gradient of `lsq`, derived by `#[grad]`.

 Returns `(value, ∇w)`, where

 - `∇w = 2 xᵀ r`

 where `r = x w − y`*/
#[must_use]
#[allow(unused_variables, unused_parens)]
pub fn lsq_grad(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
) -> (f64, DVector<f64>) {
    use ::matgrad::__private as __mg_p;
    let __mg_samples = __mg_p::nalgebra::Dim::value(&x.shape_generic().0);
    let __mg_work = 4usize + 3usize * __mg_p::nalgebra::Dim::value(&x.shape_generic().1);
    if __mg_p::splits_rows(__mg_samples, __mg_work) {
        let (__mg_sum5, __mg_w_bar_15) = __mg_p::sum_blocks(
            0..__mg_samples,
            __mg_work,
            |__mg_rows| {
                #[allow(unused_variables)]
                let x = &x.rows_range(__mg_rows.clone());
                #[allow(unused_variables)]
                let y = &y.rows_range(__mg_rows.clone());
                let __mg_r_4 = __mg_p::mul(x, w) - y;
                let __mg_w_bar_15 = __mg_p::tr_mul_vector_scaled(2f64, x, &__mg_r_4);
                (__mg_r_4.norm_squared(), __mg_w_bar_15)
            },
        );
        (__mg_sum5, __mg_w_bar_15)
    } else {
        let __mg_r_4 = __mg_p::mul(x, w) - y;
        let __mg_w_bar_15 = __mg_p::tr_mul_vector_scaled(2f64, x, &__mg_r_4);
        (__mg_r_4.norm_squared(), __mg_w_bar_15)
    }
}
