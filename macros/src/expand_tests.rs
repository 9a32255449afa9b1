//! Expansion snapshots: the generated code of representative losses, kept in
//! `tests/expand/*.rs` so that changes to emitted code show up in review.
//! Set `MATGRAD_BLESS=1` to rewrite the snapshots after an intended change.

use quote::quote;

use crate::expand;

fn expand_pretty(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let tokens = expand::grad(attr, item);
    let file: syn::File = syn::parse2(tokens).expect("expansion parses as Rust");
    prettyplease::unparse(&file)
}

fn check_snapshot(name: &str, actual: &str) {
    let path = format!("{}/tests/expand/{name}.rs", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("MATGRAD_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "expansion of `{name}` changed; review it and rerun with MATGRAD_BLESS=1.\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// The generated function alone, for structural checks.
fn grad_fn(expanded: &str, name: &str) -> String {
    let start = expanded
        .find(&format!("fn {name}_grad"))
        .expect("generated function");
    expanded[start..].to_owned()
}

#[test]
fn least_squares_is_one_forward_and_one_backward_pass() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            pub fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                let r = x * w - y;
                r.norm_squared()
            }
        },
    );
    check_snapshot("lsq", &out);
    let body = grad_fn(&out, "lsq");
    // Each value once: the product, the residual, the loss, Xᵀr, the scaling.
    assert_eq!(body.matches("x * w").count(), 1, "{body}");
    assert_eq!(body.matches(".norm_squared()").count(), 1, "{body}");
    assert_eq!(body.matches("x.tr_mul(").count(), 1, "{body}");
    assert_eq!(body.matches("let ").count(), 5, "{body}");
    assert!(!body.contains("transpose"), "no transposed copy: {body}");
    // The backward pass reuses the residual computed by the forward pass.
    let residual = body.find("let __mg_r_").expect("residual is a local");
    assert!(residual < body.find("tr_mul").unwrap(), "{body}");
}

#[test]
fn doc_comment_shows_the_formula() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                let r = x * w - y;
                r.norm_squared()
            }
        },
    );
    assert!(out.contains("`∇w = 2 xᵀ r`"), "{out}");
    assert!(out.contains("`r = x w − y`"), "{out}");
}

#[test]
fn quadratic_form_and_log_determinant() {
    let out = expand_pretty(
        quote!(x, s),
        quote! {
            fn nll(x: &Matrix3<f64>, a: &Matrix3<f64>, s: &Matrix3<f64>) -> f64 {
                let q = (x.transpose() * a * x).trace();
                q + s.determinant().ln() + (s.clone().try_inverse().unwrap() * a).trace()
            }
        },
    );
    check_snapshot("nll", &out);
}

#[test]
fn errors_come_with_a_stub() {
    let out = expand::grad(
        quote!(w),
        quote! {
            fn f(w: &DVector<f64>) -> f64 {
                w.svd(true, true).rank(1e-9) as f64
            }
        },
    )
    .to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("fn f_grad"), "{out}");
    assert!(out.contains("unreachable"), "{out}");
}

#[test]
fn hessian_docs_show_the_kronecker_form() {
    let quad = crate::derivatives::hessian(
        quote!(x),
        quote! {
            fn f(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
                (x.transpose() * a * x).trace()
            }
        },
    )
    .to_string();
    assert!(quad.contains("H = I ⊗ aᵀ + I ⊗ a"), "{quad}");
    let log_det = crate::derivatives::hessian(
        quote!(x),
        quote! {
            fn f(x: &DMatrix<f64>) -> f64 {
                x.determinant().ln()
            }
        },
    )
    .to_string();
    assert!(
        log_det.contains("H = −(u₁ ⊗ u₁ᵀ) K") && log_det.contains("u₁ = x⁻¹"),
        "{log_det}"
    );
    let inverse = crate::derivatives::jacobian(
        quote!(x),
        quote! {
            fn f(x: &Matrix3<f64>) -> Matrix3<f64> {
                x.try_inverse().unwrap()
            }
        },
    )
    .to_string();
    assert!(inverse.contains("J_x = −u₁ᵀ ⊗ u₁"), "{inverse}");
}
