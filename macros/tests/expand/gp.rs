#[allow(dead_code)]
fn gp(k: &DMatrix<f64>, y: &DVector<f64>, eye: &DMatrix<f64>, noise: f64) -> f64 {
    let n = y.len();
    let kn = k + eye * noise;
    let chol = kn.clone().cholesky().unwrap();
    let alpha = chol.solve(y);
    0.5 * y.dot(&alpha) + chol.l().diagonal().map(|v| v.ln()).sum()
        + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}
/** Value and gradient of `gp`, derived by `#[grad]`.

 Returns `(value, ∇k)`, where

 - `∇k = fold(u₁⁻ᵀ Diag(0.5 (u₂ ∘ map(u₂, v ↦ 1/v))) u₁⁻¹ + −0.5 alpha alphaᵀ)`

 where `kn = k + noise eye`, `chol = sym(kn)`, `alpha = chol⁻¹ y`, `u₁ = L(chol)`, `u₂ = diag(u₁)`*/
#[must_use]
#[allow(unused_variables, unused_parens)]
fn gp_grad(
    k: &DMatrix<f64>,
    y: &DVector<f64>,
    eye: &DMatrix<f64>,
    noise: f64,
) -> (f64, DMatrix<f64>) {
    use ::matgrad::__private as __mg_p;
    let __mg_kn_7 = __mg_p::add_scaled(k, eye, noise);
    let __mg_chol_8 = __mg_kn_7.cholesky().unwrap();
    let __mg_alpha_9 = __mg_chol_8.solve(y);
    let __mg_t13 = __mg_chol_8.l_dirty();
    let __mg_t14 = __mg_t13.diagonal();
    let (__mg_t18, __mg_t31) = __mg_p::map_sum_with_derivative(
        &__mg_t14,
        |__mg_v| { (__mg_v.ln(), (1f64 / __mg_v)) },
    );
    let __mg_t33 = {
        let mut __mg_m = __mg_t14;
        __mg_m.component_mul_assign(&__mg_t31);
        __mg_m
    };
    let __mg_t34 = __mg_t33 * 0.5f64;
    let __mg_t35 = __mg_p::lower_congruence_diagonal(__mg_t13, &__mg_t34);
    let __mg_chol_bar_43 = __mg_p::mul_tr_add(
        __mg_t35,
        (-0.5f64),
        &__mg_alpha_9,
        &__mg_alpha_9,
    );
    let __mg_k_bar_44 = __mg_p::fold_onto_lower_in_place(__mg_chol_bar_43);
    (
        (0.5f64 * y.dot(&__mg_alpha_9) + __mg_t18
            + 0.5f64 * (__mg_p::nalgebra::Dim::value(&y.shape_generic().0) as f64)
                * (::core::f64::consts::TAU).ln()),
        __mg_k_bar_44,
    )
}
