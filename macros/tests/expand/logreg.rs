#[allow(dead_code)]
pub fn logreg(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
    let m = (x * w).component_mul(y);
    m.map(|v| (1.0 + (-v).exp()).ln()).sum()
}
/** Value and gradient of `logreg`, derived by `#[grad]`.

 Returns `(value, ∇w)`, where

 - `∇w = xᵀ (map(m, v ↦ −((1/(1 + exp(−v))) exp(−v))) ∘ y)`

 where `m = (x w) ∘ y`*/
#[must_use]
#[allow(unused_variables, unused_parens)]
pub fn logreg_grad(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
) -> (f64, DVector<f64>) {
    use ::matgrad::__private as __mg_p;
    let __mg_samples = __mg_p::nalgebra::Dim::value(&x.shape_generic().0);
    let __mg_work = 6usize + 3usize * __mg_p::nalgebra::Dim::value(&x.shape_generic().1);
    if __mg_p::splits_rows(__mg_samples, __mg_work) {
        let (__mg_sum12, __mg_w_bar_22) = __mg_p::sum_blocks(
            0..__mg_samples,
            __mg_work,
            |__mg_rows| {
                #[allow(unused_variables)]
                let x = &x.rows_range(__mg_rows.clone());
                #[allow(unused_variables)]
                let y = &y.rows_range(__mg_rows.clone());
                let __mg_m_4 = {
                    let mut __mg_m = __mg_p::mul(x, w);
                    __mg_m.component_mul_assign(y);
                    __mg_m
                };
                let (__mg_r12, __mg_m_bar_17) = __mg_p::map_sum_with_derivative_over(
                    __mg_m_4,
                    |__mg_v| {
                        let __mg_c8 = (-__mg_v).exp();
                        let __mg_c9 = 1f64 + __mg_c8;
                        (__mg_c9.ln(), (-(1f64 / __mg_c9 * __mg_c8)))
                    },
                );
                let __mg_r18 = {
                    let mut __mg_m = __mg_m_bar_17;
                    __mg_m.component_mul_assign(y);
                    __mg_m
                };
                let __mg_w_bar_22 = __mg_p::tr_mul(x, &__mg_r18);
                (__mg_r12, __mg_w_bar_22)
            },
        );
        (__mg_sum12, __mg_w_bar_22)
    } else {
        let __mg_m_4 = {
            let mut __mg_m = __mg_p::mul(x, w);
            __mg_m.component_mul_assign(y);
            __mg_m
        };
        let (__mg_t12, __mg_m_bar_17) = __mg_p::map_sum_with_derivative_over(
            __mg_m_4,
            |__mg_v| {
                let __mg_c8 = (-__mg_v).exp();
                let __mg_c9 = 1f64 + __mg_c8;
                (__mg_c9.ln(), (-(1f64 / __mg_c9 * __mg_c8)))
            },
        );
        let __mg_t18 = {
            let mut __mg_m = __mg_m_bar_17;
            __mg_m.component_mul_assign(y);
            __mg_m
        };
        let __mg_w_bar_22 = __mg_p::tr_mul(x, &__mg_t18);
        (__mg_t12, __mg_w_bar_22)
    }
}
