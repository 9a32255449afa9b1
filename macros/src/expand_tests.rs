//! Expansion snapshots: the generated code of representative losses, kept in
//! `tests/expand/*.rs` so that changes to emitted code show up in review.
//! Set `MATGRAD_BLESS=1` to rewrite the snapshots after an intended change.

use std::collections::BTreeSet;

use quote::{quote, ToTokens};

use crate::{attr, steps};

fn expand_pretty(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let tokens = steps::expand(attr::Kind::Grad, attr, item);
    let file: syn::File = syn::parse2(tokens).expect("expansion parses as Rust");
    prettyplease::unparse(&file)
}

pub(crate) fn check_snapshot(name: &str, actual: &str) {
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

/// The two bodies of a generated function split along rows of samples
/// (`emit/rows.rs`): the one computing block of rows by block of rows, and
/// the function as written; `None` if it has one body.
fn split_bodies(body: &str) -> Option<(String, String)> {
    let condition = body.find("splits_rows(")?;
    // The block after the condition, then the `else` block, by their braces.
    let block = |from: usize| {
        let open = from + body[from..].find('{').expect("a block");
        let mut depth = 0;
        for (i, c) in body[open..].char_indices() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth == 0 {
                return (open, open + i + 1);
            }
        }
        panic!("unbalanced braces in {body}");
    };
    let (a, b) = block(condition);
    let (c, d) = block(b);
    Some((body[a..b].to_owned(), body[c..d].to_owned()))
}

/// [`grad_fn`], as written (the body taken on one thread).
fn grad_fn_as_written(expanded: &str, name: &str) -> String {
    let body = grad_fn(expanded, name);
    split_bodies(&body).map_or(body, |(_, written)| written)
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
    let body = grad_fn_as_written(&out, "lsq");
    // Each value once: the product, the residual (in the product's buffer),
    // the loss, and 2 Xᵀr (the 2 folded into `gemv`).
    // (`x w` through `__mg_p::mul`, which is `x * w` unless the `parallel`
    // feature splits it across threads.)
    assert_eq!(body.matches("mul(x, w)").count(), 1, "{body}");
    assert_eq!(body.matches(".norm_squared()").count(), 1, "{body}");
    assert_eq!(
        body.matches("tr_mul_vector_scaled(2f64, x, &__mg_r_4)")
            .count(),
        1,
        "{body}"
    );
    // The residual (the product written inside it) and the gradient; the
    // loss is read in the returned tuple.
    assert_eq!(body.matches("let ").count(), 2, "{body}");
    assert!(!body.contains("transpose"), "no transposed copy: {body}");
    // The backward pass reuses the residual computed by the forward pass.
    let residual = body.find("let __mg_r_").expect("residual is a local");
    assert!(residual < body.find("tr_mul").unwrap(), "{body}");
}

#[test]
fn logistic_loss_is_one_pass_over_the_samples() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            pub fn logreg(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                let m = (x * w).component_mul(y);
                m.map(|v| (1.0 + (-v).exp()).ln()).sum()
            }
        },
    );
    check_snapshot("logreg", &out);
    let body = grad_fn_as_written(&out, "logreg");
    // The map and its derivative in one closure: one `exp` per sample. The
    // map's entries are added up, not stored, and the derivative overwrites
    // the margins `m`, read by nothing else.
    let tight: String = body.split_whitespace().collect();
    assert_eq!(
        tight
            .matches("map_sum_with_derivative_over(__mg_m_")
            .count(),
        1,
        "{body}"
    );
    assert!(!body.contains(".sum()"), "{body}");
    assert_eq!(body.matches(".exp()").count(), 1, "{body}");
    assert!(!body.contains(".map("), "{body}");
    // The product and the derivative are read once: multiplied in place.
    assert_eq!(body.matches("component_mul_assign(y)").count(), 2, "{body}");
    assert!(!body.contains(".component_mul("), "{body}");
}

#[test]
fn adjoints_are_accumulated_in_place() {
    let out = expand_pretty(
        quote!(x),
        quote! {
            fn quadform(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
                (x.transpose() * a * x).trace()
            }
        },
    );
    let body = grad_fn(&out, "quadform");
    // ∇x = A x + Aᵀ x: `Aᵀ x` is added onto `A x`, moved in after the value
    // read it, and never formed on its own.
    assert!(body.contains("tr_mul_add(__mg_t5, 1f64, a, x)"), "{body}");
    assert_eq!(body.matches("let ").count(), 3, "{body}");
    assert!(!body.contains("transpose"), "{body}");
}

#[test]
fn a_quadratic_form_in_a_matrix_is_one_product() {
    let out = expand_pretty(
        quote!(x),
        quote! {
            fn quadform(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
                (x.transpose() * a * x).trace()
            }
        },
    );
    let body = grad_fn(&out, "quadform");
    // tr(XᵀAX) = ½⟨X, G⟩ with G = (A + Aᵀ) X, the gradient: one product of
    // `X`'s size for the value and the gradient together, its factor formed
    // inside it (again by each thread computing a block of it).
    let product = "__mg_p::mul_formed(|| (a + a.transpose()), x)";
    assert_eq!(body.matches(product).count(), 1, "{body}");
    assert!(!body.contains("__mg_p::mul("), "{body}");
    assert!(body.contains("0.5f64 *"), "{body}");
}

#[test]
fn costly_maps_of_dynamic_size_are_weighed_for_threads() {
    let out = expand_pretty(
        quote!(w, v),
        quote! {
            fn f(w: &DMatrix<f64>, x: &DVector<f64>, v: &Vector3<f64>) -> f64 {
                let h = (w * x).map(|t| t.tanh());
                h.norm_squared() + w.map(|t| t * 2.0).sum() + v.map(|t| t.exp()).sum()
            }
        },
    );
    let body = grad_fn(&out, "f");
    // `tanh` of dynamic size, weighed as 32 multiply-adds for `tanh` and one for the closure's
    // parameter. The cheap map and the fixed-size one stay nalgebra's.
    assert_eq!(body.matches("__mg_p::map_costly").count(), 1, "{body}");
    assert!(body.contains("33usize"), "{body}");
}

#[test]
fn a_difference_of_quadratic_forms_is_two_products() {
    let out = expand_pretty(
        quote!(x),
        quote! {
            fn f(x: &DMatrix<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
                (x.transpose() * a * x).trace() - (x.transpose() * b * x).trace()
            }
        },
    );
    let body = grad_fn(&out, "f");
    // ∇x = (A + Aᵀ)X − (B + Bᵀ)X: each half of ½⟨X, G⟩'s gradient reached apart, added once.
    for product in ["(a + a.transpose()), x)", "(b + b.transpose()), x)"] {
        assert_eq!(body.matches(product).count(), 1, "{body}");
    }
    assert!(!body.contains("* 0.5f64"), "{body}");
    assert_eq!(body.matches("let ").count(), 5, "{body}");
}

#[test]
fn a_factor_read_twice_is_formed_once() {
    let out = expand_pretty(
        quote!(x),
        quote! {
            fn f(x: &DMatrix<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
                ((a + b) * x).norm_squared()
            }
        },
    );
    let body = grad_fn(&out, "f");
    // `A + B` is read by the product and by the gradient's `(A + B)ᵀ R`: a `let`.
    assert!(!body.contains("mul_formed"), "{body}");
    assert!(body.contains(" = a + b;"), "{body}");
}

#[test]
fn gaussian_likelihood_transposes_once() {
    let out = expand_pretty(
        quote!(sigma),
        quote! {
            fn nll(sigma: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
                sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
            }
        },
    );
    let body = grad_fn(&out, "nll");
    // One LU for ln det and the inverse K; ∇Σ = Kᵀ − (K S K)ᵀ = (K − K S K)ᵀ.
    assert_eq!(body.matches("Lu::new").count(), 1, "{body}");
    assert_eq!(body.matches(".transpose()").count(), 1, "{body}");
    assert!(out.contains("`∇sigma = (u₁ − u₁ s u₁)ᵀ`"), "{out}");
}

/// `tr(Σ⁻¹S)` is read off the diagonal of the product the gradient forms anyway
/// (`Σ⁻¹S`, or `Σ⁻ᵀSᵀ` at fixed sizes), not computed again by `tr_dot`.
#[test]
fn the_value_reads_its_trace_off_a_product_of_the_gradient() {
    for ty in [quote!(DMatrix<f64>), quote!(Matrix3<f64>)] {
        let out = expand_pretty(
            quote!(sigma),
            quote! {
                fn nll(sigma: &#ty, s: &#ty) -> f64 {
                    sigma.determinant().ln() + (sigma.clone().try_inverse().unwrap() * s).trace()
                }
            },
        );
        let body = grad_fn(&out, "nll");
        assert!(!body.contains("tr_dot"), "{body}");
        assert_eq!(body.matches(".trace()").count(), 1, "{body}");
    }
}

/// `⟨A, B⟩ = tr(A Bᵀ)` read off the product `A Bᵀ` the value forms; with no
/// such product, `tr(A B)` stays `tr_dot` (forming the product would cost more).
#[test]
fn an_inner_product_is_read_off_a_product_only_where_one_is_formed() {
    let out = expand_pretty(
        quote!(a),
        quote! {
            fn f(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
                (a * b.transpose()).norm_squared() + a.dot(b) + (a * b.transpose()).trace()
            }
        },
    );
    let body = grad_fn(&out, "f");
    assert!(!body.contains(".dot("), "{body}");
    assert!(
        body.contains("2f64 * ") && body.contains(".trace()"),
        "{body}"
    );
    let out = expand_pretty(
        quote!(a),
        quote! {
            fn g(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
                (a * b).trace()
            }
        },
    );
    let body = grad_fn(&out, "g");
    assert!(body.contains("tr_dot") && !body.contains("mul("), "{body}");
}

/// A recurrence's step maps its pre-activation in place (the buffer the
/// product wrote, which the new state then takes over), also where the map's
/// sum is read: the costly map moved in keeps its own code, the sum taken
/// apart, rather than writing into another buffer and dropping this one.
#[test]
fn a_summed_map_of_a_temporary_stays_in_place() {
    let out = expand_pretty(
        quote!(w, u, h0),
        quote! {
            fn rnn(w: &DMatrix<f64>, u: &DMatrix<f64>, h0: &DVector<f64>, xs: &[Vector2<f64>]) -> f64 {
                let mut h = h0.clone();
                let mut total = 0.0;
                for x in xs.iter() {
                    h = (w * &h + u * x).map(|v| v.tanh());
                    total += h.sum();
                }
                total
            }
        },
    );
    let body = grad_fn(&out, "rnn");
    let forward = &body[..body.find("for ").expect("the forward loop")];
    let forward = &body[..forward.len() + body[forward.len()..].find("};").expect("its end")];
    assert!(forward.contains("map_costly("), "{forward}");
    assert!(!forward.contains("map_summed"), "{forward}");
}

/// An assertion on the inputs is the generated function's first statement, as written.
#[test]
fn assertions_come_first() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                assert_eq!(x.ncols(), w.len(), "one weight per feature");
                (x * w - y).norm_squared()
            }
        },
    );
    let body = grad_fn(&out, "lsq");
    let first = body.find('{').expect("the body") + 1;
    let statements = body[first..].trim_start();
    assert!(statements.starts_with("use ::matgrad::__private"), "{body}");
    let after_use = &statements[statements.find(';').expect("the use") + 1..];
    assert!(
        after_use
            .trim_start()
            .starts_with("assert_eq!(x.ncols(), w.len()"),
        "{body}"
    );
    assert_eq!(body.matches("assert_eq!").count(), 1, "{body}");
}

/// A guard clause makes the loss an `if` whose adjoint is the seed, known before it: each side
/// computes its gradient beside its value, once (before, a second `if` recomputed `X w − y`).
#[test]
fn a_guarded_loss_computes_each_side_once() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn lsq(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                if x.nrows() == 0 {
                    return 0.0;
                }
                let r = x * w - y;
                r.norm_squared()
            }
        },
    );
    let body = grad_fn(&out, "lsq");
    assert_eq!(body.matches("mul(x, w)").count(), 1, "{body}");
    assert_eq!(body.matches("if ").count(), 1, "{body}");
}

/// Samples as rows that the value and the gradient only sum over: a second
/// body computes the sums block of rows by block of rows, reading views of
/// the rows of `x` and `y` under their own names, and sizes read off them
/// before the blocks.
#[test]
fn samples_as_rows_are_summed_block_by_block() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn mse(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                let n = x.nrows() as f64;
                ((x * w - y) / n).norm_squared() + w.norm_squared()
            }
        },
    );
    let body = grad_fn(&out, "mse");
    let (blocks, written) = split_bodies(&body).expect("split");
    for text in [&blocks, &written] {
        assert_eq!(text.matches("mul(x, w)").count(), 1, "{text}");
    }
    assert!(blocks.contains("__mg_p::sum_blocks(") && blocks.contains("0..__mg_samples"));
    for view in ["let x = &x.rows_range(", "let y = &y.rows_range("] {
        assert_eq!(blocks.matches(view).count(), 1, "{blocks}");
    }
    assert_eq!(blocks.matches("tr_mul(x,").count(), 1, "{blocks}");
    // The number of samples, bound before the names are shadowed.
    let size = blocks.find("x.shape_generic().0").expect("the size read");
    assert!(
        size < blocks.find("sum_blocks").expect("blocks"),
        "{blocks}"
    );
    assert!(!written.contains("sum_blocks"), "{written}");

    // A gradient with one row per sample: each block writes its rows into
    // place.
    let out = expand_pretty(
        quote!(w, x),
        quote! {
            fn f(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                (x * w - y).norm_squared()
            }
        },
    );
    let (blocks, _) = split_bodies(&grad_fn(&out, "f")).expect("split");
    assert_eq!(blocks.matches("RowsOut::new(").count(), 1, "{blocks}");
    assert_eq!(
        blocks.matches(".put(__mg_rows.clone(),").count(),
        1,
        "{blocks}"
    );
    assert_eq!(blocks.matches(".into_matrix()").count(), 1, "{blocks}");
    // `2 Xᵀ r` summed block by block, the 2 in each block's product.
    assert!(blocks.contains("tr_mul_vector_scaled(2f64, x,"), "{blocks}");

    // Products of two matrices in the blocks (`U Vᵀ`, `Rᵀ U`).
    let out = expand_pretty(
        quote!(u, v),
        quote! {
            fn mf(m: &DMatrix<f64>, u: &DMatrix<f64>, v: &DMatrix<f64>) -> f64 {
                (m - u * v.transpose()).norm_squared()
            }
        },
    );
    let (blocks, _) = split_bodies(&grad_fn(&out, "mf")).expect("split");
    assert_eq!(blocks.matches("RowsOut::new(").count(), 1, "{blocks}");
    // `U Vᵀ` on a view of `V` in each block, no transposed copy before them.
    assert!(blocks.contains("mul_tr(u, v)"), "{blocks}");
    assert!(!blocks.contains(".transpose()"), "{blocks}");
    assert!(blocks.contains("tr_mul_scaled((-2f64),"), "{blocks}");
    assert!(blocks.contains("let m = &m.rows_range("), "{blocks}");
    assert!(blocks.contains("let u = &u.rows_range("), "{blocks}");

    // Anything else that reads the samples keeps one body: a norm, an entry,
    // a transposed copy.
    let unsplit = [
        quote!((x * w - y).norm()),
        quote!((x * w - y)[0] + (x * w).sum()),
        quote!((x.transpose() * 2.0).sum() + (x * w).sum()),
    ];
    for value in unsplit {
        let out = expand_pretty(
            quote!(w),
            quote! {
                fn f(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                    #value
                }
            },
        );
        let body = grad_fn(&out, "f");
        assert!(!body.contains("splits_rows"), "{value}: {body}");
    }
}

#[test]
fn derivatives_written_through_the_map_read_only_its_result() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn mlp(w: &DMatrix<f64>, v: &DMatrix<f64>, x: &DVector<f64>) -> f64 {
                (v * (w * x).map(|t| t.tanh())).norm_squared() + (w * x).map(|t| t.tanh()).sum()
            }
        },
    );
    let body = grad_fn_as_written(&out, "mlp");
    // tanh′ = 1 − tanh²: the adjoint reads the map's result, not its argument.
    assert!(!body.contains("zip_zip_map"), "{body}");
    assert_eq!(body.matches(".tanh()").count(), 1, "{body}");
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
    let out = steps::expand(
        attr::Kind::Grad,
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
    let quad = steps::expand(
        attr::Kind::Hessian,
        quote!(x),
        quote! {
            fn f(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 {
                (x.transpose() * a * x).trace()
            }
        },
    )
    .to_string();
    assert!(quad.contains("H = I ⊗ u₁"), "{quad}");
    assert!(quad.contains("where `u₁ = a + aᵀ`"), "{quad}");
    let log_det = steps::expand(
        attr::Kind::Hessian,
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
    let inverse = steps::expand(
        attr::Kind::Jacobian,
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

#[test]
fn hessian_of_a_large_determinant_takes_one_svd_outside_the_loop() {
    let out = steps::expand(
        attr::Kind::Hessian,
        quote!(x),
        quote! {
            fn f(x: &DMatrix<f64>) -> f64 {
                (x.transpose() * x).determinant()
            }
        },
    )
    .to_string();
    assert!(!out.contains("compile_error"), "{out}");
    let hessian = &out[out.find("fn f_hessian").expect("f_hessian")..];
    let hessian = &hessian[..hessian.find("fn f_hvp").expect("f_hvp")];
    let svd = hessian.find("CofactorSvd :: new").expect("an SVD");
    let lp = hessian
        .find("for __mg_k")
        .expect("the loop over directions");
    assert!(svd < lp, "{hessian}");
    assert_eq!(
        hessian.matches("CofactorSvd :: new").count(),
        1,
        "{hessian}"
    );
    assert!(hessian.contains(". tangent ("), "{hessian}");
}

/// A loss of 50 operations, for the size and speed of the expansion.
fn fifty_operations() -> proc_macro2::TokenStream {
    quote! {
        fn f(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, a: &DMatrix<f64>, s: f64) -> f64 {
            let r = x * w - y;
            let z = r.map(|v| v.tanh() * 0.5 + v * v);
            let q = (a * w).component_mul(&w);
            let u = x.tr_mul(&r) + q * s;
            let m = a.transpose() * a + a * 2.0;
            let k = (m.clone() * 0.1).try_inverse().unwrap();
            let t = k.trace() + m.determinant().abs().sqrt();
            let v = u.dot(&(k * &u)) / (s * s + 1.0);
            let e = z.sum() + r.norm_squared() * s.exp() - q.norm();
            let g = (u.component_div(&u.map(|c| c.abs() + 1.0))).sum();
            e + v * t.ln() + g + (x * u).norm() + w.map(|c| c.sin().powi(2)).sum()
        }
    }
}

/// The number of tokens, groups counted by their contents.
fn size(tokens: proc_macro2::TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|t| match t {
            proc_macro2::TokenTree::Group(g) => 1 + size(g.stream()),
            _ => 1,
        })
        .sum()
}

/// The emitted value-and-gradient code stays within 4× the forward
/// expression: values read once are written inside their reader (scalars,
/// and matrices taken by value), `A Bᵀ` forms no transpose, constructors go
/// through short runtime paths.
#[test]
fn emitted_code_is_a_few_times_the_forward_code() {
    let item = fifty_operations();
    let forward = size(
        syn::parse2::<syn::ItemFn>(item.clone())
            .unwrap()
            .block
            .to_token_stream(),
    );
    let file: syn::File =
        syn::parse2(steps::expand(attr::Kind::Grad, quote!(w, a, s), item)).unwrap();
    let syn::Item::Fn(generated) = &file.items[1] else {
        panic!("the generated function")
    };
    let generated = size(generated.block.to_token_stream());
    let ratio = generated as f64 / forward as f64;
    println!("generated {generated} tokens for a forward body of {forward}: {ratio:.2}×");
    assert!(
        ratio <= 4.0,
        "generated {generated} tokens for {forward}: {ratio:.2}×"
    );
}

/// How long the expansion of a 50-operation loss takes, in-process:
/// `cargo test -p matgrad-macros --release expansion_time -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test"]
fn expansion_time() {
    let source = fifty_operations().to_string();
    let runs = 200;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let out = steps::expand(attr::Kind::Grad, quote!(w, a, s), source.parse().unwrap());
        std::hint::black_box(out);
    }
    let per = start.elapsed() / runs;
    println!("expansion of a 50-operation loss: {per:?} per expansion (mean of {runs})");
}

/// An RNN over a slice of inputs (a recurrence, differentiated by a reverse
/// loop reading a tape) beside a sum over the same inputs (differentiated
/// inside its own loop), for the speed of the expansion of loops.
fn rnn_with_a_sum() -> proc_macro2::TokenStream {
    quote! {
        fn f(
            w: &Matrix3<f64>,
            u: &Matrix3x2<f64>,
            h0: &Vector3<f64>,
            c: &Vector3<f64>,
            xs: &[Vector2<f64>],
            ys: &[f64],
        ) -> f64 {
            let mut h = *h0;
            for x in xs.iter() {
                h = (w * h + u * x).map(|v| v.tanh());
            }
            let mut total = 0.0;
            for (t, x) in xs.iter().enumerate() {
                let e = (u * x).dot(c) - ys[t];
                total += e * e;
            }
            h.norm_squared() + total / xs.len() as f64
        }
    }
}

/// How long the expansion of the RNN loss with a sum loop takes, in-process:
/// `cargo test -p matgrad-macros --release expansion_time -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test"]
fn loop_expansion_time() {
    let source = rnn_with_a_sum().to_string();
    let runs = 200;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        let out = steps::expand(
            attr::Kind::Grad,
            quote!(w, u, h0, c),
            source.parse().unwrap(),
        );
        std::hint::black_box(out);
    }
    let per = start.elapsed() / runs;
    println!("expansion of an RNN loss with a sum loop: {per:?} per expansion (mean of {runs})");
}

/// A recurrence whose body is `k` copies of one statement, run `trip` times
/// (a literal): the number of tokens of its generated function's body, and
/// that body.
fn loop_of(k: usize, trip: usize) -> (usize, String) {
    let step = quote! { h = (w * &h + u * s).map(|v| v.tanh()); s += h.dot(u); };
    let steps: proc_macro2::TokenStream = (0..k).map(|_| step.clone()).collect();
    let item = quote! {
        fn f(w: &DMatrix<f64>, u: &DVector<f64>, h0: &DVector<f64>) -> f64 {
            let mut h = h0.clone();
            let mut s = 0.0;
            for _ in 0..#trip {
                #steps
            }
            s + h.norm_squared()
        }
    };
    let out = steps::expand(attr::Kind::Grad, quote!(w, u, h0), item);
    let text = out.to_string();
    assert!(!text.contains("compile_error"), "{text}");
    let file: syn::File = syn::parse2(out).unwrap();
    let syn::Item::Fn(generated) = &file.items[1] else {
        panic!("the generated function")
    };
    let block = generated.block.to_token_stream();
    (size(block.clone()), block.to_string())
}

/// The emitted code of a loop grows linearly with its body — each statement
/// once in the forward loop and once (with its adjoint) in the reverse loop —
/// and does not depend on the trip count, which is a run-time value: the
/// loops are not unrolled, and a literal bound is only a literal.
#[test]
fn loop_code_is_linear_in_the_body() {
    let sizes: Vec<usize> = [4, 8, 16].iter().map(|&k| loop_of(k, 10).0).collect();
    let per_four = [
        (sizes[1] - sizes[0]) as f64,
        (sizes[2] - sizes[1]) as f64 / 2.0,
    ];
    println!(
        "tokens for 4, 8, 16 statements: {sizes:?}; per 4 statements: {:.0} then {:.0}",
        per_four[0], per_four[1]
    );
    let spread = (per_four[0] - per_four[1]).abs() / per_four[0].max(per_four[1]);
    assert!(spread <= 0.2, "not linear: {sizes:?}");
    for trip in [3, 300] {
        assert_eq!(loop_of(4, trip).0, sizes[0], "{trip} iterations");
    }
}

/// A loop carrying a recurrence and a sum beside it (the loss of
/// `examples/rnn.rs`) stores only what the reverse loop reads: the state
/// `h`, not the running total.
#[test]
fn only_the_carried_values_read_backwards_are_stored() {
    let out = expand_pretty(
        quote!(w, u, c),
        quote! {
            fn sequence_loss(
                w: &Matrix4<f64>,
                u: &Matrix4x2<f64>,
                c: &Vector4<f64>,
                h0: &Vector4<f64>,
                xs: &[Vector2<f64>],
                ys: &[f64],
            ) -> f64 {
                let mut h = *h0;
                let mut total = 0.0;
                for (t, x) in xs.iter().enumerate() {
                    h = (w * h + u * x).map(|v| v.tanh());
                    let e = h.dot(c) - ys[t];
                    total += e * e;
                }
                total / xs.len() as f64
            }
        },
    );
    let body = grad_fn(&out, "sequence_loss");
    assert_eq!(body.matches("for ").count(), 2, "{body}");
    assert_eq!(body.matches("Vec::with_capacity").count(), 1, "{body}");
    assert_eq!(body.matches(".push(").count(), 1, "{body}");
}

/// The two shapes a loop's gradient takes, printed for the guide (these are
/// its `huber` and `rnn`)
/// (`cargo test -p matgrad-macros --lib loop_shapes -- --nocapture`): a sum
/// over samples is one loop computing the value and the gradient, nothing
/// stored; a recurrence is a forward loop filling a tape with the state
/// entering each step, then a reverse loop reading it.
#[test]
fn loop_shapes() {
    let sum = expand_pretty(
        quote!(w),
        quote! {
            fn huber(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, delta: f64) -> f64 {
                let n = x.nrows();
                let mut total = 0.0;
                for i in 0..n {
                    let r = x.row(i).transpose().dot(w) - y[i];
                    total += if r.abs() <= delta {
                        0.5 * r * r
                    } else {
                        delta * (r.abs() - 0.5 * delta)
                    };
                }
                total / n as f64
            }
        },
    );
    let sum = grad_fn(&sum, "huber");
    println!("{sum}");
    // The rows of a matrix: `X w` before the loop, `Xᵀ r̄` after it, and one
    // pass between, with its branch, storing nothing.
    assert_eq!(sum.matches("for ").count(), 1, "{sum}");
    assert_eq!(sum.matches("__mg_p::mul(x,").count(), 1, "{sum}");
    assert_eq!(sum.matches("tr_mul_vector_scaled(").count(), 1, "{sum}");
    assert!(!sum.contains(".row("), "{sum}");
    assert!(!sum.contains("Vec::with_capacity"), "nothing stored: {sum}");
    // The same loss over a slice of vectors stays one loop, storing nothing:
    // a reduction the runtime may split across threads (a recurrence is not).
    let slice = expand_pretty(
        quote!(w),
        quote! {
            fn huber(w: &Vector3<f64>, xs: &[Vector3<f64>], y: &DVector<f64>, delta: f64) -> f64 {
                let mut total = 0.0;
                for (i, x) in xs.iter().enumerate() {
                    let r = x.dot(w) - y[i];
                    total += if r.abs() <= delta {
                        0.5 * r * r
                    } else {
                        delta * (r.abs() - 0.5 * delta)
                    };
                }
                total / xs.len() as f64
            }
        },
    );
    let slice = grad_fn(&slice, "huber");
    println!("{slice}");
    assert_eq!(slice.matches("for ").count(), 1, "{slice}");
    assert!(
        !slice.contains("Vec::with_capacity"),
        "nothing stored: {slice}"
    );
    assert_eq!(slice.matches("sum_loop").count(), 1, "{slice}");
    let rnn = expand_pretty(
        quote!(w, u),
        quote! {
            fn rnn(w: &Matrix3<f64>, u: &Matrix3x2<f64>, h0: &Vector3<f64>, xs: &[Vector2<f64>]) -> f64 {
                let mut h = *h0;
                for x in xs.iter() {
                    h = (w * h + u * x).map(|v| v.tanh());
                }
                h.norm_squared()
            }
        },
    );
    let rnn = grad_fn(&rnn, "rnn");
    println!("{rnn}");
    assert_eq!(rnn.matches("for ").count(), 2, "{rnn}");
    assert_eq!(rnn.matches("Vec::with_capacity").count(), 1, "{rnn}");
    assert_eq!(rnn.matches(".rev()").count(), 1, "{rnn}");
    assert!(!rnn.contains("sum_loop"), "{rnn}");
}

/// A reduction's adjoint written at its own index, `z̄[i] += …`, takes the
/// buffer of `z = X w` the loop reads there last (`Indexed`: `z̄[i] = …` over
/// `z[i]`, no zero matrix); the scalars and the entries it reads come from
/// locals of the loop's body (`local_view`), not through the closure.
#[test]
fn a_loops_adjoint_at_its_index_takes_the_buffer_read_there() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn f(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>, c: f64) -> f64 {
                let z = x * w;
                let mut total = 0.0;
                for i in 1..z.len() {
                    total += (c * (z[i] - y[i])).exp();
                }
                total
            }
        },
    );
    let body = grad_fn(&out, "f");
    let tight: String = body.split_whitespace().collect();
    assert!(tight.contains("Indexed::new(__mg_z_"), "{body}");
    assert!(!tight.contains("zeros_generic"), "{body}");
    assert_eq!(
        tight.matches("] = ").count() + tight.matches("]=").count(),
        1,
        "{body}"
    );
    assert!(!tight.contains("] +="), "{body}");
    assert!(tight.contains(".into_inner()"), "{body}");
    assert!(tight.contains("local_view(y)"), "{body}");
    assert!(
        tight.contains("=c;"),
        "the scalar read into a local: {body}"
    );
}

/// Fixed sizes: an owned right operand of `-` is subtracted by reference
/// (`M - &(U Vᵀ)`, nalgebra's faster form on the stack); a parameter as it is.
#[test]
fn a_fixed_size_difference_borrows_its_owned_right_operand() {
    let out = expand_pretty(
        quote!(u, v),
        quote! {
            fn mf(m: &SMatrix<f64, 10, 8>, u: &SMatrix<f64, 10, 3>, v: &SMatrix<f64, 8, 3>) -> f64 {
                (m - u * v.transpose()).norm_squared()
            }
        },
    );
    let body = grad_fn(&out, "mf");
    assert!(body.contains("m - &(u * v.transpose())"), "{body}");
    let out = expand_pretty(
        quote!(x),
        quote! {
            fn f(x: &Vector3<f64>, y: &Vector3<f64>) -> f64 {
                (x * 2.0 - y).norm_squared()
            }
        },
    );
    let body = grad_fn(&out, "f");
    assert!(!body.contains("&y"), "{body}");
}

/// The work estimate a loop hands `sum_loop`: an entry of `exp` weighs ten
/// multiply-adds, so that a loop of transcendental functions over few
/// entries is split across threads where its time pays for it.
#[test]
fn a_loops_work_weighs_its_transcendental_functions() {
    let work = |f: proc_macro2::TokenStream| {
        let out = expand_pretty(
            quote!(w),
            quote! {
                fn f(w: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
                    let z = w * x;
                    let mut total = 0.0;
                    for i in 0..x.ncols() {
                        total += z.column(i).map(|v| #f).sum();
                    }
                    total
                }
            },
        );
        let body = grad_fn(&out, "f");
        // The second argument of `sum_loop(range, work, init, body)`.
        let start = body.find("sum_loop(").expect("a sum loop") + "sum_loop(".len();
        let (mut depth, mut commas) = (0, Vec::new());
        for (i, c) in body[start..].char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => commas.push(start + i),
                _ => {}
            }
            if commas.len() == 2 {
                break;
            }
        }
        let work = body[commas[0] + 1..commas[1]].trim().to_owned();
        // `a + b * rows(w)`: the coefficient of the column's size.
        let per_entry = work
            .split('+')
            .find(|t| t.contains("w.shape_generic().0"))
            .and_then(|t| t.trim().split("usize").next()?.trim().parse::<usize>().ok())
            .unwrap_or_else(|| panic!("{work}"));
        (per_entry, work)
    };
    let ((cheap, a), (dear, b)) = (work(quote!(v * 2.0)), work(quote!(v.exp())));
    // Per entry of the column: the map and the sum, and for `2v` the constant
    // derivative filled in; for `exp`, ten for the `exp` itself.
    assert!(cheap < 10 && dear > 10, "{a} against {b}");
}

/// A product placed in a block of a sum of adjoints (`Xᵀ z̄` for `w[j]`,
/// `j < d`, beside the penalty's `2λw`) is added into the block by `gemm`,
/// never formed on its own.
#[test]
fn a_product_is_added_into_the_block_it_fills() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn logreg(w: &DVector<f64>, x: &DMatrix<f64>, lambda: f64) -> f64 {
                let (n, d) = x.shape();
                let mut total = 0.0;
                for i in 0..n {
                    let mut z = 0.0;
                    for j in 0..d {
                        z += x[(i, j)] * w[j];
                    }
                    total += (1.0 + (-z).exp()).ln();
                }
                total + lambda * w.norm_squared()
            }
        },
    );
    let tight: String = grad_fn(&out, "logreg").split_whitespace().collect();
    assert!(
        tight.contains("__mg_p::tr_mul_add(__mg_m.rows_mut(0,"),
        "{tight}"
    );
    assert!(!tight.contains("add_assign"), "{tight}");
}

/// A loop over samples, a dot product per sample written as a loop inside
/// it: `X w` before the loop (one product), one pass of scalar work, `Xᵀ z̄`
/// after it; no loop over the features, no row read per sample.
#[test]
fn a_sum_over_samples_is_matrix_products() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn logreg(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                let (n, d) = x.shape();
                let mut total = 0.0;
                for i in 0..n {
                    let mut z = 0.0;
                    for j in 0..d {
                        z += x[(i, j)] * w[j];
                    }
                    total += (1.0 + (-y[i] * z).exp()).ln();
                }
                total
            }
        },
    );
    let g = grad_fn(&out, "logreg");
    assert_eq!(g.matches("for ").count(), 1, "{g}");
    assert_eq!(g.matches("__mg_p::mul(x,").count(), 1, "{g}");
    assert_eq!(g.matches("__mg_p::tr_mul(x,").count(), 1, "{g}");
    assert!(!g.contains("x[("), "{g}");
    // `Xᵀ z̄` is the adjoint of `w`'s first `d` entries, handed back as the
    // whole gradient when `d` is the length of `w` (no zeros, no copy).
    let tight: String = g.split_whitespace().collect();
    assert!(tight.contains("__mg_p::scatter(__mg_p::tr_mul(x,"), "{g}");
    // The other forms of a sample's product, and a branch as statements.
    let forms = [
        quote!(s += ((x.row(i) * w)[0] - y[i]).tanh();),
        quote!(s -= x.column(i).dot(y).sin() / (2.0 + w[i] * w[i]);),
        quote!(
            let r = x.row(i).transpose().dot(w) - y[i];
            if r > 0.1 {
                s += r.powi(3);
            } else {
                s -= r.sin();
            }
        ),
    ];
    for body in forms {
        let out = expand_pretty(
            quote!(w),
            quote! {
                fn f(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
                    let mut s = 0.0;
                    for i in 0..w.len() {
                        #body
                    }
                    s
                }
            },
        );
        let g = grad_fn(&out, "f");
        assert_eq!(g.matches("for ").count(), 1, "{g}");
        assert!(!g.contains(".row(") && !g.contains(".column("), "{g}");
    }
}

/// A recurrence over a slice of inputs with a dynamic `U`: `U xₜ` for every
/// step is one product before the loop, `Ū` one product after the reverse
/// loop, instead of a product and a rank-one update per step.
#[test]
fn a_recurrence_reads_its_input_products_computed_before_it() {
    let out = expand_pretty(
        quote!(w, u),
        quote! {
            fn rnn(w: &DMatrix<f64>, u: &OMatrix<f64, Dyn, U16>, h0: &DVector<f64>, xs: &[SVector<f64, 16>]) -> f64 {
                let mut h = h0.clone();
                for x in xs.iter() {
                    h = (w * &h + u * x).map(|v| v.tanh());
                }
                h.norm_squared()
            }
        },
    );
    let g = grad_fn(&out, "rnn");
    assert_eq!(g.matches("from_fn_generic(").count(), 1, "{g}");
    assert_eq!(g.matches("mul_tr(").count(), 1, "{g}");
    assert!(!g.contains("* __mg_x") && !g.contains("u *"), "{g}");
    assert_eq!(g.matches("OuterSum::new").count(), 1, "only W̄'s: {g}");
}

/// A size unified with a product of itself (`w`'s rows equal to
/// `b.nrows()·w.nrows()`, which holds where `b` has one row) is named in a
/// message without unfolding the product for ever (a fuzz finding: the
/// message overflowed the stack).
#[test]
fn a_size_equal_to_a_product_of_itself_is_named() {
    let item = quote!(
        fn f(b: &DMatrix<f64>, y: &DVector<f64>) -> f64 {
            let mut w: DMatrix<f64> = y.clone();
            for _ in 0..3 {
                w = b.kronecker(&y) - w;
            }
            (w + 1.0).sum()
        }
    );
    let out = steps::expand(attr::Kind::Grad, quote!(), item).to_string();
    assert!(syn::parse_str::<syn::File>(&out).is_ok(), "{out}");
    assert!(out.contains("b.nrows()·y.nrows()"), "{out}");
}

/// `Self(…)` (a constructor) is reported at the call, not looked up as a
/// helper through `use Self as …`, which does not parse (a fuzz finding).
#[test]
fn self_constructor_is_reported_not_looked_up() {
    let item = quote!(
        fn f(x: f64) -> f64 {
            Self(x)
        }
    );
    let out = steps::expand(attr::Kind::Grad, quote!(), item).to_string();
    assert!(syn::parse_str::<syn::File>(&out).is_ok(), "{out}");
    assert!(out.contains("builds the impl's type"), "{out}");
    // Nor is a longer path through `Self`.
    let item = quote!(
        fn f(x: f64) -> f64 {
            Self::inner::scale(x)
        }
    );
    let out = steps::expand(attr::Kind::Grad, quote!(), item).to_string();
    assert!(syn::parse_str::<syn::File>(&out).is_ok(), "{out}");
    assert!(out.contains("is an associated function"), "{out}");
}

/// Inputs the fuzzer found to panic, overflow the stack, run slowly or expand
/// differently from build to build; each must now expand, once and the same.
#[test]
fn fuzz_findings() {
    let cases = [
        quote!(
            fn f(a: &DMatrix<f64>) -> f64 {
                a.pow(30000).sum()
            }
        ),
        quote!(
            fn f(v: &DVector<f64>, c: &DVector<f64>) -> f64 {
                let d = v - c;
                d.dot(&d)
            }
        ),
        quote!(
            fn f(x: f32) -> f32 {
                x * 1e30 * 1e30
            }
        ),
        quote!(
            fn f(x: f64) -> f64 {
                x * 1e200 * 1e200
            }
        ),
        quote!(
            fn f(x: f64) -> f64 {
                x * 1e400
            }
        ),
        quote!(
            fn r#fn(x: f64) -> f64 {
                x
            }
        ),
    ];
    for item in cases {
        let start = std::time::Instant::now();
        let first = steps::expand(attr::Kind::Grad, quote!(), item.clone()).to_string();
        assert!(start.elapsed().as_secs() < 5, "slow: {item}");
        assert!(!first.contains("compile_error"), "{first}");
        assert!(syn::parse_str::<syn::File>(&first).is_ok(), "{first}");
        for _ in 0..5 {
            assert_eq!(
                steps::expand(attr::Kind::Grad, quote!(), item.clone()).to_string(),
                first,
                "nondeterministic: {item}"
            );
        }
    }
    let both = steps::expand(
        attr::Kind::Grad,
        quote!(a, b),
        quote!(
            fn f(a: f64, b: f64) -> f64 {
                (a + b) * (a + b)
            }
        ),
    )
    .to_string();
    assert_eq!(
        both,
        steps::expand(
            attr::Kind::Grad,
            quote!(a, b),
            quote!(
                fn f(a: f64, b: f64) -> f64 {
                    (a + b) * (a + b)
                }
            )
        )
        .to_string()
    );
    assert!(steps::expand(
        attr::Kind::Grad,
        quote!(),
        quote!(
            fn r#fn(x: f64) -> f64 {
                x
            }
        )
    )
    .to_string()
    .contains("fn fn_grad"));
    assert!(steps::expand(
        attr::Kind::Grad,
        quote!(),
        quote!(
            fn f(x: f64) -> f64 {
                x * 1e400
            }
        )
    )
    .to_string()
    .contains("INFINITY"));
    // A trait object returned: an error, with a stub that still parses.
    for ret in [quote!('a + B), quote!(dyn A + Send), quote!(impl A + B)] {
        let out = steps::expand(
            attr::Kind::Grad,
            quote!(x),
            quote!(fn f(x: f64) -> #ret { x }),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(syn::parse_str::<syn::File>(&out).is_ok(), "{out}");
    }
    let matrix = steps::expand(
        attr::Kind::Grad,
        quote!(),
        quote!(
            fn f(y: &DVector<f64>) -> f64 {
                y * 2.0
            }
        ),
    )
    .to_string();
    assert!(matrix.contains("but the loss must be a scalar"), "{matrix}");
}

/// A scalar method called by its path is emitted as the method (the same
/// function, so the same value); a branch's adjoint is a select between the
/// incoming adjoint and 0; `LN_2` in the derivative of `log2` is written by
/// its path (clippy rejects its digits).
#[test]
fn scalar_methods_branches_and_constants() {
    let out = expand_pretty(
        quote!(x, y),
        quote! {
            fn f(x: f64, y: f64) -> f64 {
                f64::ln_1p(x).max(y) + x.log2() * std::f64::consts::PI
            }
        },
    );
    let g = grad_fn(&out, "f");
    assert!(g.contains("x.ln_1p()") && !g.contains("f64::ln_1p"), "{g}");
    assert!(g.contains("::max_arm("), "{g}");
    assert!(g.contains("::routed("), "{g}");
    assert!(g.contains("::core::f64::consts::LN_2"), "{g}");
    assert!(g.contains("::core::f64::consts::PI"), "{g}");
    assert!(
        out.contains("`∇x = π/(ln(2) x) + [u₁ ≥ y] 1/(1 + x)`"),
        "{out}"
    );
    assert!(out.contains("`∇y = [u₁ < y] 1`"), "{out}");
}

/// A sum assigned on both sides of an `if` passes its adjoint through the
/// branch unchanged, so its loop (over a slice of vectors, which is not read
/// as matrix operations) is differentiated inside itself: one loop, nothing
/// stored.
#[test]
fn sum_assigned_in_a_branch_is_one_loop() {
    let out = expand_pretty(
        quote!(w),
        quote! {
            fn huber(w: &Vector3<f64>, xs: &[Vector3<f64>], y: &DVector<f64>, delta: f64) -> f64 {
                let mut total = 0.0;
                for i in 0..xs.len() {
                    let r = xs[i].dot(w) - y[i];
                    if r.abs() <= delta {
                        total += 0.5 * r * r;
                    } else {
                        total += delta * (r.abs() - 0.5 * delta);
                    }
                }
                total
            }
        },
    );
    let g = grad_fn(&out, "huber");
    assert_eq!(g.matches("for ").count(), 1, "{g}");
    assert!(!g.contains("Vec::with_capacity"), "nothing stored: {g}");
    // A sum on both sides of a branch is a sum: the loop may run on every core.
    assert_eq!(g.matches("sum_loop").count(), 1, "{g}");
}

#[test]
fn gaussian_process_shares_one_cholesky() {
    let out = expand_pretty(
        quote!(k),
        quote! {
            fn gp(k: &DMatrix<f64>, y: &DVector<f64>, eye: &DMatrix<f64>, noise: f64) -> f64 {
                let n = y.len();
                let kn = k + eye * noise;
                let chol = kn.clone().cholesky().unwrap();
                let alpha = chol.solve(y);
                0.5 * y.dot(&alpha) + chol.l().diagonal().map(|v| v.ln()).sum()
                    + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
            }
        },
    );
    check_snapshot("gp", &out);
    let body = grad_fn(&out, "gp");
    // One factorisation for the value and the gradient; L⁻ᵀ Φ L⁻¹ with
    // Φ(Lᵀ L̄) diagonal (no product formed for it), put onto the lower
    // triangle nalgebra read.
    assert_eq!(body.matches("cholesky(").count(), 1, "{body}");
    assert!(!body.contains("inverse"), "{body}");
    assert!(!body.contains("lower_half_diagonal"), "{body}");
    assert_eq!(
        body.matches("lower_congruence_diagonal(").count(),
        1,
        "{body}"
    );
    assert_eq!(body.matches("fold_onto_lower").count(), 1, "{body}");
    // `L`, read only by its diagonal and the triangular inverse, is borrowed
    // from the factorisation rather than copied out with zeros above.
    assert!(
        body.contains(".l_dirty()") && !body.contains(".l()"),
        "{body}"
    );
    // `K + I σ²` in one pass, `I σ²` never formed.
    assert!(body.contains("__mg_p::add_scaled(k, eye, noise)"), "{body}");
}

#[test]
fn hessian_of_logm_through_its_second_frechet_derivative() {
    let out = steps::expand(
        attr::Kind::Hessian,
        quote!(x),
        quote! {
            fn f(x: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
                (matgrad::logm(x) * b).norm_squared()
            }
        },
    )
    .to_string();
    assert!(
        out.contains("∇x = L_log(xᵀ, u₁)")
            && out.contains("H vec(v) = vec(L_log(xᵀ, 2 L_log(x, v) b bᵀ) + L²_log(xᵀ; vᵀ, u₁))"),
        "{out}"
    );
    // In `f_hessian`: the value, the gradient, then per column one first and
    // one second derivative at xᵀ (xᵀ formed once, before the loop).
    let hessian = &out[out.find("fn f_hessian").expect("f_hessian")..];
    let hessian = &hessian[..hessian.find("fn f_hvp").unwrap_or(hessian.len())];
    let column = &hessian[hessian.find("for").expect("the column loop")..];
    assert_eq!(hessian.matches("x . transpose ()").count(), 1, "{hessian}");
    assert!(!column.contains("x . transpose ()"), "{column}");
    assert_eq!(
        column.matches(":: matgrad :: logm_frechet2").count(),
        1,
        "{column}"
    );
}

#[test]
fn a_loop_map_reuses_the_previous_iterations_buffer() {
    let softmax = expand_pretty(
        quote!(w),
        quote! {
            fn f(w: &DMatrix<f64>, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
                let z = w * x;
                let mut total = 0.0;
                for i in 0..x.ncols() {
                    let col = z.column(i);
                    let m = col.max();
                    let e = col.map(|v| (v - m).exp());
                    total -= (e[labels[i]] / e.sum()).ln();
                }
                total
            }
        },
    );
    let body = grad_fn(&softmax, "f");
    // Taken at the map, given back at the end of the iteration; the map's sum
    // is added up in the pass that writes it.
    assert_eq!(body.matches("map_summed_into(").count(), 1, "{body}");
    assert!(!body.contains(".sum()"), "{body}");
    assert_eq!(body.matches("__mg_spare27_0.take()").count(), 1, "{body}");
    assert_eq!(body.matches("Option::Some(").count(), 1, "{body}");
    // A recurrence's map is read off the tape in the reverse loop, and
    // becomes the carried state in the forward one, whose old value is copied
    // onto the (flat) tape: its buffer takes the next step's product. The
    // reverse loop's `δ` and `Wᵀδ` keep theirs (see
    // `a_recurrences_reverse_loop_allocates_nothing`).
    let rnn = expand_pretty(
        quote!(w),
        quote! {
            fn f(w: &DMatrix<f64>, h0: &DVector<f64>, steps: usize) -> f64 {
                let mut h = h0.clone();
                for _ in 0..steps {
                    h = (w * &h).map(|v| v.tanh());
                }
                h.norm_squared()
            }
        },
    );
    let body = grad_fn(&rnn, "f");
    let rev = body.find(".rev()").expect("the reverse loop");
    let forward = &body[..body[..rev].rfind("let __mg_loop").expect("its `let`")];
    assert!(forward.contains("FlatTape::with_capacity("), "{forward}");
    assert!(forward.contains("mul_into(__mg_spare"), "{forward}");
    assert!(forward.contains(".push(&__mg_c"), "{forward}");
    assert_eq!(forward.matches("Option::Some(").count(), 1, "{forward}");
    // The map's argument, a fresh product, is mapped in place (a costly map,
    // weighed for threads), and the rank-one updates `W̄ += δ hᵀ` of the
    // reverse loop are gathered and added by `gemm` after it.
    assert!(body.contains("map_costly(\n"), "{body}");
    assert!(!body.contains(".clone_owned()"), "{body}");
    assert!(body.contains("OuterSum::new(1f64)"), "{body}");
    assert_eq!(body.matches(".push(&mut __mg_c").count(), 1, "{body}");
    assert!(!body.contains(".ger("), "{body}");
}

/// A recurrence with dynamic sizes allocates nothing per step. Reverse:
/// `δₜ = h̄ ∘ (1 − hₜ₊₁²)` is written into the buffer of the previous step's
/// `δ`, and `h̄ ← Wᵀδₜ` into the buffer `h̄` left the step before, the two
/// swapped as `h̄` is replaced. Forward: the map is done in place of its
/// argument, the product `W h` written into the buffer of the state the step
/// before replaced, once the tape has copied it. With fixed sizes nothing is
/// on the heap, and no buffer is kept.
#[test]
fn a_recurrences_reverse_loop_allocates_nothing() {
    let out = expand_pretty(
        quote!(w, u, h0),
        quote! {
            fn rnn(w: &DMatrix<f64>, u: &OMatrix<f64, Dyn, U16>, h0: &DVector<f64>, xs: &[SVector<f64, 16>]) -> f64 {
                let mut h = h0.clone();
                for x in xs.iter() {
                    h = (w * &h + u * x).map(|v| v.tanh());
                }
                h.norm_squared()
            }
        },
    );
    let g = grad_fn(&out, "rnn");
    let rev = g.find(".rev()").expect("the reverse loop");
    let split = g[..rev].rfind("let __mg_loop").expect("its `let`");
    let end = split + g[split..].find("\n    };").expect("the loop's end");
    let (forward, reverse) = (&g[..split], &g[split..end]);
    assert!(forward.contains("map_costly(\n"), "{forward}");
    assert!(!forward.contains(".clone_owned()"), "{forward}");
    assert!(forward.contains("mul_into(__mg_spare"), "{forward}");
    assert!(!forward.contains("__mg_p::mul("), "{forward}");
    // No product or entrywise map into a new matrix in the reverse loop's body.
    let body = &reverse[reverse.find("for ").expect("the loop")..];
    let allocating = [
        ".zip_map(",
        ".zip_zip_map(",
        "__mg_p::tr_mul(",
        "__mg_p::mul(",
        " * &",
        ".clone()",
    ];
    for allocating in allocating {
        assert!(!body.contains(allocating), "{allocating}: {reverse}");
    }
    assert_eq!(
        reverse.matches("__mg_p::zip_map_into(").count(),
        1,
        "{reverse}"
    );
    assert_eq!(
        reverse.matches("__mg_p::tr_mul_into(").count(),
        1,
        "{reverse}"
    );
    // Each spare declared once before the loop, taken once, given back once.
    let spares: BTreeSet<&str> = (reverse.match_indices("__mg_spare"))
        .map(|(i, _)| {
            let name = &reverse[i..];
            &name[..name
                .find(|c: char| !c.is_alphanumeric() && c != '_')
                .unwrap()]
        })
        .collect();
    assert_eq!(spares.len(), 2, "{reverse}");
    for spare in spares {
        assert_eq!(
            reverse.matches(&format!("let mut {spare} = ")).count(),
            1,
            "{reverse}"
        );
        assert_eq!(
            reverse.matches(&format!("{spare}.take()")).count(),
            1,
            "{reverse}"
        );
        assert_eq!(
            reverse
                .matches(&format!("{spare} = ::core::option::Option::Some("))
                .count(),
            1,
            "{reverse}"
        );
    }
    // `h̄`'s old buffer becomes the spare as `Wᵀδ` replaces it.
    assert_eq!(
        reverse.matches("::core::mem::replace(&mut __mg_c").count(),
        1,
        "{reverse}"
    );

    let fixed = expand_pretty(
        quote!(w, u, h0),
        quote! {
            fn rnn(w: &Matrix3<f64>, u: &Matrix3x2<f64>, h0: &Vector3<f64>, xs: &[Vector2<f64>]) -> f64 {
                let mut h = *h0;
                for x in xs.iter() {
                    h = (w * h + u * x).map(|v| v.tanh());
                }
                h.norm_squared()
            }
        },
    );
    let g = grad_fn(&fixed, "rnn");
    assert!(!g.contains("spare") && !g.contains("_into("), "{g}");
}
