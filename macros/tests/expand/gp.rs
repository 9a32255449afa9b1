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
    let __mg_n_6 = (__mg_p::nalgebra::Dim::value(&y.shape_generic().0) * 1);
    let __mg_kn_8 = __mg_p::add_scaled(k, eye, noise);
    let __mg_chol_9 = __mg_kn_8.cholesky().unwrap();
    let __mg_alpha_10 = __mg_chol_9.solve(y);
    let __mg_t14 = __mg_chol_9.l_dirty();
    let __mg_t15 = __mg_t14.diagonal();
    let (__mg_t19, __mg_t32) = __mg_p::map_sum_with_derivative(
        &__mg_t15,
        |__mg_v| { (__mg_v.ln(), (1f64 / __mg_v)) },
    );
    let __mg_t34 = {
        let mut __mg_m = __mg_t15;
        __mg_m.component_mul_assign(&__mg_t32);
        __mg_m
    };
    let __mg_t35 = __mg_t34 * 0.5f64;
    let __mg_t36 = __mg_p::lower_congruence_diagonal(__mg_t14, &__mg_t35);
    let __mg_chol_bar_44 = __mg_p::mul_tr_add(
        __mg_t36,
        (-0.5f64),
        &__mg_alpha_10,
        &__mg_alpha_10,
    );
    let __mg_k_bar_45 = __mg_p::fold_onto_lower_in_place(__mg_chol_bar_44);
    (
        (0.5f64 * y.dot(&__mg_alpha_10) + __mg_t19
            + 0.5f64 * (__mg_n_6 as f64) * (::core::f64::consts::TAU).ln()),
        __mg_k_bar_45,
    )
}
